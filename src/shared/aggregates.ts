// Spans past the run's span budget (`Timeline.aggregates`) as the charts draw them: one row per
// site under one parent, each stretch of time a segment. Pure; shared by the terminal chart, the
// exports and the panel.
import type { Span, SpanAggregate } from './timeline';

/** A row of spans past the run's budget: one site under one parent, each stretch a segment. */
export interface AggregateRow {
  parentId: number | null;
  kind: Span['kind'];
  label: string;
  line: number;
  column: number;
  count: number;
  stretches: Array<[number, number]>;
}

/** Aggregates grouped into rows: one per (parent, site), in the order of their first stretch. */
export function aggregateRows(aggregates: readonly SpanAggregate[]): AggregateRow[] {
  const rows = new Map<string, AggregateRow>();
  for (const a of aggregates) {
    const key = `${a.parentId}|${a.kind}|${a.line}|${a.column}|${a.label}`;
    let row = rows.get(key);
    if (!row) rows.set(key, (row = { parentId: a.parentId, kind: a.kind, label: a.label, line: a.line, column: a.column, count: 0, stretches: [] }));
    row.count += a.count;
    row.stretches.push([a.startMs, a.endMs]);
  }
  return [...rows.values()].sort((x, y) => x.stretches[0][0] - y.stretches[0][0]);
}

