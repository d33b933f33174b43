// Level of detail: which bars to draw for one row at one zoom. Spans narrower than a pixel that
// touch (gaps under a pixel) merge into one run, so the work per row is bounded by its width in
// pixels, not by its span count.

/** Anything with a start and an end (null: still pending, drawn up to `nowMs`). */
export interface Interval {
  startMs: number;
  endMs: number | null;
}

/** What to draw: `count` consecutive items from `first`, covering [startMs, endMs]. */
export type RunSink = (first: number, count: number, startMs: number, endMs: number) => void;

export function endOf(item: Interval, nowMs: number): number {
  return item.endMs ?? Math.max(nowMs, item.startMs);
}

/** First index whose end is at or after `t` (items sorted by start, not overlapping). */
export function firstEndingAfter(items: readonly Interval[], t: number, nowMs: number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (endOf(items[mid], nowMs) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index at or after `from` whose start is at or after `t`. */
export function firstStartingAt(items: readonly Interval[], t: number, from: number): number {
  let lo = from;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (items[mid].startMs < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Emits the runs to draw for items (sorted by start, not overlapping) within [t0, t1] at
 * `msPerPx`. An item at least `minPx` wide is its own run; narrower neighbours merge.
 */
export function visibleRuns(
  items: readonly Interval[],
  t0: number,
  t1: number,
  msPerPx: number,
  nowMs: number,
  sink: RunSink,
  minPx = 1,
): void {
  const minMs = msPerPx * minPx;
  const n = items.length;
  let i = firstEndingAfter(items, t0, nowMs);
  while (i < n) {
    const item = items[i];
    if (item.startMs > t1) break;
    const end = endOf(item, nowMs);
    if (end - item.startMs >= minMs) {
      sink(i, 1, item.startMs, end);
      i++;
      continue;
    }
    // A narrow item: swallow everything that starts within the next pixel, then repeat while the
    // run stays narrow. Binary search keeps this O(pixels · log n) when millions fall in view.
    const first = i;
    const runStart = item.startMs;
    let runEnd = end;
    i++;
    while (i < n) {
      const limit = runEnd + minMs;
      const stop = firstStartingAt(items, limit, i);
      if (stop === i) break;
      const last = items[stop - 1];
      const lastEnd = endOf(last, nowMs);
      if (lastEnd - last.startMs >= minMs) {
        // A wide item closes this run and is drawn on its own.
        if (stop - 1 > i) runEnd = Math.max(runEnd, endOf(items[stop - 2], nowMs));
        i = stop - 1;
        break;
      }
      runEnd = Math.max(runEnd, lastEnd);
      i = stop;
      if (runEnd > t1) break;
    }
    sink(first, i - first, runStart, runEnd);
  }
}

/** Union of intervals as a sorted, non-overlapping list (for the "everything stopped" band). */
export function unionIntervals(items: readonly Interval[], nowMs: number): Interval[] {
  const sorted = items.map((s) => ({ startMs: s.startMs, endMs: endOf(s, nowMs) })).sort((a, b) => a.startMs - b.startMs);
  const out: { startMs: number; endMs: number }[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s.startMs <= last.endMs) last.endMs = Math.max(last.endMs, s.endMs);
    else out.push({ ...s });
  }
  return out;
}
