// Layout of spans into rows: nesting, order, lanes, collapse, filter, streaming updates, stats.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Span } from '../../src/shared/timeline';
import { copySpan, layoutSpans, TimelineLayout } from '../../src/shared/chart/layout';
import { computeStats } from '../../src/webview/model/stats';
import { REPO } from './helpers';

let nextId = 1;
function span(p: Partial<Span> & Pick<Span, 'label' | 'startMs'>): Span {
  return { id: nextId++, parentId: null, kind: 'await', line: 1, column: 1, endMs: p.startMs + 10, outcome: 'fulfilled', ...p };
}

/** main() { await Promise.all([a(), b()]); busyWait(); for (..) await save(i) } */
function twoChefs(): Span[] {
  nextId = 1;
  const main = span({ kind: 'call', label: 'main()', line: 20, startMs: 0, endMs: 900 });
  const all = span({ kind: 'combinator', label: 'Promise.all', line: 21, parentId: main.id, startMs: 1, endMs: 301 });
  const a = span({ label: 'sleep(300, "a")', line: 21, column: 20, parentId: all.id, startMs: 1, endMs: 301 });
  const b = span({ label: 'sleep(300, "b")', line: 21, column: 40, parentId: all.id, startMs: 1.5, endMs: 300 });
  const block = span({ kind: 'block', label: 'busyWait(200)', line: 22, parentId: main.id, startMs: 301, endMs: 501 });
  const saves = [0, 1, 2].map((i) => span({ label: 'save(i)', line: 24, parentId: main.id, startMs: 510 + i * 100, endMs: 590 + i * 100 }));
  return [main, all, a, b, block, ...saves];
}

describe('webview layout', () => {
  it('nests rows under their parent span, depth first, in start order', () => {
    const rows = layoutSpans(twoChefs()).flatten();
    assert.deepEqual(
      rows.map((r) => `${'  '.repeat(r.depth)}${r.label}`),
      ['main()', '  Promise.all', '    sleep(300, "a")', '    sleep(300, "b")', '  busyWait(200)', '  save(i)'],
    );
  });

  it('puts sequential spans of one site in one row, overlapping ones of one site in separate rows', () => {
    nextId = 100;
    const parent = span({ kind: 'call', label: 'run()', startMs: 0, endMs: 100 });
    const seq = [0, 20, 40].map((t) => span({ label: 'tick()', line: 5, parentId: parent.id, startMs: t, endMs: t + 10 }));
    const par = [50, 51, 52].map((t) => span({ label: 'fetch(url)', line: 7, parentId: parent.id, startMs: t, endMs: t + 30 }));
    const rows = layoutSpans([parent, ...seq, ...par]).flatten();
    const tick = rows.filter((r) => r.label === 'tick()');
    const fetch = rows.filter((r) => r.label === 'fetch(url)');
    assert.equal(tick.length, 1);
    assert.equal(tick[0].spans.length, 3);
    assert.equal(fetch.length, 3, 'three overlapping fetches need three rows');
    for (const r of rows) {
      for (let i = 1; i < r.spans.length; i++) assert.ok(r.spans[i].startMs >= (r.spans[i - 1].endMs as number), `row ${r.key} overlaps`);
    }
  });

  it('hides the children of a collapsed row and keeps its own row', () => {
    const layout = layoutSpans(twoChefs());
    const all = layout.flatten().find((r) => r.label === 'Promise.all')!;
    const rows = layout.flatten({ collapsed: new Set([all.key]) });
    assert.deepEqual(rows.map((r) => r.label), ['main()', 'Promise.all', 'busyWait(200)', 'save(i)']);
  });

  it('keeps row keys stable when the same run is laid out again, so collapse state survives a reload', () => {
    const a = layoutSpans(twoChefs()).flatten().map((r) => r.key);
    const b = layoutSpans(twoChefs()).flatten().map((r) => r.key);
    assert.deepEqual(a, b);
    assert.equal(new Set(a).size, a.length, 'keys are unique');
  });

  it('filters by label, case-insensitively, keeping the matches\' ancestors', () => {
    const layout = layoutSpans(twoChefs());
    assert.deepEqual(layout.flatten({ filter: 'SLEEP(300, "b")' }).map((r) => r.label), ['main()', 'Promise.all', 'sleep(300, "b")']);
    assert.deepEqual(layout.flatten({ filter: 'nothing like this' }), []);
  });

  it('rows as deep as a recursion that overflowed the program\'s stack (20,000 levels) flatten, filtered or not', () => {
    nextId = 1;
    const deep: Span[] = [];
    for (let i = 0; i < 20_000; i++) deep.push(span({ kind: 'call', label: `dive(${i})`, parentId: i ? i : null, startMs: i * 0.01, endMs: 1000 - i * 0.01 }));
    const layout = layoutSpans(deep);
    const rows = layout.flatten();
    assert.equal(rows.length, 20_000);
    assert.equal(rows[19_999].depth, 19_999);
    // The match's ancestors stay, its siblings (none) and descendants that do not match go.
    assert.deepEqual(layout.flatten({ filter: 'dive(19998)' }).map((r) => r.label).slice(-2), ['dive(19997)', 'dive(19998)']);
    assert.equal(layout.flatten({ filter: 'dive(19998)' }).length, 19_999);
  });

  it('streams: a child before its parent waits, a pending span ends later in place', () => {
    nextId = 200;
    const layout = new TimelineLayout();
    const parent = span({ kind: 'call', label: 'main()', startMs: 0, endMs: null, outcome: 'pending' });
    const child = span({ label: 'sleep(10)', parentId: parent.id, startMs: 1, endMs: null, outcome: 'pending' });
    layout.apply([child]);
    assert.equal(layout.flatten().length, 0, 'an orphan is not shown yet');
    layout.apply([parent]);
    assert.deepEqual(layout.flatten().map((r) => r.depth), [0, 1]);
    layout.apply([{ ...child, endMs: 11, outcome: 'rejected' }]);
    const row = layout.flatten()[1];
    assert.equal(row.spans.length, 1, 'the update did not add a second span');
    assert.equal(row.spans[0].endMs, 11);
    assert.equal(row.spans[0].outcome, 'rejected');
    assert.equal(layout.extentMs, 11);
  });

  it('shows spans whose parent never arrived at the top level once the run is over', () => {
    nextId = 300;
    const layout = new TimelineLayout();
    layout.apply([span({ label: 'lost child', parentId: 9999, startMs: 5 })]);
    assert.equal(layout.flatten().length, 0);
    layout.adoptOrphans();
    assert.deepEqual(layout.flatten().map((r) => [r.label, r.depth]), [['lost child', 0]]);
  });

  it('computes awaited, blocked and max concurrency from the spans', () => {
    const stats = computeStats(twoChefs(), 900, 900);
    assert.equal(stats.maxConcurrency, 2, 'two sleeps under Promise.all overlap');
    assert.equal(stats.blockedMs, 200);
    // sleeps 1..301 union, plus three saves of 80 ms.
    assert.equal(stats.awaitedMs, 300 + 240);
  });

  it('does not count back-to-back awaits as concurrent, nor an await that only contains awaits', () => {
    nextId = 400;
    const outer = span({ label: 'outer', startMs: 0, endMs: 20 });
    const inner1 = span({ label: 'inner', parentId: outer.id, startMs: 0, endMs: 10 });
    const inner2 = span({ label: 'inner', parentId: outer.id, startMs: 10, endMs: 20 });
    assert.equal(computeStats([outer, inner1, inner2], 20, 20).maxConcurrency, 1);
  });

  it('counts pending awaits up to now and survives zero-length spans', () => {
    nextId = 500;
    const spans = [
      span({ label: 'instant', startMs: 5, endMs: 5 }),
      span({ label: 'a', startMs: 0, endMs: 10 }),
      span({ label: 'b', startMs: 20, endMs: null, outcome: 'pending' }),
      span({ kind: 'block', label: 'spin', startMs: 10, endMs: 12 }),
      span({ kind: 'block', label: 'spin', startMs: 11, endMs: 15 }),
    ];
    const stats = computeStats(spans, 30, 30);
    assert.equal(stats.awaitedMs, 20);
    assert.equal(stats.blockedMs, 5);
    assert.equal(stats.maxConcurrency, 1);
  });
});

describe('a span copied for a layout', () => {
  it('keeps every field the timeline schema gives a span', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(REPO, 'schemas', 'timeline-v1.schema.json'), 'utf8')) as { definitions: { Span: { properties: Record<string, unknown> } } };
    const full: Span = { id: 7, parentId: 3, kind: 'call', label: 'cook("soup", 2)', line: 4, column: 9, startMs: 1.5, endMs: 2.5, outcome: 'rejected', floating: true };
    assert.deepEqual(Object.keys(full).sort(), Object.keys(schema.definitions.Span.properties).sort(), 'this test sets every field of the schema');
    const copy = copySpan(full);
    assert.deepEqual(copy, full);
    assert.notEqual(copy, full);
    assert.equal('floating' in copySpan({ ...full, floating: undefined }), false, 'floating only when set, as the timeline has it');
  });
});
