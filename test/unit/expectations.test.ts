// `@expect` comments: how they are read (every kind, operator and unit; malformed lines with their
// place) and how they are checked against constructed timelines.

import assert from 'node:assert/strict';
import type { Span, Timeline } from '../../src/shared/timeline';
import {
  checkExpectations, evaluateExpectation, formatExpectationReport, matchingSpans, parseExpectation, parseExpectations,
} from '../../src/engine/expectations';

let nextId = 1;
function span(label: string, startMs: number, endMs: number | null, more: Partial<Span> = {}): Span {
  return { id: nextId++, parentId: null, kind: 'call', label, line: 1, column: 1, startMs, endMs, outcome: endMs === null ? 'pending' : 'fulfilled', ...more };
}

function timeline(spans: Span[], more: Partial<Timeline> = {}): Timeline {
  return {
    version: 1, file: '/x/snippet.ts', language: 'typescript', status: 'completed', exitCode: 0, wallMs: 1000, error: null,
    spans, marks: [], droppedSpans: 0, stats: { wallMs: 1000, awaitedMs: 900, blockedMs: 0, maxConcurrency: 1 }, ...more,
  };
}

const check = (text: string, t: Timeline) => evaluateExpectation(parseExpectation(text), t);

describe('@expect: reading', () => {
  it('reads every kind, comparison and unit', () => {
    assert.deepEqual(parseExpectation('wall < 2200ms'), { kind: 'metric', metric: 'wall', op: '<', value: 2200 });
    assert.deepEqual(parseExpectation('wall <= 2.2s'), { kind: 'metric', metric: 'wall', op: '<=', value: 2200 });
    assert.deepEqual(parseExpectation('blocked > 10 ms'), { kind: 'metric', metric: 'blocked', op: '>', value: 10 });
    assert.deepEqual(parseExpectation('awaited >= .5s'), { kind: 'metric', metric: 'awaited', op: '>=', value: 500 });
    assert.deepEqual(parseExpectation('maxConcurrency >= 2'), { kind: 'metric', metric: 'maxConcurrency', op: '>=', value: 2 });
    assert.deepEqual(parseExpectation('maxConcurrency == 3'), { kind: 'metric', metric: 'maxConcurrency', op: '==', value: 3 });
    assert.deepEqual(parseExpectation('overlap "Weather API" "Stock API"'), { kind: 'overlap', a: 'Weather API', b: 'Stock API' });
    assert.deepEqual(parseExpectation(`before 'toast' "butter"`), { kind: 'before', a: 'toast', b: 'butter' });
    assert.deepEqual(parseExpectation('span "fetchData" < 350ms'), { kind: 'span', text: 'fetchData', op: '<', value: 350 });
    assert.deepEqual(parseExpectation('outcome "flaky" rejected'), { kind: 'outcome', text: 'flaky', outcome: 'rejected' });
    assert.deepEqual(parseExpectation('span "say(\\"hi\\")" > 1s'), { kind: 'span', text: 'say("hi")', op: '>', value: 1000 });
  });

  it('finds // comments in TS/JS and # comments in Python, with their line and column', () => {
    const ts = 'const a = 1;\n  // @expect wall < 1s\n# @expect wall < 2s\n//@expect blocked < 5ms\n';
    const fromTs = parseExpectations(ts, 'typescript');
    assert.deepEqual(fromTs.expectations.map((e) => [e.line, e.column, e.text]), [[2, 6, 'wall < 1s'], [4, 3, 'blocked < 5ms']]);
    assert.deepEqual(fromTs.errors, []);
    const py = 'import asyncio\r\n# @expect maxConcurrency >= 2\r\n// @expect wall < 1s\r\n';
    const fromPy = parseExpectations(py, 'python');
    assert.deepEqual(fromPy.expectations.map((e) => [e.line, e.text]), [[2, 'maxConcurrency >= 2']]);
    assert.equal(parseExpectations('const s = "// @expect wall < 1s";', 'typescript').expectations.length, 0);
  });

  it('reports malformed lines with the line and the column where they go wrong', () => {
    const source = [
      '// @expect wall < fast', // 1
      '// @expect wall < 300', // 2
      '// @expect wall < 3 minutes', // 3
      '// @expect speed < 300ms', // 4
      '// @expect overlap "a"', // 5
      '// @expect overlap a b', // 6
      '// @expect outcome "x" exploded', // 7
      '// @expect maxConcurrency >= 2ms', // 8
      '// @expect wall = 300ms', // 9
      '// @expect span "x" < 300ms please', // 10
      '// @expect span "x < 300ms', // 11
      '// @expects wall < 1s', // 12
      '// @expect', // 13
      '// @expect wall == 300ms', // 14
      '// @expect before "" "b"', // 15
      'await main(); // @expect wall < 1s', // 16
      '// @Expect wall < 1s', // 17
    ].join('\n');
    const { expectations, errors } = parseExpectations(source, 'typescript');
    assert.equal(expectations.length, 0);
    const at = errors.map((e) => [e.line, e.column]);
    assert.deepEqual(at, [
      [1, 19], [2, 19], [3, 19], [4, 12], [5, 23], [6, 20], [7, 24], [8, 30], [9, 17], [10, 29], [11, 17], [12, 4], [13, 11], [14, 17], [15, 19], [16, 18], [17, 4],
    ]);
    const message = (line: number) => errors.find((e) => e.line === line)!.message;
    assert.match(message(2), /needs a unit: 300ms or 300s/);
    assert.match(message(3), /unknown unit 'minutes'/);
    assert.match(message(4), /unknown expectation 'speed'/);
    assert.match(message(6), /in quotes/);
    assert.match(message(7), /fulfilled, rejected or pending/);
    assert.match(message(8), /count: no unit/);
    assert.match(message(10), /unexpected text/);
    assert.match(message(11), /unterminated/);
    assert.match(message(12), /did you mean @expect/);
    assert.match(message(14), /never exact/);
    assert.match(message(16), /on a line of its own/);
    assert.match(message(17), /lower case/);
    const py = parseExpectations('main()  # @expect wall < 1s\nx = "#"\n', 'python');
    assert.deepEqual(py.errors.map((e) => [e.line, e.column, e.text]), [[1, 11, 'wall < 1s']]);
  });
});

describe('@expect: checking', () => {
  it('compares the run totals with each operator', () => {
    const t = timeline([], { wallMs: 612, stats: { wallMs: 612, awaitedMs: 600, blockedMs: 8, maxConcurrency: 2 } });
    assert.deepEqual(check('wall < 2200ms', t), { passed: true, actual: 'wall 612.0 ms' });
    assert.equal(check('wall < 612ms', t).passed, false);
    assert.equal(check('wall <= 612ms', t).passed, true);
    assert.equal(check('wall > 0.6s', t).passed, true);
    assert.equal(check('wall >= 1s', t).passed, false);
    assert.deepEqual(check('blocked < 10ms', t), { passed: true, actual: 'blocked 8.0 ms' });
    assert.equal(check('blocked < 5ms', t).passed, false);
    assert.equal(check('awaited > 500ms', t).passed, true);
    assert.deepEqual(check('maxConcurrency >= 3', t), { passed: false, actual: 'max concurrency 2' });
    assert.equal(check('maxConcurrency == 2', t).passed, true);
    assert.equal(check('wall < 2.2s', timeline([], { wallMs: 4010 })).actual, 'wall 4.01 s');
  });

  it('overlap: some span of each runs at the same time as the other, touching ends do not count', () => {
    const together = timeline([span('fetchData("Weather API")', 0, 300), span('fetchData("Stock API")', 10, 310)]);
    const r = check('overlap "Weather API" "Stock API"', together);
    assert.equal(r.passed, true);
    assert.match(r.actual, /ran together for 290\.0 ms/);
    const inTurn = timeline([span('fetchData("Weather API")', 0, 300), span('fetchData("Stock API")', 300.4, 600)]);
    const r2 = check('overlap "Weather API" "Stock API"', inTurn);
    assert.equal(r2.passed, false);
    assert.match(r2.actual, /no overlap: fetchData\("Weather API"\) \(line 1\) ended at 300\.0 ms, fetchData\("Stock API"\) \(line 1\) started at 300\.4 ms/);
    assert.deepEqual(check('overlap "Weather API" "News API"', inTurn), { passed: false, actual: 'no span matches "News API"' });
  });

  it('overlap: a span does not overlap what runs inside it, and a wrapper stands back for what it wraps', () => {
    const outer = span('makeBreakfast()', 0, 500);
    const all = span('Promise.all([makeToast(), brewCoffee()])', 0, 400, { parentId: outer.id, kind: 'combinator' });
    const toast = span('makeToast()', 0, 200, { parentId: all.id });
    const coffee = span('brewCoffee()', 200, 400, { parentId: all.id });
    const t = timeline([outer, toast, all, coffee]);
    // Only the Promise.all names both, and it merely wraps them: makeToast() and brewCoffee() ran in turn.
    assert.equal(check('overlap "makeToast" "brewCoffee"', t).passed, false);
    assert.equal(check('overlap "Breakfast" "Toast"', t).passed, false);
    assert.deepEqual(matchingSpans(t, 'makeToast').map((s) => s.label), ['makeToast()']);
  });

  it('before: every span of the first ends before any span of the second starts', () => {
    const t = timeline([span('toast()', 0, 100), span('toast()', 100, 200), span('butter()', 200.5, 250)]);
    const ok = check('before "toast" "butter"', t);
    assert.equal(ok.passed, true);
    assert.match(ok.actual, /toast\(\) \(line 1\) ended at 200\.0 ms, then butter\(\) \(line 1\) started at 200\.5 ms/);
    const late = timeline([span('toast()', 0, 100), span('butter()', 50, 150), span('toast()', 120, 300)]);
    const r = check('before "toast" "butter"', late);
    assert.equal(r.passed, false);
    assert.match(r.actual, /ended at 300\.0 ms, after butter\(\) \(line 1\) started at 50\.0 ms/);
    assert.match(check('before "toast" "butter"', timeline([span('toast()', 0, null), span('butter()', 10, 20)])).actual, /never ended/);
  });

  it('span: the longest must be short enough, the shortest long enough; pending spans never end', () => {
    const t = timeline([span('fetchData(1)', 0, 200), span('fetchData(2)', 0, 340), span('other()', 0, 900)]);
    const r = check('span "fetchData" < 350ms', t);
    assert.equal(r.passed, true);
    assert.match(r.actual, /longest of 2: fetchData\(2\) \(line 1\) took 340\.0 ms/);
    assert.equal(check('span "fetchData" < 300ms', t).passed, false);
    const slow = check('span "fetchData" >= 250ms', t);
    assert.equal(slow.passed, false);
    assert.match(slow.actual, /shortest of 2: fetchData\(1\)/);
    const pending = timeline([span('fetchData(1)', 100, null)], { wallMs: 400 });
    assert.equal(check('span "fetchData" < 10s', pending).passed, false);
    assert.equal(check('span "fetchData" > 250ms', pending).passed, true);
    assert.deepEqual(check('span "nothing" < 1s', t), { passed: false, actual: 'no span matches "nothing"' });
  });

  it('outcome: every matching span ended that way', () => {
    const wrapper = span('Promise.allSettled([flaky(), steady()])', 0, 100, { kind: 'combinator' });
    const t = timeline([
      wrapper,
      span('flaky()', 0, 50, { parentId: wrapper.id, outcome: 'rejected', line: 7 }),
      span('steady()', 0, 100, { parentId: wrapper.id }),
      span('publish()', 0, null, { line: 9 }),
    ]);
    assert.deepEqual(check('outcome "flaky" rejected', t), { passed: true, actual: 'flaky() (line 7) rejected' });
    assert.deepEqual(check('outcome "flaky" fulfilled', t), { passed: false, actual: 'flaky() (line 7) rejected' });
    assert.deepEqual(check('outcome "publish" fulfilled', t), { passed: false, actual: 'publish() (line 9) was still pending when the run ended' });
    assert.equal(check('outcome "publish" pending', t).passed, true);
  });

  it('lists malformed lines among the results, fails every expectation of a run that did not finish, and skips a snippet without any', () => {
    const source = '// @expect wall < 1s\n// @expect wall < soon\n';
    const done = checkExpectations(source, 'typescript', timeline([], { wallMs: 300 }))!;
    assert.deepEqual(done.map((r) => [r.line, r.passed, r.error !== undefined]), [[1, true, false], [2, false, true]]);
    assert.equal(done[1].column, 19);
    const timedOut = checkExpectations(source, 'typescript', timeline([], { status: 'timeout', wallMs: 300, error: { kind: 'timeout', message: 'timed out after 200 ms' } }))!;
    assert.deepEqual(timedOut[0], { line: 1, column: 4, text: 'wall < 1s', passed: false, actual: 'the run did not finish: timed out after 200 ms' });
    const crashed = checkExpectations(source, 'typescript', timeline([], { status: 'failed', exitCode: 1, wallMs: 300, error: { kind: 'exception', message: 'boom' } }))!;
    assert.equal(crashed[0].passed, true, 'a run that threw is still graded on what it recorded');
    assert.equal(checkExpectations('const x = 1;\n', 'typescript', timeline([])), undefined);
    const report = formatExpectationReport(done, 'snippet.ts');
    assert.match(report, /^✓ wall < 1s {2}— wall 300\.0 ms {2}\(line 1\)$/m);
    assert.match(report, /^✗ snippet\.ts:2:19: malformed @expect: expected a time/m);
    assert.match(report, /expectations: 1 of 2 failed/);
    const colored = formatExpectationReport(done, 'snippet.ts', { color: true });
    assert.match(colored, /^\u001b\[32m✓\u001b\[0m wall < 1s/m);
    assert.match(colored, /^\u001b\[31m✗\u001b\[0m snippet\.ts:2:19/m);
  });
});
