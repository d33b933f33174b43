// The chart morphing from one run to the next (live mode: the file runs again as you type): for a
// moment each bar moves from where the previous run drew it to where the new run has it, so the eye
// follows what changed. Pure: the panel draws the rows this gives, frame by frame.
import type { Span } from '../timeline';
import type { Row } from './layout';
import type { Viewport } from './coords';

/** Where each row's bars were: row key -> [startMs, endMs] of its spans, in order. */
export type RowExtents = Map<string, Array<[number, number]>>;

/** How long a morph takes; short enough not to hold up reading the new run. */
export const MORPH_MS = 320;

/** The rows' bar extents (pending spans end at `nowMs`). */
export function rowExtents(rows: readonly Row[], nowMs: number): RowExtents {
  const out: RowExtents = new Map();
  for (const row of rows) out.set(row.key, row.spans.map((s) => [s.startMs, s.endMs ?? nowMs]));
  return out;
}

/** Ease in and out: the bars start and arrive gently. */
export function ease(t: number): number {
  const x = Math.min(1, Math.max(0, t));
  return x < 0.5 ? 2 * x * x : 1 - 2 * (1 - x) * (1 - x);
}

const lerp = (a: number, b: number, e: number) => a + (b - a) * e;

/** A bar on its way to where this run has it; what it says (its duration) is `of`'s, this run's. */
export interface MovingSpan extends Span {
  readonly of: Span;
}

/** The run's own span behind a bar drawn mid-morph (or the span itself): its figures are true. */
export function spanOf(s: Span): Span {
  return (s as Partial<MovingSpan>).of ?? s;
}

/**
 * The rows as drawn `e` (0..1, eased) of the way from the previous run to this one. A bar with a
 * counterpart (same row key, same place in its row) moves from it; a bar new at its row grows
 * from its own start. Rows and spans that do not move are given as they are. A moving bar keeps
 * its span (`of`): its label reads the new run's duration from the first frame, never a figure
 * between the two runs.
 */
export function morphRows(rows: readonly Row[], from: RowExtents, e: number): Row[] {
  if (e >= 1) return rows as Row[];
  return rows.map((row) => {
    const before = from.get(row.key);
    let changed = false;
    const spans = row.spans.map((s, i): Span => {
      const was = before?.[i];
      const endMs = s.endMs;
      const [fromStart, fromEnd] = was ?? [s.startMs, s.startMs];
      if (fromStart === s.startMs && endMs !== null && fromEnd === endMs) return s;
      changed = true;
      const moving: MovingSpan = { ...s, startMs: lerp(fromStart, s.startMs, e), endMs: endMs === null ? null : lerp(fromEnd, endMs, e), of: s };
      return moving;
    });
    return changed ? { ...row, spans } : row;
  });
}

/** The time axis `e` of the way from one viewport's to another's (the rest is the new one's). */
export function morphViewport(from: Viewport, to: Viewport, e: number): Viewport {
  if (e >= 1) return to;
  return { ...to, startMs: lerp(from.startMs, to.startMs, e), msPerCssPx: lerp(from.msPerCssPx, to.msPerCssPx, e) };
}
