// Comparing a run with a baseline: pairing sites, deltas, the wall-time text, bad baseline files,
// and `await-timeline run --baseline` end to end.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { compareRuns, formatChange, formatPercent, parseTimelineJson, timelineProblem, type ComparedRun } from '../../src/shared/compare';
import { renderComparison } from '../../src/engine/compareReport';
import type { Span, Timeline } from '../../src/shared/timeline';
import { decodeRun, encodeRun, isHostToWebviewMessage, isWebviewToHostMessage, message } from '../../src/shared/webviewProtocol';
import { BASELINE_KEY, BaselineStore } from '../../src/host/baselineStore';
import { cli, FIXTURES } from './helpers';

let nextId = 1;
function span(kind: Span['kind'], label: string, line: number, startMs: number, endMs: number | null, column = 3): Span {
  return { id: nextId++, parentId: null, kind, label, line, column, startMs, endMs, outcome: endMs === null ? 'pending' : 'fulfilled' };
}
const run = (wallMs: number, spans: Span[], file = '/w/a.ts'): ComparedRun => ({ file, wallMs, spans });
const site = (c: ReturnType<typeof compareRuns>, label: string) => {
  const found = c.sites.filter((s) => s.label === label);
  assert.equal(found.length, 1, `one site labelled ${label}: ${c.sites.map((s) => s.label).join(', ')}`);
  return found[0];
};

describe('compare runs', () => {
  it('pairs the same site, sums its spans and gives the deltas', () => {
    const before = run(400, [span('await', 'sleep(100)', 4, 0, 100), span('await', 'sleep(100)', 4, 100, 200), span('await', 'fetch()', 6, 200, 400)]);
    const after = run(250, [span('await', 'sleep(100)', 4, 0, 100), span('await', 'sleep(100)', 4, 100, 200), span('await', 'fetch()', 6, 50, 250)]);
    const c = compareRuns(before, after);
    const sleep = site(c, 'sleep(100)');
    assert.equal(sleep.match, 'site');
    assert.deepEqual(sleep.baseline, { line: 4, column: 3, count: 2, totalMs: 200, meanMs: 100, firstStartMs: 0 });
    assert.equal(sleep.deltaTotalMs, 0);
    assert.equal(sleep.deltaCount, 0);
    const fetch = site(c, 'fetch()');
    assert.equal(fetch.deltaFirstStartMs, -150);
    assert.equal(fetch.deltaTotalMs, 0);
    assert.equal(c.sites[0], fetch, 'the site that moved most comes first');
    assert.equal(c.deltaWallMs, -150);
    assert.equal(c.wallText, '400 ms → 250 ms, −38 %');
  });

  it('falls back to kind and label when lines moved or the baseline is another file', () => {
    const before = run(300, [span('await', 'sleep(ms)', 4, 0, 150), span('await', 'sleep(ms)', 9, 150, 300), span('call', 'cook("soup")', 3, 0, 150, 1)], '/w/starter.ts');
    const after = run(150, [span('await', 'sleep(ms)', 6, 0, 150), span('await', 'sleep(ms)', 12, 0, 150), span('call', 'cook("soup")', 5, 0, 150, 1),
      span('combinator', 'Promise.all([a(), b()])', 10, 0, 150)], '/w/solution.ts');
    const c = compareRuns(before, after);
    const sleeps = c.sites.filter((s) => s.label === 'sleep(ms)');
    assert.deepEqual(sleeps.map((s) => [s.match, s.baseline?.line, s.current?.line]).sort(), [['label', 4, 6], ['label', 9, 12]], 'paired in source order');
    assert.equal(sleeps.find((s) => s.baseline?.line === 9)?.deltaFirstStartMs, -150);
    assert.equal(site(c, 'cook("soup")').match, 'label');
    assert.equal(site(c, 'Promise.all([a(), b()])').match, 'added');
    assert.equal(c.baselineFile, '/w/starter.ts');
  });

  it('never pairs a site with another kind, and reports what only one side has', () => {
    const before = run(100, [span('await', 'load()', 2, 0, 100), span('block', 'while (busy) {}', 5, 0, 40)]);
    const after = run(100, [span('call', 'load()', 2, 0, 100)]);
    const c = compareRuns(before, after);
    assert.deepEqual(c.sites.map((s) => `${s.kind}:${s.match}`).sort(), ['await:removed', 'block:removed', 'call:added']);
    const gone = c.sites.find((s) => s.kind === 'await')!;
    assert.equal(gone.current, null);
    assert.equal(gone.deltaTotalMs, -100);
    assert.equal(gone.deltaFirstStartMs, null);
  });

  it('an exact site wins over a label match elsewhere', () => {
    const before = run(100, [span('await', 'x()', 3, 0, 10), span('await', 'x()', 8, 10, 20)]);
    const after = run(100, [span('await', 'x()', 8, 0, 50)]);
    const c = compareRuns(before, after);
    assert.deepEqual(c.sites.map((s) => `${s.match}:${s.baseline?.line ?? '-'}:${s.current?.line ?? '-'}`).sort(), ['removed:3:-', 'site:8:8']);
  });

  it('a span still pending counts up to the end of its run', () => {
    const c = compareRuns(run(500, [span('await', 'never()', 1, 100, null)]), run(100, []));
    assert.equal(c.sites[0].baseline?.totalMs, 400);
  });

  it('formats the wall-time change as people read it', () => {
    assert.equal(formatChange(4010, 2010), '4.01 s → 2.01 s, −50 %');
    assert.equal(formatChange(200, 300), '200 ms → 300 ms, +50 %');
    assert.equal(formatChange(1000, 1001), '1.00 s → 1.00 s, 0 %');
    assert.equal(formatChange(0, 10), '0 ms → 10 ms');
    assert.equal(formatPercent(-0.996), '−100 %');
  });

  it('the terminal text puts sites found in both runs first and names the baseline', () => {
    const before = run(300, [span('await', 'a()', 1, 0, 150), span('await', 'b()', 2, 150, 300), span('await', 'old()', 3, 0, 1)]);
    const after = run(150, [span('await', 'a()', 1, 0, 150), span('await', 'b()', 2, 0, 150), span('await', 'brand_new()', 4, 0, 149)]);
    const text = renderComparison(compareRuns(before, after), { width: 100, baselineName: 'base.json' });
    const lines = text.trimEnd().split('\n');
    assert.equal(lines[0], 'vs baseline base.json: wall 300 ms → 150 ms, −50 %');
    assert.match(lines[1], /await b\(\)\s+:2\s+150 ms → 150 ms \(±0\), starts 0 ms \(150 ms earlier\)/);
    assert.match(lines[2], /^ {2}\+ await brand_new\(\)\s+:4\s+new: 149 ms/);
    assert.match(text, /2 changed by less than 3 ms/, 'a() did not change; old() (1 ms) is within the noise');
  });
});

describe('baseline files', () => {
  const valid = (): Timeline => ({
    version: 1, file: '/w/a.ts', language: 'typescript', status: 'completed', exitCode: 0, wallMs: 10, error: null,
    spans: [span('await', 'x()', 1, 0, 5)], marks: [], droppedSpans: 0, stats: { wallMs: 10, awaitedMs: 5, blockedMs: 0, maxConcurrency: 1 },
  });

  it('accepts a timeline and says what is wrong with anything else', () => {
    assert.equal(timelineProblem(valid()), null);
    assert.equal(timelineProblem({ ...valid(), spans: [{ ...valid().spans[0], kind: 'block', line: 0, column: 0 }] }), null, 'a block not located has line 0');
    const cases: [unknown, RegExp][] = [
      [[1, 2], /an array/],
      [{ traceEvents: [] }, /a Chrome trace/],
      [{ ...valid(), version: 2 }, /version 2; this await-timeline reads version 1/],
      [{ ...valid(), version: undefined }, /no "version" field/],
      [{ ...valid(), spans: {} }, /"spans" is not an array/],
      [{ ...valid(), wallMs: '10' }, /"wallMs"/],
      [{ ...valid(), spans: [{ ...valid().spans[0], kind: 'sleep' }] }, /spans\[0\]\.kind is "sleep"/],
      [{ ...valid(), spans: [valid().spans[0], { ...valid().spans[0], endMs: -1 }] }, /spans\[1\]\.endMs/],
    ];
    for (const [input, expected] of cases) assert.match(timelineProblem(input) ?? 'null', expected);
    assert.throws(() => parseTimelineJson('{"version": 1,'), /^Error: not an await-timeline timeline \(not JSON: /);
    assert.throws(() => parseTimelineJson('{"version": 1}'), /^Error: not an await-timeline timeline \("file" is not a string\)$/);
  });
});

describe('await-timeline run --baseline', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awtl-compare-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints the comparison after the chart and adds it to --json', () => {
    const baseline = path.join(dir, 'sequential.json');
    const first = cli(['run', path.join(FIXTURES, 'node', 'compare-sequential.ts'), '--json', baseline, '--no-color']);
    assert.equal(first.status, 0, first.stderr);
    const r = cli(['run', path.join(FIXTURES, 'node', 'compare-parallel.ts'), '--baseline', baseline, '--json', '-', '--no-color']);
    assert.equal(r.status, 0, r.stderr);
    const t = JSON.parse(r.stdout) as Timeline;
    const c = t.comparison!;
    assert.ok(c, 'the --json timeline has a comparison');
    assert.equal(c.baselineFile, path.join(FIXTURES, 'node', 'compare-sequential.ts'));
    assert.equal(c.wallMs, t.wallMs);
    assert.ok(c.baselineWallMs >= 290 && t.wallMs < c.baselineWallMs, `sequential ${c.baselineWallMs} ms, parallel ${t.wallMs} ms`);
    assert.equal(c.wallChange, (t.wallMs - c.baselineWallMs) / c.baselineWallMs);
    // Every site moved a line: pairs come from the label. Pasta's cook no longer waits for the soup.
    const pasta = c.sites.find((s) => s.label === 'cook("pasta")')!;
    assert.equal(pasta.match, 'label');
    assert.deepEqual([pasta.baseline?.line, pasta.current?.line], [4, 5]);
    assert.ok(pasta.baseline!.firstStartMs >= 145, 'in the baseline pasta waited for the soup');
    assert.ok(pasta.deltaFirstStartMs! < 0 && pasta.deltaFirstStartMs === pasta.current!.firstStartMs - pasta.baseline!.firstStartMs, `pasta starts ${pasta.deltaFirstStartMs} ms earlier`);
    assert.equal(c.sites.find((s) => s.label === "cook('soup')" && s.kind === 'await')?.match, 'removed');
    assert.equal(c.sites.find((s) => s.kind === 'combinator')?.match, 'added');
    // The chart goes to stderr with --json -; the comparison follows it.
    const chartAt = r.stderr.indexOf('wall ');
    const comparisonAt = r.stderr.indexOf('vs baseline ');
    assert.ok(chartAt >= 0 && comparisonAt > chartAt, r.stderr);
    assert.ok(r.stderr.includes(`vs baseline ${baseline}: wall ${c.wallText}`), r.stderr);
    assert.match(r.stderr, /cook\("pasta"\)\s+:4→5 .*earlier/);
  });

  it('a file that is not a timeline is a usage error (exit 2) that says why', () => {
    const trace = path.join(dir, 'trace.json');
    fs.writeFileSync(trace, JSON.stringify({ traceEvents: [] }));
    const notJson = path.join(dir, 'notes.json');
    fs.writeFileSync(notJson, 'hello');
    const snippet = path.join(FIXTURES, 'node', 'compare-parallel.ts');
    for (const [file, why] of [
      [trace, /--baseline .*trace\.json: not an await-timeline timeline \(a Chrome trace/],
      [notJson, /--baseline .*notes\.json: not an await-timeline timeline \(not JSON/],
      [path.join(dir, 'missing.json'), /--baseline .*missing\.json: no such file/],
    ] as const) {
      const r = cli(['run', snippet, '--baseline', file]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, why);
      assert.equal(r.stdout, '', 'the snippet did not run');
    }
  });
});

describe('baseline messages', () => {
  it('carry a run in wire form that decodes back to its spans, and are validated', () => {
    const spans = [span('await', 'a()', 1, 0, 10), span('await', 'a()', 1, 10, 20), span('block', 'busy()', 2, 20, 30)];
    const wire = encodeRun('/w/a.ts', 30, spans);
    assert.equal(wire.sites.length, 2, 'each site once');
    const msg = message({ type: 'baseline', baseline: wire });
    assert.ok(isHostToWebviewMessage(JSON.parse(JSON.stringify(msg))));
    assert.deepEqual(decodeRun(wire).spans, spans);
    assert.ok(isHostToWebviewMessage(message({ type: 'baseline', baseline: null })));
    const unknownSite = { ...wire, spans: [[1, 0, 5, 0, 10, 1]] };
    assert.ok(!isHostToWebviewMessage({ ...msg, baseline: unknownSite }), 'a span naming a missing site');
    assert.ok(!isHostToWebviewMessage({ ...msg, baseline: { ...wire, wallMs: -1 } }));
    assert.ok(isWebviewToHostMessage(message({ type: 'pinBaseline', pin: true })));
    assert.ok(!isWebviewToHostMessage({ v: 1, type: 'pinBaseline', pin: 'yes' }));
  });
});

describe('pinned baseline (host store)', () => {
  it('keeps a pinned run in workspace state, sends it in wire form, and ignores what is not a timeline', async () => {
    const state = new Map<string, unknown>();
    const store = new BaselineStore({ get: <T>(k: string) => state.get(k) as T, update: async (k, v) => void state.set(k, v) });
    assert.deepEqual(store.message().baseline, null);
    const t: Timeline = {
      version: 1, file: '/w/starter.ts', language: 'typescript', status: 'completed', exitCode: 0, wallMs: 40, error: null,
      spans: [span('await', 'x()', 1, 0, 40)], marks: [], droppedSpans: 0, stats: { wallMs: 40, awaitedMs: 40, blockedMs: 0, maxConcurrency: 1 },
    };
    assert.equal(await store.pin({ ...t, comparison: compareRuns(t, t) }), true);
    const msg = store.message();
    assert.ok(isHostToWebviewMessage(msg));
    assert.deepEqual(decodeRun(msg.baseline!), { file: '/w/starter.ts', wallMs: 40, spans: t.spans });
    assert.equal((state.get(BASELINE_KEY) as Timeline).comparison, undefined, "the pinned run's own comparison is not kept");
    state.set(BASELINE_KEY, { version: 2 });
    assert.equal(store.get(), undefined);
    await store.clear();
    assert.equal(store.message().baseline, null);
  });
});
