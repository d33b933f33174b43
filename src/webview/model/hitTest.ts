// What is under the pointer: pure geometry on top of the layout and the viewport.

import type { Mark, Span } from '../../shared/timeline';
import { cssXToMs, type Viewport } from '../../shared/chart/coords';
import type { Row } from '../../shared/chart/layout';
import type { AggregateBar } from '../../shared/chart/aggregates';
import type { DelayBand } from '../../shared/chart/delays';
import { endOf, firstEndingAfter } from '../../shared/chart/lod';

/**
 * The span of `row` under CSS x: one that covers that time, else the nearest within
 * `tolerancePx` (so a bar narrower than a pixel can still be hovered).
 */
export function spanAt(row: Row, vp: Viewport, x: number, nowMs: number, tolerancePx = 3): Span | undefined {
  const t = cssXToMs(vp, x);
  const tol = tolerancePx * vp.msPerCssPx;
  const spans = row.spans;
  let i = firstEndingAfter(spans, t - tol, nowMs);
  let best: Span | undefined;
  let bestDistance = Infinity;
  for (; i < spans.length; i++) {
    const s = spans[i];
    if (s.startMs > t + tol) break;
    const end = endOf(s, nowMs);
    const distance = t < s.startMs ? s.startMs - t : t > end ? t - end : 0;
    if (distance < bestDistance) {
      best = s;
      bestDistance = distance;
      if (distance === 0) break;
    }
  }
  return best;
}

/** Marks (sorted by time) within `tolerancePx` of CSS x. */
export function marksAt(marks: readonly Mark[], vp: Viewport, x: number, tolerancePx = 4): Mark[] {
  const t = cssXToMs(vp, x);
  const tol = tolerancePx * vp.msPerCssPx;
  let lo = 0;
  let hi = marks.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (marks[mid].atMs < t - tol) lo = mid + 1;
    else hi = mid;
  }
  const out: Mark[] = [];
  for (let i = lo; i < marks.length && marks[i].atMs <= t + tol; i++) out.push(marks[i]);
  return out;
}

/** The bar of spans past the budget (row.aggregate) under CSS x, within `tolerancePx`. */
export function aggregateBarAt(row: Row, vp: Viewport, x: number, tolerancePx = 3): AggregateBar | undefined {
  return nearest(row.aggregate?.bars ?? [], vp, x, tolerancePx);
}

/** The delay band (sorted, not overlapping) under CSS x, within `tolerancePx`. */
export function delayBandAt(bands: readonly DelayBand[], vp: Viewport, x: number, tolerancePx = 3): DelayBand | undefined {
  return nearest(bands, vp, x, tolerancePx);
}

function nearest<T extends { startMs: number; endMs: number }>(items: readonly T[], vp: Viewport, x: number, tolerancePx: number): T | undefined {
  const t = cssXToMs(vp, x);
  const tol = tolerancePx * vp.msPerCssPx;
  let best: T | undefined;
  let bestDistance = Infinity;
  for (let i = firstEndingAfter(items, t - tol, Infinity); i < items.length && items[i].startMs <= t + tol; i++) {
    const it = items[i];
    const distance = t < it.startMs ? it.startMs - t : t > it.endMs ? t - it.endMs : 0;
    if (distance < bestDistance) {
      best = it;
      bestDistance = distance;
    }
  }
  return best;
}
