// OTLP/JSON traces from a timeline (the OpenTelemetry protocol's JSON encoding of
// ExportTraceServiceRequest): one trace per run, a root span for the run, every span under its
// parent with code.* attributes, ERROR status for rejected spans, marks as events, real epoch
// times. Opens in Jaeger, Tempo or any OTLP viewer; `--otlp-endpoint` posts it to a collector.
import { createHash } from 'node:crypto';
import * as path from 'node:path';

import type { Mark, Span, Timeline } from '../shared/timeline';

/** OTLP enum values (opentelemetry/proto/trace/v1/trace.proto). */
const SPAN_KIND_INTERNAL = 1;
const STATUS_CODE_ERROR = 2;

type AnyValue = { stringValue: string } | { intValue: string } | { boolValue: boolean } | { doubleValue: number };
interface KeyValue { key: string; value: AnyValue }

const str = (key: string, value: string): KeyValue => ({ key, value: { stringValue: value } });
const int = (key: string, value: number): KeyValue => ({ key, value: { intValue: String(Math.trunc(value)) } });

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: KeyValue[];
  events: Array<{ timeUnixNano: string; name: string; attributes: KeyValue[] }>;
  status: { code?: number; message?: string };
}

/** The 16-byte trace id (32 hex digits) of a run: the same run exports the same trace. */
function traceIdOf(t: Timeline, startEpochMs: number): string {
  return createHash('sha256').update(`${t.file}\0${startEpochMs}\0${t.wallMs}\0${t.spans.length}`).digest('hex').slice(0, 32);
}

/** An 8-byte span id (16 hex digits, never all zero) from a span's id in the timeline. */
const spanIdOf = (id: number) => (id + 1).toString(16).padStart(16, '0').slice(-16);
/** The run's root span: no timeline span maps there (their ids are far below 2^64 - 1). */
const ROOT_ID = 'ffffffffffffffff';

/** The function a span belongs to: the call's own name, else the nearest enclosing call's. */
function functionOf(span: Span, byId: Map<number, Span>): string | undefined {
  for (let s: Span | undefined = span; s; s = s.parentId === null ? undefined : byId.get(s.parentId)) {
    if (s.kind === 'call' || s.kind === 'task') {
      const m = /^(?:await\s+)?([\w$.]+)\s*\(/.exec(s.label);
      if (m) return m[1];
    }
  }
  return undefined;
}

/**
 * The ExportTraceServiceRequest of a run, as OTLP/JSON (ids as hex, 64-bit times as decimal
 * strings, enums as numbers). Times are `startEpochMs` (the run's start on the wall clock) plus
 * each span's offset; a file from before `startEpochMs` existed is placed to end now.
 */
export function toOtlp(t: Timeline, options: { now?: number; version?: string } = {}): { resourceSpans: unknown[] } {
  const startEpochMs = t.startEpochMs ?? (options.now ?? Date.now()) - t.wallMs;
  const nano = (ms: number) => (BigInt(Math.round((startEpochMs + ms) * 1000)) * 1000n).toString();
  const traceId = traceIdOf(t, startEpochMs);
  const byId = new Map(t.spans.map((s) => [s.id, s]));
  const file = t.file;
  const spans: OtlpSpan[] = [];

  const failed = t.error; // threw, exited non-zero, timed out, was stopped, did not compile
  spans.push({
    traceId,
    spanId: ROOT_ID,
    name: `run ${path.basename(file)}`,
    kind: SPAN_KIND_INTERNAL,
    startTimeUnixNano: nano(0),
    endTimeUnixNano: nano(t.wallMs),
    attributes: [
      str('code.filepath', file),
      str('await_timeline.status', t.status),
      ...(t.exitCode !== null ? [int('process.exit.code', t.exitCode)] : []),
      int('await_timeline.max_concurrency', t.stats.maxConcurrency),
      int('await_timeline.dropped_spans', t.droppedSpans),
    ],
    events: t.marks.map((m) => markEvent(m, nano)),
    status: failed ? { code: STATUS_CODE_ERROR, message: failed.message } : {},
  });

  for (const s of t.spans) {
    const parent = s.parentId !== null && byId.has(s.parentId) ? spanIdOf(s.parentId) : ROOT_ID;
    const fn = functionOf(s, byId);
    spans.push({
      traceId,
      spanId: spanIdOf(s.id),
      parentSpanId: parent,
      name: s.label,
      kind: SPAN_KIND_INTERNAL,
      startTimeUnixNano: nano(s.startMs),
      // A span still pending when the run ended lasts to the end of the run.
      endTimeUnixNano: nano(s.endMs ?? t.wallMs),
      attributes: [
        str('code.filepath', file),
        ...(s.line > 0 ? [int('code.lineno', s.line), int('code.column', s.column)] : []),
        ...(fn ? [str('code.function', fn)] : []),
        str('await_timeline.kind', s.kind),
        str('await_timeline.outcome', s.outcome),
      ],
      events: [],
      status: s.outcome === 'rejected' ? { code: STATUS_CODE_ERROR, message: 'rejected' } : {},
    });
  }

  return {
    resourceSpans: [{
      resource: {
        attributes: [
          str('service.name', 'await-timeline'),
          str('process.runtime.name', t.language === 'python' ? 'python' : 'node'),
          str('await_timeline.language', t.language),
        ],
      },
      scopeSpans: [{ scope: { name: 'await-timeline', ...(options.version ? { version: options.version } : {}) }, spans }],
    }],
  };
}

function markEvent(m: Mark, nano: (ms: number) => string): OtlpSpan['events'][number] {
  if (m.kind === 'exception' || m.kind === 'unhandledRejection') {
    return {
      timeUnixNano: nano(m.atMs),
      name: 'exception',
      attributes: [
        str('exception.message', m.text),
        str('exception.type', m.kind === 'unhandledRejection' ? 'unhandledRejection' : 'exception'),
        ...(m.stack ? [str('exception.stacktrace', m.stack)] : []),
        ...(m.line ? [int('code.lineno', m.line)] : []),
      ],
    };
  }
  return {
    timeUnixNano: nano(m.atMs),
    name: m.kind,
    attributes: [str('message', m.text), ...(m.line ? [int('code.lineno', m.line)] : [])],
  };
}

/** POSTs the trace to an OTLP/HTTP collector (`http://host:4318` or its full `/v1/traces` URL). */
export async function postOtlp(endpoint: string, body: string): Promise<void> {
  const url = new URL(endpoint);
  if (!url.pathname.endsWith('/v1/traces')) url.pathname = url.pathname.replace(/\/?$/, '/v1/traces');
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`the collector answered ${response.status} ${response.statusText}`);
}
