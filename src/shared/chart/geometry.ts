// Fixed chart geometry in CSS px, shared by the canvas renderer and the SVG export.

export const AXIS_HEIGHT = 24;
/** Strip under the axis where console marks and the "blocked" captions sit. */
export const MARKS_HEIGHT = 16;
export const ROWS_TOP = AXIS_HEIGHT + MARKS_HEIGHT;
export const ROW_HEIGHT = 22;
/** Vertical gap between a bar and its row's edges. */
export const BAR_INSET = 3;
export const INDENT = 12;
/** Bars narrower than this get no label at all. */
export const MIN_LABEL_BAR = 28;

/**
 * Width of the row-label gutter for a chart this wide: what its labels need (`neededCss`, when
 * measured), at least 120 px, at most 45 % of the width (and 520 px), so a 520 px panel still shows
 * `await makeToast()` whole. Without a measure, 28 % of the width.
 */
export function gutterWidth(widthCss: number, neededCss?: number): number {
  if (neededCss === undefined) return Math.round(Math.min(300, Math.max(120, widthCss * 0.28)));
  return Math.round(Math.min(Math.max(120, neededCss), Math.max(140, widthCss * 0.45), 520));
}

/** The range a dragged gutter may take in a chart this wide. */
export function clampGutter(widthCss: number, gutterCss: number): number {
  return Math.round(Math.min(Math.max(80, gutterCss), Math.max(120, widthCss - 120)));
}
