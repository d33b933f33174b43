// Span id -> a dense slot (0, 1, 2, … in the order ids were added), for the chart's models: ids
// are small run-wide counters, so a typed array indexed by id finds a slot without a Map entry
// per span; ids far past the count (or not integers) go through a Map. Values live in the
// caller's own arrays, indexed by slot.
import { grown } from './columns';

/** Ids below this may be indexed densely (as the engine's SpanTable does). */
const DENSE_IDS = 1 << 26;

export class IdSlots {
  /** id -> slot + 1 (0: none). */
  private dense = new Int32Array(1024);
  private readonly sparse = new Map<number, number>();
  /** Slots handed out. */
  size = 0;

  /** The id's slot; -1 when it has none. */
  slotOf(id: number): number {
    if (id >= 0 && id < this.dense.length) {
      const s = this.dense[id | 0] - 1;
      if (s >= 0 && (id | 0) === id) return s;
    }
    if (this.sparse.size === 0) return -1;
    const s = this.sparse.get(id);
    return s === undefined ? -1 : s;
  }

  /** A new slot for `id` (were `id` given a slot before, it now finds this one). */
  add(id: number): number {
    const slot = this.size++;
    if ((id | 0) === id && id >= 0 && id < DENSE_IDS) {
      if (id >= this.dense.length && id < 16 * (this.size + 65_536)) {
        let n = this.dense.length * 2;
        while (n <= id) n *= 2;
        this.dense = grown(this.dense, n);
      }
      if (id < this.dense.length) {
        this.dense[id] = slot + 1;
        return slot;
      }
    }
    this.sparse.set(id, slot);
    return slot;
  }
}
