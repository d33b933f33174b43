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


/**
 * aggregateRows' rows without an object per row, for a chart that draws a few of many (the
 * terminal's first 200 rows of 100,000): the aggregates' indexes grouped as aggregateRows groups
 * them, the groups in its order, each made into its AggregateRow only when asked. `parentOf` gives
 * an aggregate's parent as the rows should have it (the chart's compacted row), `a.parentId` by
 * default.
 */
export class AggregateGroups {
  /** Aggregate indexes, group after group; within a group in the order they came. */
  private readonly order: Int32Array;
  /** Group g is order[from[g] .. from[g + 1]). */
  private readonly from: Int32Array;
  /** The groups in aggregateRows' order: by their first stretch's start, then by first appearance. */
  private readonly sorted: Int32Array;
  private readonly parents: Float64Array;

  constructor(private readonly aggregates: readonly SpanAggregate[], private readonly parentOf: (a: SpanAggregate) => number | null = (a) => a.parentId) {
    const n = aggregates.length;
    // null as NaN: ids are numbers, and NaN is not one.
    const parents = new Float64Array(n);
    for (let i = 0; i < n; i++) parents[i] = parentOf(aggregates[i]) ?? NaN;
    this.parents = parents;
    const same = (x: number, y: number) => x === y || (x !== x && y !== y);
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    // aggregateRows' key, field by field: parent, kind, line, column, label; then the order they came.
    order.sort((i, j) => {
      const a = aggregates[i];
      const b = aggregates[j];
      const p = parents[i];
      const q = parents[j];
      if (!same(p, q)) return p !== p ? -1 : q !== q ? 1 : p - q;
      if (a.kind !== b.kind) return a.kind < b.kind ? -1 : 1;
      if (a.line !== b.line) return a.line - b.line;
      if (a.column !== b.column) return a.column - b.column;
      if (a.label !== b.label) return a.label < b.label ? -1 : 1;
      return i - j;
    });
    const starts: number[] = [];
    for (let k = 0; k < n; k++) {
      const i = order[k];
      const j = order[k - 1];
      if (k === 0 || !same(parents[i], parents[j]) || !sameRow(aggregates[i], aggregates[j])) starts.push(k);
    }
    this.order = order;
    this.from = Int32Array.from([...starts, n]);
    const sorted = new Int32Array(starts.length);
    for (let g = 0; g < sorted.length; g++) sorted[g] = g;
    // The first index of a group is its first appearance (indexes ascend within a group).
    const first = (g: number) => order[this.from[g]];
    sorted.sort((g, h) => aggregates[first(g)].startMs - aggregates[first(h)].startMs || first(g) - first(h));
    this.sorted = sorted;
  }

  /** How many rows. */
  get size(): number {
    return this.sorted.length;
  }

  /** The k-th row's parent (as parentOf gave it). */
  parentId(k: number): number | null {
    const p = this.parents[this.order[this.from[this.sorted[k]]]];
    return p !== p ? null : p;
  }

  /** The k-th row, as aggregateRows makes it. */
  row(k: number): AggregateRow {
    const g = this.sorted[k];
    const first = this.aggregates[this.order[this.from[g]]];
    const row: AggregateRow = { parentId: this.parentId(k), kind: first.kind, label: first.label, line: first.line, column: first.column, count: 0, stretches: [] };
    for (let x = this.from[g]; x < this.from[g + 1]; x++) {
      const a = this.aggregates[this.order[x]];
      row.count += a.count;
      row.stretches.push([a.startMs, a.endMs]);
    }
    return row;
  }
}

/** Whether two aggregates of one parent share a row (aggregateRows' key, but the parent). */
function sameRow(a: SpanAggregate, b: SpanAggregate): boolean {
  return a.kind === b.kind && a.line === b.line && a.column === b.column && a.label === b.label;
}
