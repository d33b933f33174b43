// The run's spans as the panel's model keeps them: in columns (a typed array per field and a site
// table, src/shared/chart/spanTable.ts), by id (a typed slot index), in the order they came, with
// no object and no row for each. A span is made an object when one is asked for. The compaction
// reads the columns; only the All spans view draws a row per span, so the layout of every span is
// made when it is first asked for, not while a finished run of a million spans loads. It is made by
// replaying what came, so its rows are the ones laying out each batch on arrival gives. A span sent
// again (a pending span that ends) is ended in place when that replay cannot tell: no span ever
// waited for its parent, and no span of its site (line, column, kind) that came after it starts at
// or after its end (only such a span could have taken its lane had it been ended all along).
// Otherwise the layout is made at once and keeps its own copies of the spans from then on, ending
// them in place as it places the next ones; the columns are ended as it ends its copies.

import type { Outcome, Span } from '../../shared/timeline';
import { IdSlots } from '../../shared/idIndex';
import { grown } from '../../shared/columns';
import { SiteNumbers, TimelineLayout } from '../../shared/chart/layout';
import { FLOATING, NO_PARENT, OUTCOME_MASK, PENDING, flagsOf, spanAt, type Site, type SpanTable } from '../../shared/chart/spanTable';
import { SiteInterner, type WireSite } from '../../shared/webviewProtocol';

/** Spans of a site that came after an ending span looked at before giving up and making the layout. */
const LATER_SPANS = 64;
const OUTCOME_CODE: Record<Outcome, number> = { pending: 0, fulfilled: 1, rejected: 2 };
/** In the host's packed columns (src/shared/spanColumns.ts): the outcome byte's floating bit. */
const WIRE_FLOATING = 8;

/** One span as it comes, in columns' terms (`site`: the store's site number). */
interface Incoming {
  id: number;
  parent: number;
  site: number;
  start: number;
  end: number;
  flags: number;
}

export class SpanStore implements SpanTable {
  private readonly slots = new IdSlots();
  private count = 0;
  private cols = {
    ids: new Float64Array(1024), parents: new Float64Array(1024), starts: new Float64Array(1024), ends: new Float64Array(1024),
    site: new Int32Array(1024), flags: new Uint8Array(1024),
  };
  /** The store's sites, numbered by `interner`; the host's site numbers mapped to them. */
  readonly sites: Site[] = [];
  private readonly interner = new SiteInterner();
  private readonly fromWire: number[] = [];
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
  /** The store's site -> its number in `siteNumbers` (by line, column and kind), -1 until asked. */
  private numberOfSite: number[] = [];
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
  /** Slots of block spans, in the order they came. */
  private readonly blockSlots: number[] = [];
  /** The layout of every span, once asked for: from then on it keeps copies of the spans. */
  private built: TimelineLayout | null = null;
  /** Bumped on any change. */
  version = 0;
  private extent = 0;

  // The columns (SpanTable): current arrays, read them again after a change.
  get length(): number {
    return this.count;
  }
  get ids(): Float64Array {
    return this.cols.ids;
  }
  get parents(): Float64Array {
    return this.cols.parents;
  }
  get starts(): Float64Array {
    return this.cols.starts;
  }
  get ends(): Float64Array {
    return this.cols.ends;
  }
  get site(): Int32Array {
    return this.cols.site;
  }
  get flags(): Uint8Array {
    return this.cols.flags;
  }

  /** Span id -> its index in the columns (each id once). */
  get idSlots(): IdSlots {
    return this.slots;
  }

  get spanCount(): number {
    return this.built ? this.built.spanCount : this.count;
  }

  /** Latest end (or start, for pending spans) of the spans that have their place, ms (as the layout counts it). */
  get extentMs(): number {
    return this.built ? this.built.extentMs : this.extent;
  }

  /** The span with this id, as an object (a copy: changing it changes nothing here). */
  span(id: number): Span | undefined {
    if (this.built) return this.built.span(id);
    const slot = this.slots.slotOf(id);
    return slot < 0 ? undefined : spanAt(this, slot);
  }

  /** Every span, in the order they came (objects made as they are read). */
  *spans(): IterableIterator<Span> {
    if (this.built) {
      yield* this.built.spans();
      return;
    }
    for (let i = 0; i < this.count; i++) yield spanAt(this, i);
  }

  /** Every span as objects made once, in the order they came, and a lookup by id among them (for a pass over all of them). */
  snapshot(): { spans: Span[]; byId: (id: number) => Span | undefined } {
    const built = this.built;
    if (built) return { spans: [...built.spans()], byId: (id) => built.span(id) };
    const spans: Span[] = new Array(this.count);
    for (let i = 0; i < this.count; i++) spans[i] = spanAt(this, i);
    const slots = this.slots;
    return { spans, byId: (id) => { const slot = slots.slotOf(id); return slot < 0 ? undefined : spans[slot]; } };
  }

  /** The block spans (objects made now), in the order they came. */
  blocks(): Span[] {
    return this.blockSlots.map((slot) => spanAt(this, slot));
  }

  /** The layout of every span (one row per site and lane, as TimelineLayout gives it). */
  layout(): TimelineLayout {
    if (!this.built) {
      const layout = new TimelineLayout();
      const copies = (from: number, to: number) => {
        const out: Span[] = new Array(to - from);
        for (let i = from; i < to; i++) out[i - from] = spanAt(this, i);
        return out;
      };
      let from = 0;
      for (const at of this.adoptions) {
        layout.apply(copies(from, at));
        layout.adoptOrphans();
        from = at;
      }
      layout.apply(copies(from, this.count));
      this.built = layout;
    }
    return this.built;
  }

  /** Adds new spans and updates known ones, as TimelineLayout.apply does (the spans are not kept). */
  apply(spans: readonly Span[]): void {
    this.version++;
    const at: Incoming = { id: 0, parent: 0, site: 0, start: 0, end: 0, flags: 0 };
    const rest: Span[] = [];
    for (let k = 0; k < spans.length; k++) {
      const s = spans[k];
      at.id = s.id;
      at.parent = s.parentId ?? 0;
      at.site = this.interned(s);
      at.start = s.startMs;
      at.end = s.endMs ?? 0;
      at.flags = flagsOf(s);
      this.put(at);
      // From the span that made the layout on, the layout is given the spans too.
      if (this.built) rest.push({ ...s });
    }
    if (this.built && rest.length) this.built.apply(rest);
  }

  /**
   * The host's packed columns (`append.columns`, src/shared/spanColumns.ts), as `apply` of the spans
   * they hold: a span that does not hold (an unknown site, an id that is not a
   * positive integer, a start that is not a number, an end before its start, an unknown outcome) is
   * dropped and counted; a buffer whose length is not what its count says is dropped whole.
   * Returns how many were dropped.
   */
  applyColumns(wireSites: readonly WireSite[], bytes: Uint8Array): number {
    if (bytes.byteLength < 8) return 1;
    const own = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
    const n = new DataView(own.buffer, own.byteOffset, own.byteLength).getUint32(0, true);
    // The layout of src/shared/spanColumns.ts: ids, parents, starts, ends (f64), sites (u32), outcomes (u8).
    const total = 8 + 36 * n + n;
    if (own.byteLength !== total) return Math.max(1, n);
    const base = own.byteOffset;
    const ids = new Float64Array(own.buffer, base + 8, n);
    const parents = new Float64Array(own.buffer, base + 8 + 8 * n, n);
    const starts = new Float64Array(own.buffer, base + 8 + 16 * n, n);
    const ends = new Float64Array(own.buffer, base + 8 + 24 * n, n);
    const siteIdx = new Uint32Array(own.buffer, base + 8 + 32 * n, n);
    const outcomes = new Uint8Array(own.buffer, base + 8 + 36 * n, n);
    for (let k = this.fromWire.length; k < wireSites.length; k++) this.fromWire.push(this.interned(wireSites[k]));
    this.version++;
    let invalid = 0;
    const at: Incoming = { id: 0, parent: 0, site: 0, start: 0, end: 0, flags: 0 };
    const rest: Span[] = [];
    this.reserve(this.count + n);
    for (let i = 0; i < n; i++) {
      const site = siteIdx[i] < wireSites.length ? this.fromWire[siteIdx[i]] : undefined;
      const id = ids[i];
      const parent = parents[i];
      const start = starts[i];
      const end = ends[i];
      const code = outcomes[i] & ~WIRE_FLOATING;
      const pending = Number.isNaN(end);
      if (site === undefined || !(Number.isInteger(id) && id >= 1) || !(Number.isInteger(parent) && parent >= 0) || !Number.isFinite(start) ||
        !(pending || (Number.isFinite(end) && end >= start)) || code > 2) {
        invalid++;
        continue;
      }
      at.id = id;
      at.parent = parent;
      at.site = site;
      at.start = start;
      at.end = pending ? 0 : end;
      at.flags = (pending ? PENDING : code) | (parent === 0 ? NO_PARENT : 0) | (outcomes[i] & WIRE_FLOATING ? FLOATING : 0);
      this.put(at);
      if (this.built) rest.push(this.object(at));
    }
    if (this.built && rest.length) this.built.apply(rest);
    return invalid;
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
    this.adoptions.push(this.count);
    for (const slots of this.waiting.values()) for (const slot of slots) this.place(slot, false);
    this.waiting.clear();
    this.waitingCount = 0;
    this.version++;
  }

  private interned(s: Site): number {
    const i = this.interner.indexOf(s);
    if (i === this.sites.length) for (const site of this.interner.takeNew()) this.sites.push(site);
    return i;
  }

  private object(at: Incoming): Span {
    const site = this.sites[at.site];
    const s: Span = {
      id: at.id, parentId: at.flags & NO_PARENT ? null : at.parent, kind: site.kind, label: site.label, line: site.line, column: site.column,
      startMs: at.start, endMs: at.flags & PENDING ? null : at.end, outcome: OUTCOMES[at.flags & OUTCOME_MASK],
    };
    if (at.flags & FLOATING) s.floating = true;
    return s;
  }

  /** A new span or an update of a known one; once the layout is made, only the columns (it gets the span itself). */
  private put(at: Incoming): void {
    const slot = this.slots.slotOf(at.id);
    if (slot < 0) this.insert(at);
    else if (this.built) this.update(slot, at);
    else if (this.endsInPlace(slot, at)) {
      this.update(slot, at);
      const reach = this.flags[slot] & PENDING ? this.starts[slot] : this.ends[slot];
      if (this.placed[slot] && reach > this.extent) this.extent = reach;
    } else {
      // The layout updates its copy in place from here on (the caller gives it this span).
      this.layout();
      this.update(slot, at);
    }
  }

  private reserve(length: number): void {
    const c = this.cols;
    if (length <= c.ids.length) return;
    const size = Math.max(length, 2 * c.ids.length);
    this.cols = {
      ids: grown(c.ids, size), parents: grown(c.parents, size), starts: grown(c.starts, size), ends: grown(c.ends, size),
      site: grown(c.site, size), flags: grown(c.flags, size),
    };
  }

  /**
   * Whether a layout replayed later would place every span where one laid out on arrival did, were
   * a known span updated in place as TimelineLayout.update does.
   */
  private endsInPlace(slot: number, next: Incoming): boolean {
    const f = this.flags[slot];
    if (this.everWaited || (next.flags & FLOATING && !(f & FLOATING))) return false;
    if (!(next.flags & PENDING) && f & PENDING) {
      const end = Math.max(next.end, this.starts[slot]);
      const site = this.numberSites()[slot];
      // No span of the site starts that late (the common case): nothing to look through.
      let later = this.maxStartOfSite[site] >= end ? this.lastOfSite[site] : -1;
      for (let steps = 0; later > slot; steps++) {
        if (steps === LATER_SPANS || this.starts[later] >= end) return false;
        later = this.prevOfSite[later];
      }
    }
    return true;
  }

  /** Updates a known span's columns as TimelineLayout.update updates its copy. */
  private update(slot: number, next: Incoming): void {
    const flags = this.cols.flags;
    let f = flags[slot];
    if (next.flags & FLOATING) f |= FLOATING;
    if (!(next.flags & PENDING) && f & PENDING) {
      this.cols.ends[slot] = Math.max(next.end, this.starts[slot]);
      f = (f & ~(PENDING | OUTCOME_MASK)) | (next.flags & OUTCOME_MASK);
    } else if ((next.flags & OUTCOME_MASK) !== (f & OUTCOME_MASK) && (next.flags & OUTCOME_MASK) !== 0) {
      f = (f & ~OUTCOME_MASK) | (next.flags & OUTCOME_MASK);
    }
    flags[slot] = f;
  }

  private insert(at: Incoming): void {
    this.reserve(this.count + 1);
    const slot = this.slots.add(at.id);
    const c = this.cols;
    c.ids[slot] = at.id;
    c.parents[slot] = at.parent;
    c.starts[slot] = at.start;
    c.ends[slot] = !(at.flags & PENDING) && at.end < at.start ? at.start : at.end;
    c.site[slot] = at.site;
    c.flags[slot] = at.flags;
    this.count++;
    if (this.sites[at.site].kind === 'block') this.blockSlots.push(slot);
    if (this.built) return;
    if (slot >= this.placed.length) this.placed = grown(this.placed, Math.max(2 * this.placed.length, c.ids.length));
    if (this.siteOf) this.numberSites();
    // Top level, or in the Not awaited lane (a floating span made from other code): placed now.
    if (at.flags & (NO_PARENT | FLOATING)) {
      this.place(slot, true);
      return;
    }
    const parent = this.slots.slotOf(at.parent);
    if (parent >= 0 && this.placed[parent]) {
      this.place(slot, true);
      return;
    }
    const list = this.waiting.get(at.parent);
    if (list) list.push(slot);
    else this.waiting.set(at.parent, [slot]);
    this.waitingCount++;
    this.everWaited = true;
  }

  /** Numbers the sites of the spans not numbered yet; from the first call on, every span as it comes. */
  private numberSites(): Int32Array {
    let siteOf = this.siteOf ?? new Int32Array(0);
    const n = this.count;
    if (siteOf.length < n) {
      const size = Math.max(1024, 2 * n);
      siteOf = grown(siteOf, size);
      this.prevOfSite = grown(this.prevOfSite, size);
    }
    for (let slot = this.sitesNumbered; slot < n; slot++) {
      const own = this.site[slot];
      const site = (this.numberOfSite[own] ??= this.siteNumbers.of(this.sites[own]));
      siteOf[slot] = site;
      this.prevOfSite[slot] = this.lastOfSite[site] ?? -1;
      this.lastOfSite[site] = slot;
      const start = this.starts[slot];
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
      this.placed[slot] = 1;
      const reach = this.flags[slot] & PENDING ? this.starts[slot] : this.ends[slot];
      if (reach > this.extent) this.extent = reach;
      return;
    }
    const stack = [slot];
    while (stack.length) {
      const at = stack.pop()!;
      this.placed[at] = 1;
      const reach = this.flags[at] & PENDING ? this.starts[at] : this.ends[at];
      if (reach > this.extent) this.extent = reach;
      if (!children || this.waitingCount === 0) continue;
      const waiting = this.waiting.get(this.ids[at]);
      if (!waiting) continue;
      this.waiting.delete(this.ids[at]);
      this.waitingCount -= waiting.length;
      for (const w of waiting) stack.push(w);
    }
  }
}

const OUTCOMES: readonly Outcome[] = ['pending', 'fulfilled', 'rejected'];
