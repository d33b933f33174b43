// The timeline as a Gantt chart in a terminal: one row per span, nested under its parent, bars on
// a shared time axis, durations, colour on a TTY and plain text without.
import { compactSpans, shownIds } from '../shared/chart/compact';
import type { Span, SpanAggregate, Timeline } from '../shared/timeline';
import { AggregateGroups } from '../shared/aggregates';
import { inNotAwaitedLane } from '../shared/chart/layout';
import { visibleLine, visibleText } from '../shared/safeText';
import { delayBands, delayedMs } from '../shared/chart/delays';

export interface GanttOptions {
  /** Total width in columns. */
  width?: number;
  color?: boolean;
  /** Rows at most; the rest is summarised. */
  maxRows?: number;
  /** Every span on its own row (`--all`); by default the rows are compacted as the panel's are. */
  all?: boolean;
}

const ESC = '\u001b[';
const COLORS: Record<string, string> = {
  await: '36', // cyan
  call: '34', // blue
  timer: '33', // yellow
  combinator: '35', // magenta
  task: '32', // green
  block: '31', // red
  rejected: '91',
  dim: '2',
};

export function formatMs(ms: number): string {
  if (ms === 0) return '0';
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** A row of the terminal chart: a span, or the header of the "Not awaited" lane. */
type TreeRow = { span: Span; depth: number; header?: undefined } | { header: string; depth: number; span?: undefined };

/**
 * Spans in tree order (children after their parent, by start time) with their depth. Calls nobody
 * awaited (see `inNotAwaitedLane`) come last, under a "Not awaited" header, apart from the awaited tree.
 */
export function treeOrder(spans: Span[]): TreeRow[] {
  return [...treeWalk(spans, new Set(spans.map((s) => s.id)))];
}

/** treeOrder's rows one by one (`ids`: the spans' ids): a chart that draws the first few of many keeps no row per span. */
function* treeWalk(spans: Span[], ids: ReadonlySet<number>): Generator<TreeRow> {
  const children = new Map<number | null, Span[]>();
  const lane: Span[] = [];
  for (const s of spans) {
    if (inNotAwaitedLane(s)) {
      lane.push(s);
      continue;
    }
    const key = s.parentId !== null && ids.has(s.parentId) ? s.parentId : null;
    let list = children.get(key);
    if (!list) children.set(key, (list = []));
    list.push(s);
  }
  // The timeline lists spans in this order already: sort only lists that are not.
  const before = (a: Span, b: Span) => a.startMs - b.startMs || a.id - b.id;
  for (const list of [...children.values(), lane]) {
    let sorted = true;
    for (let i = 1; i < list.length && sorted; i++) sorted = before(list[i - 1], list[i]) <= 0;
    if (!sorted) list.sort(before);
  }
  // Depth first without recursion: a tree is as deep as the program's recursion.
  function* walk(list: readonly Span[], depth: number): Generator<TreeRow> {
    const stack: Array<{ span: Span; depth: number }> = [];
    for (let i = list.length - 1; i >= 0; i--) stack.push({ span: list[i], depth });
    while (stack.length) {
      const row = stack.pop()!;
      yield row;
      const kids = children.get(row.span.id) ?? [];
      for (let i = kids.length - 1; i >= 0; i--) stack.push({ span: kids[i], depth: row.depth + 1 });
    }
  }
  yield* walk(children.get(null) ?? [], 0);
  if (lane.length) {
    yield { header: 'Not awaited', depth: 0 };
    yield* walk(lane, 1);
  }
}

/** An aggregate row: the k-th of `AggregateGroups`, made into its AggregateRow when drawn. */
type ChartRow = TreeRow | { agg: number; depth: number; span?: undefined; header?: undefined };

/** Spans and aggregate rows in tree order: a parent's aggregate rows follow its listed children. */
function* treeRows(spans: Span[], groups: AggregateGroups): Generator<ChartRow> {
  const ids = new Set(spans.map((s) => s.id));
  const rows = treeWalk(spans, ids);
  if (!groups.size) {
    yield* rows;
    return;
  }
  const byParent = new Map<number | null, number[]>();
  for (let k = 0; k < groups.size; k++) {
    const p = groups.parentId(k);
    const key = p !== null && ids.has(p) ? p : null;
    let list = byParent.get(key);
    if (!list) byParent.set(key, (list = []));
    list.push(k);
  }
  // A span's subtree ends at the next row that is not deeper: its aggregate rows go there.
  const open: Array<{ id: number; depth: number }> = [];
  function* close(depth: number): Generator<ChartRow> {
    while (open.length && open[open.length - 1].depth >= depth) {
      const o = open.pop()!;
      for (const agg of byParent.get(o.id) ?? []) yield { agg, depth: o.depth + 1 };
    }
  }
  let topDone = false;
  for (const r of rows) {
    yield* close(r.depth);
    if (r.header !== undefined) {
      // The awaited tree ends here: its top-level aggregate rows come before the lane.
      for (const agg of byParent.get(null) ?? []) yield { agg, depth: 0 };
      topDone = true;
      yield r;
      continue;
    }
    yield r;
    open.push({ id: r.span.id, depth: r.depth });
  }
  yield* close(0);
  if (!topDone) for (const agg of byParent.get(null) ?? []) yield { agg, depth: 0 };
}

export function renderGantt(t: Timeline, options: GanttOptions = {}): string {
  const width = Math.max(60, options.width ?? 100);
  const color = options.color ?? false;
  const maxRows = options.maxRows ?? 200;
  const paint = (code: string, text: string) => (color ? `${ESC}${code}m${text}${ESC}0m` : text);

  let total = Math.max(t.wallMs, 0.001);
  for (const s of t.spans) total = Math.max(total, s.endMs ?? s.startMs);
  for (const a of t.aggregates ?? []) total = Math.max(total, a.endMs);
  const labelWidth = Math.min(44, Math.max(16, Math.floor(width * 0.38)));
  const durWidth = 9;
  const barWidth = width - labelWidth - durWidth - 3;
  const col = (ms: number) => Math.min(barWidth - 1, Math.max(0, Math.floor((ms / total) * barWidth)));

  const lines: string[] = [];
  // Axis: 0, middle and end ticks.
  const axis = Array(barWidth).fill(' ');
  const ticks = [0, total / 2, total].map((ms) => ({ at: col(ms), text: formatMs(ms) }));
  const head = ' '.repeat(labelWidth + 1);
  let axisText = axis.join('');
  for (const tk of ticks) {
    const at = Math.min(tk.at, barWidth - tk.text.length);
    axisText = axisText.slice(0, at) + tk.text + axisText.slice(at + tk.text.length);
  }
  lines.push(paint(COLORS.dim, head + axisText));
  // Delays that were not the snippet's: a lane of their own under the axis, dim, never red.
  const delays = delayBands(t.delays ?? []);
  if (delays.length) {
    const lane = Array(barWidth).fill(' ');
    for (const d of delays) for (let i = col(d.startMs); i <= col(d.endMs); i++) lane[i] = '┄';
    const total = formatMs(t.stats.delayedMs ?? delayedMs(delays));
    lines.push(paint(COLORS.dim, `${'delayed: not your code'.padEnd(labelWidth)} ${lane.join('')} ${total.padStart(durWidth)}`));
  }

  const compaction = options.all ? null : compactSpans(t.spans, total);
  // Aggregates ran under a listed span: under the compacted row that shows it.
  const groups = new AggregateGroups(t.aggregates ?? [], (a) => (compaction && a.parentId !== null ? compaction.shownAs.get(a.parentId) ?? a.parentId : a.parentId));
  // Drawn: the first maxRows rows; the others only counted.
  const rows = treeRows(compaction ? compaction.spans : t.spans, groups);
  // The critical path gets a ▶ between label and bar: these spans set the wall time.
  const critical = compaction ? shownIds(t.criticalPath ?? [], compaction) : new Set(t.criticalPath ?? []);
  // What became of each call nobody awaited: said under its bar in the lane.
  const floatingSays = new Map<number, string>();
  for (const f of t.floating ?? []) if (f.spanId !== undefined) floatingSays.set(compaction?.shownAs.get(f.spanId) ?? f.spanId, f.message);
  let rowCount = 0;
  for (const row of rows) {
    if (++rowCount > maxRows) continue;
    const { span: s, depth } = row;
    const agg = 'agg' in row ? groups.row(row.agg) : undefined;
    const indent = '  '.repeat(Math.min(depth, 8));
    if (row.header !== undefined) {
      lines.push(paint('1', `${row.header} `) + paint(COLORS.dim, '─'.repeat(Math.max(0, labelWidth + barWidth + durWidth + 1 - row.header.length))));
      continue;
    }
    if (agg) {
      // Spans past the budget: counted, drawn where they ran, never as single spans.
      let label = `${indent}×${agg.count.toLocaleString('en-US')} ${agg.kind === 'await' ? 'await ' : ''}${agg.label}`;
      if (label.length > labelWidth) label = label.slice(0, labelWidth - 1) + '…';
      const bar = Array(barWidth).fill(' ');
      for (const [from, to] of agg.stretches) for (let i = col(from); i <= col(to); i++) bar[i] = '▒';
      const first = agg.stretches[0][0];
      const last = Math.max(...agg.stretches.map((x) => x[1]));
      lines.push(`${label.padEnd(labelWidth)} ${paint(COLORS[agg.kind] ?? '0', bar.join(''))} ${formatMs(last - first).padStart(durWidth)}`);
      continue;
    }
    if (!s) continue;
    const prefix = s.kind === 'await' && !s.label.startsWith('await ') ? 'await ' : s.kind === 'block' ? '⛔ ' : '';
    // A label is the program's text: an ESC, NUL or bidi override in it is shown, never acted on.
    let label = indent + prefix + visibleLine(s.label);
    if (label.length > labelWidth) label = label.slice(0, labelWidth - 1) + '…';
    const end = s.endMs ?? total;
    const a = col(s.startMs);
    const b = Math.max(a, col(end) - (end >= total ? 0 : 0));
    const bar = Array(barWidth).fill(' ');
    const ch = s.kind === 'block' ? '▓' : s.endMs === null ? '░' : '█';
    for (let i = a; i <= b; i++) bar[i] = ch;
    const barText = bar.join('');
    const code = s.outcome === 'rejected' ? COLORS.rejected : COLORS[s.kind] ?? '0';
    const dur = s.endMs === null ? 'pending' : formatMs(s.endMs - s.startMs);
    const mark = critical.has(s.id) ? paint('1', '▶') : ' ';
    lines.push(`${label.padEnd(labelWidth)}${mark}${paint(code, barText)} ${dur.padStart(durWidth)}`);
    const says = s.floating ? floatingSays.get(s.id) : undefined;
    if (says) lines.push(paint(s.outcome === 'rejected' ? COLORS.rejected : '33', `${indent}  ↳ ${visibleLine(says)}`));
  }
  if (rowCount > maxRows) lines.push(paint(COLORS.dim, `… ${rowCount - maxRows} more spans (see --json)`));
  if (compaction && compaction.spans.length < t.spans.length) {
    lines.push(paint(COLORS.dim, `${t.spans.length - compaction.spans.length} spans folded into the rows that call them (--all shows every span)`));
  }
  if (critical.size) lines.push(paint(COLORS.dim, '▶ critical path: the spans that set the wall time'));
  if (delays.length) {
    lines.push(paint(COLORS.dim, '┄ not your code: the loop ran late (busy machine, GC, instrumenting a module); never blocked time'));
  }
  if (t.aggregates?.length) {
    lines.push(paint(COLORS.dim, `▒ ×N: ${t.droppedSpans.toLocaleString('en-US')} spans past the run's span budget (--max-spans), counted per site and drawn where they ran`));
  } else if (t.droppedSpans > 0) {
    lines.push(paint(COLORS.dim, `… ${t.droppedSpans} more spans from hot sites were counted, not listed`));
  }
  lines.push(summaryLine(t));
  return lines.join('\n') + '\n';
}

export function summaryLine(t: Timeline): string {
  const st = t.stats;
  const status = t.status === 'completed' ? `completed (exit ${t.exitCode})`
    : t.status === 'failed' ? `failed${t.signal ? ` (${t.signal}, exit ${t.exitCode})` : t.exitCode !== null ? ` (exit ${t.exitCode})` : ''}`
    : t.status === 'timeout' ? 'timed out' : t.status === 'cancelled' ? 'stopped' : t.status;
  return `wall ${formatMs(st.wallMs)} · awaited ${formatMs(st.awaitedMs)} · blocked ${formatMs(st.blockedMs)} · max concurrency ${st.maxConcurrency} · ${status}`;
}

/** The insights as text: "line 12–13: these 2 awaits ran back to back (4.00 s); … (saves 2.00 s)". */
export function renderInsights(t: Timeline, options: { color?: boolean } = {}): string {
  const insights = t.insights ?? [];
  if (!insights.length) return '';
  const paint = (code: string, text: string) => (options.color ? `${ESC}${code}m${text}${ESC}0m` : text);
  const lines = [paint('1', insights.length === 1 ? 'What could overlap:' : `What could overlap (${insights.length}):`)];
  for (const i of insights) {
    const where = i.endLine > i.line ? `lines ${i.line}–${i.endLine}` : `line ${i.line}`;
    lines.push(`  ${where}: ${visibleLine(i.message)}`);
    if (i.fix) {
      // Continuation lines lose the code's own indentation and line up under the first.
      const base = new RegExp(`^[ \\t]{0,${i.fix.column - 1}}`);
      const text = visibleText(i.fix.newText).split('\n').map((l, k) => (k === 0 ? l : `         ${l.replace(base, '')}`)).join('\n');
      lines.push(paint(COLORS.dim, `    fix: ${text}`));
    }
  }
  return lines.join('\n') + '\n';
}
