// Child of chart-scale.test.ts: builds a large run (tasks of sequential awaits, as a loop over a
// list does) and, with `compact`, compacts it, with `layout` lays it out (as the panel does a
// loaded run: in start order, the layout keeping the objects); prints the heap the input takes, in MB.
import type { Span } from '../../../src/shared/timeline';
import { compactSpans } from '../../../src/shared/chart/compact';
import { TimelineLayout } from '../../../src/shared/chart/layout';

const [what, count] = [process.argv[2], Number(process.argv[3])];
const spans: Span[] = [];
const tasks = 100;
let id = 0;
for (let t = 0; t < tasks; t++) {
  const task = ++id;
  let at = t;
  spans.push({ id: task, parentId: null, kind: 'task', label: `worker(${t})`, line: 3, column: 1, startMs: at, endMs: null, outcome: 'pending' });
  for (let k = 0; k < count / tasks - 1; k++) {
    spans.push({ id: ++id, parentId: task, kind: 'await', label: `fetchItem(${t % 20})`, line: 10 + (t % 20), column: 5, startMs: at, endMs: at + 1, outcome: 'fulfilled' });
    at += 2;
  }
}
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const inputMb = process.memoryUsage().heapUsed / 2 ** 20;
if (what === 'compact') {
  const c = compactSpans(spans, 1e9);
  if (c.spans.length !== spans.length) throw new Error(`${c.spans.length} drawn spans`);
} else if (what === 'layout') {
  spans.sort((a, b) => a.startMs - b.startMs || a.id - b.id);
  const layout = new TimelineLayout();
  layout.apply(spans);
  if (layout.rowCount !== tasks * 2) throw new Error(`${layout.rowCount} rows`);
}
process.stdout.write(`${JSON.stringify({ inputMb })}\n`);
