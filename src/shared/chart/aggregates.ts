// Spans past the run's span budget (`Timeline.aggregates`) as the panel and the SVG draw them: each
// site's aggregates under one drawn parent become bars on that site's row ("×312 awaits,
// 1.2–3.4 s"), so a row keeps the shape of its whole activity and never reads as idle. Pure; the
// placement on rows is TimelineLayout.placeAggregates (layout.ts).

import type { ShownAs } from './compact';
import type { SpanAggregate, SpanKind } from '../timeline';
import { formatDuration } from '../format';

/** A stretch of time in which `count` spans of one site ran, past the budget. */
export interface AggregateBar {
  startMs: number;
  endMs: number;
  count: number;
}

/** One site's aggregates under one drawn parent: their stretches, merged where they overlap. */
export interface AggregateGroup {
  /** The drawn span they ran under (after compaction); null at the top level. */
  parentId: number | null;
  kind: SpanKind;
  label: string;
  line: number;
  column: number;
  /** Spans counted, all bars together. */
  count: number;
  /** Sorted by start, not overlapping. */
  bars: AggregateBar[];
}

/** What a row draws past the budget: its bars, and the sites they stand for. */
export interface RowAggregate {
  /** The site the row's count is about (the row's own site when it is one of them). */
  kind: SpanKind;
  label: string;
  /** Spans of that site counted in the bars. */
  count: number;
  /** Sorted by start, not overlapping; `count` per bar is that site's (0: only other sites ran then). */
  bars: AggregateBar[];
  /** Other sites drawn on this row (a compacted row stands for several): their counts. */
  includes: { kind: SpanKind; label: string; count: number }[];
}

const NOUNS: Record<SpanKind, [string, string]> = {
  await: ['await', 'awaits'],
  call: ['call', 'calls'],
  timer: ['timer', 'timers'],
  combinator: ['combinator', 'combinators'],
  task: ['task', 'tasks'],
  block: ['block', 'blocks'],
};

/** "×312 awaits", "×1 call". */
export function countText(kind: SpanKind, count: number): string {
  return `×${count.toLocaleString('en-US')} ${NOUNS[kind][count === 1 ? 0 : 1]}`;
}

/** A stretch of run time in the unit of its end: "24.5–144 ms", "1.20–3.40 s". */
export function timeRangeText(startMs: number, endMs: number): string {
  if (endMs >= 60_000) return `${formatDuration(startMs)}–${formatDuration(endMs)}`;
  if (endMs >= 1000) return `${(startMs / 1000).toFixed(2)}–${(endMs / 1000).toFixed(2)} s`;
  const ms = (x: number) => (x >= 100 ? String(Math.round(x)) : String(Number(x.toPrecision(3))));
  return `${ms(startMs)}–${ms(endMs)} ms`;
}

/** What a bar of spans past the budget says: "×312 awaits, 1.20–3.40 s". */
export function aggregateText(kind: SpanKind, bar: Pick<AggregateBar, 'count' | 'startMs' | 'endMs'>): string {
  return `${countText(kind, bar.count)}, ${timeRangeText(bar.startMs, bar.endMs)}`;
}

/** Merges stretches that overlap or touch into bars, summing their counts. */
export function mergeBars(stretches: readonly AggregateBar[]): AggregateBar[] {
  const sorted = [...stretches].sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs);
  const out: AggregateBar[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s.startMs <= last.endMs) {
      last.endMs = Math.max(last.endMs, s.endMs);
      last.count += s.count;
    } else out.push({ startMs: s.startMs, endMs: Math.max(s.startMs, s.endMs), count: s.count });
  }
  return out;
}

/**
 * The aggregates grouped per site and drawn parent, in the order of their first stretch.
 * `shownAs` maps a span id to the drawn span that shows it (compacted rows); null: spans are drawn
 * as themselves.
 */
export function groupAggregates(aggregates: readonly SpanAggregate[], shownAs?: ShownAs | null): AggregateGroup[] {
  const groups = new Map<string, AggregateGroup & { stretches: AggregateBar[] }>();
  for (const a of aggregates) {
    const parentId = a.parentId === null ? null : shownAs?.get(a.parentId) ?? a.parentId;
    const key = `${parentId}|${a.kind}|${a.line}|${a.column}|${a.label}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { parentId, kind: a.kind, label: a.label, line: a.line, column: a.column, count: 0, bars: [], stretches: [] }));
    g.count += a.count;
    g.stretches.push({ startMs: a.startMs, endMs: a.endMs, count: a.count });
  }
  const out: AggregateGroup[] = [];
  for (const { stretches, ...g } of groups.values()) out.push({ ...g, bars: mergeBars(stretches) });
  return out.sort((x, y) => x.bars[0].startMs - y.bars[0].startMs);
}

/**
 * What a row draws for the groups placed on it: the bars of all of them (a compacted row's call
 * and the timer it set overlap), counted for `own` — the group of the row's own site, else the
 * first.
 */
export function rowAggregate(groups: readonly AggregateGroup[], own: AggregateGroup): RowAggregate {
  const union = mergeBars(groups.flatMap((g) => g.bars.map((b) => ({ ...b, count: 0 }))));
  // Each union bar counts the own group's spans whose bars lie in it.
  let j = 0;
  for (const u of union) {
    while (j < own.bars.length && own.bars[j].startMs <= u.endMs) {
      if (own.bars[j].startMs >= u.startMs) u.count += own.bars[j].count;
      j++;
    }
  }
  return {
    kind: own.kind,
    label: own.label,
    count: own.count,
    bars: union,
    includes: groups.filter((g) => g !== own).map((g) => ({ kind: g.kind, label: g.label, count: g.count })),
  };
}
