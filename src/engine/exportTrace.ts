// Chrome Trace Event Format (JSON object form), as Perfetto and chrome://tracing open it.
// Spans that overlap are async events ("b"/"e") with their own ids, so nothing is drawn as if
// nested when it only overlaps; each top-level chain gets its own track.
import type { Span, Timeline } from '../shared/timeline';

interface TraceEvent {
  name: string;
  cat: string;
  ph: string;
  ts: number;
  pid: number;
  tid: number;
  id?: string;
  s?: string;
  args?: Record<string, unknown>;
}

export function toChromeTrace(t: Timeline): { traceEvents: TraceEvent[]; displayTimeUnit: 'ms'; metadata: Record<string, unknown> } {
  const pid = 1;
  const events: TraceEvent[] = [
    { name: 'process_name', cat: '__metadata', ph: 'M', ts: 0, pid, tid: 0, args: { name: `await-timeline: ${t.file}` } },
    { name: 'thread_name', cat: '__metadata', ph: 'M', ts: 0, pid, tid: 1, args: { name: 'main thread (blocks)' } },
  ];
  if (t.delays?.length) events.push({ name: 'thread_name', cat: '__metadata', ph: 'M', ts: 0, pid, tid: 2, args: { name: 'not your code (delays)' } });
  const us = (ms: number) => Math.round(ms * 1000);
  const endOf = (s: Span) => (s.endMs === null ? t.wallMs : s.endMs);
  const byId = new Map(t.spans.map((s) => [s.id, s]));
  const rootOf = (s: Span): number => {
    let cur = s;
    while (cur.parentId !== null && byId.has(cur.parentId)) cur = byId.get(cur.parentId)!;
    return cur.id;
  };
  for (const s of t.spans) {
    const args = { line: s.line, column: s.column, outcome: s.outcome, parentId: s.parentId, file: t.file };
    if (s.kind === 'block') {
      // Blocks are what the thread did: complete events on the main-thread track.
      events.push({ name: s.label, cat: 'block', ph: 'X', ts: us(s.startMs), pid, tid: 1, args, ...{ dur: us(endOf(s) - s.startMs) } } as TraceEvent);
      continue;
    }
    const id = `0x${s.id.toString(16)}`;
    // Async events of one id-tree nest on one track in Perfetto; use the root span as the track.
    const track = `chain ${rootOf(s)}`;
    events.push({ name: s.label, cat: s.kind, ph: 'b', ts: us(s.startMs), pid, tid: 1, id, args: { ...args, track } });
    events.push({ name: s.label, cat: s.kind, ph: 'e', ts: us(endOf(s)), pid, tid: 1, id, args: { outcome: s.outcome } });
  }
  // Spans past the run's budget: one async event per stretch, named with its count, on the track
  // of the span they ran under.
  let aggregateId = 0;
  for (const a of t.aggregates ?? []) {
    const parent = a.parentId === null ? undefined : byId.get(a.parentId);
    const track = parent ? `chain ${rootOf(parent)}` : 'aggregates';
    const id = `agg${++aggregateId}`;
    const name = `×${a.count} ${a.label}`;
    const args = { line: a.line, column: a.column, count: a.count, parentId: a.parentId, file: t.file, track, aggregate: true };
    events.push({ name, cat: `aggregate.${a.kind}`, ph: 'b', ts: us(a.startMs), pid, tid: 1, id, args });
    events.push({ name, cat: `aggregate.${a.kind}`, ph: 'e', ts: us(a.endMs), pid, tid: 1, id });
  }
  // Delays that were not the snippet's: complete events on a track of their own, never with blocks.
  for (const d of t.delays ?? []) {
    const args = { kind: d.kind, ...(d.line ? { line: d.line } : {}), file: t.file };
    events.push({ name: d.label, cat: `delay.${d.kind}`, ph: 'X', ts: us(d.startMs), pid, tid: 2, args, ...{ dur: us(d.endMs - d.startMs) } } as TraceEvent);
  }
  for (const m of t.marks) {
    events.push({ name: m.text.slice(0, 200), cat: `mark.${m.kind}`, ph: 'i', s: 'g', ts: us(m.atMs), pid, tid: 1, args: { line: m.line } });
  }
  return {
    traceEvents: events,
    displayTimeUnit: 'ms',
    metadata: { status: t.status, exitCode: t.exitCode, wallMs: t.wallMs, stats: t.stats, error: t.error, droppedSpans: t.droppedSpans },
  };
}
