// The header's totals, computed from spans when the engine has not sent them (a live run).

import type { Span, TimelineStats } from '../../shared/timeline';
import { endOf, unionIntervals } from './lod';

function unionLength(spans: readonly Span[], nowMs: number): number {
  let total = 0;
  for (const s of unionIntervals(spans, nowMs)) total += (s.endMs ?? s.startMs) - s.startMs;
  return total;
}

/**
 * awaitedMs: union of time with an await pending; blockedMs: union of block spans;
 * maxConcurrency: most innermost awaits (awaits without an await inside) pending at one moment.
 */
export function computeStats(spans: Iterable<Span>, nowMs: number, wallMs: number): TimelineStats {
  const awaits: Span[] = [];
  const blocks: Span[] = [];
  const byId = new Map<number, Span>();
  for (const s of spans) {
    byId.set(s.id, s);
    if (s.kind === 'await') awaits.push(s);
    else if (s.kind === 'block') blocks.push(s);
  }
  // An await is not innermost when another await runs inside it, maybe through calls in between.
  const hasAwaitChild = new Set<number>();
  for (const s of awaits) {
    let p = s.parentId === null ? undefined : byId.get(s.parentId);
    while (p && p.kind !== 'await') p = p.parentId === null ? undefined : byId.get(p.parentId);
    if (p) hasAwaitChild.add(p.id);
  }
  const events: number[] = [];
  for (const s of awaits) {
    if (hasAwaitChild.has(s.id)) continue;
    const end = endOf(s, nowMs);
    if (end <= s.startMs) continue;
    events.push(s.startMs, 1, end, -1);
  }
  const order = Array.from({ length: events.length / 2 }, (_, i) => i * 2);
  // Ends before starts at the same instant: back-to-back awaits do not overlap.
  order.sort((a, b) => events[a] - events[b] || events[a + 1] - events[b + 1]);
  let current = 0;
  let maxConcurrency = 0;
  for (const i of order) {
    current += events[i + 1];
    if (current > maxConcurrency) maxConcurrency = current;
  }
  return { wallMs, awaitedMs: unionLength(awaits, nowMs), blockedMs: unionLength(blocks, nowMs), maxConcurrency };
}
