// The critical path: the chain of spans that set the wall time. Shorten any of them and the run
// gets shorter; shorten anything else and it does not.
import type { Span, Timeline } from '../shared/timeline';

/** Clock slack when deciding that one span began once another ended. */
const SLACK_MS = 1;

/**
 * Span ids on the critical path, each parent before its children, siblings in time order.
 *
 * Among siblings (top-level spans, or the children of one span) the chain ends with the one that
 * ended last (but not after its parent: a call left running does not hold its parent up); before
 * it comes the sibling that ended last before it started, and so on back. Each span on the chain
 * is then followed down into its own children the same way: under `await Promise.all` that is
 * the slowest item, under a sequence of awaits all of them. An await is not followed into
 * children that ended well before it (a plain function that returned a timer's promise), but
 * into the deeper span that ended with it (that timer), when there is one.
 */
export function criticalPath(t: Timeline, turnOf?: (id: number) => number): number[] {
  const endOf = (s: Span) => s.endMs ?? Math.max(t.wallMs, s.startMs);
  const ids = new Set(t.spans.map((s) => s.id));
  const children = new Map<number | null, Span[]>();
  for (const s of t.spans) {
    const key = s.parentId !== null && ids.has(s.parentId) ? s.parentId : null;
    let list = children.get(key);
    if (!list) children.set(key, (list = []));
    list.push(s);
  }
  for (const list of children.values()) list.sort((a, b) => endOf(a) - endOf(b) || b.startMs - a.startMs || a.id - b.id);

  /** Index of the last span (sorted by end) at or before `hi` that ends by `limit`, or -1. */
  const lastEndingBy = (list: Span[], hi: number, limit: number) => {
    let lo = 0;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (endOf(list[mid]) <= limit) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };

  /** Of these spans and everything under them, the one ending last within [from, to]. */
  const lastDescendantEnding = (roots: Span[], from: number, to: number): Span | undefined => {
    let best: Span | undefined;
    const todo = [...roots];
    while (todo.length) {
      const s = todo.pop()!;
      const e = endOf(s);
      if (e >= from && e <= to && (!best || e > endOf(best))) best = s;
      for (const c of children.get(s.id) ?? []) todo.push(c);
    }
    return best;
  };

  const out: number[] = [];
  // An explicit stack: deep nesting (recursion in the snippet) must not overflow ours.
  const stack: Array<Span | null> = [null];
  while (stack.length) {
    const span = stack.pop()!;
    if (span) out.push(span.id);
    const list = children.get(span ? span.id : null);
    if (!list?.length) continue;
    const chain: Span[] = [];
    let i = lastEndingBy(list, list.length - 1, span ? endOf(span) + SLACK_MS : Infinity);
    // An await whose children all ended well before it did waited on something unrecorded (a
    // timer, I/O): the call that made the promise returned at once and is not what took the time.
    // Unless the last of them closed in the same turn of the loop as the await (the runtime's
    // count, see OP_CLOSE): what settled it resumed the await, however long the machine kept the
    // process waiting in between (`await Promise.all([...])` resumes in the microtasks after its
    // slowest item settled; on a busy machine that can be tens of ms later on the clock).
    if (span?.kind === 'await' && i >= 0) {
      const tail = Math.max(SLACK_MS, 0.05 * (endOf(span) - span.startMs));
      const turn = turnOf?.(span.id) ?? 0;
      if (endOf(list[i]) < endOf(span) - tail && !(turn > 0 && turnOf!(list[i].id) === turn)) {
        // The thing it waited on may be recorded deeper down (the timer a plain sleep() set): the
        // descendant that ended with the await is the next on the path.
        const last = lastDescendantEnding(list, endOf(span) - tail, endOf(span) + SLACK_MS);
        if (last) stack.push(last);
        continue;
      }
    }
    while (i >= 0) {
      const s = list[i];
      chain.push(s);
      i = lastEndingBy(list, i - 1, s.startMs + SLACK_MS);
    }
    // The chain is latest first; the stack hands out the earliest next. (One by one: a chain of
    // a million awaits does not fit in one call's arguments.)
    for (const s of chain) stack.push(s);
  }
  return out;
}
