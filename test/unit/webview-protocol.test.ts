// Host <-> webview messages: what is accepted, what is refused, and the compact span form.

import assert from 'node:assert/strict';
import type { Span, Timeline } from '../../src/shared/timeline';
import {
  decodeSpans, encodeAppend, isHostToWebviewMessage, isWebviewToHostMessage, message, SiteInterner, WEBVIEW_PROTOCOL_VERSION,
  type ResetMessage, type StatusMessage,
} from '../../src/shared/webviewProtocol';
import { timelineMessages } from '../../src/host/timelineMessages';
import { TimelineModel } from '../../src/webview/model/timelineModel';
import { packColumns } from '../../src/shared/spanColumns';

const v = WEBVIEW_PROTOCOL_VERSION;

describe('webview protocol', () => {
  it('accepts well-formed host messages', () => {
    assert.ok(isHostToWebviewMessage({ v, type: 'reset', file: 'a.ts', language: 'typescript', status: 'running' }));
    assert.ok(isHostToWebviewMessage({ v, type: 'append', sites: [{ kind: 'await', label: 'x', line: 1, column: 1 }], spans: [[1, 0, 0, 0, null, 0]], marks: [{ kind: 'log', text: 'hi', atMs: 3 }], droppedSpans: 0 }));
    assert.ok(isHostToWebviewMessage({ v, type: 'status', status: 'failed', error: { message: 'boom', line: 3 }, stats: null, wallMs: 5, exitCode: 1, nowMs: 5 }));
    assert.ok(isHostToWebviewMessage({ v, type: 'cursor', line: null }));
  });

  it('accepts a block that is not located yet (line 0) with the spans of its batch', () => {
    // The watchdog sends a block as soon as it sees the program stuck, before it knows the line.
    const batch = encodeAppend(new SiteInterner(), [
      { id: 1, parentId: null, kind: 'call', label: 'main()', line: 3, column: 1, startMs: 0, endMs: null, outcome: 'pending' },
      { id: 1000000001, parentId: null, kind: 'block', label: 'synchronous work', line: 0, column: 0, startMs: 0, endMs: null, outcome: 'pending' },
    ], [], 0);
    assert.ok(isHostToWebviewMessage(batch));
  });

  it('refuses other versions, unknown types and malformed fields', () => {
    const bad: unknown[] = [
      null, 'reset', [], {},
      { v: 2, type: 'cursor', line: 1 },
      { v, type: 'explode' },
      { v, type: 'reset', file: 'a.ts', language: 'cobol', status: 'running' },
      { v, type: 'cursor', line: 0 },
      { v, type: 'append', sites: [], spans: [[1, 0, 0, 5, 4, 1]], marks: [], droppedSpans: 0 }, // ends before it starts
      { v, type: 'append', sites: [], spans: [[0, 0, 0, 0, null, 0]], marks: [], droppedSpans: 0 }, // id 0
      { v, type: 'append', sites: [], spans: [[1, 0, 0, NaN, null, 0]], marks: [], droppedSpans: 0 },
      { v, type: 'append', sites: [], spans: [], marks: [{ kind: 'shout', text: 'x', atMs: 1 }], droppedSpans: 0 },
      { v, type: 'append', sites: [{ kind: 'await', label: 'x', line: 1.5, column: 1 }], spans: [], marks: [], droppedSpans: 0 },
      { v, type: 'status', status: 'completed', error: null, stats: { wallMs: 1 }, wallMs: 1, exitCode: 0, nowMs: 1 },
    ];
    for (const m of bad) assert.equal(isHostToWebviewMessage(m), false, JSON.stringify(m));
  });

  it('carries insights and the critical path at the end of a run, and refuses malformed ones', () => {
    const insight = {
      kind: 'sequential-awaits', line: 3, endLine: 4, sites: [{ line: 3, column: 13 }, { line: 4, column: 13 }], spanIds: [2, 3],
      sequentialMs: 400, parallelMs: 200, savesMs: 200, message: 'these 2 awaits ran back to back',
      fix: { title: 'Run with Promise.all', line: 3, column: 3, endLine: 4, endColumn: 30, newText: 'const [a, b] = await Promise.all([f(), g()]);' },
    };
    const status = { v, type: 'status', status: 'completed', error: null, stats: null, wallMs: 5, exitCode: 0, nowMs: 5 };
    assert.ok(isHostToWebviewMessage({ ...status, insights: [insight], criticalPath: [1, 3] }));
    assert.equal(isHostToWebviewMessage({ ...status, insights: [{ ...insight, kind: 'guess' }] }), false);
    assert.equal(isHostToWebviewMessage({ ...status, insights: [{ ...insight, sites: [{ line: 0, column: 1 }] }] }), false);
    assert.equal(isHostToWebviewMessage({ ...status, insights: [{ ...insight, fix: { ...insight.fix, newText: 5 } }] }), false);
    assert.equal(isHostToWebviewMessage({ ...status, criticalPath: [0] }), false);
  });

  it('carries the checked @expect comments at the end of a run, and refuses malformed ones', () => {
    const status = { v, type: 'status', status: 'completed', error: null, stats: null, wallMs: 5, exitCode: 0, nowMs: 5 };
    const passed = { line: 2, column: 4, text: 'wall < 480ms', passed: true, actual: 'wall 312.0 ms' };
    const malformed = { line: 3, column: 12, text: 'wall < fast', passed: false, actual: 'expected a number', error: 'expected a number' };
    assert.ok(isHostToWebviewMessage({ ...status, expectations: [passed, malformed] }));
    assert.equal(isHostToWebviewMessage({ ...status, expectations: [{ ...passed, line: 0 }] }), false);
    assert.equal(isHostToWebviewMessage({ ...status, expectations: [{ ...passed, passed: 'yes' }] }), false);
    assert.equal(isHostToWebviewMessage({ ...status, expectations: [{ ...passed, error: 3 }] }), false);
    assert.equal(isHostToWebviewMessage({ ...status, expectations: passed }), false);
  });

  it('carries why a timeline is incomplete to the panel, whose model keeps it until the next run', () => {
    const timeline: Timeline = {
      version: 1, file: '/x/forge.js', language: 'javascript', status: 'completed', exitCode: 0, wallMs: 600, error: null,
      incomplete: "the program closed or wrote to the tool's channel",
      spans: [], marks: [], droppedSpans: 0, stats: { wallMs: 600, awaitedMs: 0, blockedMs: 0, maxConcurrency: 0 },
    };
    const messages = timelineMessages(timeline);
    assert.ok(messages.every(isHostToWebviewMessage));
    const status = messages.find((m) => m.type === 'status') as StatusMessage;
    assert.equal(status.incomplete, timeline.incomplete);
    assert.equal(isHostToWebviewMessage({ ...status, incomplete: 3 }), false);
    const model = new TimelineModel();
    model.reset(messages[0] as ResetMessage);
    model.status_(status);
    assert.equal(model.incomplete, timeline.incomplete);
    model.reset({ file: 'next.js', language: 'javascript', status: 'running' });
    assert.equal(model.incomplete, undefined);
    model.load(timeline);
    assert.equal(model.incomplete, timeline.incomplete, 'a stored run too');
  });

  it('validates what the webview sends', () => {
    assert.ok(isWebviewToHostMessage(message({ type: 'ready' })));
    assert.ok(isWebviewToHostMessage(message({ type: 'reveal', line: 12, column: 3 })));
    assert.ok(isWebviewToHostMessage(message({ type: 'export', kind: 'svg' })));
    assert.ok(isWebviewToHostMessage(message({ type: 'stop' })));
    assert.equal(isWebviewToHostMessage({ v, type: 'reveal', line: -1, column: 1 }), false);
    assert.equal(isWebviewToHostMessage({ v, type: 'reveal', line: '12', column: 1 }), false);
    assert.equal(isWebviewToHostMessage({ v, type: 'export', kind: 'pdf' }), false);
    assert.equal(isWebviewToHostMessage({ type: 'ready' }), false);
  });

  it('sends each site once and decodes spans back to what was sent', () => {
    const spans: Span[] = [
      { id: 1, parentId: null, kind: 'call', label: 'main()', line: 3, column: 1, startMs: 0, endMs: null, outcome: 'pending' },
      { id: 2, parentId: 1, kind: 'await', label: 'sleep(5)', line: 4, column: 9, startMs: 1, endMs: 6, outcome: 'fulfilled' },
      { id: 3, parentId: 1, kind: 'await', label: 'sleep(5)', line: 4, column: 9, startMs: 6, endMs: 11, outcome: 'rejected' },
    ];
    const interner = new SiteInterner();
    const first = encodeAppend(interner, spans.slice(0, 2), [], 0);
    const second = encodeAppend(interner, spans.slice(2), [], 0);
    assert.equal(first.sites.length, 2);
    assert.equal(second.sites.length, 0, 'a known site is not sent again');
    assert.ok(isHostToWebviewMessage(first) && isHostToWebviewMessage(second));
    const sites = [...first.sites, ...second.sites];
    assert.deepEqual(decodeSpans(sites, [...first.spans, ...second.spans]).spans, spans);
    const unknown = decodeSpans(sites, [[9, 0, 7, 0, 1, 1]]);
    assert.deepEqual([unknown.spans.length, unknown.invalid], [0, 1]);
  });
  it("sends a run's spans to the panel as one buffer of columns, which the panel reads back as the spans sent", () => {
    const spans: Span[] = [];
    for (let i = 1; i <= 50_000; i++) {
      const parentId = i === 1 ? null : 1;
      const floating = i % 997 === 0;
      spans.push({
        id: i, parentId, kind: i === 1 ? 'call' : 'await', label: i === 1 ? 'main()' : `fetch(${i % 7})`, line: i === 1 ? 1 : 3 + (i % 7), column: 5,
        startMs: i / 10, endMs: i % 101 === 0 ? null : i / 10 + 0.05, outcome: i % 101 === 0 ? 'pending' : i % 13 === 0 ? 'rejected' : 'fulfilled',
        ...(floating ? { floating: true as const } : {}),
      });
    }
    const timeline: Timeline = {
      version: 1, file: '/x/many.ts', language: 'typescript', status: 'completed', exitCode: 0, wallMs: 5001, error: null,
      spans, marks: [{ kind: 'log', text: 'done', atMs: 5000 }], droppedSpans: 0, stats: { wallMs: 5001, awaitedMs: 0, blockedMs: 0, maxConcurrency: 1 },
    };
    const messages = timelineMessages(timeline);
    assert.ok(messages.every(isHostToWebviewMessage));
    const append = messages.find((m) => m.type === 'append');
    assert.ok(append?.type === 'append');
    assert.equal(append.spans.length, 0, 'no array per span');
    assert.ok(append.columns instanceof Uint8Array, 'the spans in columns');
    assert.ok(append.columns.byteLength <= 40 * spans.length, `${append.columns.byteLength} bytes for ${spans.length} spans`);
    assert.equal(append.sites.length, 8, 'each site once');
    // Through a structured clone, as postMessage delivers it.
    const model = new TimelineModel();
    for (const m of messages) {
      const copy = structuredClone(m);
      assert.ok(isHostToWebviewMessage(copy));
      if (copy.type === 'reset') model.reset(copy);
      else if (copy.type === 'append') model.append(copy);
      else if (copy.type === 'status') model.status_(copy);
    }
    assert.deepEqual([...model.store.spans()], spans);
    assert.equal(model.invalidSpans, 0);
    assert.deepEqual(model.marks, timeline.marks);
  });

  it('drops and counts spans in columns that do not hold, and refuses columns that are not bytes', () => {
    const interner = new SiteInterner();
    const good: Span = { id: 1, parentId: null, kind: 'call', label: 'main()', line: 1, column: 1, startMs: 0, endMs: 5, outcome: 'fulfilled' };
    const bad: Span[] = [
      { ...good, id: 0 }, // not a positive id
      { ...good, id: 2.5 },
      { ...good, id: 3, startMs: NaN },
      { ...good, id: 4, endMs: -1 }, // ends before it starts
      { ...good, id: 5, parentId: -2 },
    ];
    const columns = packColumns([good, ...bad], interner);
    const sites = interner.takeNew();
    const msg = { v, type: 'append', sites, spans: [], columns, marks: [], droppedSpans: 0 };
    assert.ok(isHostToWebviewMessage(msg));
    const model = new TimelineModel();
    model.reset({ file: 'a.ts', language: 'typescript', status: 'running' });
    model.append(msg as never);
    assert.deepEqual([...model.store.spans()].map((s) => s.id), [1]);
    assert.equal(model.invalidSpans, bad.length);
    // An unknown site, and a buffer cut short.
    const other = packColumns([{ ...good, id: 9 }], new SiteInterner());
    const model2 = new TimelineModel();
    model2.reset({ file: 'a.ts', language: 'typescript', status: 'running' });
    model2.append({ sites: [], spans: [], columns: other, marks: [], droppedSpans: 0 });
    model2.append({ sites: [], spans: [], columns: columns.subarray(0, 20), marks: [], droppedSpans: 0 });
    assert.equal(model2.store.spanCount, 0);
    assert.equal(model2.invalidSpans, 1 + 6);
    assert.equal(isHostToWebviewMessage({ ...msg, columns: [1, 2, 3] }), false);
    assert.equal(isHostToWebviewMessage({ ...msg, columns: new Float64Array(4) }), false);
  });
  it('numbers each distinct site (kind, label, line, column) once, in order of first sight, also past many sites of one label', () => {
    const interner = new SiteInterner();
    const want = new Map<string, number>();
    let seed = 7;
    const r = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    const kinds = ['await', 'call', 'timer'] as const;
    for (let i = 0; i < 20_000; i++) {
      // One label at 60 places (past the ones looked through one by one), others at a few.
      const site = { kind: kinds[r(3)], label: r(2) ? 'sleep(1)' : `f${r(30)}()`, line: 1 + r(20), column: 1 + r(3) };
      const key = JSON.stringify(site);
      if (!want.has(key)) want.set(key, want.size);
      assert.equal(interner.indexOf(site), want.get(key), key);
    }
    assert.deepEqual(interner.takeNew().map((s) => JSON.stringify({ kind: s.kind, label: s.label, line: s.line, column: s.column })), [...want.keys()]);
    assert.deepEqual(interner.takeNew(), []);
  });
});
