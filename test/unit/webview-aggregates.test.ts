// Spans past the budget and delays that are not the snippet's reach the panel: carried by the
// webview protocol (validated), live and in a restored run, and drawn on the rows the model builds.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import type { Span, SpanAggregate, Timeline } from '../../src/shared/timeline';
import {
  decodeAggregates, encodeAppend, isHostToWebviewMessage, SiteInterner, WEBVIEW_PROTOCOL_VERSION, type AppendMessage, type HostToWebviewMessage,
} from '../../src/shared/webviewProtocol';
import { timelineMessages } from '../../src/host/timelineMessages';
import { TimelineModel } from '../../src/webview/model/timelineModel';
import { startRun } from '../../src/engine/run';
import { FIXTURES } from './helpers';

const v = WEBVIEW_PROTOCOL_VERSION;
const span = (id: number, parentId: number | null, kind: Span['kind'], label: string, line: number, startMs: number, endMs: number): Span =>
  ({ id, parentId, kind, label, line, column: 3, startMs, endMs, outcome: 'fulfilled' });
const agg = (parentId: number | null, count: number, startMs: number, endMs: number): SpanAggregate =>
  ({ parentId, kind: 'await', label: 'sleep(2)', line: 4, column: 3, count, startMs, endMs });

/** worker() { for (40×) await sleep(2) }: two awaits listed, the rest past a budget of 3 spans. */
function run(): Timeline {
  return {
    version: 1, file: '/w/worker.js', language: 'javascript', status: 'completed', exitCode: 0, wallMs: 100, error: null, marks: [],
    spans: [span(1, null, 'call', 'worker()', 2, 0, 90), span(2, 1, 'await', 'sleep(2)', 4, 0, 2), span(3, 1, 'await', 'sleep(2)', 4, 2, 4)],
    droppedSpans: 38,
    aggregates: [agg(1, 30, 4, 60), agg(1, 8, 62, 88)],
    delays: [{ kind: 'delayed', label: 'event loop delayed: not your code', startMs: 91, endMs: 99 }],
    stats: { wallMs: 100, awaitedMs: 88, blockedMs: 0, maxConcurrency: 1, delayedMs: 8 },
  };
}

function feed(model: TimelineModel, messages: HostToWebviewMessage[]): void {
  for (const m of messages) {
    assert.ok(isHostToWebviewMessage(m), `valid ${m.type}`);
    if (m.type === 'reset') model.reset(m);
    else if (m.type === 'append') model.append(m);
    else if (m.type === 'status') model.status_(m);
  }
}

describe('webview: spans past the budget and delays', () => {
  it('the protocol carries aggregates by site index and delays, and refuses malformed ones', () => {
    const interner = new SiteInterner();
    const msg = encodeAppend(interner, [], [], 38, { aggregates: run().aggregates, delays: run().delays });
    assert.ok(isHostToWebviewMessage(msg));
    assert.equal(msg.sites.length, 1, 'the aggregates\' site goes in the site table once');
    assert.deepEqual(decodeAggregates(msg.sites, msg.aggregates!), run().aggregates);
    const base = { v, type: 'append', sites: msg.sites, spans: [], marks: [], droppedSpans: 38 };
    for (const aggregates of [[[1, 0, 0, 4, 60]], [[1, 0, 3, 60, 4]], [[1, 0, 3, 4]], [[-1, 0, 3, 4, 60]], [[1, 0.5, 3, 4, 60]], 'x']) {
      assert.equal(isHostToWebviewMessage({ ...base, aggregates }), false, JSON.stringify(aggregates));
    }
    for (const delays of [[{ kind: 'block', label: 'x', startMs: 0, endMs: 1 }], [{ kind: 'delayed', label: 'x', startMs: 2, endMs: 1 }], [{ kind: 'delayed', startMs: 0, endMs: 1 }]]) {
      assert.equal(isHostToWebviewMessage({ ...base, delays }), false, JSON.stringify(delays));
    }
    // An aggregate that names a site the table does not have is dropped, not drawn somewhere.
    assert.deepEqual(decodeAggregates(msg.sites, [[1, 5, 3, 4, 60]]), []);
  });

  it('a restored or saved run draws its aggregates on their site\'s row and its delays apart from Blocked', () => {
    const model = new TimelineModel();
    feed(model, timelineMessages(run()));
    const rows = model.chartRows().layout.flatten();
    assert.deepEqual(rows.map((r) => r.label), ['worker()', 'sleep(2)'], 'no row of its own: the listed awaits\' row had room');
    const sleep = rows[1];
    assert.equal(sleep.spans.length, 2);
    assert.deepEqual(sleep.aggregate?.bars.map((b) => [b.count, b.startMs, b.endMs]), [[30, 4, 60], [8, 62, 88]]);
    assert.deepEqual(model.delayBands().map((b) => [b.startMs, b.endMs]), [[91, 99]]);
    assert.equal(model.stats().blockedMs, 0, 'a delay is never blocked time');
    assert.equal(model.blockedIntervals().length, 0);
    // Every span on its own row draws them too.
    model.allSpans = true;
    assert.equal(model.chartRows().layout.flatten().find((r) => r.label === 'sleep(2)')?.aggregate?.count, 38);
  });

  it('live: each list of aggregates replaces the last, and delays add up as they come', () => {
    const model = new TimelineModel();
    model.reset({ file: 'worker.js', language: 'javascript', status: 'running' });
    const interner = new SiteInterner();
    const t = run();
    const send = (m: AppendMessage) => {
      assert.ok(isHostToWebviewMessage(m));
      model.append(m);
    };
    send(encodeAppend(interner, t.spans, [], 10, { aggregates: [agg(1, 10, 4, 20)] }));
    send(encodeAppend(interner, [], [], 38, { aggregates: t.aggregates, delays: [{ kind: 'delayed', label: 'event loop delayed: not your code', startMs: 30, endMs: 40 }] }));
    send(encodeAppend(interner, [], [], 38, { delays: t.delays }));
    const sleep = model.chartRows().layout.flatten().find((r) => r.label === 'sleep(2)')!;
    assert.equal(sleep.aggregate?.count, 38, 'not 48: the second list replaced the first');
    assert.equal(model.delayBands().length, 2);
    assert.ok(model.extentMs() >= 88, 'the chart reaches the last aggregated await');
  });
});

describe('engine: a live run tells the panel when its aggregates move and what delayed it', () => {
  it('past the budget no span comes, but updates still do: the aggregates as they grow, and each delay once', async function () {
    this.timeout(60_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awt-live-agg-'));
    try {
      for (const f of ['computed.js', 'tiny_mod.js']) fs.copyFileSync(path.join(FIXTURES, 'node/local-modules', f), path.join(dir, f));
      // workers.mjs past 300 spans, and a computed require first: the child instruments it (a delay).
      const workers = fs.readFileSync(path.join(FIXTURES, 'node/workers.mjs'), 'utf8');
      fs.writeFileSync(path.join(dir, 'main.mjs'), `import { createRequire } from 'node:module';\ncreateRequire(import.meta.url)(['./computed', 'js'].join('.'));\n${workers}`);
      const run = startRun({ file: path.join(dir, 'main.mjs'), stdout: 'pipe', maxSpans: 300 });
      const seen: { aggregates: number; delays: string[] }[] = [];
      run.on('update', (d) => {
        if (d.aggregatesChanged || d.delays.length) seen.push({ aggregates: d.aggregatesChanged ? run.builder.aggregateList().length : -1, delays: d.delays.map((x) => x.label) });
      });
      const t = await run.done;
      assert.equal(t.status, 'completed');
      const counted = seen.filter((s) => s.aggregates > 0);
      assert.ok(counted.length >= 1, `updates with aggregates: ${JSON.stringify(seen)}`);
      // Every delay reached a live view exactly once, the tool's instrumenting among them.
      assert.deepEqual(seen.flatMap((s) => s.delays).sort(), (t.delays ?? []).map((d) => d.label).sort());
      assert.ok((t.delays ?? []).some((d) => d.label === 'instrumenting ./tiny_mod.js'), JSON.stringify(t.delays));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
