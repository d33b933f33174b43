// OTLP/JSON export: checked against the official OpenTelemetry protobuf definitions (the
// ExportTraceServiceRequest that @opentelemetry/otlp-transformer compiles from opentelemetry-proto):
// every field we write is one the definition has, with its type, and survives an encode/decode
// round trip. Also: parent links, code.* attributes, ERROR for rejected, marks as events, epoch
// times, and --otlp / --otlp-endpoint through the CLI against a tiny local receiver.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';

import type { Timeline } from '../../src/shared/timeline';
import { toOtlp } from '../../src/engine/exportOtlp';
import { cli } from './helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { opentelemetry } = require('@opentelemetry/otlp-transformer/build/src/generated/root') as any;
const Request = opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { util } = require('protobufjs/minimal') as any;

const ID_FIELDS = new Set(['traceId', 'spanId', 'parentSpanId']);
/** 64-bit fields: decimal strings in OTLP/JSON (the proto3 JSON mapping), Long in the message. */
const FIXED64 = new Set(['startTimeUnixNano', 'endTimeUnixNano', 'timeUnixNano']);

/** OTLP/JSON → the protobuf message object: ids are hex in JSON and bytes in the message. */
function toMessageObject(json: unknown): unknown {
  return JSON.parse(JSON.stringify(json), (key, value) => {
    if (typeof value !== 'string') return value;
    if (ID_FIELDS.has(key)) return Buffer.from(value, 'hex');
    if (FIXED64.has(key)) return util.Long.fromString(value, true);
    if (key === 'intValue') return util.Long.fromString(value, false);
    return value;
  });
}

/** The JSON as protobuf carries it: an empty repeated field is simply absent. */
const withoutEmptyLists = (json: unknown): unknown => JSON.parse(JSON.stringify(json), (_key, value) => {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) if (Array.isArray(v) && v.length === 0) delete (value as Record<string, unknown>)[k];
  }
  return value;
});

/** Verified against the definition, encoded, decoded and turned back into OTLP/JSON. */
function roundTrip(json: unknown): unknown {
  const object = toMessageObject(json);
  assert.equal(Request.verify(object), null, 'the official definition accepts every field');
  const bytes = Request.encode(Request.fromObject(object)).finish();
  const back = Request.toObject(Request.decode(bytes), { longs: String, enums: Number, bytes: Array, defaults: false });
  return JSON.parse(JSON.stringify(back, (key, value) => (ID_FIELDS.has(key) && Array.isArray(value) ? Buffer.from(value).toString('hex') : value)));
}

function timeline(): Timeline {
  return {
    version: 1, file: '/w/chefs.ts', language: 'typescript', status: 'failed', exitCode: 1, wallMs: 2010.5,
    error: { kind: 'exception', message: 'Error: burnt', line: 9, column: 3 },
    startEpochMs: 1_790_000_000_123.25,
    spans: [
      { id: 1, parentId: null, kind: 'call', label: 'main()', line: 12, column: 1, startMs: 0.5, endMs: 2010, outcome: 'rejected' },
      { id: 2, parentId: 1, kind: 'await', label: 'await cook("soup", 2)', line: 13, column: 3, startMs: 1, endMs: 2001, outcome: 'fulfilled' },
      { id: 3, parentId: 2, kind: 'call', label: 'cook("soup", 2)', line: 5, column: 1, startMs: 1.2, endMs: 2000.9, outcome: 'fulfilled' },
      { id: 4, parentId: 3, kind: 'timer', label: 'setTimeout(resolve, ms)', line: 3, column: 40, startMs: 1.5, endMs: null, outcome: 'pending' },
    ],
    marks: [
      { kind: 'log', text: 'start soup', atMs: 1.3, line: 6 },
      { kind: 'exception', text: 'Error: burnt', atMs: 2009, line: 9, stack: 'Error: burnt\n    at main (chefs.ts:9:3)' },
    ],
    droppedSpans: 0, stats: { wallMs: 2010.5, awaitedMs: 2000, blockedMs: 0, maxConcurrency: 1 },
  };
}

describe('OTLP/JSON export', () => {
  it('is an ExportTraceServiceRequest by the official definitions, and every field survives a round trip', () => {
    const json = toOtlp(timeline(), { version: '0.1.0' });
    assert.deepEqual(roundTrip(json), withoutEmptyLists(json));
  });

  it('has one trace with a root for the run, parent links, code.* attributes, ERROR for rejected, events for marks, epoch times', () => {
    const json = toOtlp(timeline()) as any;
    const spans: any[] = json.resourceSpans[0].scopeSpans[0].spans;
    assert.equal(new Set(spans.map((s) => s.traceId)).size, 1, 'one trace');
    assert.match(spans[0].traceId, /^[0-9a-f]{32}$/);
    for (const s of spans) assert.match(s.spanId, /^[0-9a-f]{16}$/);
    const [root, main, awaitCook, cook, timer] = spans;
    assert.equal(root.name, 'run chefs.ts');
    assert.equal(root.parentSpanId, undefined);
    assert.equal(main.parentSpanId, root.spanId);
    assert.equal(awaitCook.parentSpanId, main.spanId);
    assert.equal(cook.parentSpanId, awaitCook.spanId);
    assert.equal(timer.parentSpanId, cook.spanId);
    const attr = (s: any, key: string) => s.attributes.find((a: any) => a.key === key)?.value;
    assert.deepEqual(attr(cook, 'code.filepath'), { stringValue: '/w/chefs.ts' });
    assert.deepEqual(attr(cook, 'code.lineno'), { intValue: '5' });
    assert.deepEqual(attr(cook, 'code.column'), { intValue: '1' });
    assert.deepEqual(attr(cook, 'code.function'), { stringValue: 'cook' });
    assert.deepEqual(attr(timer, 'code.function'), { stringValue: 'cook' }, 'a timer belongs to the call that set it');
    assert.deepEqual(main.status, { code: 2, message: 'rejected' });
    assert.deepEqual(cook.status, {});
    assert.deepEqual(root.status, { code: 2, message: 'Error: burnt' });
    assert.equal(cook.startTimeUnixNano, '1790000000124450000', 'the run start on the wall clock plus the offset, in ns');
    assert.equal(timer.endTimeUnixNano, '1790000002133750000', 'a pending span lasts to the end of the run');
    assert.deepEqual(root.events.map((e: any) => e.name), ['log', 'exception']);
    assert.deepEqual(attr(root.events[1], 'exception.stacktrace'), { stringValue: 'Error: burnt\n    at main (chefs.ts:9:3)' });
  });

  it('the CLI writes --otlp for a real run and posts it to --otlp-endpoint', async function () {
    this.timeout(60_000);
    const received: Array<{ url: string; type: string; body: string }> = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (d) => (body += d)).on('end', () => {
        received.push({ url: req.url ?? '', type: req.headers['content-type'] ?? '', body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'at-otlp-'));
    try {
      const out = path.join(dir, 'run.otlp.json');
      const before = Date.now();
      // Async, not spawnSync: the receiver runs in this process.
      const r = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
        const { spawn } = require('node:child_process') as typeof import('node:child_process');
        const child = spawn(process.execPath, [path.join(__dirname, '..', '..', 'dist', 'cli.js'), 'run', 'examples/two-chefs/promise-all.ts', '--time', 'warp',
          '--otlp', out, '--otlp-endpoint', `http://127.0.0.1:${port}`], { cwd: path.join(__dirname, '..', '..'), stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
        child.on('close', (status) => resolve({ status, stderr }));
      });
      assert.equal(r.status, 0, r.stderr);
      const written = JSON.parse(fs.readFileSync(out, 'utf8'));
      assert.deepEqual(roundTrip(written), withoutEmptyLists(written));
      const spans: any[] = written.resourceSpans[0].scopeSpans[0].spans;
      assert.ok(spans.some((s) => /^cook\("soup", 2\)$/.test(s.name)), spans.map((s) => s.name).join(' | '));
      const startMs = Number(BigInt(spans[0].startTimeUnixNano) / 1_000_000n);
      assert.ok(startMs >= before - 1000 && startMs <= Date.now(), `the trace starts when the run did: ${startMs} vs ${before}`);
      assert.equal(received.length, 1, 'one POST');
      assert.equal(received[0]!.url, '/v1/traces');
      assert.equal(received[0]!.type, 'application/json');
      assert.deepEqual(JSON.parse(received[0]!.body), written);
    } finally {
      server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says so when the collector cannot be reached, and still writes the other exports', async () => {
    // A port nothing listens on: one that was just free.
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'at-otlp-'));
    try {
      const out = path.join(dir, 'run.json');
      const r = cli(['run', 'examples/two-chefs/promise-all.ts', '--time', 'warp', '--json', out, '--otlp-endpoint', `http://127.0.0.1:${port}`]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, new RegExp(`--otlp-endpoint http://127\\.0\\.0\\.1:${port}: could not send the trace: ECONNREFUSED`));
      assert.ok(fs.existsSync(out));
      assert.match(cli(['run', 'examples/two-chefs/promise-all.ts', '--otlp-endpoint', 'localhost:4318']).stderr, /--otlp-endpoint needs an http or https URL/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
