// Start order for the layout: the order a stable sort by (start, id) gives, on random inputs with
// runs, ties, equal keys, negative and infinite starts.
import assert from 'node:assert/strict';
import { byStart } from '../../src/shared/chart/startOrder';
import { rng } from './randomRuns';

describe('spans in start order', () => {
  it('is the order of a stable sort by start then id, on 500 random lists', () => {
    for (let seed = 1; seed <= 500; seed++) {
      const r = rng(seed);
      const n = Math.floor(r() * 300);
      const items: { startMs: number; id: number; tag: number }[] = [];
      for (let k = 0; k < n; k++) {
        // Runs in order with jumps back, ties on start, the same id twice, -0, negative and infinite starts.
        const prev = items[items.length - 1];
        const startMs = prev && r() < 0.6 ? prev.startMs + (r() < 0.2 ? 0 : r() * 3) : [r() * 100, -r() * 5, Infinity, -0, 0, Math.floor(r() * 10)][Math.floor(r() * 6)];
        items.push({ startMs, id: r() < 0.05 && prev ? prev.id : Math.floor(r() * 1000), tag: k });
      }
      const want = [...items].sort((a, b) => a.startMs - b.startMs || a.id - b.id);
      const got = byStart(items);
      assert.deepEqual(got.map((x) => x.tag), want.map((x) => x.tag), `seed ${seed}`);
      assert.equal(items.length, n, 'the input is not changed');
    }
  });
});
