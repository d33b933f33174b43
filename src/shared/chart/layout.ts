// Spans -> rows. Pure and incremental: spans may arrive in any batch size, pending first and again
// when they end. A row holds the spans of one await site under one parent row that do not overlap
// (a loop's 1,000 sequential awaits share a row; Promise.all's overlapping ones get a row each),
// so a row's spans are sorted by start with sorted ends, which culling and LOD rely on.

import type { Span, SpanKind } from '../timeline';
import { rowAggregate, type AggregateGroup, type RowAggregate } from './aggregates';
import { endOf, firstEndingAfter } from './lod';
import { IdSlots } from '../idIndex';
import { byStart, startOrder } from './startOrder';
import { FLOATING, NO_PARENT, OUTCOME_MASK, PENDING, spanAt, spansOf, tableOf, type Site, type SpanTable } from './spanTable';

const REJECTED = 2;

export interface Row {
  /** Stable across reloads of the same run: parent key / site (+ lane). Used for collapse state. */
  readonly key: string;
  /** 0 for top-level rows. */
  readonly depth: number;
  readonly parent: Row | null;
  readonly kind: SpanKind;
  readonly label: string;
  readonly line: number;
  readonly column: number;
  /** Sorted by start, never overlapping; only the last may be pending. */
  readonly spans: Span[];
  /** Child rows in the order their first span started. */
  readonly children: Row[];
  /** Lanes per child site (its number in the layout's site table), to place the next span of that site. */
  readonly lanes: Map<number, Row[]>;
  /**
   * Set on the header row of the "Not awaited" lane: it has no spans of its own, it is always the
   * last top-level row, and the calls whose promise nobody awaited (`Span.floating`) are its children.
   */
  readonly lane?: 'not-awaited';
  /**
   * Spans past the run's budget drawn on this row (see aggregates.ts); null for most rows. A row
   * may hold only these (no spans): the site had no listed span there, or its lanes were taken.
   */
  aggregate: RowAggregate | null;
}

/** When a row's activity starts: its first span, else its first aggregated bar. */
export function rowStartMs(row: Row): number {
  // A row made at once, its spans not read yet: its first span's start, from the columns.
  if (row instanceof LayoutRow && row.source && row.to > row.from) return row.source.table.starts[row.source.order[row.from]];
  return row.spans[0]?.startMs ?? row.aggregate?.bars[0]?.startMs ?? Infinity;
}

/** Key of the "Not awaited" lane's header row. */
export const NOT_AWAITED_KEY = '~not-awaited';

/**
 * Whether a span is drawn in the "Not awaited" lane: a call nobody awaited, made from inside other
 * code. A top-level `main();` is the program's entry point, not a forgotten await: it stays where it
 * is (its insight, if any, is still said on its bar).
 */
export const inNotAwaitedLane = (s: Span): boolean => s.floating === true && s.parentId !== null;

/** Where a row made by `TimelineLayout.of` gets its spans from, the first time they are read. */
interface RowSource {
  table: SpanTable;
  /** The spans' indexes in the table, row after row (a row's are `order[from..to)`). */
  order: Int32Array;
  /** Each span's end as the layout keeps it (not before its start); whether it is pending. */
  end: Float64Array;
  pending: Uint8Array;
  /** The layout's span of each index, filled as rows make their spans. */
  made: Span[];
}

/**
 * A row. A layout made at once (`TimelineLayout.of`) makes a row's span objects when they are
 * first read: a chart draws the rows in view, so a million spans on a thousand rows cost the
 * objects of the rows drawn, not a million, when they load.
 */
class LayoutRow implements Row {
  readonly depth: number;
  readonly kind: SpanKind;
  readonly label: string;
  readonly line: number;
  readonly column: number;
  readonly children: Row[] = [];
  readonly lanes = new Map<number, Row[]>();
  readonly lane: 'not-awaited' | undefined = undefined;
  aggregate: RowAggregate | null = null;
  private own: Span[] = [];
  /** Its spans to make (`source.order[from..to)`), until they are read. */
  source: RowSource | null = null;
  from = 0;
  to = 0;

  constructor(readonly parent: Row | null, readonly key: string, site: Site | null, lane?: 'not-awaited') {
    this.depth = parent ? parent.depth + 1 : -1;
    this.kind = site?.kind ?? 'call';
    this.label = lane ? 'Not awaited' : (site?.label ?? '');
    this.line = site?.line ?? 0;
    this.column = site?.column ?? 0;
    if (lane) this.lane = lane;
  }

  get spans(): Span[] {
    if (this.source) this.make();
    return this.own;
  }

  private make(): void {
    const { table, order, end, pending, made } = this.source!;
    const own: Span[] = new Array(this.to - this.from);
    for (let k = this.from; k < this.to; k++) {
      const i = order[k];
      const c = spanAt(table, i);
      if (!pending[i]) c.endMs = end[i];
      own[k - this.from] = c;
      made[i] = c;
    }
    this.own = own;
    this.source = null;
  }
}

function newRow(parent: Row | null, key: string, site: Site | null): Row {
  return new LayoutRow(parent, key, site);
}

/** How many spans a row lists (for a row whose spans are still to be made, without making them). */
export function rowSpanCount(row: Row): number {
  return row instanceof LayoutRow && row.source ? row.to - row.from : row.spans.length;
}

/** The id of a row's first span (undefined: it has none), without making a row's spans. */
function firstSpanId(row: Row): number | undefined {
  if (row instanceof LayoutRow && row.source) return row.to > row.from ? row.source.table.ids[row.source.order[row.from]] : undefined;
  return row.spans[0]?.id;
}

/**
 * A row's span count, whether its last span is pending, and whether one was rejected: for a row
 * whose spans are still to be made (see LayoutRow), read without making them.
 */
export function rowSummary(row: Row): { count: number; lastPending: boolean; rejected: boolean } {
  if (row instanceof LayoutRow && row.source) {
    const source = row.source;
    const { table, order } = source;
    let rejected = false;
    for (let k = row.from; k < row.to && !rejected; k++) rejected = (table.flags[order[k]] & OUTCOME_MASK) === REJECTED;
    const count = row.to - row.from;
    return { count, lastPending: count > 0 && source.pending[order[row.to - 1]] === 1, rejected };
  }
  const spans = row.spans;
  const last = spans[spans.length - 1];
  return { count: spans.length, lastPending: last !== undefined && last.endMs === null, rejected: spans.some((s) => s.outcome === 'rejected') };
}

const siteKey = (s: Pick<Span, 'line' | 'column' | 'kind'>) => `${s.line}:${s.column}:${s.kind}`;
const KIND_INDEX: Record<SpanKind, number> = { await: 0, call: 1, block: 2, timer: 3, combinator: 4, task: 5 };

/**
 * Each distinct site (line, column, kind) numbered once: lanes are found by that number, so
 * placing a span makes no string (a million spans came from a few sites).
 */
export class SiteNumbers {
  private readonly byLine = new Map<number, Map<number, number[]>>();
  private count = 0;

  of(s: Pick<Span, 'line' | 'column' | 'kind'>): number {
    let byColumn = this.byLine.get(s.line);
    if (!byColumn) this.byLine.set(s.line, (byColumn = new Map()));
    let byKind = byColumn.get(s.column);
    if (!byKind) byColumn.set(s.column, (byKind = []));
    const k = KIND_INDEX[s.kind] ?? 6;
    return (byKind[k] ??= this.count++);
  }
}
const placeKey = (s: Pick<Span, 'line' | 'column'>) => `${s.line}:${s.column}`;
/** Rows searched below a parent for the row of an aggregated site (a huge run's labels repeat). */
const SITE_SEARCH_LIMIT = 5000;

/** Options for `flatten`. */
export interface FlattenOptions {
  /** Keys of rows whose children are hidden. */
  collapsed?: ReadonlySet<string>;
  /** Case-insensitive label filter: keeps matching rows and their ancestors (collapse is ignored). */
  filter?: string;
}

export class TimelineLayout {
  /** Virtual root; its children are the top-level rows. */
  readonly root: Row = newRow(null, '', null);
  /** The "Not awaited" lane's header row, once a floating call arrived: the root's last child. */
  private notAwaited: Row | null = null;
  /** Span id -> slot in `slotSpan` and `slotRow` (no Map entry per span). */
  private readonly slots = new IdSlots();
  private slotSpan: Span[] = [];
  /** The row of each slot's span; undefined while it waits for its parent. */
  private slotRow: (Row | undefined)[] = [];
  private readonly sites = new SiteNumbers();
  /** Children that arrived before their parent, by parent id. */
  private readonly orphans = new Map<number, Span[]>();
  private orphanCount = 0;
  /** Bumped when rows are added: flattened lists must be rebuilt. */
  structureVersion = 0;
  /** Bumped on any change, including a span ending. */
  version = 0;
  /** Latest end (or start, for pending spans) seen, ms. */
  extentMs = 0;
  rowCount = 0;

  get spanCount(): number {
    return this.slots.size;
  }

  get waitingForParent(): number {
    return this.orphanCount;
  }

  span(id: number): Span | undefined {
    const slot = this.slots.slotOf(id);
    return slot < 0 ? undefined : this.spanOfSlot(slot);
  }

  /** The slot's span (its row makes its spans when the layout was made at once and they were not read yet). */
  private spanOfSlot(slot: number): Span {
    const s = this.slotSpan[slot];
    if (s !== undefined) return s;
    void this.slotRow[slot]!.spans;
    return this.slotSpan[slot];
  }

  /** Rows whose spans may still be to make (a layout made at once: its rows, until each is read), from `lazyAt` on. */
  private lazyRows: Row[] = [];
  private lazyAt = 0;

  /** Whether rows still have span objects to make (see makeSpans). */
  get spansToMake(): boolean {
    return this.lazyAt < this.lazyRows.length;
  }

  /**
   * Makes the span objects of rows not read yet, in order, until `untilMs` (performance.now())
   * has passed; true when none is left. Between frames, so that a later frame reads made rows.
   */
  makeSpans(untilMs: number): boolean {
    const rows = this.lazyRows;
    while (this.lazyAt < rows.length) {
      void rows[this.lazyAt++].spans;
      if ((this.lazyAt & 7) === 0 && performance.now() >= untilMs) break;
    }
    return this.lazyAt >= rows.length;
  }

  /** Makes every row's spans (for the list of every span). */
  private makeAll(): void {
    this.makeSpans(Infinity);
  }

  rowOf(id: number): Row | undefined {
    const slot = this.slots.slotOf(id);
    return slot < 0 ? undefined : this.slotRow[slot];
  }

  /** Every span, in the order they were added. */
  spans(): IterableIterator<Span> {
    this.makeAll();
    return this.slotSpan.values();
  }

  /** Every span, in the order they were added, without a copy: read it, do not keep it. */
  spanList(): readonly Span[] {
    this.makeAll();
    return this.slotSpan;
  }

  /**
   * Adds new spans and updates known ones (a pending span that now has an end). New span objects
   * are kept as they are (not copied) and updated in place later: pass objects you own.
   */
  apply(spans: readonly Span[]): void {
    for (const s of spans) {
      const slot = this.slots.slotOf(s.id);
      if (slot >= 0) this.update(this.spanOfSlot(slot), s);
      else this.insert(s);
    }
    this.version++;
  }

  /**
   * A layout of `spans` (a run's, complete or not) as a new layout given copies of them in start
   * order makes it: `apply(byStart(spans.map(copySpan)))`, then `adoptOrphans()` when `adopt` (the
   * run is over); the same rows, keys, lanes and spans. Its `spans()` are in the order given.
   * When every span's parent comes before it in start order (a finished run's, compacted or not),
   * no span ever waits, so each row's spans are placed only among the children of the row above
   * it: row after row, on typed arrays, in the order the spans were given (a task's awaits lie
   * together there, where start order interleaves every task's), and each row's copies made once
   * it is complete, so they lie together in memory, as its drawing reads them.
   */
  static of(spans: readonly Span[], adopt: boolean): TimelineLayout {
    return TimelineLayout.ofTable(tableOf(spans), adopt);
  }

  /**
   * `of` for spans in columns (the panel's store and its compaction keep them so): the same
   * layout as `of(spansOf(table), adopt)`; the only span objects it makes are its own.
   */
  static ofTable(table: SpanTable, adopt: boolean): TimelineLayout {
    const layout = new TimelineLayout();
    if (layout.byRows(table)) return layout;
    // A span waits for its parent, or an id comes twice (apply updates the span it names).
    const replayed = new TimelineLayout();
    replayed.apply(byStart(spansOf(table)));
    if (adopt) replayed.adoptOrphans();
    return replayed;
  }

  /** `of` on a new layout, row after row; false (and nothing usable) unless each span's parent comes first. */
  private byRows(t: SpanTable): boolean {
    const n = t.length;
    const sites = t.sites;
    const flags = t.flags;
    const start = new Float64Array(n);
    const ids = new Float64Array(n);
    /** Its end as insert leaves it (not before its start); whether it is pending. */
    const end = new Float64Array(n);
    const pending = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const id = t.ids[i];
      if (this.slots.slotOf(id) >= 0) return false;
      this.slots.add(id);
      const st = t.starts[i];
      // Start order is not an order among NaNs.
      if (Number.isNaN(st)) return false;
      start[i] = st;
      ids[i] = id;
      if (flags[i] & PENDING) {
        pending[i] = 1;
        end[i] = NaN;
      } else {
        const e = t.ends[i];
        end[i] = e < st ? st : e;
      }
    }
    const before = (a: number, b: number) => start[a] < start[b] || (start[a] === start[b] && ids[a] < ids[b]);
    /** Its parent's index; -1: top level, -2: the Not awaited lane. Each span's site, numbered here first. */
    const parent = new Int32Array(n);
    const site = new Int32Array(n);
    const local = new SiteNumbers();
    /** The table's site -> its number here (-1: not numbered yet). */
    const localOf = new Int32Array(sites.length).fill(-1);
    /** Each site's first span in start order. */
    const firstOfSite: number[] = [];
    for (let i = 0; i < n; i++) {
      const f = flags[i];
      if (f & NO_PARENT) parent[i] = -1;
      // A call nobody awaited, made from other code (inNotAwaitedLane).
      else if (f & FLOATING) parent[i] = -2;
      else {
        const p = this.slots.slotOf(t.parents[i]);
        // A parent that is missing, or comes after its child, keeps that child waiting.
        if (p < 0 || !before(p, i)) return false;
        parent[i] = p;
      }
      const ts = t.site[i];
      let k = localOf[ts];
      if (k < 0) k = localOf[ts] = local.of(sites[ts]);
      site[i] = k;
      if (firstOfSite[k] === undefined || before(i, firstOfSite[k])) firstOfSite[k] = i;
    }
    // The layout numbers sites as they are first placed: in start order.
    const siteNumber = new Int32Array(firstOfSite.length);
    for (const k of firstOfSite.map((_, k) => k).sort((a, b) => (before(firstOfSite[a], firstOfSite[b]) ? -1 : 1))) {
      siteNumber[k] = this.sites.of(sites[t.site[firstOfSite[k]]]);
    }
    // Children of each span, in the order given.
    const childFrom = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) if (parent[i] >= 0) childFrom[parent[i] + 1]++;
    for (let i = 0; i < n; i++) childFrom[i + 1] += childFrom[i];
    const children = new Int32Array(childFrom[n]);
    const fill = childFrom.slice(0, n);
    for (let i = 0; i < n; i++) if (parent[i] >= 0) children[fill[parent[i]]++] = i;

    /** Rows (0: the root), each row's first and last span, the next span of a span's row. */
    const rows: Row[] = [this.root];
    const first: number[] = [-1];
    const last: number[] = [-1];
    const next = new Int32Array(n).fill(-1);
    let extent = this.extentMs;
    /** Places `group` (span indexes) under row `p`, in start order, as place does one by one. */
    const placeGroup = (group: Int32Array, p: number): void => {
      const parentRow = rows[p];
      const lanesOf = new Map<number, number[]>();
      for (const i of inStartOrder(group, start, ids)) {
        const key = siteNumber[site[i]];
        let lanes = lanesOf.get(key);
        if (!lanes) {
          lanesOf.set(key, (lanes = []));
          parentRow.lanes.set(key, []);
        }
        const startMs = start[i];
        let r = -1;
        const count = lanes.length;
        for (let l = 0; l < count; l++) {
          if (l === 64 && count > 128) l = count - 64;
          const lastOfLane = last[lanes[l]];
          if (!pending[lastOfLane] && end[lastOfLane] <= startMs) {
            r = lanes[l];
            break;
          }
        }
        if (r < 0) {
          // Rows come in start order here: a new row goes last (insertChild).
          const s = sites[t.site[i]];
          const row = newRow(parentRow, `${parentRow.key}/${siteKey(s)}${count ? `#${count}` : ''}`, s);
          r = rows.length;
          rows.push(row);
          first.push(i);
          last.push(-1);
          lanes.push(r);
          parentRow.lanes.get(key)!.push(row);
          parentRow.children.push(row);
          this.rowCount++;
          this.structureVersion++;
        } else next[last[r]] = i;
        last[r] = i;
        extent = Math.max(extent, pending[i] ? startMs : end[i]);
      }
    };
    const where = (which: number) => {
      let count = 0;
      for (let i = 0; i < n; i++) if (parent[i] === which) count++;
      const group = new Int32Array(count);
      for (let i = 0, k = 0; i < n; i++) if (parent[i] === which) group[k++] = i;
      return group;
    };
    placeGroup(where(-1), 0);
    const floating = where(-2);
    if (floating.length) {
      this.lane();
      rows.push(this.notAwaited!);
      first.push(-1);
      last.push(-1);
      placeGroup(floating, rows.length - 1);
    }
    // Then each row's children: the children of its spans.
    for (let r = 1; r < rows.length; r++) {
      let count = 0;
      for (let i = first[r]; i >= 0; i = next[i]) count += childFrom[i + 1] - childFrom[i];
      if (!count) continue;
      const group = new Int32Array(count);
      let k = 0;
      for (let i = first[r]; i >= 0; i = next[i]) for (let c = childFrom[i]; c < childFrom[i + 1]; c++) group[k++] = children[c];
      placeGroup(group, r);
    }
    this.version++;
    // The spans row after row; each row makes its copies when they are first read, so a row's
    // copies lie together in memory, as its drawing reads them.
    const order = new Int32Array(n);
    const made: Span[] = new Array(n);
    const source: RowSource = { table: t, order, end, pending, made };
    const slotRow: (Row | undefined)[] = new Array(n);
    const lazy: Row[] = [];
    let k = 0;
    for (let r = 1; r < rows.length; r++) {
      const row = rows[r] as LayoutRow;
      const from = k;
      for (let i = first[r]; i >= 0; i = next[i]) {
        order[k++] = i;
        slotRow[i] = row;
      }
      if (k === from) continue;
      row.source = source;
      row.from = from;
      row.to = k;
      lazy.push(row);
    }
    this.slotSpan = made;
    this.slotRow = slotRow;
    this.lazyRows = lazy;
    this.lazyAt = 0;
    this.extentMs = extent;
    return true;
  }

  /** The run is over: spans whose parent never came are shown at the top level. */
  adoptOrphans(): void {
    if (this.orphanCount === 0) return;
    const waiting = [...this.orphans.values()].flat().sort((a, b) => a.startMs - b.startMs);
    this.orphans.clear();
    this.orphanCount = 0;
    for (const s of waiting) this.place(s, inNotAwaitedLane(s) ? this.lane() : this.root);
    this.version++;
  }

  /** The header row of the "Not awaited" lane (made on first use, kept last among the top-level rows). */
  private lane(): Row {
    if (!this.notAwaited) {
      const row: Row = new LayoutRow(this.root, NOT_AWAITED_KEY, null, 'not-awaited');
      this.root.children.push(row);
      this.notAwaited = row;
      this.rowCount++;
      this.structureVersion++;
    }
    return this.notAwaited;
  }

  private update(known: Span, next: Span): void {
    if (next.floating && !known.floating) {
      known.floating = true;
      if (inNotAwaitedLane(known)) this.moveToLane(known);
    }
    if (next.endMs !== null && known.endMs === null) {
      known.endMs = Math.max(next.endMs, known.startMs);
      known.outcome = next.outcome;
      this.extentMs = Math.max(this.extentMs, known.endMs);
    } else if (next.outcome !== known.outcome && next.outcome !== 'pending') {
      known.outcome = next.outcome;
    }
  }

  /**
   * A span that turned out to be floating after it was placed (its mark came in a later batch):
   * its row moves to the lane when the span is alone in it; otherwise it stays (the next layout,
   * e.g. the compacted one, places it right).
   */
  private moveToLane(s: Span): void {
    const row = this.rowOf(s.id) as (Row & { parent: Row | null; depth: number; key: string }) | undefined;
    if (!row || row.spans.length !== 1 || !row.parent || row.parent.lane) return;
    const from = row.parent;
    const siteLanes = [...from.lanes.values()].find((l) => l.includes(row));
    if (siteLanes) siteLanes.splice(siteLanes.indexOf(row), 1);
    from.children.splice(from.children.indexOf(row), 1);
    const lane = this.lane();
    row.parent = lane;
    const key = this.sites.of(s);
    let lanes = lane.lanes.get(key);
    if (!lanes) lane.lanes.set(key, (lanes = []));
    lanes.push(row);
    const redepth = (r: Row & { depth: number }, depth: number) => {
      r.depth = depth;
      for (const c of r.children) redepth(c as Row & { depth: number }, depth + 1);
    };
    redepth(row, lane.depth + 1);
    this.insertChild(lane, row, s.startMs);
    this.structureVersion++;
  }

  private insert(s: Span): void {
    if (s.endMs !== null && s.endMs < s.startMs) s.endMs = s.startMs;
    // Known from now on, even while it waits for its parent, so a later end updates this object.
    const slot = this.slots.add(s.id);
    this.slotSpan.push(s);
    this.slotRow.push(undefined);
    let parentRow = this.root;
    if (inNotAwaitedLane(s)) {
      parentRow = this.lane();
    } else if (s.parentId !== null) {
      const row = this.rowOf(s.parentId);
      if (!row) {
        const list = this.orphans.get(s.parentId);
        if (list) list.push(s);
        else this.orphans.set(s.parentId, [s]);
        this.orphanCount++;
        return;
      }
      parentRow = row;
    }
    this.place(s, parentRow, slot);
  }

  private place(s: Span, parentRow: Row, slot = this.slots.slotOf(s.id)): void {
    const key = this.sites.of(s);
    let lanes = parentRow.lanes.get(key);
    if (!lanes) {
      lanes = [];
      parentRow.lanes.set(key, lanes);
    }
    let row: Row | undefined;
    // First lane that is free by now. With thousands of lanes (a huge Promise.all over map) only
    // the first and last 64 are tried, which keeps insertion linear; a miss just opens a lane.
    const n = lanes.length;
    for (let i = 0; i < n; i++) {
      if (i === 64 && n > 128) i = n - 64;
      const lane = lanes[i];
      const last = lane.spans[lane.spans.length - 1];
      if (last.endMs !== null && last.endMs <= s.startMs) {
        row = lane;
        break;
      }
    }
    if (!row) {
      const laneKey = `${parentRow.key}/${siteKey(s)}${lanes.length ? `#${lanes.length}` : ''}`;
      row = newRow(parentRow, laneKey, s);
      lanes.push(row);
      this.insertChild(parentRow, row, s.startMs);
      this.rowCount++;
      this.structureVersion++;
    }
    row.spans.push(s);
    this.slotRow[slot] = row;
    this.extentMs = Math.max(this.extentMs, s.endMs ?? s.startMs);
    const waiting = this.orphanCount ? this.orphans.get(s.id) : undefined;
    if (waiting) {
      this.orphans.delete(s.id);
      this.orphanCount -= waiting.length;
      for (const child of waiting) this.place(child, row);
    }
  }

  /** Keeps children ordered by their first start; arrivals are almost always in order, so check the end first. */
  private insertChild(parent: Row, row: Row, startMs: number): void {
    const c = parent.children;
    let i = c.length;
    // The lane's header stays the last top-level row.
    if (parent === this.root && this.notAwaited) i--;
    while (i > 0 && rowStartMs(c[i - 1]) > startMs) i--;
    c.splice(i, 0, row);
  }

  /** Rows given aggregated bars, and rows made for them, by the last placeAggregates. */
  private aggregated: { overlaid: Row[]; made: Row[] } = { overlaid: [], made: [] };

  /**
   * Draws spans past the run's budget (groups from `groupAggregates`, whose parents are span ids
   * of this layout): each group on the row of its site under its parent — the shallowest row of
   * that place (line and column) in the parent's subtree, also a compacted row that stands for it
   * (`members`) — in a lane whose listed spans it does not overlap; else on a row of its own under
   * the parent. Replaces the previous placement. Returns how many groups wait for their parent.
   */
  placeAggregates(groups: readonly AggregateGroup[], members?: { get(id: number): readonly Span[] | undefined }): number {
    const last = this.aggregated;
    for (const row of last.overlaid) row.aggregate = null;
    for (const row of last.made) {
      const siblings = row.parent!.children;
      const i = siblings.indexOf(row);
      if (i >= 0) siblings.splice(i, 1);
      this.rowCount--;
    }
    const placed = new Map<Row, AggregateGroup[]>();
    const made = new Map<string, Row>();
    const sitesBelow = new Map<Row, Map<string, Row>>();
    let waiting = 0;
    for (const g of groups) {
      let parentRow = this.root;
      if (g.parentId !== null) {
        const row = this.rowOf(g.parentId);
        if (row) parentRow = row;
        else if (this.slots.slotOf(g.parentId) >= 0) {
          waiting++; // its parent waits for its own parent: placed once that one comes
          continue;
        }
      }
      let index = sitesBelow.get(parentRow);
      if (!index) sitesBelow.set(parentRow, (index = this.siteIndex(parentRow, members)));
      const siteRow = index.get(placeKey(g));
      let target: Row | undefined;
      if (siteRow) {
        const lanes = siteRow.parent!.lanes.get(this.sites.of(siteRow)) ?? [siteRow];
        target = lanes.find((lane) => fitsIn(lane, g, placed.get(lane)));
      }
      if (!target) {
        const under = siteRow?.parent ?? parentRow;
        const key = `${under.key}/×${siteKey(g)}`;
        target = made.get(key);
        if (!target) {
          target = newRow(under, key, null);
          Object.assign(target, { kind: g.kind, label: g.label, line: g.line, column: g.column });
          target.aggregate = { kind: g.kind, label: g.label, count: 0, bars: g.bars, includes: [] };
          made.set(key, target);
          this.insertChild(under, target, g.bars[0].startMs);
          this.rowCount++;
        }
      }
      let list = placed.get(target);
      if (!list) placed.set(target, (list = []));
      list.push(g);
      for (const b of g.bars) this.extentMs = Math.max(this.extentMs, b.endMs);
    }
    for (const [row, list] of placed) {
      const own = list.find((g) => g.line === row.line && g.column === row.column) ?? list[0];
      row.aggregate = rowAggregate(list, own);
    }
    this.aggregated = { overlaid: [...placed.keys()], made: [...made.values()] };
    this.structureVersion++;
    this.version++;
    return waiting;
  }

  /** Place (line:column) -> the shallowest row below `parent` that shows it, breadth first. */
  private siteIndex(parent: Row, members?: { get(id: number): readonly Span[] | undefined }): Map<string, Row> {
    const index = new Map<string, Row>();
    const queue: Row[] = [...parent.children];
    for (let i = 0; i < queue.length && i < SITE_SEARCH_LIMIT; i++) {
      const row = queue[i];
      const first = firstSpanId(row);
      if (first === undefined) continue; // a row of aggregates only
      const key = placeKey(row);
      if (!index.has(key)) index.set(key, row);
      for (const m of members?.get(first) ?? []) {
        const k = placeKey(m);
        if (!index.has(k)) index.set(k, row);
      }
      queue.push(...row.children);
    }
    return index;
  }

  /** The rows to show, depth first, honouring collapse and the label filter. */
  flatten(options: FlattenOptions = {}): Row[] {
    const out: Row[] = [];
    const collapsed = options.collapsed;
    const needle = options.filter?.trim().toLowerCase() ?? '';
    // Without recursion: rows nest as deep as the program's recursion (thousands of levels).
    if (!needle) {
      const stack: Row[] = [...this.root.children].reverse();
      while (stack.length) {
        const row = stack.pop()!;
        out.push(row);
        if (!row.children.length || collapsed?.has(row.key)) continue;
        for (let i = row.children.length - 1; i >= 0; i--) stack.push(row.children[i]);
      }
      return out;
    }
    // A row stays when it or a descendant matches: each row is pushed when entered and taken back
    // when left, unless something in it matched.
    const frames: Array<{ row: Row; at: number; next: number; any: boolean }> = [];
    const enter = (row: Row) => {
      frames.push({ row, at: out.length, next: 0, any: row.label.toLowerCase().includes(needle) });
      out.push(row);
    };
    for (const top of this.root.children) {
      enter(top);
      while (frames.length) {
        const f = frames[frames.length - 1];
        if (f.next < f.row.children.length) {
          enter(f.row.children[f.next++]);
          continue;
        }
        frames.pop();
        if (!f.any) out.length = f.at;
        else if (frames.length) frames[frames.length - 1].any = true;
      }
    }
    return out;
  }
}

/**
 * Whether a group's bars can go on this lane: they overlap none of its listed spans (pending ones
 * reach to the end of time) nor the bars of a group of the same site already there.
 */
function fitsIn(lane: Row, g: AggregateGroup, already: readonly AggregateGroup[] | undefined): boolean {
  const spans = lane.spans;
  for (const b of g.bars) {
    // A lane's spans are sorted by start and by end: look only from the first that ends after b starts.
    for (let i = firstEndingAfter(spans, b.startMs, Infinity); i < spans.length && spans[i].startMs < b.endMs; i++) {
      if ((spans[i].endMs ?? Infinity) > b.startMs) return false;
    }
  }
  for (const other of already ?? []) {
    if (other.line !== g.line || other.column !== g.column || other.kind !== g.kind) continue;
    for (const b of g.bars) if (other.bars.some((o) => o.startMs < b.endMs && o.endMs > b.startMs)) return false;
  }
  return true;
}

/** `group` (span indexes) by start, then id, as byStart orders their spans. */
function inStartOrder(group: Int32Array, start: Float64Array, ids: Float64Array): Int32Array {
  const n = group.length;
  let sorted = true;
  for (let k = 1; k < n && sorted; k++) {
    const a = group[k - 1];
    const b = group[k];
    if (start[b] < start[a] || (start[b] === start[a] && ids[b] < ids[a])) sorted = false;
  }
  if (sorted) return group;
  const keys = new Float64Array(n);
  const keyIds = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    keys[k] = start[group[k]];
    keyIds[k] = ids[group[k]];
  }
  const order = startOrder(keys, keyIds);
  const out = new Int32Array(n);
  for (let k = 0; k < n; k++) out[k] = group[order[k]];
  return out;
}

/** Sum of span durations in a row (pending ones up to `nowMs`). */
export function rowTotalMs(row: Row, nowMs: number): number {
  let total = 0;
  for (const s of row.spans) total += endOf(s, nowMs) - s.startMs;
  return total;
}

/**
 * A copy of a span for a layout to own (it updates its spans in place): every field of Span,
 * written out, which copies a million spans several times faster than a spread.
 */
export function copySpan(s: Span): Span {
  const c: Span = { id: s.id, parentId: s.parentId, kind: s.kind, label: s.label, line: s.line, column: s.column, startMs: s.startMs, endMs: s.endMs, outcome: s.outcome };
  if (s.floating) c.floating = s.floating;
  return c;
}

/** Builds a layout from a complete list of spans (a finished run): parents first, by start. */
export function layoutSpans(spans: readonly Span[]): TimelineLayout {
  return TimelineLayout.of(spans, true);
}
