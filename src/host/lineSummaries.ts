// What the editor shows after a run, worked out without 'vscode' (unit-tested in plain Node):
// the time per source line (inline decorations) and the problems (diagnostics).
import { unionLength } from '../engine/timelineBuilder';
import { formatDuration } from '../shared/format';
import type { Timeline } from '../shared/timeline';

export interface LineSummary {
  /** 1-based line. */
  line: number;
  /** e.g. `2.00 s`, `4.10 s ×3`, `blocked 2.00 s`: the time first, so a line cut at the editor's edge still shows it. */
  text: string;
  /** Longer text for the hover. */
  hover: string;
}

interface Tally {
  count: number;
  /** Sum of the durations. */
  totalMs: number;
  /** The time in which at least one of them was going (awaits of a Promise.all overlap). */
  unionMs: number;
  intervals: [number, number][];
  rejected: number;
  pending: number;
}

function tally(map: Map<number, Tally>, line: number, startMs: number, ms: number, outcome: string): void {
  let t = map.get(line);
  if (!t) map.set(line, (t = { count: 0, totalMs: 0, unionMs: 0, intervals: [], rejected: 0, pending: 0 }));
  t.count++;
  t.totalMs += ms;
  t.intervals.push([startMs, startMs + ms]);
  if (outcome === 'rejected') t.rejected++;
  if (outcome === 'pending') t.pending++;
}

/** The line's time: how long it kept something waiting (overlapping awaits count once), then how many. */
function describe(t: Tally): string {
  const time = formatDuration(t.unionMs);
  let text = t.count > 1 ? `${time} ×${t.count}` : time;
  if (t.rejected) text += t.count > 1 ? ` · ${t.rejected} rejected` : ' · rejected';
  if (t.pending) text += t.count > 1 ? ` · ${t.pending} pending` : ' · pending';
  return text;
}

/**
 * One summary per line that awaited or blocked: awaits as their summed time (a loop's line reads
 * `4.10 s ×3`), blocks as `blocked …`. Pending spans count up to the end of the run.
 */
export function lineSummaries(timeline: Timeline): LineSummary[] {
  const awaits = new Map<number, Tally>();
  const blocks = new Map<number, Tally>();
  for (const s of timeline.spans) {
    const map = s.kind === 'await' ? awaits : s.kind === 'block' ? blocks : undefined;
    if (!map || s.line < 1) continue;
    const end = s.endMs ?? Math.max(timeline.wallMs, s.startMs);
    tally(map, s.line, s.startMs, Math.max(0, end - s.startMs), s.outcome);
  }
  for (const t of [...awaits.values(), ...blocks.values()]) t.unionMs = unionLength(t.intervals);
  const lines = [...new Set([...awaits.keys(), ...blocks.keys()])].sort((a, b) => a - b);
  return lines.map((line) => {
    const a = awaits.get(line);
    const b = blocks.get(line);
    const parts: string[] = [];
    const hover: string[] = [];
    if (a) {
      parts.push(describe(a));
      const overlapped = a.totalMs - a.unionMs > 0.5;
      hover.push(a.count === 1 ? `This await took ${formatDuration(a.totalMs)}.`
        : overlapped ? `${a.count} awaits on this line ran partly at the same time: the line was waiting for ${formatDuration(a.unionMs)} (${formatDuration(a.totalMs)} added up).`
        : `${a.count} awaits on this line, one after another: ${formatDuration(a.unionMs)} in all (${formatDuration(a.totalMs / a.count)} each on average).`);
    }
    if (b) {
      parts.push(`blocked ${describe(b)}`);
      hover.push(`This line kept the event loop busy for ${formatDuration(b.unionMs)}${b.count > 1 ? ` in ${b.count} stretches` : ''}: nothing else could run meanwhile.`);
    }
    return { line, text: parts.join('  '), hover: hover.join(' ') };
  });
}

export interface Problem {
  /** 1-based. */
  line: number;
  /** 1-based; 1 when unknown. */
  column: number;
  message: string;
  severity: 'error' | 'warning';
}

/** The stack names this file at this line (the error happened in the run's own file, not an import). */
function inFile(stack: string | undefined, file: string, line: number): boolean {
  if (!stack) return true;
  // Node: `at f (/path/x.ts:3:9)`; Python: `File "/path/x.py", line 3, in f`.
  return stack.includes(`${file}:${line}:`) || stack.includes(`"${file}", line ${line}`);
}

/**
 * Problems to show at their line: a compile error, the uncaught exception, unhandled rejections.
 * Errors located in another file (an import) are left to the output channel.
 */
export function runProblems(timeline: Timeline): Problem[] {
  const out: Problem[] = [];
  const err = timeline.error;
  if (err?.kind === 'compile' && err.line) {
    out.push({ line: err.line, column: err.column ?? 1, message: err.message, severity: 'error' });
  }
  for (const m of timeline.marks) {
    if ((m.kind !== 'exception' && m.kind !== 'unhandledRejection') || !m.line) continue;
    if (!inFile(m.stack, timeline.file, m.line)) continue;
    const message = m.kind === 'unhandledRejection' ? `Unhandled rejection: ${m.text}` : `Uncaught ${m.text}`;
    if (out.some((p) => p.line === m.line && p.message === message)) continue;
    out.push({ line: m.line, column: m.column ?? 1, message, severity: 'error' });
  }
  // Python's runner puts the location on the run's error rather than on the mark.
  if (err?.kind === 'exception' && err.line && inFile(err.stack, timeline.file, err.line) && !out.some((p) => p.line === err.line)) {
    out.push({ line: err.line, column: err.column ?? 1, message: `Uncaught ${err.message}`, severity: 'error' });
  }
  return out;
}
