// The one place that converts between time, CSS pixels and device pixels.

import assert from 'node:assert/strict';
import {
  clampToExtent, cssToDevice, cssXToMs, cssYToRow, deviceToCss, fitRange, msToCssX, panByCss, rowToCssY,
  snapCss, visibleRowRange, visibleTimeRange, zoomAround, type Viewport,
} from '../../src/shared/chart/coords';

const vp: Viewport = {
  startMs: 100, msPerCssPx: 2, plotLeftCss: 200, plotWidthCss: 800,
  rowsTopCss: 40, rowHeightCss: 22, heightCss: 480, scrollTopCss: 0, dpr: 2,
};

describe('webview coordinates', () => {
  it('round-trips time and CSS x', () => {
    assert.equal(msToCssX(vp, 100), 200);
    assert.equal(msToCssX(vp, 300), 300);
    assert.equal(cssXToMs(vp, 300), 300);
    for (const ms of [0, 123.456, 1e6]) assert.ok(Math.abs(cssXToMs(vp, msToCssX(vp, ms)) - ms) < 1e-9);
    assert.deepEqual(visibleTimeRange(vp), [100, 1700]);
  });

  it('converts CSS to device pixels and snaps to whole device pixels', () => {
    assert.equal(cssToDevice(vp, 10.25), 20.5);
    assert.equal(deviceToCss(vp, 21), 10.5);
    assert.equal(snapCss(vp, 10.3), 10.5);
  });

  it('maps rows to y and back, with scrolling', () => {
    const scrolled = { ...vp, scrollTopCss: 44 };
    assert.equal(rowToCssY(scrolled, 2), 40);
    assert.equal(cssYToRow(scrolled, 40), 2);
    assert.equal(cssYToRow(scrolled, 61), 2);
    assert.equal(cssYToRow(scrolled, 62), 3);
    assert.deepEqual(visibleRowRange(scrolled, 5), [2, 4]);
    assert.deepEqual(visibleRowRange(scrolled, 1000), [2, 21]);
  });

  it('zooms around the pointer: the time under it stays put', () => {
    const anchor = 600;
    const before = cssXToMs(vp, anchor);
    const z = zoomAround(vp, 4, anchor);
    assert.equal(z.msPerCssPx, 0.5);
    assert.ok(Math.abs(cssXToMs(z, anchor) - before) < 1e-9);
  });

  it('pans, fits a range and keeps the window near the data', () => {
    assert.equal(panByCss(vp, 50).startMs, 200);
    const fit = fitRange(vp, 0, 1000, 0);
    assert.deepEqual(visibleTimeRange(fit), [0, 1000]);
    const far = clampToExtent({ ...vp, startMs: 1e9 }, 1000);
    const [t0] = visibleTimeRange(far);
    assert.ok(t0 <= 1000, `window starts at ${t0}`);
  });
});
