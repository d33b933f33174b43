// The timeline view: owns the model, the viewport and the widgets, and turns messages and input
// into frames. main.ts decides where it runs (VS Code webview or standalone report).

import type { Span, Timeline } from '../shared/timeline';
import { isHostToWebviewMessage, message, type HostToWebviewMessage, type WebviewToHostMessage } from '../shared/webviewProtocol';
import {
  clampToExtent,
  fitRange,
  maxScrollTop,
  msToCssX,
  panByCss,
  rowToCssY,
  zoomAround,
  type Viewport,
} from '../shared/chart/coords';
import { formatDuration } from './model/format';
import { clampGutter, gutterWidth, ROW_HEIGHT, ROWS_TOP } from '../shared/chart/geometry';
import { rowSummary, type Row, type TimelineLayout } from '../shared/chart/layout';
import { aggregateText, type AggregateBar } from '../shared/chart/aggregates';
import type { DelayBand } from '../shared/chart/delays';
import { endOf } from '../shared/chart/lod';
import { niceStep } from '../shared/chart/ticks';
import { ease, MORPH_MS, morphRows, morphViewport, rowExtents, type RowExtents } from '../shared/chart/morph';
import { TimelineModel } from './model/timelineModel';
import { FrameScheduler } from './render/scheduler';
import { GanttRenderer, type FloatingSays, type FrameStats } from './render/renderer';
import { readTheme, watchTheme, type Theme } from './render/theme';
import { ChartController, type ChartActions } from './interaction/controller';
import { el } from './interaction/dom';
import { Header } from './interaction/header';
import { InsightsBar } from './interaction/insightsBar';
import { LegendBar } from './interaction/legendBar';
import type { SpanKind } from '../shared/timeline';
import { ExpectationsBar } from './interaction/expectationsBar';
import { StillWaitingBar } from './interaction/stillWaitingBar';
import { TableView } from './interaction/tableView';
import { Tooltip } from './interaction/tooltip';
import { BaselineView } from './interaction/baselineView';

/** How the view talks to VS Code; absent in the standalone report. */
export interface HostBridge {
  post(msg: WebviewToHostMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}

/** What survives a reload of the webview (VS Code's getState/setState). */
interface ViewState {
  v: 1;
  startMs: number;
  msPerCssPx: number;
  scrollTopCss: number;
  autoFit: boolean;
  selectedSpanId: number | null;
  collapsed: string[];
  filter: string;
  table: boolean;
  /** Every span on its own row instead of the compacted rows (absent in states saved before it existed). */
  allSpans?: boolean;
  /** The gutter width the user dragged to, CSS px; absent or null: sized to the labels. */
  gutterCss?: number | null;
}

function isViewState(x: unknown): x is ViewState {
  const s = x as ViewState;
  return (
    typeof s === 'object' && s !== null && s.v === 1 && Number.isFinite(s.startMs) && s.msPerCssPx > 0 &&
    Number.isFinite(s.scrollTopCss) && typeof s.autoFit === 'boolean' && Array.isArray(s.collapsed) &&
    s.collapsed.every((k) => typeof k === 'string') && typeof s.filter === 'string' && typeof s.table === 'boolean' &&
    (s.selectedSpanId === null || Number.isInteger(s.selectedSpanId)) && (s.allSpans === undefined || typeof s.allSpans === 'boolean') &&
    (s.gutterCss === undefined || s.gutterCss === null || (Number.isFinite(s.gutterCss) && s.gutterCss > 0))
  );
}

/** Past this many rows a run's final state is drawn at once, without a morph. */
const MORPH_MAX_ROWS = 2000;

export class TimelineApp implements ChartActions {
  readonly model = new TimelineModel();
  private readonly root: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly chart: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly live: HTMLElement;
  private readonly search: HTMLInputElement;
  private readonly stopButton: HTMLButtonElement;
  private readonly warpButton: HTMLButtonElement;
  private readonly tableButton: HTMLButtonElement;
  private readonly allSpansButton: HTMLButtonElement;
  private readonly header = new Header();
  private readonly insightsBar: InsightsBar;
  private readonly expectationsBar: ExpectationsBar;
  private readonly stillWaitingBar: StillWaitingBar;
  private readonly legend = new LegendBar();
  private legendKey = '';
  /** The drag handle on the gutter's right edge. */
  private readonly gutterHandle: HTMLElement;
  /** Gutter width the user dragged to; null: sized to the labels. */
  private userGutter: number | null = null;
  private gutterNeed: { rows: readonly Row[] | null; theme: Theme | null; px: number } = { rows: null, theme: null, px: 0 };
  /** Whether the critical path is outlined on the chart. */
  private showCritical = true;
  private overlapIds: { from: readonly unknown[]; shownAs: unknown; ids: ReadonlySet<number> } = { from: [], shownAs: null, ids: new Set() };
  private floatingShown: { from: readonly unknown[]; shownAs: unknown; says: ReadonlyMap<number, FloatingSays> } = { from: [], shownAs: null, says: new Map() };
  private readonly tooltip = new Tooltip();
  private readonly baseline: BaselineView;
  private readonly table: TableView;
  private readonly renderer: GanttRenderer;
  private readonly controller: ChartController;
  private readonly scheduler: FrameScheduler;
  private readonly disposers: (() => void)[] = [];
  private theme: Theme;
  private vp: Viewport;
  private widthCss = 0;
  private flat: Row[] = [];
  private flatKey = '';
  private flatIndex = new Map<Row, number>();
  private collapsed = new Set<string>();
  private collapseVersion = 0;
  private filter = '';
  private autoFit = true;
  /** A morph from the chart before a run's final state to it (see endReplacing), while it lasts. */
  private morph: { rows: RowExtents; vp: Viewport; start: number } | null = null;
  /** The messages of a run's final state, held until its status arrives (see handleMessage). */
  private replacing: HostToWebviewMessage[] | null = null;
  /** New runs shown since the page loaded (see runShown). */
  private runsShown = 0;
  private selectedSpan: Span | null = null;
  private pendingSelectionId: number | null = null;
  private hoverState: { row: number; span: Span | null; markMs: number | null } = { row: -1, span: null, markMs: null };
  private cursorLine: number | null = null;
  private headerAt = 0;
  /** The run time the last frame was drawn at. */
  private frameNowMs = 0;
  private saveTimer = 0;
  private statsTimer = 0;
  /** The rows last drawn, whose spans not made yet are made between frames (makeSpansLater). */
  private drawnLayout: TimelineLayout | null = null;
  private makeTimer = 0;
  private lastStatus = '';

  constructor(mount: HTMLElement, private readonly host: HostBridge | null) {
    this.baseline = new BaselineView(host ? (pin) => this.post(message({ type: 'pinBaseline', pin })) : null);
    this.canvas = el('canvas', {
      class: 'at-canvas',
      tabindex: '0',
      role: 'img',
      'aria-label': 'Timeline chart. Arrow keys pan; Enter selects a span, then arrow keys move between spans and Enter shows it in the editor. Plus and minus zoom, 0 fits all. The Table button shows the same spans as a table.',
    });
    this.empty = el('div', { class: 'at-empty', text: 'No run yet.' });
    this.gutterHandle = el('div', {
      class: 'at-gutter-handle', role: 'separator', 'aria-orientation': 'vertical', tabindex: '0',
      'aria-label': 'Label column width: drag, or Left and Right arrow keys; double-click to size it to the labels',
    });
    this.chart = el('div', { class: 'at-chart' }, this.canvas, this.gutterHandle, this.empty, this.tooltip.element);
    this.wireGutterHandle();
    this.live = el('div', { class: 'at-sr-only', 'aria-live': 'polite' });
    this.search = el('input', { class: 'at-search', type: 'search', placeholder: 'Filter by label', 'aria-label': 'Filter spans by label' });
    this.table = new TableView(host ? (span) => this.reveal(span) : null);
    const button = (text: string, title: string, onClick: () => void) => {
      const b = el('button', { class: 'at-btn', type: 'button', text, title, 'aria-label': title });
      b.addEventListener('click', onClick);
      return b;
    };
    this.stopButton = button('■ Stop', 'Stop the run', () => this.post(message({ type: 'stop' })));
    this.stopButton.classList.add('at-stop');
    this.stopButton.hidden = true;
    this.warpButton = button('Warp', 'Time warp for the next runs: skip waits for timers (a 4 s lesson runs in milliseconds, with the same times on the chart)', () => {
      this.post(message({ type: 'setTime', warp: this.warpButton.getAttribute('aria-pressed') !== 'true' }));
    });
    this.warpButton.setAttribute('aria-pressed', 'false');
    this.tableButton = button('Table', 'Show the spans as a table (for screen readers)', () => this.toggleTable());
    this.tableButton.setAttribute('aria-pressed', 'false');
    this.allSpansButton = button('All spans', 'Show every span on its own row (by default an await and the call it waits on, or a call and the timer it set, share a row)', () => this.setAllSpans(!this.model.allSpans));
    this.allSpansButton.setAttribute('aria-pressed', 'false');
    const toolbar = el('div', { class: 'at-toolbar', role: 'toolbar', 'aria-label': 'Timeline' },
      this.search,
      button('−', 'Zoom out (−)', () => this.zoomBy(1 / 1.5)),
      button('+', 'Zoom in (+)', () => this.zoomBy(1.5)),
      button('Fit', 'Fit all (0)', () => this.fitAll()),
      el('span', { class: 'at-sep' }),
      this.allSpansButton,
      this.tableButton,
      el('span', { class: 'at-hint', text: 'Ctrl+wheel zoom · drag to pan · click a bar to go to its line' }),
      el('span', { class: 'at-spacer' }),
    );
    if (host) {
      toolbar.append(
        button('SVG', 'Export the chart as SVG', () => this.post(message({ type: 'export', kind: 'svg' }))),
        button('HTML', 'Export a standalone HTML report', () => this.post(message({ type: 'export', kind: 'html' }))),
        button('Trace', 'Export Chrome trace JSON (opens in Perfetto)', () => this.post(message({ type: 'export', kind: 'trace' }))),
        button('OTLP', 'Export OTLP/JSON traces (Jaeger, Tempo, any OpenTelemetry viewer)', () => this.post(message({ type: 'export', kind: 'otlp' }))),
        this.warpButton,
        ...(this.baseline.button ? [this.baseline.button] : []),
        this.stopButton,
      );
    }
    this.insightsBar = new InsightsBar(host ? (line, column) => this.post(message({ type: 'reveal', line, column })) : null, () => {
      this.showCritical = !this.showCritical;
      this.changed(false);
    });
    this.expectationsBar = new ExpectationsBar(host ? (line, column) => this.post(message({ type: 'reveal', line, column })) : null);
    this.stillWaitingBar = new StillWaitingBar(host ? (line, column) => this.post(message({ type: 'reveal', line, column })) : null);
    this.root = el('div', { class: 'at-app' }, this.header.element, this.stillWaitingBar.element, this.expectationsBar.element, this.insightsBar.element, toolbar, this.legend.element, this.chart, this.table.element, this.live);
    mount.append(this.root);

    this.renderer = new GanttRenderer(this.canvas);
    this.theme = readTheme(this.root);
    this.vp = {
      startMs: 0,
      msPerCssPx: 1,
      plotLeftCss: 200,
      plotWidthCss: 600,
      rowsTopCss: ROWS_TOP,
      rowHeightCss: ROW_HEIGHT,
      heightCss: 300,
      scrollTopCss: 0,
      dpr: devicePixelRatio || 1,
    };
    this.scheduler = new FrameScheduler(() => this.frame(), () => this.morph !== null || (this.model.running && this.model.store.spanCount > 0));
    this.controller = new ChartController(this.canvas, this);

    this.search.addEventListener('input', () => {
      this.filter = this.search.value;
      this.changed(true);
    });
    this.search.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && this.search.value) {
        this.search.value = '';
        this.filter = '';
        this.changed(true);
      } else if (e.key === 'Enter' || e.key === 'ArrowDown') {
        this.canvas.focus();
        const first = this.flat.find((r) => r.spans.length);
        if (!this.selectedSpan && first) this.select(first.spans[0], false);
      }
    });
    this.disposers.push(watchTheme(() => {
      this.theme = readTheme(this.root);
      this.scheduler.request();
    }));
    const resize = new ResizeObserver(() => this.resize());
    resize.observe(this.chart);
    this.disposers.push(() => resize.disconnect());
    this.restoreState();
    this.resize();
  }

  // ------------------------------------------------------------------ messages

  /** Validates and applies one message from the host; returns false for anything invalid. */
  handleMessage(raw: unknown): boolean {
    if (!isHostToWebviewMessage(raw)) return false;
    // A run's final state replaces its streamed spans (reset with keepView, append, status): the
    // three are applied together, or the chart would be empty for a frame at the end of every run.
    if (this.replacing) {
      this.replacing.push(raw);
      if (raw.type === 'status' || (raw.type === 'reset' && !raw.keepView)) this.endReplacing();
      return true;
    }
    if (raw.type === 'reset' && raw.keepView) {
      this.replacing = [raw];
      return true;
    }
    this.apply(raw);
    return true;
  }

  private endReplacing(): void {
    const messages = this.replacing ?? [];
    this.replacing = null;
    // The bars move from where they were to where the new state has them (live mode: the run
    // before the edit to the run after it), unless the user asked for less motion.
    const from = this.flat.length && this.flat.length <= MORPH_MAX_ROWS && !this.table.visible && !matchMedia('(prefers-reduced-motion: reduce)').matches
      ? { rows: rowExtents(this.flat, this.model.nowMs()), vp: this.vp }
      : null;
    for (const m of messages) this.apply(m);
    this.morph = from ? { ...from, start: performance.now() } : null;
  }

  private apply(msg: HostToWebviewMessage): void {
    switch (msg.type) {
      case 'reset':
        this.model.reset(msg);
        if (msg.keepView) {
          // The same run, final: spans come again with the same ids; keep what the user looks at.
          if (this.selectedSpan) this.pendingSelectionId = this.selectedSpan.id;
          this.selectedSpan = null;
          this.hoverState = { row: -1, span: null, markMs: null };
          break;
        }
        this.runsShown++;
        this.selectedSpan = null;
        this.hoverState = { row: -1, span: null, markMs: null };
        this.autoFit = true;
        this.vp = { ...this.vp, scrollTopCss: 0 };
        this.announce(`Running ${msg.file}`);
        break;
      case 'append':
        this.model.append(msg);
        this.resolvePendingSelection();
        break;
      case 'status':
        this.model.status_(msg);
        this.announceStatus();
        this.baseline.compare(this.model);
        break;
      case 'baseline':
        this.baseline.set(msg.baseline);
        this.baseline.compare(this.model);
        this.updateHeader(true);
        break;
      case 'cursor':
        this.cursorLine = msg.line;
        break;
      case 'clock':
        this.warpButton.setAttribute('aria-pressed', String(msg.warp));
        this.header.setLive(msg.live);
        break;
    }
    this.changed(msg.type !== 'cursor' && msg.type !== 'clock');
  }

  /** Shows a whole stored run (the standalone report, or a restored panel). */
  loadTimeline(timeline: Timeline): void {
    this.model.load(timeline);
    this.resolvePendingSelection();
    this.changed(true);
  }

  private post(msg: WebviewToHostMessage): void {
    this.host?.post(msg);
  }

  // ------------------------------------------------------------------ view actions (ChartActions)

  viewport(): Viewport {
    return this.vp;
  }

  rows(): readonly Row[] {
    this.ensureRows();
    return this.flat;
  }

  nowMs(): number {
    return this.model.nowMs();
  }

  marks() {
    return this.model.marks;
  }

  selected(): Span | null {
    return this.selectedSpan;
  }

  rowIndexOf(span: Span): number {
    this.ensureRows();
    const row = this.model.chartRows().layout.rowOf(span.id);
    return row ? this.flatIndex.get(row) ?? -1 : -1;
  }

  /**
   * Which run the page shows: it changes with each new run (a reset) and with a reloaded page. For
   * tests and automation: a status of "completed" is only about the run asked for once this changed.
   */
  /**
   * What the header says of the wall and Blocked, and what the last frame drew (for tests): while
   * a run goes on they must be the same.
   */
  liveFigures(): { header: { wall: string; blocked: string }; frame: { wall: string; blocked: string } } {
    const now = this.frameNowMs;
    return { header: this.header.liveText(), frame: { wall: formatDuration(now), blocked: formatDuration(this.model.blockedMsAt(now)) } };
  }

  runShown(): string {
    return `${performance.timeOrigin}:${this.runsShown}`;
  }

  /**
   * Where each span of the visible rows is drawn, in CSS pixels relative to the canvas (for tests
   * and automation that hover or click bars: the chart itself is a canvas).
   */
  spanBoxes(): { id: number; kind: string; label: string; line: number; x: number; y: number; width: number; height: number; cursor: boolean; includes: string[] }[] {
    this.ensureRows();
    const now = this.model.nowMs();
    const boxes = [];
    for (let i = 0; i < this.flat.length; i++) {
      const y = rowToCssY(this.vp, i);
      if (y + ROW_HEIGHT < ROWS_TOP || y > this.vp.heightCss) continue;
      for (const span of this.flat[i]!.spans) {
        const x0 = Math.max(msToCssX(this.vp, span.startMs), this.vp.plotLeftCss);
        const x1 = Math.min(msToCssX(this.vp, endOf(span, now)), this.vp.plotLeftCss + this.vp.plotWidthCss);
        if (x1 < x0) continue;
        boxes.push({
          id: span.id, kind: span.kind, label: span.label, line: span.line, x: x0, y, width: x1 - x0, height: ROW_HEIGHT,
          // The spans a compacted bar stands for (kind and label), outermost first; empty for a span drawn as itself.
          includes: (this.model.chartRows().members.get(span.id) ?? []).map((m) => `${m.kind} ${m.label}`),
          // Highlighted because the editor's cursor is on its line.
          cursor: this.cursorLine !== null && this.flat[i]!.line === this.cursorLine,
        });
      }
    }
    return boxes;
  }

  zoomBy(factor: number, anchorCssX?: number): void {
    const anchor = anchorCssX !== undefined && anchorCssX >= this.vp.plotLeftCss
      ? anchorCssX
      : this.selectedSpan
        ? Math.min(Math.max(msToCssX(this.vp, this.selectedSpan.startMs), this.vp.plotLeftCss), this.vp.plotLeftCss + this.vp.plotWidthCss)
        : this.vp.plotLeftCss + this.vp.plotWidthCss / 2;
    const extent = Math.max(this.model.extentMs(), this.baseline.wallMs, 1);
    this.vp = clampToExtent(zoomAround(this.vp, factor, anchor, (extent * 4) / Math.max(1, this.vp.plotWidthCss)), extent);
    this.userMoved();
  }

  panBy(dxCss: number, dyCss: number): void {
    let vp = this.vp;
    if (dxCss) vp = clampToExtent(panByCss(vp, dxCss), Math.max(this.model.extentMs(), this.baseline.wallMs));
    if (dyCss) {
      const scrollTopCss = Math.min(Math.max(0, vp.scrollTopCss + dyCss), maxScrollTop(vp, this.rows().length));
      vp = { ...vp, scrollTopCss };
    }
    if (vp === this.vp) return;
    this.vp = vp;
    if (dxCss) this.userMoved();
    else this.saveSoon();
    this.scheduler.request();
  }

  fitAll(): void {
    this.autoFit = true;
    this.fit();
    this.saveSoon();
    this.scheduler.request();
  }

  hover(rowIndex: number, span: Span | null, markMs: number | null, x: number, y: number): void {
    const h = this.hoverState;
    if (h.row !== rowIndex || h.span !== span || h.markMs !== markMs) {
      this.hoverState = { row: rowIndex, span, markMs };
      this.scheduler.request();
    }
    if (span) {
      // A compacted bar: the spans it stands for, then the baseline's figures for its outermost span.
      const head = this.model.chartRows().members.get(span.id)?.[0] ?? span;
      this.tooltip.showSpan(span, this.model.file, this.model.nowMs(), x, y, !!this.host, [...this.includedRows(span), ...this.baseline.tooltipRows(head), ...this.stillWaitingRows(span), ...this.floatingRows(span)]);
    }
    else if (markMs !== null) this.tooltip.showMarks(this.model.marks.filter((m) => m.atMs === markMs), x, y);
    else this.tooltip.hide();
  }

  /** The pointer is on a bar of spans past the budget (or left it: bar null). */
  hoverAggregate(rowIndex: number, bar: AggregateBar | null, x: number, y: number): void {
    const h = this.hoverState;
    if (h.row !== rowIndex || h.span !== null || h.markMs !== null) {
      this.hoverState = { row: rowIndex, span: null, markMs: null };
      this.scheduler.request();
    }
    const row = this.flat[rowIndex];
    if (bar && row?.aggregate) this.tooltip.showAggregate(row, bar, this.model.file, x, y, !!this.host);
    else this.tooltip.hide();
  }

  /** The pointer is on a delay band in the strip under the axis. */
  hoverDelay(band: DelayBand, x: number, y: number): void {
    if (this.hoverState.row !== -1 || this.hoverState.span || this.hoverState.markMs !== null) {
      this.hoverState = { row: -1, span: null, markMs: null };
      this.scheduler.request();
    }
    this.tooltip.showDelay(band, x, y);
  }

  delayBands(): readonly DelayBand[] {
    return this.model.delayBands();
  }

  /** Shows a row's place in the editor (a click on a bar of spans past the budget). */
  revealRow(row: Row): void {
    if (row.line >= 1) this.post(message({ type: 'reveal', line: row.line, column: Math.max(1, row.column) }));
  }

  /**
   * Where each bar of spans past the budget and each delay band is drawn, in CSS pixels relative
   * to the canvas, with what it says (for tests and automation: the chart is a canvas).
   */
  aggregateBoxes(): { label: string; kind: string; line: number; count: number; rowCount: number; text: string; x: number; y: number; width: number; listed: number; startMs: number; endMs: number }[] {
    this.ensureRows();
    const boxes = [];
    for (let i = 0; i < this.flat.length; i++) {
      const row = this.flat[i]!;
      const agg = row.aggregate;
      const y = rowToCssY(this.vp, i);
      if (!agg || y + ROW_HEIGHT < ROWS_TOP || y > this.vp.heightCss) continue;
      for (const bar of agg.bars) {
        const x0 = Math.max(msToCssX(this.vp, bar.startMs), this.vp.plotLeftCss);
        const x1 = Math.min(msToCssX(this.vp, bar.endMs), this.vp.plotLeftCss + this.vp.plotWidthCss);
        if (x1 < x0) continue;
        boxes.push({
          label: row.label, kind: agg.kind, line: row.line, count: bar.count, rowCount: agg.count, text: aggregateText(agg.kind, bar),
          x: x0, y, width: x1 - x0, listed: row.spans.length, startMs: bar.startMs, endMs: bar.endMs,
        });
      }
    }
    return boxes;
  }

  delayBoxes(): { x: number; width: number; startMs: number; endMs: number; labels: string[] }[] {
    return this.model.delayBands().map((b) => {
      const x0 = Math.max(msToCssX(this.vp, b.startMs), this.vp.plotLeftCss);
      const x1 = Math.min(msToCssX(this.vp, b.endMs), this.vp.plotLeftCss + this.vp.plotWidthCss);
      return { x: x0, width: Math.max(0, x1 - x0), startMs: b.startMs, endMs: b.endMs, labels: b.delays.map((d) => d.label) };
    });
  }

  select(span: Span | null, reveal: boolean): void {
    this.selectedSpan = span;
    // A pending bar of a still-waiting chain: its entry under the header is marked.
    this.stillWaitingBar.highlight(span && span.endMs === null ? span.id : null);
    if (span) {
      this.scrollIntoView(span);
      this.announce(`${span.label}, ${span.kind}, line ${span.line}, starts at ${formatDuration(span.startMs)}, ${span.endMs === null ? 'pending' : `takes ${formatDuration(span.endMs - span.startMs)}, ${span.outcome}`}`);
      if (reveal) this.reveal(span);
    }
    this.saveSoon();
    this.scheduler.request();
  }

  toggleRow(row: Row): void {
    if (this.collapsed.has(row.key)) this.collapsed.delete(row.key);
    else this.collapsed.add(row.key);
    this.collapseVersion++;
    this.changed(true);
  }

  focusSearch(): void {
    this.search.focus();
    this.search.select();
  }

  redraw(): void {
    this.scheduler.request();
  }

  /** The chart's resolved colours (opaque, as drawn) and the labels the gutter drew: for e2e checks. */
  drawnStyle(): { theme: Theme; gutterLabels: { label: string; drawn: string }[]; gutterCss: number } {
    return { theme: this.theme, gutterLabels: this.renderer.gutterLabels, gutterCss: this.vp.plotLeftCss };
  }

  /** Draws synchronously and returns the frame's counters (benchmarks, screenshots). */
  renderNow(): FrameStats {
    this.scheduler.flush();
    return this.renderer.last;
  }

  dispose(): void {
    this.scheduler.dispose();
    this.controller.dispose();
    for (const d of this.disposers) d();
    this.root.remove();
  }

  // ------------------------------------------------------------------ internals

  private reveal(span: Span): void {
    if (span.line < 1) return; // not located: nowhere to go
    this.post(message({ type: 'reveal', line: span.line, column: span.column }));
  }

  /** For a pending span on a still-waiting chain: what the chain ends at. */
  private stillWaitingRows(span: Span): [string, string][] {
    if (span.endMs !== null) return [];
    const w = this.stillWaitingBar.causeOf(span.id);
    return w ? [['Waits on', `line ${w.cause.line}: ${w.cause.message}`]] : [];
  }

  /** For a call nobody awaited: that, and what became of it. */
  private floatingRows(span: Span): [string, string][] {
    if (!span.floating) return [];
    return [['Not awaited', this.floatingSays()?.get(span.id)?.text ?? 'nothing awaited, returned, chained or stored its promise']];
  }

  /** What became of each call nobody awaited, by the id of the span the chart shows for it. */
  private floatingSays(): ReadonlyMap<number, FloatingSays> | null {
    const floating = this.model.floating;
    if (!floating.length) return null;
    const shownAs = this.model.chartRows().shownAs;
    if (this.floatingShown.from !== floating || this.floatingShown.shownAs !== shownAs) {
      const says = new Map<number, FloatingSays>();
      for (const f of floating) {
        const short = f.state === 'rejected' ? 'rejected, not awaited' : f.neverRan ? 'never ran, not awaited' : 'unfinished, not awaited';
        if (f.spanId !== undefined) says.set(shownAs?.get(f.spanId) ?? f.spanId, { text: f.message, short });
      }
      this.floatingShown = { from: floating, shownAs, says };
    }
    return this.floatingShown.says;
  }

  /** Ids of the spans the run's insights name, recomputed when the insights change. */
  private couldOverlapIds(): ReadonlySet<number> {
    const shownAs = this.model.chartRows().shownAs;
    if (this.overlapIds.from !== this.model.insights || this.overlapIds.shownAs !== shownAs) {
      this.overlapIds = { from: this.model.insights, shownAs, ids: this.shown(this.model.insights.flatMap((i) => i.spanIds)) };
    }
    return this.overlapIds.ids;
  }

  /** The critical path as drawn: a compacted row is outlined when any span it stands for is on it. */
  private criticalIds(): ReadonlySet<number> {
    const shownAs = this.model.chartRows().shownAs;
    if (this.criticalShown.from !== this.model.criticalPath || this.criticalShown.shownAs !== shownAs) {
      this.criticalShown = { from: this.model.criticalPath, shownAs, ids: this.shown(this.model.criticalPath) };
    }
    return this.criticalShown.ids;
  }
  private criticalShown: { from: unknown; shownAs: unknown; ids: ReadonlySet<number> } = { from: null, shownAs: null, ids: new Set() };

  private shown(ids: Iterable<number>): ReadonlySet<number> {
    const shownAs = this.model.chartRows().shownAs;
    if (!shownAs) return new Set(ids);
    const out = new Set<number>();
    for (const id of ids) out.add(shownAs.get(id) ?? id);
    return out;
  }

  /** Tooltip rows for a compacted span: the spans it stands for, with their durations. */
  private includedRows(span: Span): [string, string][] {
    const members = this.model.chartRows().members.get(span.id);
    if (!members) return [];
    const now = this.model.nowMs();
    return members.slice(1).map((m, i) => [i === 0 ? 'Includes' : '', `${m.kind === 'block' ? 'blocked: ' : m.kind === 'await' ? 'await ' : ''}${m.label}  ${formatDuration(endOf(m, now) - m.startMs)}`]);
  }

  private setAllSpans(all: boolean): void {
    this.model.allSpans = all;
    this.allSpansButton.setAttribute('aria-pressed', String(all));
    this.allSpansButton.classList.toggle('at-on', all);
    this.announce(all ? 'Showing every span' : 'Showing compact rows');
    this.changed(true);
  }

  private toggleTable(): void {
    const show = !this.table.visible;
    this.table.setVisible(show);
    this.chart.hidden = show;
    this.tableButton.setAttribute('aria-pressed', String(show));
    this.changed(false);
    if (!show) this.resize();
  }

  /** Something changed: maybe the rows, certainly the picture. */
  private changed(persist: boolean): void {
    if (persist) this.saveSoon();
    this.scheduler.request();
  }

  private userMoved(): void {
    this.autoFit = false;
    this.saveSoon();
    this.scheduler.request();
  }

  private ensureRows(): void {
    const layout = this.model.chartRows().layout;
    // Each rebuilt layout counts: two rebuilt in a row with the same shape (the last rows streamed,
    // then the final timeline's) must not pass for the one already flattened.
    if (layout !== this.lastLayout) this.layoutGeneration++;
    const key = `${this.layoutGeneration}|${layout.structureVersion}|${this.collapseVersion}|${this.filter}|${layout.rowCount}`;
    if (key === this.flatKey) return;
    if (layout !== this.lastLayout) {
      // The rows were rebuilt (compacted rows while running, or the All spans toggle): the
      // selection is the drawn span with the same id, or the one that now shows it.
      if (this.selectedSpan) {
        const id = this.selectedSpan.id;
        this.selectedSpan = layout.span(this.model.chartRows().shownAs?.get(id) ?? id) ?? layout.span(id) ?? null;
      }
      this.hoverState = { row: -1, span: null, markMs: null };
    }
    this.lastLayout = layout;
    this.flatKey = key;
    this.flat = layout.flatten({ collapsed: this.collapsed, filter: this.filter });
    this.flatIndex = new Map();
    for (let i = 0; i < this.flat.length; i++) this.flatIndex.set(this.flat[i], i);
  }
  private lastLayout: unknown = null;
  private layoutGeneration = 0;

  private resize(): void {
    const w = this.chart.clientWidth;
    const h = this.chart.clientHeight;
    if (!w || !h) return;
    const dpr = devicePixelRatio || 1;
    const keepStart = this.vp.startMs;
    this.widthCss = w;
    this.vp = { ...this.vp, heightCss: h, dpr, startMs: keepStart };
    this.placeGutter();
    this.renderer.resize(w, h, dpr);
    this.scheduler.flush();
  }

  /** The gutter: where the user dragged it, else as wide as the labels need (within limits). */
  private placeGutter(): void {
    const w = this.widthCss;
    if (!w) return;
    let gutter: number;
    if (this.userGutter !== null) gutter = clampGutter(w, this.userGutter);
    else {
      const need = this.gutterNeed;
      if (need.rows !== this.flat || need.theme !== this.theme) {
        this.gutterNeed = { rows: this.flat, theme: this.theme, px: this.flat.length ? this.renderer.gutterNeed(this.flat, this.theme) : 0 };
      }
      gutter = gutterWidth(w, this.gutterNeed.px || undefined);
    }
    if (gutter !== this.vp.plotLeftCss || this.vp.plotWidthCss !== Math.max(40, w - gutter)) {
      this.vp = { ...this.vp, plotLeftCss: gutter, plotWidthCss: Math.max(40, w - gutter) };
    }
    this.gutterHandle.style.setProperty('left', `${gutter - 3}px`);
  }

  private setUserGutter(px: number | null): void {
    this.userGutter = px === null ? null : clampGutter(this.widthCss || 480, px);
    this.placeGutter();
    this.changed(true);
  }

  private wireGutterHandle(): void {
    const h = this.gutterHandle;
    let dragging: { pointerId: number; fromX: number; fromGutter: number } | null = null;
    h.addEventListener('pointerdown', (e) => {
      dragging = { pointerId: e.pointerId, fromX: e.clientX, fromGutter: this.vp.plotLeftCss };
      h.setPointerCapture(e.pointerId);
      h.classList.add('at-dragging');
      e.preventDefault();
    });
    h.addEventListener('pointermove', (e) => {
      if (!dragging || e.pointerId !== dragging.pointerId) return;
      this.setUserGutter(dragging.fromGutter + e.clientX - dragging.fromX);
    });
    const end = (e: PointerEvent) => {
      if (!dragging || e.pointerId !== dragging.pointerId) return;
      dragging = null;
      h.classList.remove('at-dragging');
    };
    h.addEventListener('pointerup', end);
    h.addEventListener('pointercancel', end);
    h.addEventListener('dblclick', () => this.setUserGutter(null));
    h.addEventListener('keydown', (e) => {
      const step = e.shiftKey ? 40 : 10;
      if (e.key === 'ArrowLeft') this.setUserGutter(this.vp.plotLeftCss - step);
      else if (e.key === 'ArrowRight') this.setUserGutter(this.vp.plotLeftCss + step);
      else if (e.key === 'Home' || e.key === 'Enter') this.setUserGutter(null);
      else return;
      e.preventDefault();
    });
  }

  /** Fit all; while running, to a round time a bit past now so bars don't jitter every frame. */
  private fit(): void {
    // One axis for this run and the pinned baseline.
    const extent = Math.max(this.model.extentMs(), this.baseline.wallMs);
    const to = this.model.running ? niceStep(Math.max(extent, 50) * 1.1) : Math.max(extent, 1);
    this.vp = fitRange(this.vp, 0, to);
  }

  private scrollIntoView(span: Span): void {
    const i = this.rowIndexOf(span);
    if (i < 0) return;
    const y = rowToCssY(this.vp, i);
    let scrollTopCss = this.vp.scrollTopCss;
    if (y < ROWS_TOP) scrollTopCss -= ROWS_TOP - y;
    else if (y + ROW_HEIGHT > this.vp.heightCss) scrollTopCss += y + ROW_HEIGHT - this.vp.heightCss;
    let vp = { ...this.vp, scrollTopCss };
    const x0 = msToCssX(vp, span.startMs);
    const x1 = msToCssX(vp, endOf(span, this.model.nowMs()));
    const left = vp.plotLeftCss;
    const right = left + vp.plotWidthCss;
    if (x1 < left || x0 > right) {
      vp = panByCss(vp, (x0 + x1) / 2 - (left + right) / 2);
      this.autoFit = false;
    }
    this.vp = vp;
  }

  private frame(): void {
    if (this.table.visible) {
      this.ensureRows();
      this.table.update(this.flat, `${this.flatKey}|${this.model.chartRows().layout.version}|${this.baseline.version}`, this.model.nowMs(), this.model.running, this.baseline.tableCell());
      this.updateHeader(true);
      return;
    }
    if (!this.widthCss) return;
    this.ensureRows();
    this.placeGutter();
    if (this.autoFit) this.fit();
    const maxScroll = maxScrollTop(this.vp, this.flat.length);
    if (this.vp.scrollTopCss > maxScroll) this.vp = { ...this.vp, scrollTopCss: maxScroll };
    const h = this.hoverState;
    let rows = this.flat;
    let vp = this.vp;
    if (this.morph) {
      const e = ease((performance.now() - this.morph.start) / MORPH_MS);
      if (e >= 1) this.morph = null;
      else {
        rows = morphRows(this.flat, this.morph.rows, e);
        vp = morphViewport(this.morph.vp, this.vp, e);
      }
    }
    // While the bars move, the canvas says so (a screenshot or a test waits for the final frame).
    const morphing = this.morph !== null;
    if (morphing !== this.canvas.hasAttribute('data-morphing')) this.canvas.toggleAttribute('data-morphing', morphing);
    const frameNow = this.model.nowMs();
    this.frameNowMs = frameNow;
    this.renderer.draw({
      rows,
      vp,
      widthCss: this.widthCss,
      theme: this.theme,
      nowMs: frameNow,
      running: this.model.running,
      marks: this.model.marks,
      blocked: this.model.blockedIntervalsAt(frameNow),
      delays: this.model.delayBands(),
      collapsed: this.collapsed,
      hoverRow: h.row < this.flat.length ? h.row : -1,
      hoverSpan: h.span,
      hoverMarkMs: h.markMs,
      selected: this.selectedSpan,
      selectedRow: this.selectedSpan ? this.rowIndexOf(this.selectedSpan) : -1,
      focused: document.activeElement === this.canvas,
      cursorLine: this.cursorLine,
      critical: this.showCritical ? this.criticalIds() : null,
      couldOverlap: this.couldOverlapIds(),
      ghosts: this.baseline.ghosts(),
      floatingSays: this.floatingSays(),
    });
    const count = this.model.store.spanCount;
    this.empty.hidden = this.flat.length > 0;
    if (!this.flat.length) {
      this.empty.textContent = this.filter && count
        ? `No span matches “${this.filter}”.`
        : this.model.running ? 'Waiting for the first await…' : this.model.file ? 'No awaits were recorded in this run.' : 'No run yet.';
    }
    this.updateHeader(false);
    this.drawnLayout = this.model.chartRows().layout;
    this.makeSpansLater();
  }

  /**
   * Rows made at once make their span objects when first read, so a loaded run's first frame makes
   * those of the rows in view only; the others are made here, a few ms at a time between frames,
   * so that panning and scrolling later read made rows.
   */
  private makeSpansLater(): void {
    if (this.makeTimer || !this.drawnLayout?.spansToMake) return;
    this.makeTimer = window.setTimeout(() => {
      this.makeTimer = 0;
      if (this.drawnLayout && !this.drawnLayout.makeSpans(performance.now() + 4)) this.makeSpansLater();
    }, 0);
  }

  /** The header's DOM changes at most four times a second; it is text, not canvas. */
  private updateHeader(force: boolean): void {
    // Local stats are refreshed in their own task, after the frame, not inside it.
    if (this.model.statsStale() && !this.statsTimer) {
      this.statsTimer = window.setTimeout(() => {
        this.statsTimer = 0;
        this.model.refreshStats();
        this.header.update(this.model, this.frameNowMs);
      }, 0);
    }
    const now = performance.now();
    if (!force && now - this.headerAt < 250 && this.model.running) {
      // The rest of the header changes four times a second; the wall and Blocked follow the
      // frame just drawn, so they never disagree with its axis and its "blocked" captions.
      this.header.updateLive(this.frameNowMs, this.model.blockedMsAt(this.frameNowMs));
      return;
    }
    this.headerAt = now;
    this.header.update(this.model, this.frameNowMs);
    this.baseline.updateHeader(this.header, this.model);
    this.insightsBar.update(this.model.insights, this.model.criticalPath.size > 0, this.showCritical);
    this.expectationsBar.update(this.model.expectations);
    this.stillWaitingBar.update(this.model.stillWaiting, this.model.floating, this.model.exitCode, this.model.language);
    this.updateLegend();
    this.stopButton.hidden = !this.model.running;
  }

  /** The legend lists what the drawn rows show; recomputed when the rows or their spans change. */
  private updateLegend(): void {
    this.ensureRows();
    const layout = this.model.chartRows().layout;
    const key = `${this.flatKey}|${layout.version}|${this.showCritical}|${this.model.insights.length}|${this.model.running}|${this.model.delays.length}`;
    if (key === this.legendKey) return;
    this.legendKey = key;
    const kinds = new Set<SpanKind>();
    let pending = false;
    let rejected = false;
    let aggregated = false;
    for (const row of this.flat) {
      if (row.lane) continue;
      kinds.add(row.kind);
      if (row.aggregate) aggregated = true;
      // Read without making the span objects of rows not drawn yet.
      const summary = rowSummary(row);
      if (summary.lastPending) pending = true;
      if (summary.rejected) rejected = true;
    }
    this.legend.update({
      kinds, pending, rejected, aggregated,
      critical: this.showCritical && this.model.criticalPath.size > 0,
      couldOverlap: this.model.insights.length > 0,
      delayed: this.model.delays.length > 0,
    });
  }

  private announce(text: string): void {
    this.live.textContent = text;
  }

  private announceStatus(): void {
    const m = this.model;
    if (m.status === this.lastStatus) return;
    this.lastStatus = m.status;
    if (m.status === 'running') return;
    const what = { completed: 'completed', failed: 'failed', timeout: 'timed out', cancelled: 'was stopped', running: 'running' }[m.status];
    this.announce(`Run ${what} after ${formatDuration(m.wallMs)}${m.error ? `: ${m.error.message}` : ''}`);
  }

  private resolvePendingSelection(): void {
    if (this.pendingSelectionId === null) return;
    const { layout, shownAs } = this.model.chartRows();
    const span = layout.span(shownAs?.get(this.pendingSelectionId) ?? this.pendingSelectionId);
    if (span) {
      this.selectedSpan = span;
      this.pendingSelectionId = null;
    }
  }

  private restoreState(): void {
    const state = this.host?.getState();
    if (!isViewState(state)) return;
    this.vp = { ...this.vp, startMs: state.startMs, msPerCssPx: state.msPerCssPx, scrollTopCss: state.scrollTopCss };
    this.autoFit = state.autoFit;
    this.collapsed = new Set(state.collapsed);
    this.filter = state.filter;
    this.search.value = state.filter;
    this.pendingSelectionId = state.selectedSpanId;
    if (state.table) this.toggleTable();
    if (state.allSpans) this.setAllSpans(true);
    if (state.gutterCss) this.userGutter = state.gutterCss;
  }

  private saveSoon(): void {
    if (!this.host || this.saveTimer) return;
    this.saveTimer = window.setTimeout(() => {
      this.saveTimer = 0;
      const state: ViewState = {
        v: 1,
        startMs: this.vp.startMs,
        msPerCssPx: this.vp.msPerCssPx,
        scrollTopCss: this.vp.scrollTopCss,
        autoFit: this.autoFit,
        selectedSpanId: this.selectedSpan?.id ?? this.pendingSelectionId,
        collapsed: [...this.collapsed],
        filter: this.filter,
        table: this.table.visible,
        allSpans: this.model.allSpans,
        gutterCss: this.userGutter,
      };
      this.host?.setState(state);
    }, 300);
  }
}
