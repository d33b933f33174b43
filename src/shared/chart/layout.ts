// Spans -> rows. Pure and incremental: spans may arrive in any batch size, pending first and again
// when they end. A row holds the spans of one await site under one parent row that do not overlap
// (a loop's 1,000 sequential awaits share a row; Promise.all's overlapping ones get a row each),
// so a row's spans are sorted by start with sorted ends, which culling and LOD rely on.

import type { Span, SpanKind } from '../timeline';
import { endOf } from './lod';

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
  /** Lanes per child site, to place the next span of that site. */
  readonly lanes: Map<string, Row[]>;
  /**
   * Set on the header row of the "Not awaited" lane: it has no spans of its own, it is always the
   * last top-level row, and the calls whose promise nobody awaited (`Span.floating`) are its children.
   */
  readonly lane?: 'not-awaited';
}

/** Key of the "Not awaited" lane's header row. */
export const NOT_AWAITED_KEY = '~not-awaited';

/**
 * Whether a span is drawn in the "Not awaited" lane: a call nobody awaited, made from inside other
 * code. A top-level `main();` is the program's entry point, not a forgotten await: it stays where it
 * is (its insight, if any, is still said on its bar).
 */
export const inNotAwaitedLane = (s: Span): boolean => s.floating === true && s.parentId !== null;

function newRow(parent: Row | null, key: string, site: Span | null): Row {
  return {
    key,
    depth: parent ? parent.depth + 1 : -1,
    parent,
    kind: site?.kind ?? 'call',
    label: site?.label ?? '',
    line: site?.line ?? 0,
    column: site?.column ?? 0,
    spans: [],
    children: [],
    lanes: new Map(),
  };
}

const siteKey = (s: Span) => `${s.line}:${s.column}:${s.kind}`;

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
  private readonly spanRow = new Map<number, Row>();
  private readonly spanById = new Map<number, Span>();
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
    return this.spanById.size;
  }

  get waitingForParent(): number {
    return this.orphanCount;
  }

  span(id: number): Span | undefined {
    return this.spanById.get(id);
  }

  rowOf(id: number): Row | undefined {
    return this.spanRow.get(id);
  }

  spans(): IterableIterator<Span> {
    return this.spanById.values();
  }

  /**
   * Adds new spans and updates known ones (a pending span that now has an end). New span objects
   * are kept as they are (not copied) and updated in place later: pass objects you own.
   */
  apply(spans: readonly Span[]): void {
    for (const s of spans) {
      const known = this.spanById.get(s.id);
      if (known) this.update(known, s);
      else this.insert(s);
    }
    this.version++;
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
      const row: Row = { ...newRow(this.root, NOT_AWAITED_KEY, null), label: 'Not awaited', lane: 'not-awaited' };
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
    const row = this.spanRow.get(s.id) as (Row & { parent: Row | null; depth: number; key: string }) | undefined;
    if (!row || row.spans.length !== 1 || !row.parent || row.parent.lane) return;
    const from = row.parent;
    const siteLanes = [...from.lanes.values()].find((l) => l.includes(row));
    if (siteLanes) siteLanes.splice(siteLanes.indexOf(row), 1);
    from.children.splice(from.children.indexOf(row), 1);
    const lane = this.lane();
    row.parent = lane;
    const key = siteKey(s);
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
    this.spanById.set(s.id, s);
    let parentRow = this.root;
    if (inNotAwaitedLane(s)) {
      parentRow = this.lane();
    } else if (s.parentId !== null) {
      const row = this.spanRow.get(s.parentId);
      if (!row) {
        const list = this.orphans.get(s.parentId);
        if (list) list.push(s);
        else this.orphans.set(s.parentId, [s]);
        this.orphanCount++;
        return;
      }
      parentRow = row;
    }
    this.place(s, parentRow);
  }

  private place(s: Span, parentRow: Row): void {
    const key = siteKey(s);
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
      const laneKey = `${parentRow.key}/${key}${lanes.length ? `#${lanes.length}` : ''}`;
      row = newRow(parentRow, laneKey, s);
      lanes.push(row);
      this.insertChild(parentRow, row, s.startMs);
      this.rowCount++;
      this.structureVersion++;
    }
    row.spans.push(s);
    this.spanRow.set(s.id, row);
    this.extentMs = Math.max(this.extentMs, s.endMs ?? s.startMs);
    const waiting = this.orphans.get(s.id);
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
    while (i > 0 && c[i - 1].spans[0].startMs > startMs) i--;
    c.splice(i, 0, row);
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

/** Sum of span durations in a row (pending ones up to `nowMs`). */
export function rowTotalMs(row: Row, nowMs: number): number {
  let total = 0;
  for (const s of row.spans) total += endOf(s, nowMs) - s.startMs;
  return total;
}

/** Builds a layout from a complete list of spans (a finished run): parents first, by start. */
export function layoutSpans(spans: readonly Span[]): TimelineLayout {
  const layout = new TimelineLayout();
  const sorted = spans.map((s) => ({ ...s })).sort((a, b) => a.startMs - b.startMs || a.id - b.id);
  layout.apply(sorted);
  layout.adoptOrphans();
  return layout;
}
