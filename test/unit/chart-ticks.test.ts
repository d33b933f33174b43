// Time axis ticks and the duration format users read in header, tooltip and axis.

import assert from 'node:assert/strict';
import { formatDuration } from '../../src/webview/model/format';
import { formatTick, niceStep, timeTicks } from '../../src/shared/chart/ticks';

describe('webview time axis', () => {
  it('picks 1-2-5 steps', () => {
    assert.equal(niceStep(0.0007), 0.001);
    assert.equal(niceStep(1.3), 2);
    assert.equal(niceStep(3), 5);
    assert.equal(niceStep(7), 10);
    assert.equal(niceStep(0.001), 0.001);
    assert.equal(niceStep(150), 200);
  });

  it('labels ticks in µs, ms or s to match the step', () => {
    assert.equal(formatTick(0.25, 0.05), '250 µs');
    assert.equal(formatTick(0.0015, 0.0005), '1.5 µs');
    assert.equal(formatTick(400, 200), '400 ms');
    assert.equal(formatTick(12.5, 0.5), '12.5 ms');
    assert.equal(formatTick(2000, 1000), '2 s');
    assert.equal(formatTick(1500, 500), '1500 ms');
    assert.equal(formatTick(3000, 2000), '3 s');
    assert.equal(formatTick(0, 100), '0');
  });

  it('spaces ticks at least the minimum apart across a window', () => {
    const { stepMs, ticks } = timeTicks(0, 1130, 800, 80);
    assert.equal(stepMs, 200);
    assert.deepEqual(ticks.map((t) => t.label), ['0', '200 ms', '400 ms', '600 ms', '800 ms', '1000 ms']);
    const zoomed = timeTicks(0.0003, 0.0011, 800, 80);
    assert.ok(zoomed.ticks.length >= 4 && zoomed.ticks.every((t) => t.label.endsWith(' µs')), JSON.stringify(zoomed.ticks));
    assert.ok(zoomed.ticks.every((t) => t.ms >= 0.0003 && t.ms <= 0.0011));
    // Deep zoom far into a run: ms with enough decimals to tell ticks apart.
    const deep = timeTicks(10.0003, 10.0011, 800, 80).ticks.map((t) => t.label);
    assert.ok(deep.length >= 4 && deep.every((l) => l.endsWith(' ms')), JSON.stringify(deep));
    assert.equal(new Set(deep).size, deep.length, 'labels are distinct');
  });

  it('formats durations as people read them', () => {
    assert.equal(formatDuration(0.25), '250 µs');
    assert.equal(formatDuration(12.345), '12.3 ms');
    assert.equal(formatDuration(300), '300 ms');
    assert.equal(formatDuration(2013), '2.01 s');
    assert.equal(formatDuration(65_000), '1 min 05 s');
    assert.equal(formatDuration(0), '0 ms');
  });
});
