// Spans past the run's budget and delays that are not the snippet's, as the charts draw them:
// aggregates on their site's row, delays as bands, both in the legend.
import assert from 'node:assert/strict';

import type { LoopDelay, Span, SpanAggregate, Timeline } from '../../src/shared/timeline';
import { renderSvg } from '../../src/engine/exportSvg';
import { renderGantt } from '../../src/engine/terminalGantt';
import { toChromeTrace } from '../../src/engine/exportTrace';
import { aggregateText, groupAggregates, timeRangeText } from '../../src/shared/chart/aggregates';
import { delayBands, delayCaptions, delayLines } from '../../src/shared/chart/delays';
import { layoutSpans } from '../../src/shared/chart/layout';
import { legendEntries } from '../../src/shared/chart/legend';
import { compactSpans } from '../../src/shared/chart/compact';

const span = (id: number, parentId: number | null, kind: Span['kind'], label: string, line: number, column: number, startMs: number, endMs: number | null): Span =>
  ({ id, parentId, kind, label, line, column, startMs, endMs, outcome: endMs === null ? 'pending' : 'fulfilled' });
const agg = (parentId: number | null, kind: Span['kind'], label: string, line: number, column: number, count: number, startMs: number, endMs: number): SpanAggregate =>
  ({ parentId, kind, label, line, column, count, startMs, endMs });

/** worker(w) { for (40×) await new Promise((r) => setTimeout(r, 2)) }: two awaits listed, the rest past the budget. */
function worker(): { spans: Span[]; aggregates: SpanAggregate[] } {
  const spans = [
    span(1, null, 'call', 'worker(0)', 5, 1, 0, 100),
    span(2, 1, 'await', 'new Promise((r) => setTimeout(r, 2))', 3, 32, 0, 2.5),
    span(3, 2, 'timer', 'setTimeout(r, 2)', 3, 57, 0.1, 2.4),
    span(4, 1, 'await', 'new Promise((r) => setTimeout(r, 2))', 3, 32, 2.5, 5),
    span(5, 4, 'timer', 'setTimeout(r, 2)', 3, 57, 2.6, 4.9),
  ];
  const aggregates = [
    agg(1, 'await', 'new Promise((r) => setTimeout(r, 2))', 3, 32, 30, 5, 80),
    agg(1, 'timer', 'setTimeout(r, 2)', 3, 57, 30, 5.1, 79.9),
    // The engine merged them per stretch; a later stretch of the same site after a gap.
    agg(1, 'await', 'new Promise((r) => setTimeout(r, 2))', 3, 32, 8, 82, 100),
    agg(1, 'timer', 'setTimeout(r, 2)', 3, 57, 8, 82.1, 99.9),
  ];
  return { spans, aggregates };
}

describe('chart: spans past the budget (aggregates)', () => {
  it('groups per site and drawn parent, merging stretches that overlap and summing their counts', () => {
    const groups = groupAggregates([
      agg(7, 'await', 'sleep(1)', 3, 5, 10, 0, 50),
      agg(7, 'await', 'sleep(1)', 3, 5, 5, 40, 60),
      agg(7, 'await', 'sleep(1)', 3, 5, 2, 70, 80),
      agg(8, 'await', 'sleep(1)', 3, 5, 4, 0, 10),
      agg(null, 'call', 'f()', 9, 1, 1, 1, 2),
    ], new Map([[8, 7]]));
    assert.equal(groups.length, 2);
    const [sleep, f] = groups;
    assert.equal(sleep.parentId, 7, 'a span folded into another is drawn under the one that shows it');
    assert.equal(sleep.count, 21);
    assert.deepEqual(sleep.bars, [{ startMs: 0, endMs: 60, count: 19 }, { startMs: 70, endMs: 80, count: 2 }]);
    assert.deepEqual([f.parentId, f.count], [null, 1]);
  });

  it('says what a bar stands for: how many of what, from when to when', () => {
    assert.equal(aggregateText('await', { count: 312, startMs: 1200, endMs: 3400 }), '×312 awaits, 1.20–3.40 s');
    assert.equal(aggregateText('call', { count: 1, startMs: 24.5, endMs: 144.4 }), '×1 call, 24.5–144 ms');
    assert.equal(aggregateText('timer', { count: 12_000, startMs: 0, endMs: 90 }), '×12,000 timers, 0–90 ms');
    assert.equal(timeRangeText(30_000, 75_000), '30.00 s–1 min 15 s');
  });

  it('draws each site\'s aggregates on that site\'s row under their parent, past its listed spans', () => {
    const { spans, aggregates } = worker();
    const layout = layoutSpans(spans);
    const before = layout.flatten().map((r) => r.key);
    assert.equal(layout.placeAggregates(groupAggregates(aggregates)), 0);
    const rows = layout.flatten();
    assert.deepEqual(rows.map((r) => r.key), before, 'no row added: each site had a row with room');
    const awaitRow = rows.find((r) => r.kind === 'await')!;
    const timerRow = rows.find((r) => r.kind === 'timer')!;
    assert.equal(awaitRow.spans.length, 2, 'the listed awaits stay');
    assert.deepEqual(awaitRow.aggregate?.bars, [{ startMs: 5, endMs: 80, count: 30 }, { startMs: 82, endMs: 100, count: 8 }]);
    assert.equal(awaitRow.aggregate?.count, 38);
    // The timers were counted under the worker (their await was not listed): drawn on the timer row below.
    assert.equal(timerRow.aggregate?.count, 38);
    assert.equal(rows.find((r) => r.kind === 'call')!.aggregate, null);
  });

  it('gives a group a row of its own where it would overlap listed spans, or has no row of its site', () => {
    const spans = [
      span(1, null, 'call', 'main()', 1, 1, 0, 100),
      span(2, 1, 'await', 'fetch(u)', 2, 3, 0, 60), // still listed, overlapping the aggregated ones
    ];
    const layout = layoutSpans(spans);
    layout.placeAggregates(groupAggregates([
      agg(1, 'await', 'fetch(u)', 2, 3, 500, 10, 90),
      agg(1, 'call', 'parse(x)', 4, 3, 20, 30, 40),
      agg(null, 'timer', 'setInterval(tick)', 7, 1, 3, 0, 100),
    ]));
    const rows = layout.flatten();
    assert.deepEqual(rows.map((r) => `${'  '.repeat(r.depth)}${r.label} ${r.spans.length}${r.aggregate ? ` ×${r.aggregate.count}` : ''}`), [
      'main() 1',
      '  fetch(u) 1',
      '  fetch(u) 0 ×500',
      '  parse(x) 0 ×20',
      'setInterval(tick) 0 ×3',
    ]);
    assert.equal(layout.rowCount, 5);
    // The next placement replaces this one: its rows go, the new ones come.
    layout.placeAggregates(groupAggregates([agg(1, 'call', 'parse(x)', 4, 3, 25, 30, 45)]));
    assert.deepEqual(layout.flatten().map((r) => `${r.label}${r.aggregate ? ` ×${r.aggregate.count}` : ''}`), ['main()', 'fetch(u)', 'parse(x) ×25']);
    assert.equal(layout.rowCount, 3);
    // Filter and collapse treat them as rows.
    assert.deepEqual(layout.flatten({ filter: 'parse' }).map((r) => r.label), ['main()', 'parse(x)']);
    assert.deepEqual(layout.flatten({ collapsed: new Set([layout.flatten()[0].key]) }).map((r) => r.label), ['main()']);
  });

  it('waits for a parent that waits for its own parent; an unknown parent is the top level', () => {
    const layout = layoutSpans([]);
    layout.apply([span(2, 1, 'call', 'child()', 3, 1, 0, 10)]); // its parent 1 has not come
    assert.equal(layout.placeAggregates(groupAggregates([agg(2, 'await', 'x', 4, 1, 5, 1, 9), agg(99, 'await', 'y', 5, 1, 2, 1, 2)])), 1);
    assert.deepEqual(layout.flatten().map((r) => r.label), ['y']);
  });

  it('on compacted rows: a folded site\'s aggregates go on the row that shows it, counted once', () => {
    // await sleep(10) -> sleep(10) call -> its timer: compacted into one `await sleep(10)` row.
    const spans = [
      span(1, null, 'call', 'main()', 1, 1, 0, 100),
      span(2, 1, 'await', 'sleep(10)', 3, 3, 0, 10),
      span(3, 2, 'call', 'sleep(10)', 3, 9, 0, 10),
      span(4, 3, 'timer', 'setTimeout(r, ms)', 1, 40, 0.1, 10),
    ];
    const c = compactSpans(spans, 100);
    const layout = layoutSpans(c.spans);
    layout.placeAggregates(groupAggregates([
      agg(1, 'await', 'sleep(10)', 3, 3, 9, 10, 100),
      agg(1, 'call', 'sleep(10)', 3, 9, 9, 10, 100),
      agg(1, 'timer', 'setTimeout(r, ms)', 1, 40, 9, 10.1, 99.9),
    ], c.shownAs), c.members);
    const rows = layout.flatten();
    assert.equal(rows.length, 2, rows.map((r) => r.label).join(', '));
    const sleep = rows[1];
    assert.equal(sleep.aggregate?.count, 9, 'the row\'s own site counts');
    assert.deepEqual(sleep.aggregate?.bars, [{ startMs: 10, endMs: 100, count: 9 }]);
    assert.deepEqual(sleep.aggregate?.includes.map((i) => `${i.kind} ${i.count}`), ['call 9', 'timer 9']);
  });
});

describe('chart: delays that are not the snippet\'s', () => {
  const delay = (kind: LoopDelay['kind'], label: string, startMs: number, endMs: number, line?: number): LoopDelay =>
    ({ kind, label, startMs, endMs, ...(line ? { line } : {}) });

  it('merges delays that overlap into one band, and says what each was', () => {
    const bands = delayBands([
      delay('instrumenting', 'instrumenting ./gen_erated.js', 9, 114.7, 6),
      delay('delayed', 'event loop delayed: instrumenting ./gen_erated.js', 0, 120.3),
      delay('delayed', 'event loop delayed: not your code', 300, 380),
    ]);
    assert.deepEqual(bands.map((b) => [b.startMs, b.endMs, b.delays.length]), [[0, 120.3, 2], [300, 380, 1]]);
    assert.deepEqual(delayLines(bands[0]), ['event loop delayed: instrumenting ./gen_erated.js · 120 ms', 'instrumenting ./gen_erated.js · 106 ms · line 6']);
    assert.deepEqual(delayCaptions(bands[1]), ['not your code 80 ms', 'delayed 80 ms', 'delayed']);
  });

  it('the legend lists aggregated bars and delays only when the chart shows them, after the outlines', () => {
    const base = { kinds: new Set<Span['kind']>(['await']), critical: true, couldOverlap: false, pending: false, rejected: false };
    assert.deepEqual(legendEntries(base).map((e) => e.id), ['await', 'critical']);
    const both = legendEntries({ ...base, aggregated: true, delayed: true });
    assert.deepEqual(both.map((e) => e.id), ['await', 'aggregated', 'critical', 'delayed']);
    assert.match(both.find((e) => e.id === 'delayed')!.title, /not because of your code.*Never counted as blocked/);
  });
});

describe('SVG export: aggregates and delays', () => {
  it('draws spans past the budget as counted bars on their row, delays as a neutral band, both in its legend', () => {
    const { spans, aggregates } = worker();
    const t: Timeline = {
      version: 1, file: 'workers.mjs', language: 'javascript', status: 'completed', exitCode: 0, wallMs: 120, error: null, marks: [],
      spans, aggregates, droppedSpans: 76,
      delays: [{ kind: 'delayed', label: 'event loop delayed: not your code', startMs: 100, endMs: 118 }],
      stats: { wallMs: 120, awaitedMs: 100, blockedMs: 0, maxConcurrency: 1, delayedMs: 18 },
    };
    const svg = renderSvg(t);
    // Two stretches of awaits on the await row: 30 then 8; the timers likewise on theirs.
    assert.deepEqual([...svg.matchAll(/<g data-aggregate="(\d+)"><title>([^<]*)<\/title>/g)].map((m) => m[1]), ['30', '8', '30', '8']);
    assert.match(svg, /<title>×30 awaits, 5–80 ms · new Promise/);
    assert.match(svg, />×30 awaits<\/text>/);
    // No row of its own: the site's row had room (5 rows: worker, await, timer… as without the budget).
    assert.equal([...svg.matchAll(/text-anchor="end"[^>]*>[^<]*:(\d+)</g)].length, layoutSpans(compactSpans(spans, 120).spans).flatten().length);
    assert.deepEqual([...svg.matchAll(/<g data-legend="([^"]+)">/g)].map((m) => m[1]), ['await', 'call', 'timer', 'aggregated', 'delayed']);
    const band = /<g data-delay="100"><title>Event loop delayed: not your code · 18 ms[^<]*<\/title>\n<rect [^>]*fill="([^"]+)"/.exec(svg);
    assert.ok(band, 'the delay is drawn with what it was');
    assert.doesNotMatch(band![1], /#d18616/i, 'never the block colour');
    assert.match(svg, /blocked 0 ms/, 'and never counted as blocked');
  });
});

describe('terminal chart: delays', () => {
  it('draws delays on a dim lane of their own under the axis, never red, with what they mean', () => {
    const t: Timeline = {
      version: 1, file: 'r.js', language: 'javascript', status: 'completed', exitCode: 0, wallMs: 200, error: null, marks: [], droppedSpans: 0,
      spans: [span(1, null, 'call', 'main()', 7, 1, 150, 200)],
      delays: [
        { kind: 'delayed', label: 'event loop delayed: instrumenting ./gen.js', startMs: 0, endMs: 120 },
        { kind: 'instrumenting', label: 'instrumenting ./gen.js', startMs: 9, endMs: 114, line: 6 },
      ],
      stats: { wallMs: 200, awaitedMs: 0, blockedMs: 0, maxConcurrency: 0, delayedMs: 120 },
    };
    const plain = renderGantt(t, { width: 100 }).split('\n');
    const lane = plain.find((l) => l.startsWith('delayed: not your code'))!;
    assert.ok(lane, plain.join('\n'));
    assert.equal(plain.indexOf(lane), 1, 'right under the axis');
    const bar = lane.slice(39, 39 + 52);
    assert.match(bar, /^┄{20,}\s+$/, 'from 0 to 120 ms of 200');
    assert.match(lane, /120 ms$/);
    assert.ok(plain.some((l) => l.startsWith('┄ not your code:') && /never blocked/.test(l)));
    assert.match(plain[plain.length - 2], /blocked 0 ·/);
    const colored = renderGantt(t, { width: 100, color: true }).split('\n').find((l) => l.includes('not your code') && l.includes('┄┄'))!;
    assert.doesNotMatch(colored, /\u001b\[31m/, 'not the block colour');
  });
});

describe('Chrome trace: delays', () => {
  it('lists each delay on a "not your code" track of its own, apart from the blocks', () => {
    const t: Timeline = {
      version: 1, file: 'r.js', language: 'javascript', status: 'completed', exitCode: 0, wallMs: 200, error: null, marks: [], droppedSpans: 0,
      spans: [span(1, null, 'block', 'while (x) {}', 3, 1, 150, 190)],
      delays: [{ kind: 'instrumenting', label: 'instrumenting ./gen.js', startMs: 9, endMs: 114, line: 6 }],
      stats: { wallMs: 200, awaitedMs: 0, blockedMs: 40, maxConcurrency: 0, delayedMs: 105 },
    };
    const events = toChromeTrace(t).traceEvents as { name: string; cat: string; ph: string; ts: number; tid: number; dur?: number; args?: Record<string, unknown> }[];
    const delay = events.find((e) => e.cat === 'delay.instrumenting')!;
    assert.deepEqual([delay.name, delay.ph, delay.ts, delay.dur, delay.args?.line], ['instrumenting ./gen.js', 'X', 9000, 105000, 6]);
    assert.notEqual(delay.tid, events.find((e) => e.cat === 'block')!.tid);
    assert.ok(events.some((e) => e.ph === 'M' && e.tid === delay.tid && e.args?.name === 'not your code (delays)'));
  });
});
