// Level of detail: which runs a row draws at a zoom level.

import assert from 'node:assert/strict';
import { visibleRuns, unionIntervals, type Interval } from '../../src/shared/chart/lod';

function runs(items: Interval[], t0: number, t1: number, msPerPx: number, now = 0) {
  const out: [number, number, number, number][] = [];
  visibleRuns(items, t0, t1, msPerPx, now, (first, count, s, e) => out.push([first, count, s, e]));
  return out;
}

describe('webview level of detail', () => {
  it('draws wide spans one by one and culls those outside the window', () => {
    const items = [0, 100, 200, 300].map((t) => ({ startMs: t, endMs: t + 50 }));
    assert.deepEqual(runs(items, 90, 260, 1), [
      [1, 1, 100, 150],
      [2, 1, 200, 250],
    ]);
  });

  it('merges touching sub-pixel spans into one run', () => {
    // 10,000 spans of 0.01 ms with 0.001 ms gaps at 1 ms per pixel: ~110 px of solid bar.
    const items: Interval[] = [];
    for (let i = 0; i < 10_000; i++) items.push({ startMs: i * 0.011, endMs: i * 0.011 + 0.01 });
    const out = runs(items, 0, 1000, 1);
    assert.equal(out.length, 1);
    assert.equal(out[0][1], 10_000);
    assert.equal(out[0][2], 0);
    assert.ok(Math.abs(out[0][3] - (9999 * 0.011 + 0.01)) < 1e-9);
  });

  it('splits merged runs at gaps wider than a pixel and keeps a wide span on its own', () => {
    const items = [
      { startMs: 0, endMs: 0.2 },
      { startMs: 0.3, endMs: 0.5 },
      { startMs: 5, endMs: 5.1 },
      { startMs: 5.2, endMs: 20 },
    ];
    assert.deepEqual(runs(items, 0, 100, 1), [
      [0, 2, 0, 0.5],
      [2, 1, 5, 5.1],
      [3, 1, 5.2, 20],
    ]);
  });

  it('does work bounded by pixels, not spans, for a million narrow spans', () => {
    const items: Interval[] = [];
    for (let i = 0; i < 1_000_000; i++) items.push({ startMs: i, endMs: i + 0.5 });
    let calls = 0;
    visibleRuns(items, 0, 1_000_000, 1000, 0, () => calls++);
    assert.ok(calls <= 1001, `${calls} runs for 1000 px`);
  });

  it('draws a pending span up to now', () => {
    assert.deepEqual(runs([{ startMs: 10, endMs: null }], 0, 100, 1, 42), [[0, 1, 10, 42]]);
  });

  it('unions overlapping intervals for the blocked band', () => {
    const u = unionIntervals([{ startMs: 5, endMs: 10 }, { startMs: 0, endMs: 6 }, { startMs: 20, endMs: null }], 25);
    assert.deepEqual(u, [{ startMs: 0, endMs: 10 }, { startMs: 20, endMs: 25 }]);
  });
});
