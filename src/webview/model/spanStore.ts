// The run's spans as the panel's model keeps them: by id (a typed slot index), in the order they
// came, without a row for each. Only the All spans view draws a row per span, so the layout of every
// span is made when it is first asked for, not while a finished run of a million spans loads (that
// layout was half of the load). It is made by replaying what came, so its rows are the ones laying
// out each batch on arrival gives. A span sent again (a pending span that ends) is ended in place
// when that replay cannot tell: no span ever waited for its parent, and no span of its site (line,
// column, kind) that came after it starts at or after its end (only such a span could have taken
// its lane had it been ended all along). Otherwise the layout is made at once and keeps the spans
// from then on, ending them in place as it places the next ones.

import type { Span } from '../../shared/timeline';
import { IdSlots } from '../../shared/idIndex';
import { grown } from '../../shared/columns';
import { inNotAwaitedLane, SiteNumbers, TimelineLayout } from '../../shared/chart/layout';

/** Spans of a site that came after an ending span looked at before giving up and making the layout. */
const LATER_SPANS = 64;

export class SpanStore {
  private readonly slots = new IdSlots();
  private readonly list: Span[] = [];
  /** 1 when the slot's span has its place (a top-level span, or its parent has one); as the layout places it. */
  private placed = new Uint8Array(1024);
  /** Slots of spans whose parent has not come (or has no place yet), by parent id. */
  private readonly waiting = new Map<number, number[]>();
  private waitingCount = 0;
  /** How many spans had come each time those still waiting for a parent were given the top level. */
  private readonly adoptions: number[] = [];
  /** Whether a span ever waited for its parent (then a span sent again makes the layout). */
  private everWaited = false;
  private readonly siteNumbers = new SiteNumbers();
  /**
   * Each slot's site number and the slot of the site's span before it (-1: none), and the last
   * slot of each site: numbered from the first span sent again on (a loaded run needs none).
   */
  private siteOf: Int32Array | null = null;
  private prevOfSite = new Int32Array(0);
  private readonly lastOfSite: number[] = [];
  private sitesNumbered = 0;
  /** The latest start of each site's spans. */
  private readonly maxStartOfSite: number[] = [];
  /** The layout of every span, once asked for: from then on it keeps the spans. */
  private built: TimelineLayout | null = null;
  /** Bumped on any change. */
  version = 0;
  private extent = 0;

  get spanCount(): number {
    return this.built ? this.built.spanCount : this.list.length;
  }

  /** Latest end (or start, for pending spans) of the spans that have their place, ms (as the layout counts it). */
  get extentMs(): number {
    return this.built ? this.built.extentMs : this.extent;
  }

  span(id: number): Span | undefined {
    if (this.built) return this.built.span(id);
    const slot = this.slots.slotOf(id);
    return slot < 0 ? undefined : this.list[slot];
  }

  /** Every span, in the order they came. */
  spans(): IterableIterator<Span> {
    return this.built ? this.built.spans() : this.list.values();
  }

  /** Every span, in the order they came, without a copy: read it, do not keep it. */
  spanList(): readonly Span[] {
    return this.built ? this.built.spanList() : this.list;
  }

  /** The layout of every span (one row per site and lane, as TimelineLayout gives it). */
  layout(): TimelineLayout {
    if (!this.built) {
      const layout = new TimelineLayout();
      let from = 0;
      for (const at of this.adoptions) {
        layout.apply(this.list.slice(from, at));
        layout.adoptOrphans();
        from = at;
      }
      layout.apply(from ? this.list.slice(from) : this.list);
      this.built = layout;
    }
    return this.built;
  }

  /**
   * Adds new spans and updates known ones, as TimelineLayout.apply does (new span objects are kept
   * as they are: pass objects you own).
   */
  apply(spans: readonly Span[]): void {
    this.version++;
    if (this.built) {
      this.built.apply(spans);
      return;
    }
    for (let k = 0; k < spans.length; k++) {
      const s = spans[k];
      const slot = this.slots.slotOf(s.id);
      if (slot < 0) this.insert(s);
      else if (!this.update(slot, s)) {
        // The layout updates it in place from here on.
        this.layout().apply(k ? spans.slice(k) : spans);
        return;
      }
    }
  }

  /**
   * Updates a known span as TimelineLayout.update does, when a layout replayed later would place
   * every span where one laid out on arrival did; false (nothing changed) when it might not.
   */
  private update(slot: number, next: Span): boolean {
    const known = this.list[slot];
    if (this.everWaited || (next.floating && !known.floating)) return false;
    if (next.endMs !== null && known.endMs === null) {
      const end = Math.max(next.endMs, known.startMs);
      const site = this.numberSites()[slot];
      // No span of the site starts that late (the common case): nothing to look through.
      let later = this.maxStartOfSite[site] >= end ? this.lastOfSite[site] : -1;
      for (let steps = 0; later > slot; steps++) {
        if (steps === LATER_SPANS || this.list[later].startMs >= end) return false;
        later = this.prevOfSite[later];
      }
      known.endMs = end;
      known.outcome = next.outcome;
      if (known.endMs > this.extent) this.extent = known.endMs;
    } else if (next.outcome !== known.outcome && next.outcome !== 'pending') {
      known.outcome = next.outcome;
    }
    return true;
  }

  /** The run is over: spans whose parent never came get the top level (TimelineLayout.adoptOrphans). */
  adoptOrphans(): void {
    if (this.built) {
      const v = this.built.version;
      this.built.adoptOrphans();
      if (this.built.version !== v) this.version++;
      return;
    }
    if (this.waitingCount === 0) return;
    this.adoptions.push(this.list.length);
    for (const slots of this.waiting.values()) for (const slot of slots) this.place(slot, false);
    this.waiting.clear();
    this.waitingCount = 0;
    this.version++;
  }

  private insert(s: Span): void {
    if (s.endMs !== null && s.endMs < s.startMs) s.endMs = s.startMs;
    const slot = this.slots.add(s.id);
    this.list.push(s);
    if (slot >= this.placed.length) this.placed = grown(this.placed, this.placed.length * 2);
    if (this.siteOf) this.numberSites();
    if (inNotAwaitedLane(s) || s.parentId === null) {
      this.place(slot, true);
      return;
    }
    const parent = this.slots.slotOf(s.parentId);
    if (parent >= 0 && this.placed[parent]) {
      this.place(slot, true);
      return;
    }
    const list = this.waiting.get(s.parentId);
    if (list) list.push(slot);
    else this.waiting.set(s.parentId, [slot]);
    this.waitingCount++;
    this.everWaited = true;
  }

  /** Numbers the sites of the spans not numbered yet; from the first call on, every span as it comes. */
  private numberSites(): Int32Array {
    let siteOf = this.siteOf ?? new Int32Array(0);
    const n = this.list.length;
    if (siteOf.length < n) {
      const size = Math.max(1024, 2 * n);
      siteOf = grown(siteOf, size);
      this.prevOfSite = grown(this.prevOfSite, size);
    }
    for (let slot = this.sitesNumbered; slot < n; slot++) {
      const site = this.siteNumbers.of(this.list[slot]);
      siteOf[slot] = site;
      this.prevOfSite[slot] = this.lastOfSite[site] ?? -1;
      this.lastOfSite[site] = slot;
      const start = this.list[slot].startMs;
      if (!(this.maxStartOfSite[site] >= start)) this.maxStartOfSite[site] = start;
    }
    this.sitesNumbered = n;
    this.siteOf = siteOf;
    return siteOf;
  }

  /** Gives a slot its place, and then the spans that waited for it (`children`: look for them). */
  private place(slot: number, children: boolean): void {
    if (!children || this.waitingCount === 0) {
      // No span waits for this one (always, for a run whose parents come first).
      const s = this.list[slot];
      this.placed[slot] = 1;
      const reach = s.endMs ?? s.startMs;
      if (reach > this.extent) this.extent = reach;
      return;
    }
    const stack = [slot];
    while (stack.length) {
      const at = stack.pop()!;
      const s = this.list[at];
      this.placed[at] = 1;
      const reach = s.endMs ?? s.startMs;
      if (reach > this.extent) this.extent = reach;
      if (!children || this.waitingCount === 0) continue;
      const waiting = this.waiting.get(s.id);
      if (!waiting) continue;
      this.waiting.delete(s.id);
      this.waitingCount -= waiting.length;
      for (const w of waiting) stack.push(w);
    }
  }
}
