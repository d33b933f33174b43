// Compaction: spans -> the spans a chart shows by default, one per thing the user would name.
// Pure; the timeline keeps every span, and the full tree stays one toggle away.
//
// Three rules, applied bottom-up so they chain:
//   1. An await and the single call, combinator or task it waits on, with (nearly) the same extent,
//      are one span labelled as written (`await makeToast()`): an await, or a combinator or block
//      when that is what it waited on.
//   2. A short synchronous call whose only child is the timer or promise it scheduled and that
//      outlives it folds into that child: `sleep(2000)` + `setTimeout(resolve, ms)` is one 2 s
//      `sleep(2000)`.
//   3. A call or task whose only child has no children of its own and takes at least half of it
//      takes that child in:
//      `cook("soup", 2)` and its one 2 s wait are one row, as long as the call. A block inside
//      stays visible: the row is drawn as a block and names the line that blocked.
//      A task (asyncio) exists from its creation but its body runs only when the loop gets to it:
//      the time before its body can have run (other code held the loop: see firstRunMs) was spent
//      queued, not in its own code, so it neither counts against the merge nor is drawn on the
//      merged row (`gather(cook("soup"), cook("pasta"))` with time.sleep: pasta's row starts when
//      soup's task ends, as cook('pasta') does in TypeScript); the timeline keeps the task whole.
// Nothing merges across a fan-out (two or more children), so Promise.all and gather keep their rows.

// The tree is kept in columns (each span's slot, its parent's, its children as ranges of one typed
// array) and a chain that merges gets a record of its own: a million spans that mostly do not
// merge cost a few typed arrays, not an object and map entries per span.

import { IdSlots } from '../idIndex';
import type { Outcome, Span, SpanKind } from '../timeline';
import { FLOATING, NO_PARENT, OUTCOME_MASK, PENDING, spanAt, tableOf, type Site, type SpanTable } from './spanTable';

/** Which drawn span shows a span: its own id when it is drawn as itself. */
export interface ShownAs {
  /** The id of the drawn span that shows span `id`; undefined for a span the compaction was not given (or that hangs off no root). */
  get(id: number): number | undefined;
}

export interface Compaction {
  /** The spans to draw: one per merged chain (id, parent and site of its outermost span). */
  spans: Span[];
  /** Display span id -> the original spans it stands for, outermost first (only for merged ones). */
  members: Map<number, Span[]>;
  /** Original span id -> the id of the display span that shows it. */
  shownAs: ShownAs;
  /**
   * The spans to draw in the order of the spans given (each where its outermost span was): for a
   * run given in start order, nearly in start order, which a layout sorts in one pass. `drawn`:
   * stand-ins for `spans`, index for index (copies), to put in that order instead.
   */
  inInputOrder<T = Span>(drawn?: readonly T[]): T[];
}

/** A chain that merged: its outermost span's slot stands for it. */
interface Merged {
  /** The slots of the chain, outermost first. */
  slots: number[];
  /** Slots of its (compacted) children: `list[from..to)`. */
  list: Int32Array;
  from: number;
  to: number;
  startMs: number;
  endMs: number | null;
  kind: SpanKind;
  label: string;
}

const NO_CHILDREN = new Int32Array(0);

/** The tree of the spans given, in columns; a merged chain's data in `merged`. */
class Tree {
  /** Children of slot i: `children[first[i]..first[i + 1])` until it merges. */
  readonly first: Int32Array;
  readonly children: Int32Array;
  /** Slot -> index in `merged` (-1: not merged). */
  readonly mergedAt: Int32Array;
  readonly merged: Merged[] = [];

  constructor(readonly spans: SpanTable, readonly parent: Int32Array) {
    const n = spans.length;
    this.first = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) if (parent[i] >= 0) this.first[parent[i] + 1]++;
    for (let i = 0; i < n; i++) this.first[i + 1] += this.first[i];
    this.children = new Int32Array(this.first[n]);
    const fill = this.first.slice(0, n);
    // In the order given, as the children lists were built before.
    for (let i = 0; i < n; i++) if (parent[i] >= 0) this.children[fill[parent[i]]++] = i;
    this.mergedAt = new Int32Array(n).fill(-1);
  }

  rec(i: number): Merged | undefined {
    const m = this.mergedAt[i];
    return m < 0 ? undefined : this.merged[m];
  }
  startOf(i: number): number {
    const m = this.mergedAt[i];
    return m < 0 ? this.spans.starts[i] : this.merged[m].startMs;
  }
  endOf(i: number): number | null {
    const m = this.mergedAt[i];
    return m < 0 ? this.ownEnd(i) : this.merged[m].endMs;
  }
  /** Slot i's own span's end, kind, label, id. */
  ownEnd(i: number): number | null {
    return this.spans.flags[i] & PENDING ? null : this.spans.ends[i];
  }
  site(i: number): Site {
    return this.spans.sites[this.spans.site[i]];
  }
  id(i: number): number {
    return this.spans.ids[i];
  }
  kindOf(i: number): SpanKind {
    return this.rec(i)?.kind ?? this.site(i).kind;
  }
  labelOf(i: number): string {
    return this.rec(i)?.label ?? this.site(i).label;
  }
  childCount(i: number): number {
    const m = this.rec(i);
    return m ? m.to - m.from : this.first[i + 1] - this.first[i];
  }
  /** The children of slot i as [list, from, to). */
  childRange(i: number): [Int32Array, number, number] {
    const m = this.rec(i);
    return m ? [m.list, m.from, m.to] : [this.children, this.first[i], this.first[i + 1]];
  }
  memberSlots(i: number): number[] {
    return this.rec(i)?.slots ?? [i];
  }
}

/**
 * Whether an await and what it waits on share an extent: the child may leave a quarter of the
 * await uncovered (argument evaluation, a busy machine's slow first console.log), or 2 ms.
 */
function nearlySame(t: Tree, outer: number, inner: number, nowMs: number): boolean {
  const outerEnd = t.endOf(outer);
  const innerEnd = t.endOf(inner);
  const oEnd = outerEnd ?? nowMs;
  const iEnd = innerEnd ?? nowMs;
  if ((outerEnd === null) !== (innerEnd === null) && outerEnd !== null) return false;
  const outerStart = t.startOf(outer);
  const outerMs = oEnd - outerStart;
  const uncovered = Math.max(0, t.startOf(inner) - outerStart) + Math.max(0, oEnd - iEnd);
  return uncovered <= Math.max(2, 0.25 * outerMs);
}

/**
 * Whether the child lies inside the parent and takes at least half of it: a call that spent most
 * of its time in its own code keeps the wait on a row of its own.
 */
function within(t: Tree, outer: number, inner: number, nowMs: number, outerStartMs: number): boolean {
  const innerStart = t.startOf(inner);
  const innerEnd = t.endOf(inner);
  const outerEnd = t.endOf(outer);
  if (innerStart < t.startOf(outer)) return false;
  if (outerEnd !== null && (innerEnd === null || innerEnd > outerEnd + 0.001)) return false;
  return (innerEnd ?? nowMs) - innerStart >= 0.5 * ((outerEnd ?? nowMs) - outerStartMs);
}

/** The ends of the run's blocks and tasks, by time: what held the event loop until then. */
interface LoopEnds {
  atMs: Float64Array;
  ids: Float64Array;
}

/**
 * The earliest a task's body can have started running, given that its only child began at
 * `child.startMs`. A body runs in one step up to its first await, so that step held the loop from
 * its start to the child's, and no other code ran meanwhile: not a block, and not another task's
 * last step, which ends when that task does. So the body started after the latest such end that
 * falls between the task's creation and its child's start; at its creation when there is none.
 */
function firstRunMs(t: Tree, task: number, child: number, loopEnds: LoopEnds): number {
  const own = new Set(t.memberSlots(child).map((m) => t.id(m)));
  own.add(t.id(task));
  const taskStart = t.startOf(task);
  const childStart = t.startOf(child);
  // The latest end at or before the child's start that is not the chain's own.
  const { atMs, ids } = loopEnds;
  let lo = 0;
  let hi = atMs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (atMs[mid] <= childStart) lo = mid + 1;
    else hi = mid;
  }
  for (let k = lo - 1; k >= 0 && atMs[k] > taskStart; k--) if (!own.has(ids[k])) return atMs[k];
  return taskStart;
}

const OUTCOME_CODE: Record<Outcome, number> = { pending: 0, fulfilled: 1, rejected: 2 };
const REJECTED = OUTCOME_CODE.rejected;

/** A merged chain's outcome: rejected when one of them was, pending while one is, else fulfilled. */
function outcomeOf(t: SpanTable, slots: readonly number[]): Outcome {
  let pending = false;
  for (const k of slots) {
    if ((t.flags[k] & OUTCOME_MASK) === REJECTED) return 'rejected';
    if (t.flags[k] & PENDING) pending = true;
  }
  return pending ? 'pending' : 'fulfilled';
}

/** Merges `inner` (the only child) into `outer`; outer's slot stands for the chain from now on. */
function merge(t: Tree, outer: number, inner: number, label: string, kind: SpanKind, keepChildren: boolean, startMs = Math.min(t.startOf(outer), t.startOf(inner))): void {
  const slots = [...t.memberSlots(outer), ...t.memberSlots(inner)];
  let endMs: number | null = -Infinity;
  for (const m of slots) {
    const end = t.ownEnd(m);
    if (end === null) {
      endMs = null;
      break;
    }
    if (end > endMs) endMs = end;
  }
  const [list, from, to] = keepChildren ? t.childRange(inner) : [NO_CHILDREN, 0, 0];
  t.mergedAt[outer] = t.merged.length;
  t.merged.push({ slots, list, from, to, startMs, endMs, kind, label });
}

/** Compacts one node whose children are compacted already. */
function compactNode(t: Tree, node: number, nowMs: number, loopEnds: LoopEnds): void {
  // A node is compacted once, after its children: it has not merged yet.
  if (t.first[node + 1] - t.first[node] !== 1) return;
  const child = t.children[t.first[node]];
  // A call nobody awaited is drawn in its own lane: it never folds into the code that started it.
  if (t.spans.flags[child] & FLOATING) return;
  const head = t.site(child).kind;
  const outerKind = t.site(node).kind;
  const nodeStart = t.spans.starts[node];
  const nodeEnd = t.ownEnd(node);
  // 1. await + what it waits on.
  if (outerKind === 'await' && (head === 'call' || head === 'combinator' || head === 'task') && nearlySame(t, node, child, nowMs)) {
    // Drawn as an await (what the user wrote), unless what it waits on is a combinator or blocked.
    const childKind = t.kindOf(child);
    const kind = childKind === 'combinator' || childKind === 'block' ? childKind : 'await';
    merge(t, node, child, `await ${t.labelOf(node)}`, kind, true);
    return;
  }
  // 2. A short synchronous call folds into the timer or promise it scheduled.
  if (outerKind === 'call' && nodeEnd !== null && (head === 'timer' || head === 'task')) {
    const callMs = nodeEnd - nodeStart;
    const childEnd = t.endOf(child) ?? nowMs;
    // Short: at most half of the row it becomes (a first call on a busy machine may take 40 ms
    // before a 300 ms timer; it is still the timer that the row is about).
    if (childEnd >= nodeEnd && callMs <= Math.max(1, 0.5 * (childEnd - nodeStart))) {
      merge(t, node, child, t.labelOf(node), t.kindOf(child), true);
      return;
    }
  }
  // 3. A call or task and its one leaf child that takes at least half of it. The row keeps the
  // call's own extent, so the time it spent before or after that child is still drawn (work long
  // enough to block is a child of its own, which stops the merge).
  // A task's row starts when its body can first have run (see firstRunMs).
  const startMs = outerKind === 'task' ? firstRunMs(t, node, child, loopEnds) : t.startOf(node);
  if ((outerKind === 'call' || outerKind === 'task') && t.childCount(child) === 0 && within(t, node, child, nowMs, startMs)) {
    const childStart = t.startOf(child);
    if (t.kindOf(child) !== 'block') {
      merge(t, node, child, t.labelOf(node), t.kindOf(node), false, Math.min(startMs, childStart));
      return;
    }
    // The line that blocked is what the learner needs to see: `cook("soup", 2) · while (…) {}`.
    const blocked = t.memberSlots(child).find((m) => t.site(m).kind === 'block');
    merge(t, node, child, blocked !== undefined ? `${t.labelOf(node)} · ${t.site(blocked).label}` : t.labelOf(node), 'block', false, Math.min(startMs, childStart));
  }
}

/** Sorts `list[from..to)` by start (as compacted), then id, unless it is in that order already. */
function sortByStart(t: Tree, list: Int32Array, from: number, to: number): void {
  let sorted = true;
  for (let k = from + 1; k < to && sorted; k++) {
    const a = list[k - 1];
    const b = list[k];
    const d = t.startOf(a) - t.startOf(b);
    if (d > 0 || (d === 0 && t.id(a) > t.id(b)) || d !== d) sorted = false;
  }
  if (sorted) return;
  const part = Array.from(list.subarray(from, to));
  part.sort((a, b) => t.startOf(a) - t.startOf(b) || t.id(a) - t.id(b));
  list.set(part, from);
}

/** What the compaction found: the tree as compacted, and which drawn span shows each span. */
interface Compacted {
  t: Tree;
  slots: IdSlots;
  /** The drawn slots in pre-order (parents before children, siblings by start). */
  pre: Int32Array;
  /** Drawn slot -> its parent id as drawn (NaN: none). */
  drawnParent: Float64Array;
  /** Slot -> the slot of the drawn span that shows it (-1: none). */
  shownSlot: Int32Array;
}

/** The table's columns as they are now, in a plain object (read in hot loops; a store's are getters). */
export function columnsNow(t: SpanTable): SpanTable {
  return { length: t.length, ids: t.ids, parents: t.parents, starts: t.starts, ends: t.ends, site: t.site, flags: t.flags, sites: t.sites };
}

/** The compaction of the spans in `table` (see the rules above). */
function compactTable(live: SpanTable, nowMs: number, given?: IdSlots): Compacted {
  const table = columnsNow(live);
  const n = table.length;
  const { ids, parents, flags } = table;
  // A span's slot is its index (ids are unique within a run; were one given twice, the last counts).
  let slots = given;
  if (!slots) {
    slots = new IdSlots();
    for (let i = 0; i < n; i++) slots.add(ids[i]);
  }
  const parent = new Int32Array(n).fill(-1);
  const roots: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = flags[i] & NO_PARENT ? -1 : slots.slotOf(parents[i]);
    if (p >= 0 && p !== i) parent[i] = p;
    else roots.push(i);
  }
  const t = new Tree(table, parent);

  // Children before parents: the reverse of a breadth-first order from the roots.
  const order = new Int32Array(n);
  let count = 0;
  for (const r of roots) order[count++] = r;
  for (let k = 0; k < count; k++) {
    const i = order[k];
    for (let c = t.first[i]; c < t.first[i + 1]; c++) order[count++] = t.children[c];
  }
  const loopEndSlots: number[] = [];
  for (let i = 0; i < n; i++) {
    const kind = t.site(i).kind;
    if ((kind === 'block' || kind === 'task') && !(flags[i] & PENDING)) loopEndSlots.push(i);
  }
  loopEndSlots.sort((a, b) => table.ends[a] - table.ends[b]);
  const loopEnds: LoopEnds = { atMs: Float64Array.from(loopEndSlots, (i) => table.ends[i]), ids: Float64Array.from(loopEndSlots, (i) => ids[i]) };
  for (let k = count - 1; k >= 0; k--) compactNode(t, order[k], nowMs, loopEnds);

  const pre = new Int32Array(n);
  let drawn = 0;
  const drawnParent = new Float64Array(n);
  const found = slots;
  const shownSlot = new Int32Array(n).fill(-1);
  // Pre-order, parents before children, without recursion (trees as deep as the program's recursion).
  const sortedRoots = roots.slice().sort((a, b) => table.starts[a] - table.starts[b] || ids[a] - ids[b]);
  const stack: number[] = [];
  const stackParent: number[] = [];
  for (const r of sortedRoots) {
    // A root whose parent has not arrived keeps its parent id, so a live layout waits for it.
    stack.push(r);
    stackParent.push(flags[r] & NO_PARENT ? NaN : parents[r]);
    while (stack.length) {
      const i = stack.pop()!;
      drawnParent[i] = stackParent.pop()!;
      pre[drawn++] = i;
      const m = t.rec(i);
      if (m) for (const k of m.slots) shownSlot[k] = i;
      else shownSlot[i] = i;
      const list = m ? m.list : t.children;
      const from = m ? m.from : t.first[i];
      const to = m ? m.to : t.first[i + 1];
      sortByStart(t, list, from, to);
      for (let c = to - 1; c >= from; c--) {
        stack.push(list[c]);
        stackParent.push(ids[i]);
      }
    }
  }
  return { t, slots: found, pre: pre.subarray(0, drawn), drawnParent, shownSlot };
}

/** Which drawn span shows each span of the compaction. */
function shownAsOf(c: Compacted): ShownAs {
  const { slots, shownSlot } = c;
  const ids = c.t.spans.ids;
  const n = shownSlot.length;
  return {
    get(id: number): number | undefined {
      const slot = slots.slotOf(id);
      const shown = slot < 0 || slot >= n ? -1 : shownSlot[slot];
      return shown < 0 ? undefined : ids[shown];
    },
  };
}

/** The spans to draw by default (see the rules above). `nowMs` stands for the end of pending spans. */
export function compactSpans(spans: readonly Span[], nowMs: number): Compaction {
  const n = spans.length;
  const table = tableOf(spans);
  const c = compactTable(table, nowMs);
  const { t, pre, drawnParent, shownSlot } = c;
  const out: Span[] = new Array(pre.length);
  const members = new Map<number, Span[]>();
  /** Drawn slot -> its index in `out`. */
  const outAt = new Int32Array(n);
  for (let k = 0; k < pre.length; k++) {
    const i = pre[k];
    const s = spans[i];
    const m = t.rec(i);
    const p = drawnParent[i];
    const parentId = Number.isNaN(p) ? null : p;
    outAt[i] = k;
    out[k] = !m && s.parentId === parentId ? s : {
      id: s.id, parentId, kind: t.kindOf(i), label: t.labelOf(i), line: s.line, column: s.column,
      startMs: t.startOf(i), endMs: t.endOf(i), outcome: m ? outcomeOf(table, m.slots) : s.outcome,
      ...(s.floating ? { floating: true as const } : {}),
    };
    if (m) members.set(s.id, m.slots.map((slot) => spans[slot]));
  }
  const inInputOrder = <T = Span>(drawn: readonly T[] = out as unknown as T[]): T[] => {
    const ordered: T[] = [];
    for (let i = 0; i < n; i++) if (shownSlot[i] === i) ordered.push(drawn[outAt[i]]);
    return ordered;
  };
  return { spans: out, members, shownAs: shownAsOf(c), inInputOrder };
}

/** A merged chain's spans, outermost first, as objects made when asked for. */
export interface MembersOf {
  get(id: number): readonly Span[] | undefined;
}

/** `compactSpans` for spans in columns: what it draws, in columns, and no object per span. */
export interface TableCompaction {
  /**
   * The spans to draw, in the order of the spans given (as `Compaction.inInputOrder()` gives them):
   * field for field what `compactSpans` draws.
   */
  drawn: SpanTable;
  /** Drawn span id -> the spans it stands for, outermost first (only for merged ones): made from `table` when asked. */
  members: MembersOf;
  shownAs: ShownAs;
}

/**
 * `compactSpans` on spans in columns. `members` reads `table` when asked (a span that ended since
 * shows its end, as the span objects a store updates in place did). `slots`: the table's ids, each
 * once, at their index (a store's, which may grow after this), so they need not be indexed again.
 */
export function compactColumns(live: SpanTable, nowMs: number, slots?: IdSlots): TableCompaction {
  const c = compactTable(live, nowMs, slots);
  const table = c.t.spans;
  const { t, drawnParent, shownSlot } = c;
  const n = table.length;
  let count = 0;
  for (let i = 0; i < n; i++) if (shownSlot[i] === i) count++;
  const sites: Site[] = table.sites.slice();
  /** Sites of merged rows (a label or kind of their own), by kind, line, column and label. */
  const mergedSites = new Map<string, number>();
  const drawn = {
    length: count, ids: new Float64Array(count), parents: new Float64Array(count), starts: new Float64Array(count), ends: new Float64Array(count),
    site: new Int32Array(count), flags: new Uint8Array(count), sites,
  };
  const mergedAt = new Map<number, number>();
  for (let i = 0, k = 0; i < n; i++) {
    if (shownSlot[i] !== i) continue;
    const f = table.flags[i];
    const p = drawnParent[i];
    drawn.ids[k] = table.ids[i];
    drawn.parents[k] = Number.isNaN(p) ? 0 : p;
    const m = t.rec(i);
    if (!m) {
      drawn.starts[k] = table.starts[i];
      drawn.ends[k] = table.ends[i];
      drawn.site[k] = table.site[i];
      drawn.flags[k] = (f & ~NO_PARENT) | (Number.isNaN(p) ? NO_PARENT : 0);
    } else {
      mergedAt.set(table.ids[i], i);
      const own = t.site(i);
      const key = `${m.kind}\u0000${own.line}\u0000${own.column}\u0000${m.label}`;
      let si = mergedSites.get(key);
      if (si === undefined) {
        si = sites.length;
        sites.push({ kind: m.kind, label: m.label, line: own.line, column: own.column });
        mergedSites.set(key, si);
      }
      drawn.starts[k] = m.startMs;
      drawn.ends[k] = m.endMs ?? 0;
      drawn.site[k] = si;
      const outcome = outcomeOf(table, m.slots);
      drawn.flags[k] = OUTCOME_CODE[outcome] | (f & FLOATING) | (m.endMs === null ? PENDING : 0) | (Number.isNaN(p) ? NO_PARENT : 0);
    }
    k++;
  }
  const members: MembersOf = {
    get(id: number): readonly Span[] | undefined {
      const i = mergedAt.get(id);
      const m = i === undefined ? undefined : t.rec(i);
      return m ? m.slots.map((slot) => spanAt(live, slot)) : undefined;
    },
  };
  return { drawn, members, shownAs: shownAsOf(c) };
}

/** Maps a set of original span ids (critical path, could-overlap) to the display spans that show them. */
export function shownIds(ids: Iterable<number>, compaction: Pick<Compaction, 'shownAs'>): Set<number> {
  const out = new Set<number>();
  for (const id of ids) out.add(compaction.shownAs.get(id) ?? id);
  return out;
}
