// Delays of the event loop that were not the snippet's (`Timeline.delays`: a busy machine, the
// garbage collector, Await Timeline instrumenting a module) as the charts draw them: neutral bands
// on the time axis, never the orange of a block and never part of Blocked. Pure; shared by the
// panel, the SVG and the terminal chart.

import type { LoopDelay } from '../timeline';
import { formatDuration } from '../format';

/** Overlapping delays as one stretch of the axis. */
export interface DelayBand {
  startMs: number;
  endMs: number;
  /** The delays it stands for, in start order. */
  delays: LoopDelay[];
}

/** What a delay means for the program, for tooltips and legends. */
export const DELAY_MEANING =
  'The event loop ran late, but not because of your code: the machine was busy, the garbage collector ran, or Await Timeline instrumented a module. Never counted as blocked.';

/** The delays as bands: those that overlap or touch merge; sorted by start. */
export function delayBands(delays: readonly LoopDelay[]): DelayBand[] {
  const sorted = [...delays].filter((d) => Number.isFinite(d.startMs) && Number.isFinite(d.endMs)).sort((a, b) => a.startMs - b.startMs);
  const out: DelayBand[] = [];
  for (const d of sorted) {
    const last = out[out.length - 1];
    const endMs = Math.max(d.startMs, d.endMs);
    if (last && d.startMs <= last.endMs) {
      last.endMs = Math.max(last.endMs, endMs);
      last.delays.push(d);
    } else out.push({ startMs: d.startMs, endMs, delays: [d] });
  }
  return out;
}

/** Captions for a band on the axis, longest first: draw the first that fits. */
export function delayCaptions(band: DelayBand): string[] {
  const d = formatDuration(band.endMs - band.startMs);
  return [`not your code ${d}`, `delayed ${d}`, 'delayed'];
}

/** One line per delay of a band: "instrumenting ./tiny_mod.js · 106 ms · line 6". */
export function delayLines(band: DelayBand): string[] {
  return band.delays.map((d) => `${d.label} · ${formatDuration(d.endMs - d.startMs)}${d.line ? ` · line ${d.line}` : ''}`);
}

/** Total time the bands cover, ms (what `stats.delayedMs` says of a whole run). */
export function delayedMs(bands: readonly DelayBand[]): number {
  return bands.reduce((n, b) => n + (b.endMs - b.startMs), 0);
}
