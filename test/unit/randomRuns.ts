// Seeded random runs for the chart models' equivalence tests: trees of spans of every kind with
// repeated sites, sequential and overlapping siblings, single-child chains that compact, pending
// spans, calls nobody awaited, children whose parent never arrives and ids past the dense range.
import type { Span, SpanAggregate, SpanKind } from '../../src/shared/timeline';

export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    // mulberry32
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KINDS: SpanKind[] = ['await', 'call', 'block', 'timer', 'combinator', 'task'];

export interface RandomRun {
  spans: Span[];
  nowMs: number;
  aggregates: SpanAggregate[];
}

/** A random run of about `size` spans. */
export function randomRun(seed: number, size = 60): RandomRun {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const sites = Array.from({ length: 3 + Math.floor(r() * 10) }, (_, i) => ({
    kind: pick(KINDS),
    label: pick(['sleep(10)', 'fetch(url)', 'cook("soup", 2)', 'Promise.all', 'setTimeout(resolve, ms)', 'while (…) {}', 'main()', `f${i}()`]),
    line: 1 + Math.floor(r() * 6),
    column: r() < 0.8 ? 1 + Math.floor(r() * 3) : 0,
  }));
  const spans: Span[] = [];
  const bigIds = r() < 0.2;
  let nextId = bigIds ? 2 ** 27 : 1;
  const newId = () => (nextId += 1 + (r() < 0.3 ? Math.floor(r() * 5) : 0));
  const grow = (parent: Span | null, startMs: number, endMs: number, depth: number) => {
    const n = depth > 5 ? 0 : r() < 0.35 ? 1 : Math.floor(r() * 4);
    let at = startMs;
    const site = pick(sites);
    for (let k = 0; k < n && spans.length < size; k++) {
      const s = r() < 0.7 ? site : pick(sites);
      const overlap = r() < 0.3;
      const st = overlap ? startMs + r() * (endMs - startMs) * 0.5 : at + r() * 2;
      // Mostly within the parent, sometimes not (a child that outlives its call).
      const len = r() < 0.15 ? r() * 3 : (endMs - st) * (0.3 + r() * 0.8);
      const pending = r() < 0.08;
      const span: Span = {
        id: newId(), parentId: parent?.id ?? null, kind: s.kind, label: s.label, line: s.line, column: s.column,
        startMs: st, endMs: pending ? null : st + Math.max(0, len), outcome: pending ? 'pending' : r() < 0.1 ? 'rejected' : 'fulfilled',
      };
      if (r() < 0.06) span.floating = true;
      spans.push(span);
      if (!overlap) at = st + Math.max(0, len);
      grow(span, st, st + Math.max(0.5, len), depth + 1);
    }
  };
  while (spans.length < size) {
    const st = r() * 100;
    const root: Span = { id: newId(), parentId: null, kind: pick(['call', 'task', 'await'] as const), label: 'main()', line: 20, column: 1, startMs: st, endMs: st + 50 + r() * 200, outcome: 'fulfilled' };
    spans.push(root);
    grow(root, root.startMs, root.endMs!, 1);
  }
  // A few children whose parent never came.
  for (let k = 0; k < 3 && r() < 0.4; k++) {
    const st = r() * 100;
    spans.push({ id: newId(), parentId: 999_999_999 + k, kind: 'await', label: 'lost()', line: 30, column: 2, startMs: st, endMs: st + 5, outcome: 'fulfilled' });
  }
  const nowMs = spans.reduce((m, s) => Math.max(m, s.endMs ?? s.startMs), 0) + r() * 20;
  const aggregates: SpanAggregate[] = [];
  for (let k = 0; k < 4 && r() < 0.5; k++) {
    const s = pick(sites);
    const st = r() * nowMs;
    aggregates.push({ kind: s.kind, label: s.label, line: s.line, column: s.column, parentId: r() < 0.8 ? pick(spans).id : null, startMs: st, endMs: st + r() * 30, count: 1 + Math.floor(r() * 50) });
  }
  return { spans, nowMs, aggregates };
}

/** A shuffled copy in batches, each span possibly sent pending first and again when it ends. */
export function streamed(seed: number, spans: readonly Span[]): Span[][] {
  const r = rng(seed ^ 0x5bd1e995);
  const events: Span[] = [];
  const order = spans.map((s) => ({ s, k: s.startMs + (r() < 0.1 ? r() * 50 : 0) })).sort((a, b) => a.k - b.k);
  const later: Span[] = [];
  for (const { s } of order) {
    if (s.endMs !== null && r() < 0.3) {
      events.push({ ...s, endMs: null, outcome: 'pending' });
      later.push({ ...s });
    } else events.push({ ...s });
    if (later.length && r() < 0.3) events.push(later.shift()!);
  }
  events.push(...later);
  const batches: Span[][] = [];
  for (let i = 0; i < events.length; ) {
    const n = 1 + Math.floor(r() * 12);
    batches.push(events.slice(i, i + n));
    i += n;
  }
  return batches;
}
