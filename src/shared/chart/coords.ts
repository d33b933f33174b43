// The three coordinate spaces of the chart and the only place that converts between them:
//   time   — ms since the snippet started (the timeline's unit)
//   css    — CSS pixels in the canvas element (layout, pointer events, the SVG export)
//   device — device pixels in the canvas backing store (css × devicePixelRatio)

/** Where the chart looks: horizontal time window, vertical scroll and the plot's geometry. */
export interface Viewport {
  /** Time at the left edge of the plot area, ms. */
  startMs: number;
  /** Zoom: ms per CSS pixel. */
  msPerCssPx: number;
  /** CSS x where the plot area starts (right of the row gutter). */
  plotLeftCss: number;
  /** Width of the plot area, CSS px. */
  plotWidthCss: number;
  /** CSS y of the top of row 0 before scrolling (below the axis). */
  rowsTopCss: number;
  /** Height of one row, CSS px. */
  rowHeightCss: number;
  /** Height of the whole drawing surface, CSS px. */
  heightCss: number;
  /** Vertical scroll of the rows, CSS px. */
  scrollTopCss: number;
  /** devicePixelRatio of the canvas. */
  dpr: number;
}

/** Narrowest zoom: one CSS pixel = 10 ns. */
export const MIN_MS_PER_CSS_PX = 1e-5;

export function msToCssX(vp: Viewport, ms: number): number {
  return vp.plotLeftCss + (ms - vp.startMs) / vp.msPerCssPx;
}

export function cssXToMs(vp: Viewport, x: number): number {
  return vp.startMs + (x - vp.plotLeftCss) * vp.msPerCssPx;
}

/** A duration in ms as a CSS width. */
export function msToCssWidth(vp: Viewport, ms: number): number {
  return ms / vp.msPerCssPx;
}

export function cssToDevice(vp: Viewport, css: number): number {
  return css * vp.dpr;
}

export function deviceToCss(vp: Viewport, device: number): number {
  return device / vp.dpr;
}

/** Rounds a CSS coordinate to the nearest device pixel, for crisp 1-device-pixel lines. */
export function snapCss(vp: Viewport, css: number): number {
  return Math.round(css * vp.dpr) / vp.dpr;
}

/** CSS y of the top of a visible row. */
export function rowToCssY(vp: Viewport, rowIndex: number): number {
  return vp.rowsTopCss + rowIndex * vp.rowHeightCss - vp.scrollTopCss;
}

/** Row index under a CSS y (may be out of range; callers check). */
export function cssYToRow(vp: Viewport, y: number): number {
  return Math.floor((y - vp.rowsTopCss + vp.scrollTopCss) / vp.rowHeightCss);
}

/** The time window visible in the plot area. */
export function visibleTimeRange(vp: Viewport): [number, number] {
  return [vp.startMs, vp.startMs + vp.plotWidthCss * vp.msPerCssPx];
}

/** First and last (inclusive) row indices that intersect the rows area, clamped to [0, rowCount). */
export function visibleRowRange(vp: Viewport, rowCount: number): [number, number] {
  const first = Math.max(0, cssYToRow(vp, vp.rowsTopCss));
  const last = Math.min(rowCount - 1, cssYToRow(vp, vp.heightCss - 1));
  return [first, last];
}

/** Largest useful vertical scroll for this many rows. */
export function maxScrollTop(vp: Viewport, rowCount: number): number {
  return Math.max(0, rowCount * vp.rowHeightCss + vp.rowHeightCss / 2 - (vp.heightCss - vp.rowsTopCss));
}

/** Zooms by `factor` (> 1 zooms in) keeping the time under `anchorCssX` in place. */
export function zoomAround(vp: Viewport, factor: number, anchorCssX: number, maxMsPerCssPx = Infinity): Viewport {
  const anchorMs = cssXToMs(vp, anchorCssX);
  const msPerCssPx = Math.min(maxMsPerCssPx, Math.max(MIN_MS_PER_CSS_PX, vp.msPerCssPx / factor));
  return { ...vp, msPerCssPx, startMs: anchorMs - (anchorCssX - vp.plotLeftCss) * msPerCssPx };
}

/** Moves the time window by a CSS distance (positive: later times come into view). */
export function panByCss(vp: Viewport, dxCss: number): Viewport {
  return { ...vp, startMs: vp.startMs + dxCss * vp.msPerCssPx };
}

/** Shows [fromMs, toMs] across the plot with a small margin on both sides. */
export function fitRange(vp: Viewport, fromMs: number, toMs: number, marginCss = 12): Viewport {
  const span = Math.max(toMs - fromMs, 1e-3);
  const usable = Math.max(1, vp.plotWidthCss - 2 * marginCss);
  const msPerCssPx = Math.max(MIN_MS_PER_CSS_PX, span / usable);
  return { ...vp, msPerCssPx, startMs: fromMs - marginCss * msPerCssPx };
}

/** Keeps the time window near the data: no further than half a view outside [0, extentMs]. */
export function clampToExtent(vp: Viewport, extentMs: number): Viewport {
  const [t0, t1] = visibleTimeRange(vp);
  const width = t1 - t0;
  const min = -width / 2;
  const max = Math.max(extentMs, 0) - width / 2;
  const startMs = Math.min(Math.max(vp.startMs, min), Math.max(min, max));
  return startMs === vp.startMs ? vp : { ...vp, startMs };
}
