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

/** Width of the row-label gutter for a chart this wide. */
export function gutterWidth(widthCss: number): number {
  return Math.round(Math.min(300, Math.max(120, widthCss * 0.28)));
}
