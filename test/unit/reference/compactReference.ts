// The compaction as it was before it ran on columns (commit 7058e34), kept only as the oracle of
// chart-equivalence.test.ts: the columnar compaction must give exactly what this gives.
/* eslint-disable */
import type { Outcome, Span, SpanKind } from '../../../src/shared/timeline';

export interface Compaction {
  /** The spans to draw: one per merged chain (id, parent and site of its outermost span). */
  spans: Span[];
  /** Display span id -> the original spans it stands for, outermost first (only for merged ones). */
  members: Map<number, Span[]>;
  /** Original span id -> the id of the display span that shows it. */
  shownAs: Map<number, number>;
}

interface Node {
  span: Span;
  /** The chain this node stands for, outermost first. */
  members: Span[];
  children: Node[];
  startMs: number;
  endMs: number | null;
  kind: SpanKind;
  label: string;
}

/**
 * Whether an await and what it waits on share an extent: the child may leave a quarter of the
 * await uncovered (argument evaluation, a busy machine's slow first console.log), or 2 ms.
 */
function nearlySame(outer: Node, inner: Node, nowMs: number): boolean {
  const oEnd = outer.endMs ?? nowMs;
  const iEnd = inner.endMs ?? nowMs;
  if ((outer.endMs === null) !== (inner.endMs === null) && outer.endMs !== null) return false;
  const outerMs = oEnd - outer.startMs;
  const uncovered = Math.max(0, inner.startMs - outer.startMs) + Math.max(0, oEnd - iEnd);
  return uncovered <= Math.max(2, 0.25 * outerMs);
}

/**
 * Whether the child lies inside the parent and takes at least half of it: a call that spent most
 * of its time in its own code keeps the wait on a row of its own.
 */
function within(outer: Node, inner: Node, nowMs: number, outerStartMs = outer.startMs): boolean {
  if (inner.startMs < outer.startMs) return false;
  if (outer.endMs !== null && (inner.endMs === null || inner.endMs > outer.endMs + 0.001)) return false;
  return (inner.endMs ?? nowMs) - inner.startMs >= 0.5 * ((outer.endMs ?? nowMs) - outerStartMs);
}

/**
 * The earliest a task's body can have started running, given that its only child began at
 * `child.startMs`. A body runs in one step up to its first await, so that step held the loop from
 * its start to the child's, and no other code ran meanwhile: not a block, and not another task's
 * last step, which ends when that task does. So the body started after the latest such end that
 * falls between the task's creation and its child's start; at its creation when there is none.
 * `loopEnds`: the ends of the run's blocks and tasks, by time.
 */
function firstRunMs(task: Node, child: Node, loopEnds: readonly { id: number; atMs: number }[]): number {
  const own = new Set(child.members.map((m) => m.id));
  own.add(task.span.id);
  let at = task.startMs;
  for (const e of loopEnds) {
    if (e.atMs > child.startMs) break;
    if (e.atMs > at && !own.has(e.id)) at = e.atMs;
  }
  return at;
}

const outcomeOf = (members: readonly Span[]): Outcome =>
  members.some((m) => m.outcome === 'rejected') ? 'rejected' : members.some((m) => m.endMs === null) ? 'pending' : 'fulfilled';

function merge(outer: Node, inner: Node, label: string, kind: SpanKind, children: Node[], startMs = Math.min(outer.startMs, inner.startMs)): Node {
  const members = [...outer.members, ...inner.members];
  const ends = members.map((m) => m.endMs);
  return {
    span: outer.span,
    members,
    children,
    startMs,
    endMs: ends.includes(null) ? null : Math.max(...(ends as number[])),
    kind,
    label,
  };
}

/**
 * Compacts a tree bottom-up without recursion: a tree is as deep as the program's recursion (an
 * async function that recursed 10,000 times until the stack overflowed), deeper than our own stack.
 */
function compactTree(root: Node, nowMs: number, loopEnds: readonly { id: number; atMs: number }[]): Node {
  const stack: Array<{ node: Node; next: number }> = [{ node: root, next: 0 }];
  for (;;) {
    const top = stack[stack.length - 1];
    if (top.next < top.node.children.length) {
      stack.push({ node: top.node.children[top.next++], next: 0 });
      continue;
    }
    stack.pop();
    const done = compactNode(top.node, nowMs, loopEnds);
    if (!stack.length) return done;
    const parent = stack[stack.length - 1];
    parent.node.children[parent.next - 1] = done;
  }
}

/** One node whose children are compacted already. */
function compactNode(node: Node, nowMs: number, loopEnds: readonly { id: number; atMs: number }[]): Node {
  if (node.children.length !== 1) return node;
  const child = node.children[0];
  // A call nobody awaited is drawn in its own lane: it never folds into the code that started it.
  if (child.span.floating) return node;
  const head = child.members[0].kind;
  const outerKind = node.span.kind;
  // 1. await + what it waits on.
  if (outerKind === 'await' && (head === 'call' || head === 'combinator' || head === 'task') && nearlySame(node, child, nowMs)) {
    // Drawn as an await (what the user wrote), unless what it waits on is a combinator or blocked.
    const kind = child.kind === 'combinator' || child.kind === 'block' ? child.kind : 'await';
    return merge(node, child, `await ${node.label}`, kind, child.children);
  }
  // 2. A short synchronous call folds into the timer or promise it scheduled.
  if (outerKind === 'call' && node.span.endMs !== null && (head === 'timer' || head === 'task')) {
    const callMs = node.span.endMs - node.span.startMs;
    const childEnd = child.endMs ?? nowMs;
    // Short: at most half of the row it becomes (a first call on a busy machine may take 40 ms
    // before a 300 ms timer; it is still the timer that the row is about).
    if (childEnd >= node.span.endMs && callMs <= Math.max(1, 0.5 * (childEnd - node.span.startMs))) {
      return merge(node, child, node.label, child.kind, child.children);
    }
  }
  // 3. A call or task and its one leaf child that takes at least half of it. The row keeps the
  // call's own extent, so the time it spent before or after that child is still drawn (work long
  // enough to block is a child of its own, which stops the merge).
  // A task's row starts when its body can first have run (see firstRunMs).
  const startMs = outerKind === 'task' ? firstRunMs(node, child, loopEnds) : node.startMs;
  if ((outerKind === 'call' || outerKind === 'task') && child.children.length === 0 && within(node, child, nowMs, startMs)) {
    if (child.kind !== 'block') return merge(node, child, node.label, node.kind, [], Math.min(startMs, child.startMs));
    // The line that blocked is what the learner needs to see: `cook("soup", 2) · while (…) {}`.
    const blocked = child.members.find((m) => m.kind === 'block');
    return merge(node, child, blocked ? `${node.label} · ${blocked.label}` : node.label, 'block', [], Math.min(startMs, child.startMs));
  }
  return node;
}

/** The spans to draw by default (see the rules above). `nowMs` stands for the end of pending spans. */
export function compactSpans(spans: readonly Span[], nowMs: number): Compaction {
  const nodes = new Map<number, Node>();
  for (const s of spans) {
    nodes.set(s.id, { span: s, members: [s], children: [], startMs: s.startMs, endMs: s.endMs, kind: s.kind, label: s.label });
  }
  const roots: Node[] = [];
  for (const s of spans) {
    const n = nodes.get(s.id)!;
    const parent = s.parentId !== null ? nodes.get(s.parentId) : undefined;
    if (parent && parent !== n) parent.children.push(n);
    else roots.push(n);
  }
  const byStart = (a: Node, b: Node) => a.startMs - b.startMs || a.span.id - b.span.id;
  const out: Span[] = [];
  const members = new Map<number, Span[]>();
  const shownAs = new Map<number, number>();
  // Pre-order, parents before children, without recursion (trees as deep as the program's recursion).
  const emit = (root: Node, rootParentId: number | null) => {
    const stack: Array<[Node, number | null]> = [[root, rootParentId]];
    while (stack.length) {
      const [n, parentId] = stack.pop()!;
      const s = n.span;
      out.push(n.members.length === 1 && s.parentId === parentId ? s : {
        id: s.id, parentId, kind: n.kind, label: n.label, line: s.line, column: s.column,
        startMs: n.startMs, endMs: n.endMs, outcome: n.members.length === 1 ? s.outcome : outcomeOf(n.members),
        ...(s.floating ? { floating: true as const } : {}),
      });
      if (n.members.length > 1) members.set(s.id, n.members);
      for (const m of n.members) shownAs.set(m.id, s.id);
      n.children.sort(byStart);
      for (let i = n.children.length - 1; i >= 0; i--) stack.push([n.children[i], s.id]);
    }
  };
  roots.sort(byStart);
  const loopEnds: { id: number; atMs: number }[] = [];
  for (const s of spans) if ((s.kind === 'block' || s.kind === 'task') && s.endMs !== null) loopEnds.push({ id: s.id, atMs: s.endMs });
  loopEnds.sort((a, b) => a.atMs - b.atMs);
  // A root whose parent has not arrived keeps its parent id, so a live layout waits for it.
  for (const r of roots) emit(compactTree(r, nowMs, loopEnds), r.span.parentId);
  return { spans: out, members, shownAs };
}

/** Maps a set of original span ids (critical path, could-overlap) to the display spans that show them. */
export function shownIds(ids: Iterable<number>, compaction: Pick<Compaction, 'shownAs'>): Set<number> {
  const out = new Set<number>();
  for (const id of ids) out.add(compaction.shownAs.get(id) ?? id);
  return out;
}
