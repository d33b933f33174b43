// Pointer, wheel and keyboard input on the chart: pan, zoom, hover, click, keyboard navigation.

import type { Mark, Span } from '../../shared/timeline';
import { cssYToRow, type Viewport } from '../../shared/chart/coords';
import { INDENT, ROWS_TOP } from '../../shared/chart/geometry';
import { aggregateBarAt, delayBandAt, marksAt, spanAt } from '../model/hitTest';
import type { Row } from '../../shared/chart/layout';
import type { AggregateBar } from '../../shared/chart/aggregates';
import type { DelayBand } from '../../shared/chart/delays';

/** What the controller drives; implemented by the app. */
export interface ChartActions {
  viewport(): Viewport;
  rows(): readonly Row[];
  nowMs(): number;
  marks(): readonly Mark[];
  zoomBy(factor: number, anchorCssX?: number): void;
  panBy(dxCss: number, dyCss: number): void;
  fitAll(): void;
  hover(rowIndex: number, span: Span | null, markMs: number | null, x: number, y: number): void;
  /** The pointer is over a bar of spans past the budget on a row (or none there: bar null). */
  hoverAggregate(rowIndex: number, bar: AggregateBar | null, x: number, y: number): void;
  /** The pointer is over a delay band in the strip under the axis. */
  hoverDelay(band: DelayBand, x: number, y: number): void;
  delayBands(): readonly DelayBand[];
  revealRow(row: Row): void;
  select(span: Span | null, reveal: boolean): void;
  selected(): Span | null;
  /** Index of the span's row among the shown rows, -1 when hidden. */
  rowIndexOf(span: Span): number;
  toggleRow(row: Row): void;
  focusSearch(): void;
  redraw(): void;
}

const DRAG_THRESHOLD = 3;

export class ChartController {
  private drag: { x: number; y: number; moved: boolean; id: number } | null = null;
  private readonly cleanup: (() => void)[] = [];

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly app: ChartActions,
  ) {
    this.on('pointerdown', (e) => this.pointerDown(e as PointerEvent));
    this.on('pointermove', (e) => this.pointerMove(e as PointerEvent));
    this.on('pointerup', (e) => this.pointerUp(e as PointerEvent));
    this.on('pointercancel', () => (this.drag = null));
    this.on('pointerleave', () => this.app.hover(-1, null, null, 0, 0));
    this.on('wheel', (e) => this.wheel(e as WheelEvent), { passive: false });
    this.on('keydown', (e) => this.key(e as KeyboardEvent));
    this.on('focus', () => this.app.redraw());
    this.on('blur', () => this.app.redraw());
  }

  dispose(): void {
    for (const off of this.cleanup) off();
  }

  private on(type: string, fn: (e: Event) => void, options?: AddEventListenerOptions): void {
    this.canvas.addEventListener(type, fn, options);
    this.cleanup.push(() => this.canvas.removeEventListener(type, fn, options));
  }

  private local(e: MouseEvent): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }

  private pointerDown(e: PointerEvent): void {
    if (e.button !== 0) return;
    this.canvas.focus({ preventScroll: true });
    const [x, y] = this.local(e);
    this.drag = { x, y, moved: false, id: e.pointerId };
    this.canvas.setPointerCapture(e.pointerId);
  }

  private pointerMove(e: PointerEvent): void {
    const [x, y] = this.local(e);
    const d = this.drag;
    if (d) {
      const dx = x - d.x;
      const dy = y - d.y;
      if (!d.moved && Math.hypot(dx, dy) < DRAG_THRESHOLD) return;
      d.moved = true;
      this.canvas.classList.add('at-grabbing');
      d.x = x;
      d.y = y;
      this.app.panBy(-dx, -dy);
      this.app.hover(-1, null, null, 0, 0);
      return;
    }
    this.hoverAt(x, y);
  }

  private pointerUp(e: PointerEvent): void {
    const d = this.drag;
    this.drag = null;
    this.canvas.classList.remove('at-grabbing');
    if (this.canvas.hasPointerCapture(e.pointerId)) this.canvas.releasePointerCapture(e.pointerId);
    if (!d || d.moved) return;
    const [x, y] = this.local(e);
    const vp = this.app.viewport();
    const rows = this.app.rows();
    const i = cssYToRow(vp, y);
    if (y < ROWS_TOP || i < 0 || i >= rows.length) {
      this.app.select(null, false);
      return;
    }
    const row = rows[i];
    if (x < vp.plotLeftCss) {
      // Gutter: the chevron toggles the row; the label selects its first span.
      const chevron = 8 + row.depth * INDENT;
      if (row.children.length && x >= chevron - 4 && x <= chevron + 12) this.app.toggleRow(row);
      else this.app.select(row.spans[0] ?? null, true);
      return;
    }
    const span = spanAt(row, vp, x, this.app.nowMs());
    if (!span && aggregateBarAt(row, vp, x)) {
      this.app.select(null, false);
      this.app.revealRow(row);
      return;
    }
    this.app.select(span ?? null, !!span);
  }

  private hoverAt(x: number, y: number): void {
    const vp = this.app.viewport();
    const rows = this.app.rows();
    if (y < ROWS_TOP) {
      const inStrip = y > ROWS_TOP - 18 && x >= vp.plotLeftCss;
      const marks = inStrip ? marksAt(this.app.marks(), vp, x) : [];
      const band = inStrip && !marks.length ? delayBandAt(this.app.delayBands(), vp, x) : undefined;
      if (band) this.app.hoverDelay(band, x, y);
      else this.app.hover(-1, null, marks.length ? marks[0].atMs : null, x, y);
      this.canvas.classList.toggle('at-pointer', false);
      return;
    }
    const i = cssYToRow(vp, y);
    if (i < 0 || i >= rows.length) {
      this.app.hover(-1, null, null, x, y);
      this.canvas.classList.toggle('at-pointer', false);
      return;
    }
    const span = x >= vp.plotLeftCss ? spanAt(rows[i], vp, x, this.app.nowMs()) ?? null : null;
    const bar = !span && x >= vp.plotLeftCss ? aggregateBarAt(rows[i], vp, x) : undefined;
    this.canvas.classList.toggle('at-pointer', !!span || !!bar || x < vp.plotLeftCss);
    if (bar) this.app.hoverAggregate(i, bar, x, y);
    else this.app.hover(i, span, null, x, y);
  }

  private wheel(e: WheelEvent): void {
    e.preventDefault();
    const scale = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1;
    const dx = e.deltaX * scale;
    const dy = e.deltaY * scale;
    const [x] = this.local(e);
    if (e.ctrlKey || e.metaKey) {
      this.app.zoomBy(Math.exp(-dy * 0.0025), x);
      return;
    }
    if (e.shiftKey) this.app.panBy(dy || dx, 0);
    else if (Math.abs(dx) > Math.abs(dy)) this.app.panBy(dx, 0);
    else this.app.panBy(0, dy);
  }

  private key(e: KeyboardEvent): void {
    const vp = this.app.viewport();
    const step = vp.plotWidthCss * 0.1;
    const selected = this.app.selected();
    const navigate = selected && !e.shiftKey;
    let handled = true;
    switch (e.key) {
      case '+':
      case '=':
        this.app.zoomBy(1.5);
        break;
      case '-':
      case '_':
        this.app.zoomBy(1 / 1.5);
        break;
      case '0':
        this.app.fitAll();
        break;
      case 'ArrowLeft':
        if (navigate) this.move(0, -1);
        else this.app.panBy(-step, 0);
        break;
      case 'ArrowRight':
        if (navigate) this.move(0, 1);
        else this.app.panBy(step, 0);
        break;
      case 'ArrowUp':
        if (navigate) this.move(-1, 0);
        else this.app.panBy(0, -vp.rowHeightCss);
        break;
      case 'ArrowDown':
        if (navigate) this.move(1, 0);
        else this.app.panBy(0, vp.rowHeightCss);
        break;
      case 'Enter':
        if (selected) this.app.select(selected, true);
        else this.selectFirstVisible();
        break;
      case ' ': {
        const row = selected ? this.app.rowIndexOf(selected) : -1;
        if (row >= 0) this.app.toggleRow(this.app.rows()[row]);
        break;
      }
      case 'Escape':
        this.app.select(null, false);
        break;
      case 'Home':
        this.selectFirstVisible();
        break;
      case 'f':
        if (e.ctrlKey || e.metaKey) this.app.focusSearch();
        else handled = false;
        break;
      case '/':
        this.app.focusSearch();
        break;
      default:
        handled = false;
    }
    if (handled) e.preventDefault();
  }

  private selectFirstVisible(): void {
    const vp = this.app.viewport();
    const rows = this.app.rows();
    const first = Math.max(0, cssYToRow(vp, ROWS_TOP));
    const row = rows.slice(first).find((r) => r.spans.length) ?? rows.find((r) => r.spans.length);
    if (!row) return;
    const t = vp.startMs;
    const span = row.spans.find((s) => (s.endMs ?? Infinity) >= t) ?? row.spans[0] ?? rows.slice(first).find((r) => r.spans.length)?.spans[0];
    if (span) this.app.select(span, false);
  }

  /** Keyboard navigation: ←/→ within a row, ↑/↓ to the nearest span in time in the next row. */
  private move(dRow: number, dSpan: number): void {
    const selected = this.app.selected();
    if (!selected) return;
    const rows = this.app.rows();
    const i = this.app.rowIndexOf(selected);
    if (i < 0) return;
    if (dSpan) {
      const spans = rows[i].spans;
      const at = spans.indexOf(selected);
      const next = spans[at + dSpan];
      if (next) this.app.select(next, false);
      return;
    }
    // A lane's header has no spans of its own: step over it.
    let k = i + dRow;
    while (rows[k] && !rows[k].spans.length) k += dRow;
    const target = rows[k];
    if (!target) return;
    const t = selected.startMs;
    let best = target.spans[0];
    for (const s of target.spans) {
      if (Math.abs(s.startMs - t) < Math.abs(best.startMs - t)) best = s;
      if (s.startMs > t) break;
    }
    this.app.select(best, false);
  }
}
