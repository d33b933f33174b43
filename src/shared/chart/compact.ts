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
  /** The chain, outermost first, and their slots. */
  members: Span[];
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

  constructor(readonly spans: readonly Span[], readonly parent: Int32Array) {
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
    return m < 0 ? this.spans[i].startMs : this.merged[m].startMs;
  }
  endOf(i: number): number | null {
    const m = this.mergedAt[i];
    return m < 0 ? this.spans[i].endMs : this.merged[m].endMs;
  }
  kindOf(i: number): SpanKind {
    return this.rec(i)?.kind ?? this.spans[i].kind;
  }
  labelOf(i: number): string {
    return this.rec(i)?.label ?? this.spans[i].label;
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
  membersOf(i: number): Span[] {
    return this.rec(i)?.members ?? [this.spans[i]];
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
  const own = new Set(t.membersOf(child).map((m) => m.id));
  own.add(t.spans[task].id);
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

const outcomeOf = (members: readonly Span[]): Outcome =>
  members.some((m) => m.outcome === 'rejected') ? 'rejected' : members.some((m) => m.endMs === null) ? 'pending' : 'fulfilled';

/** Merges `inner` (the only child) into `outer`; outer's slot stands for the chain from now on. */
function merge(t: Tree, outer: number, inner: number, label: string, kind: SpanKind, keepChildren: boolean, startMs = Math.min(t.startOf(outer), t.startOf(inner))): void {
  const members = [...t.membersOf(outer), ...t.membersOf(inner)];
  const slots = [...t.memberSlots(outer), ...t.memberSlots(inner)];
  let endMs: number | null = -Infinity;
  for (const m of members) {
    if (m.endMs === null) {
      endMs = null;
      break;
    }
    if (m.endMs > endMs) endMs = m.endMs;
  }
  const [list, from, to] = keepChildren ? t.childRange(inner) : [NO_CHILDREN, 0, 0];
  t.mergedAt[outer] = t.merged.length;
  t.merged.push({ members, slots, list, from, to, startMs, endMs, kind, label });
}

/** Compacts one node whose children are compacted already. */
function compactNode(t: Tree, node: number, nowMs: number, loopEnds: LoopEnds): void {
  // A node is compacted once, after its children: it has not merged yet.
  if (t.first[node + 1] - t.first[node] !== 1) return;
  const child = t.children[t.first[node]];
  const childSpan = t.spans[child];
  // A call nobody awaited is drawn in its own lane: it never folds into the code that started it.
  if (childSpan.floating) return;
  const head = childSpan.kind;
  const span = t.spans[node];
  const outerKind = span.kind;
  // 1. await + what it waits on.
  if (outerKind === 'await' && (head === 'call' || head === 'combinator' || head === 'task') && nearlySame(t, node, child, nowMs)) {
    // Drawn as an await (what the user wrote), unless what it waits on is a combinator or blocked.
    const childKind = t.kindOf(child);
    const kind = childKind === 'combinator' || childKind === 'block' ? childKind : 'await';
    merge(t, node, child, `await ${t.labelOf(node)}`, kind, true);
    return;
  }
  // 2. A short synchronous call folds into the timer or promise it scheduled.
  if (outerKind === 'call' && span.endMs !== null && (head === 'timer' || head === 'task')) {
    const callMs = span.endMs - span.startMs;
    const childEnd = t.endOf(child) ?? nowMs;
    // Short: at most half of the row it becomes (a first call on a busy machine may take 40 ms
    // before a 300 ms timer; it is still the timer that the row is about).
    if (childEnd >= span.endMs && callMs <= Math.max(1, 0.5 * (childEnd - span.startMs))) {
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
    const blocked = t.membersOf(child).find((m) => m.kind === 'block');
    merge(t, node, child, blocked ? `${t.labelOf(node)} · ${blocked.label}` : t.labelOf(node), 'block', false, Math.min(startMs, childStart));
  }
}

/** Sorts `list[from..to)` by start (as compacted), then id, unless it is in that order already. */
function sortByStart(t: Tree, list: Int32Array, from: number, to: number): void {
  let sorted = true;
  for (let k = from + 1; k < to && sorted; k++) {
    const a = list[k - 1];
    const b = list[k];
    const d = t.startOf(a) - t.startOf(b);
    if (d > 0 || (d === 0 && t.spans[a].id > t.spans[b].id) || d !== d) sorted = false;
  }
  if (sorted) return;
  const part = Array.from(list.subarray(from, to));
  part.sort((a, b) => t.startOf(a) - t.startOf(b) || t.spans[a].id - t.spans[b].id);
  list.set(part, from);
}

/** The spans to draw by default (see the rules above). `nowMs` stands for the end of pending spans. */
export function compactSpans(spans: readonly Span[], nowMs: number): Compaction {
  const n = spans.length;
  // A span's slot is its index (ids are unique within a run; were one given twice, the last counts).
  const slots = new IdSlots();
  for (let i = 0; i < n; i++) slots.add(spans[i].id);
  const parent = new Int32Array(n).fill(-1);
  const roots: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = spans[i];
    const p = s.parentId !== null ? slots.slotOf(s.parentId) : -1;
    if (p >= 0 && p !== i) parent[i] = p;
    else roots.push(i);
  }
  const t = new Tree(spans, parent);

  // Children before parents: the reverse of a breadth-first order from the roots.
  const order = new Int32Array(n);
  let count = 0;
  for (const r of roots) order[count++] = r;
  for (let k = 0; k < count; k++) {
    const i = order[k];
    for (let c = t.first[i]; c < t.first[i + 1]; c++) order[count++] = t.children[c];
  }
  const loopEndSlots: number[] = [];
  for (let i = 0; i < n; i++) if ((spans[i].kind === 'block' || spans[i].kind === 'task') && spans[i].endMs !== null) loopEndSlots.push(i);
  loopEndSlots.sort((a, b) => (spans[a].endMs as number) - (spans[b].endMs as number));
  const loopEnds: LoopEnds = { atMs: Float64Array.from(loopEndSlots, (i) => spans[i].endMs as number), ids: Float64Array.from(loopEndSlots, (i) => spans[i].id) };
  for (let k = count - 1; k >= 0; k--) compactNode(t, order[k], nowMs, loopEnds);

  const out: Span[] = [];
  const members = new Map<number, Span[]>();
  /** Slot -> the slot of the drawn span that shows it (-1: none). */
  const shownSlot = new Int32Array(n).fill(-1);
  /** Drawn slot -> its index in `out`. */
  const outAt = new Int32Array(n);
  // Pre-order, parents before children, without recursion (trees as deep as the program's recursion).
  const sortedRoots = roots.slice().sort((a, b) => spans[a].startMs - spans[b].startMs || spans[a].id - spans[b].id);
  const stack: number[] = [];
  const stackParent: (number | null)[] = [];
  for (const r of sortedRoots) {
    // A root whose parent has not arrived keeps its parent id, so a live layout waits for it.
    stack.push(r);
    stackParent.push(spans[r].parentId);
    while (stack.length) {
      const i = stack.pop()!;
      const parentId = stackParent.pop()!;
      const s = spans[i];
      const m = t.rec(i);
      outAt[i] = out.length;
      out.push(!m && s.parentId === parentId ? s : {
        id: s.id, parentId, kind: t.kindOf(i), label: t.labelOf(i), line: s.line, column: s.column,
        startMs: t.startOf(i), endMs: t.endOf(i), outcome: m ? outcomeOf(m.members) : s.outcome,
        ...(s.floating ? { floating: true as const } : {}),
      });
      if (m) {
        members.set(s.id, m.members);
        for (const k of m.slots) shownSlot[k] = i;
      } else shownSlot[i] = i;
      const list = m ? m.list : t.children;
      const from = m ? m.from : t.first[i];
      const to = m ? m.to : t.first[i + 1];
      sortByStart(t, list, from, to);
      for (let c = to - 1; c >= from; c--) {
        stack.push(list[c]);
        stackParent.push(s.id);
      }
    }
  }
  const shownAs: ShownAs = {
    get(id: number): number | undefined {
      const slot = slots.slotOf(id);
      const shown = slot < 0 ? -1 : shownSlot[slot];
      return shown < 0 ? undefined : spans[shown].id;
    },
  };
  const inInputOrder = <T = Span>(drawn: readonly T[] = out as unknown as T[]): T[] => {
    const ordered: T[] = [];
    for (let i = 0; i < n; i++) if (shownSlot[i] === i) ordered.push(drawn[outAt[i]]);
    return ordered;
  };
  return { spans: out, members, shownAs, inInputOrder };
}

/** Maps a set of original span ids (critical path, could-overlap) to the display spans that show them. */
export function shownIds(ids: Iterable<number>, compaction: Pick<Compaction, 'shownAs'>): Set<number> {
  const out = new Set<number>();
  for (const id of ids) out.add(compaction.shownAs.get(id) ?? id);
  return out;
}
