// Draws one frame of the Gantt on a canvas: only visible rows and times, sub-pixel spans merged,
// fills batched per colour, labels only where they fit. All positions come from model/coords.

import type { Mark, Span } from '../../shared/timeline';
import { countText } from '../../shared/chart/aggregates';
import { delayCaptions, type DelayBand } from '../../shared/chart/delays';
import { msToCssX, rowToCssY, snapCss, visibleRowRange, visibleTimeRange, type Viewport } from '../../shared/chart/coords';
import { formatDuration } from '../model/format';
import { AXIS_HEIGHT, BAR_INSET, INDENT, MARKS_HEIGHT, MIN_LABEL_BAR, ROWS_TOP } from '../../shared/chart/geometry';
import { rowSpanCount, type Row } from '../../shared/chart/layout';
import { endOf, visibleRuns, type Interval } from '../../shared/chart/lod';
import { spanOf } from '../../shared/chart/morph';
import { timeTicks } from '../../shared/chart/ticks';
import type { Theme } from './theme';
import { TextMeasure } from './textMeasure';

/** What one frame shows. */
export interface FrameInput {
  rows: readonly Row[];
  vp: Viewport;
  widthCss: number;
  theme: Theme;
  nowMs: number;
  running: boolean;
  marks: readonly Mark[];
  blocked: readonly Interval[];
  /** Delays of the event loop that were not the snippet's: neutral bands, never orange. */
  delays?: readonly DelayBand[];
  collapsed: ReadonlySet<string>;
  hoverRow: number;
  hoverSpan: Span | null;
  /** Index in `rows` of the selected span's row, -1 when hidden. */
  selectedRow: number;
  hoverMarkMs: number | null;
  selected: Span | null;
  /** Whether the canvas has keyboard focus: the selection then gets a focus ring. */
  focused: boolean;
  cursorLine: number | null;
  /** Span ids on the critical path to outline; null or absent: none. */
  critical?: ReadonlySet<number> | null;
  /** Span ids of awaits that ran back to back but could overlap, outlined dashed. */
  couldOverlap?: ReadonlySet<number> | null;
  /** A row's spans in the pinned baseline run, drawn faint under its bars; absent: no baseline. */
  ghosts?: ((row: Row) => readonly Span[] | undefined) | null;
  /** What became of calls nobody awaited (by display span id), said on or beside their bars. */
  floatingSays?: ReadonlyMap<number, FloatingSays> | null;
}

/** What became of a call nobody awaited: the run's sentence, and a short form for narrow charts. */
export interface FloatingSays {
  /** "not awaited: the run ended before flushLogs() finished". */
  text: string;
  /** "unfinished, not awaited". */
  short: string;
}

/** Counters of the last frame, for the benchmark. */
export interface FrameStats {
  rows: number;
  runs: number;
  merged: number;
  labels: number;
}

type Rects = number[];

interface LabelJob {
  x: number;
  w: number;
  y: number;
  /** null: a merged run, which only bounds the label before it. */
  span: Span | null;
  fill: string;
  /** CSS x where a label beside the bar must stop (a bar of spans past the budget); absent: none. */
  stop?: number;
}

export class GanttRenderer {
  private readonly ctx: CanvasRenderingContext2D;
  private readonly text: TextMeasure;
  private readonly fills = new Map<string, Rects>();
  private readonly labels: LabelJob[] = [];
  private readonly patterns = new Map<string, CanvasPattern>();
  last: FrameStats = { rows: 0, runs: 0, merged: 0, labels: 0 };
  /** The row labels the last frame drew in the gutter, full and as drawn (for tests: clipped how far). */
  gutterLabels: { label: string; drawn: string }[] = [];

  constructor(private readonly canvas: HTMLCanvasElement) {
    const ctx = canvas.getContext('2d', { alpha: false });
    if (!ctx) throw new Error('Canvas 2D is not available');
    this.ctx = ctx;
    this.text = new TextMeasure(ctx);
  }

  /**
   * The gutter width the rows' labels need, in CSS px: indent, toggle, kind dot, label, repeat count
   * and line. Measured over the first 2,000 rows (a huge run's labels repeat).
   */
  gutterNeed(rows: readonly Row[], t: Theme): number {
    const text = this.text;
    let need = 0;
    const n = Math.min(rows.length, 2000);
    for (let i = 0; i < n; i++) {
      const row = rows[i];
      if (row.lane) continue;
      text.setFont(`${t.fontSizePx - 1}px ${t.font}`);
      const right = text.width(`${rowCountText(row)}:${row.line}`);
      text.setFont(`${t.fontSizePx}px ${t.monoFont}`);
      need = Math.max(need, 8 + row.depth * INDENT + 12 + 13 + text.width(row.label) + 12 + right + 8);
    }
    return Math.ceil(need);
  }

  /** Sizes the backing store in device pixels for a CSS size. */
  resize(widthCss: number, heightCss: number, dpr: number): void {
    const w = Math.max(1, Math.round(widthCss * dpr));
    const h = Math.max(1, Math.round(heightCss * dpr));
    if (this.canvas.width !== w) this.canvas.width = w;
    if (this.canvas.height !== h) this.canvas.height = h;
  }

  draw(f: FrameInput): FrameStats {
    const ctx = this.ctx;
    const { theme: t, vp } = f;
    const stats: FrameStats = { rows: 0, runs: 0, merged: 0, labels: 0 };
    // Draw in CSS px; the transform is the one CSS -> device conversion.
    ctx.setTransform(vp.dpr, 0, 0, vp.dpr, 0, 0);
    ctx.fillStyle = t.background;
    ctx.fillRect(0, 0, f.widthCss, vp.heightCss);

    const plotLeft = vp.plotLeftCss;
    const plotRight = plotLeft + vp.plotWidthCss;
    const [t0, t1] = visibleTimeRange(vp);
    const [first, last] = visibleRowRange(vp, f.rows.length);
    const { ticks } = timeTicks(t0, t1, vp.plotWidthCss, 90);

    // Row backgrounds: cursor line, hover, selection.
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, ROWS_TOP, f.widthCss, vp.heightCss - ROWS_TOP);
    ctx.clip();
    const selectedRow = f.selectedRow;
    for (let i = first; i <= last; i++) {
      const row = f.rows[i];
      const y = rowToCssY(vp, i);
      let bg = '';
      if (f.cursorLine !== null && row.line === f.cursorLine) bg = t.rowCursor;
      if (i === selectedRow) bg = t.rowSelected;
      else if (i === f.hoverRow && !bg) bg = t.rowHover;
      if (bg) {
        ctx.fillStyle = bg;
        ctx.fillRect(0, y, f.widthCss, vp.rowHeightCss);
      }
    }

    // Grid lines under everything in the plot.
    ctx.fillStyle = t.grid;
    for (const tick of ticks) {
      const x = snapCss(vp, msToCssX(vp, tick.ms));
      if (x >= plotLeft && x <= plotRight) ctx.fillRect(x, ROWS_TOP, 1 / vp.dpr, vp.heightCss - ROWS_TOP);
    }

    // The "Not awaited" lane begins with a rule across the chart.
    ctx.fillStyle = t.border;
    for (let i = first; i <= last; i++) if (f.rows[i].lane) ctx.fillRect(0, snapCss(vp, rowToCssY(vp, i)), f.widthCss, 1);

    ctx.beginPath();
    ctx.rect(plotLeft, ROWS_TOP, vp.plotWidthCss, vp.heightCss - ROWS_TOP);
    ctx.clip();

    // "Not your code": delays as a faint neutral band across all rows, under everything else.
    if (f.delays?.length) this.drawDelayBand(f, f.delays, t0, t1, ROWS_TOP, vp.heightCss);
    // "Everything stopped": block spans as a band across all rows.
    this.drawBlockBand(f, t0, t1, ROWS_TOP, vp.heightCss);
    if (f.ghosts) this.drawGhosts(f, f.ghosts, first, last, t0, t1);

    // Bars, batched per fill.
    for (const list of this.fills.values()) list.length = 0;
    this.labels.length = 0;
    const barH = vp.rowHeightCss - 2 * BAR_INSET;
    const pendingEdges: Rects = [];
    const outlines: Rects = [];
    const hatched: Rects = [];
    const criticalRects: Rects = [];
    const overlapRects: Rects = [];
    for (let i = first; i <= last; i++) {
      const row = f.rows[i];
      const y = rowToCssY(vp, i) + BAR_INSET;
      stats.rows++;
      const kindFill = t.kind[row.kind];
      const spans = row.spans;
      visibleRuns(spans, t0, t1, vp.msPerCssPx, f.nowMs, (index, count, startMs, endMs) => {
        stats.runs++;
        const x0 = Math.max(plotLeft - 2, msToCssX(vp, startMs));
        const x1 = Math.min(plotRight + 2, msToCssX(vp, endMs));
        const x = snapCss(vp, x0);
        const w = Math.max(snapCss(vp, x1) - x, 1 / vp.dpr);
        const span = spans[index];
        if (count > 1) {
          stats.merged += count;
          this.rect(kindFill, x, y, w, barH);
          if (t.contrastBorder) outlines.push(x, y, w, barH);
          this.labels.push({ x, w, y, span: null, fill: '' });
          return;
        }
        const pending = span.endMs === null;
        const fill = span.outcome === 'rejected' ? t.rejected : kindFill;
        this.rect(pending ? `${fill}|pending` : fill, x, y, w, barH);
        // Block bars keep their stripes in a 3 px strip along the bottom, under the text, which
        // then reads 4.5:1 on the solid colour; the stripes still say "stopped" without colour.
        if (row.kind === 'block' && barH > 8) hatched.push(x, y + barH - 3, w, 3);
        if (pending) pendingEdges.push(x + w - 2, y, 2, barH);
        if (t.contrastBorder) outlines.push(x, y, w, barH);
        if (f.critical?.has(span.id)) criticalRects.push(x, y, w, barH);
        if (f.couldOverlap?.has(span.id)) overlapRects.push(x - 2, y - 2, w + 4, barH + 4);
        // Labelled later, on top of all bars: inside the bar if it fits, else beside it.
        const job: LabelJob = { x, w, y, span, fill: span.outcome === 'rejected' ? t.rejectedText : t.kindText[row.kind] };
        // A label beside the bar stops where the row's bars of spans past the budget begin.
        const after = row.aggregate?.bars.find((b) => b.endMs > endMs);
        if (after) job.stop = msToCssX(vp, after.startMs);
        this.labels.push(job);
      });
    }
    this.flushFills(f, barH);
    if (hatched.length) this.hatchRects(f, hatched);
    ctx.fillStyle = t.foreground;
    fillRects(ctx, pendingEdges);
    if (outlines.length) strokeRects(ctx, outlines, t.contrastBorder, 1);
    if (criticalRects.length) strokeRects(ctx, criticalRects, t.foreground, 2);
    if (overlapRects.length) {
      ctx.setLineDash([4, 3]);
      strokeRects(ctx, overlapRects, t.mark.warn, 2);
      ctx.setLineDash([]);
    }

    // Spans past the budget: light, hatched bars with their count.
    this.drawAggregates(f, first, last, t0, t1, barH);

    // Labels on top of bars.
    stats.labels = this.drawLabels(f, plotRight);

    // Hover and selection outlines.
    if (f.hoverSpan && f.hoverRow >= 0) this.outlineSpan(f, f.hoverSpan, f.hoverRow, t.foreground, 1);
    if (f.selected && selectedRow >= 0) this.outlineSpan(f, f.selected, selectedRow, f.focused ? t.focus : t.foreground, 2);

    // While running: a line at "now", where pending bars end.
    if (f.running) {
      const x = snapCss(vp, msToCssX(vp, f.nowMs));
      ctx.fillStyle = t.now;
      for (let y = ROWS_TOP; y < vp.heightCss; y += 6) ctx.fillRect(x, y, 1, 3);
    }
    if (f.hoverMarkMs !== null) {
      const x = snapCss(vp, msToCssX(vp, f.hoverMarkMs));
      ctx.fillStyle = t.muted;
      ctx.fillRect(x, ROWS_TOP, 1, vp.heightCss - ROWS_TOP);
    }
    ctx.restore();

    this.drawGutter(f, first, last);
    this.drawAxis(f, ticks, t0, t1);
    this.last = stats;
    return stats;
  }

  private rect(fill: string, x: number, y: number, w: number, h: number): void {
    let list = this.fills.get(fill);
    if (!list) {
      list = [];
      this.fills.set(fill, list);
    }
    list.push(x, y, w, h);
  }

  private flushFills(f: FrameInput, barH: number): void {
    const ctx = this.ctx;
    for (const [key, list] of this.fills) {
      if (!list.length) continue;
      const pending = key.endsWith('|pending');
      ctx.fillStyle = pending ? key.slice(0, -8) : key;
      ctx.globalAlpha = pending ? 0.55 : 1;
      ctx.beginPath();
      for (let i = 0; i < list.length; i += 4) {
        const w = list[i + 2];
        if (w >= 6 && barH >= 8) ctx.roundRect(list[i], list[i + 1], w, list[i + 3], 2);
        else ctx.rect(list[i], list[i + 1], w, list[i + 3]);
      }
      ctx.fill();
    }
    ctx.globalAlpha = 1;
  }

  private hatchPattern(f: FrameInput, color = f.theme.blockHatch): CanvasPattern | null {
    const key = `${color}@${f.vp.dpr}`;
    const cached = this.patterns.get(key);
    if (cached) return cached;
    const size = Math.round(8 * f.vp.dpr);
    const tile = document.createElement('canvas');
    tile.width = tile.height = size;
    const c = tile.getContext('2d');
    if (!c) return null;
    c.strokeStyle = color;
    c.lineWidth = Math.max(1, f.vp.dpr * 1.5);
    c.beginPath();
    // Diagonal stripes that tile seamlessly.
    for (const o of [-size, 0, size]) {
      c.moveTo(o, size);
      c.lineTo(o + size, 0);
    }
    c.stroke();
    const pattern = this.ctx.createPattern(tile, 'repeat');
    pattern?.setTransform(new DOMMatrix().scale(1 / f.vp.dpr));
    if (pattern) this.patterns.set(key, pattern);
    return pattern;
  }

  /** Diagonal stripes along block bars: they read as "stopped" even without colour. */
  private hatchRects(f: FrameInput, rects: Rects): void {
    // Dark stripes on the bar's own colour read in every theme.
    const pattern = this.hatchPattern(f, 'rgba(0, 0, 0, 0.28)');
    if (!pattern) return;
    const ctx = this.ctx;
    ctx.fillStyle = pattern;
    fillRects(ctx, rects);
  }

  /** The baseline's spans of each row's site: translucent boxes where the bars used to be. */
  private drawGhosts(f: FrameInput, ghosts: (row: Row) => readonly Span[] | undefined, first: number, last: number, t0: number, t1: number): void {
    const { ctx, vp } = { ctx: this.ctx, vp: f.vp };
    const barH = vp.rowHeightCss - 2 * BAR_INSET;
    ctx.globalAlpha = f.theme.dark ? 0.3 : 0.22;
    for (let i = first; i <= last; i++) {
      const row = f.rows[i];
      const spans = ghosts(row);
      if (!spans?.length) continue;
      const y = rowToCssY(vp, i) + BAR_INSET;
      ctx.fillStyle = f.theme.kind[row.kind];
      ctx.beginPath();
      for (const s of spans) {
        const end = s.endMs ?? s.startMs;
        if (end < t0 || s.startMs > t1) continue;
        const x = snapCss(vp, msToCssX(vp, s.startMs));
        ctx.rect(x, y, Math.max(1 / vp.dpr, snapCss(vp, msToCssX(vp, end)) - x), barH);
      }
      ctx.fill();
    }
    ctx.globalAlpha = 1;
  }

  /**
   * Spans past the run's budget (row.aggregate): the kind's colour, light, with its stripes and
   * edge, and "×38 awaits" on the bar where it fits — never mistaken for one long span.
   */
  private drawAggregates(f: FrameInput, first: number, last: number, t0: number, t1: number, barH: number): void {
    const { ctx, vp, theme: t } = { ctx: this.ctx, vp: f.vp, theme: f.theme };
    const plotLeft = vp.plotLeftCss;
    const plotRight = plotLeft + vp.plotWidthCss;
    const text = this.text;
    text.setFont(`${t.fontSizePx}px ${t.monoFont}`);
    ctx.textBaseline = 'middle';
    for (let i = first; i <= last; i++) {
      const row = f.rows[i];
      const agg = row.aggregate;
      if (!agg) continue;
      const y = rowToCssY(vp, i) + BAR_INSET;
      const color = t.kind[row.kind];
      const rects: Rects = [];
      const counts: number[] = [];
      visibleRuns(agg.bars, t0, t1, vp.msPerCssPx, f.nowMs, (index, n, startMs, endMs) => {
        const x = snapCss(vp, Math.max(plotLeft - 2, msToCssX(vp, startMs)));
        const w = Math.max(snapCss(vp, Math.min(plotRight + 2, msToCssX(vp, endMs))) - x, 1 / vp.dpr);
        rects.push(x, y, w, barH);
        let count = 0;
        for (let k = index; k < index + n; k++) count += agg.bars[k].count;
        counts.push(count);
      });
      if (!rects.length) continue;
      ctx.fillStyle = color;
      ctx.globalAlpha = AGGREGATE_ALPHA;
      fillRects(ctx, rects);
      ctx.globalAlpha = 1;
      const stripes = this.hatchPattern(f, color);
      if (stripes) {
        ctx.fillStyle = stripes;
        fillRects(ctx, rects);
      }
      strokeRects(ctx, rects, color, 1);
      ctx.fillStyle = t.foreground;
      for (let k = 0; k < counts.length; k++) {
        const x = rects[k * 4];
        const w = rects[k * 4 + 2];
        const visibleX = Math.max(x, plotLeft);
        const room = Math.min(x + w, plotRight) - visibleX - 10;
        if (room < 18 || !counts[k]) continue;
        // Never cut ("×3…" for ×312 would lie): "×38 awaits", else "×38", else nothing.
        const words = countText(agg.kind, counts[k]);
        const count = `×${counts[k].toLocaleString('en-US')}`;
        const label = text.fit(words, room, words.length) || text.fit(count, room, count.length);
        if (!label) continue;
        // On a plate of the background, so the count reads over the stripes.
        const lw = text.width(label);
        ctx.fillStyle = t.background;
        ctx.globalAlpha = 0.85;
        ctx.fillRect(visibleX + 3, y + 2, lw + 4, barH - 4);
        ctx.globalAlpha = 1;
        ctx.fillStyle = t.foreground;
        ctx.fillText(label, visibleX + 5, y + barH / 2 + 0.5);
      }
    }
  }

  /** Delays that were not the snippet's: a faint neutral band with dotted edges (never the block's orange). */
  private drawDelayBand(f: FrameInput, bands: readonly DelayBand[], t0: number, t1: number, top: number, bottom: number): void {
    const { ctx, vp } = { ctx: this.ctx, vp: f.vp };
    const rects: Rects = [];
    visibleRuns(bands, t0, t1, vp.msPerCssPx, f.nowMs, (_i, _n, s, e) => {
      const x = snapCss(vp, msToCssX(vp, s));
      rects.push(x, top, Math.max(1 / vp.dpr, snapCss(vp, msToCssX(vp, e)) - x), bottom - top);
    });
    ctx.fillStyle = f.theme.foreground;
    ctx.globalAlpha = f.theme.dark ? 0.07 : 0.06;
    fillRects(ctx, rects);
    ctx.globalAlpha = 1;
    ctx.fillStyle = f.theme.muted;
    for (let i = 0; i < rects.length; i += 4) {
      if (rects[i + 2] < 3) continue;
      for (let y = top; y < bottom; y += 4) {
        ctx.fillRect(rects[i], y, 1, 2);
        ctx.fillRect(rects[i] + rects[i + 2] - 1, y, 1, 2);
      }
    }
  }

  private drawBlockBand(f: FrameInput, t0: number, t1: number, top: number, bottom: number): void {
    if (!f.blocked.length) return;
    const { ctx, vp } = { ctx: this.ctx, vp: f.vp };
    const rects: Rects = [];
    visibleRuns(f.blocked, t0, t1, vp.msPerCssPx, f.nowMs, (_i, _n, s, e) => {
      const x = snapCss(vp, msToCssX(vp, s));
      const w = Math.max(1 / vp.dpr, snapCss(vp, msToCssX(vp, e)) - x);
      rects.push(x, top, w, bottom - top);
    });
    ctx.fillStyle = f.theme.blockBand;
    fillRects(ctx, rects);
    const pattern = this.hatchPattern(f);
    if (pattern) {
      ctx.fillStyle = pattern;
      ctx.globalAlpha = 0.35;
      fillRects(ctx, rects);
      ctx.globalAlpha = 1;
    }
    // Edges of the band, so it reads as a wall across the chart.
    ctx.fillStyle = f.theme.blockHatch;
    for (let i = 0; i < rects.length; i += 4) {
      if (rects[i + 2] < 3) continue;
      ctx.fillRect(rects[i], top, 1, bottom - top);
      ctx.fillRect(rects[i] + rects[i + 2] - 1, top, 1, bottom - top);
    }
  }

  private drawLabels(f: FrameInput, plotRight: number): number {
    const ctx = this.ctx;
    const { theme: t, vp } = f;
    const text = this.text;
    text.setFont(`${t.fontSizePx}px ${t.monoFont}`);
    ctx.textBaseline = 'middle';
    const barH = vp.rowHeightCss - 2 * BAR_INSET;
    let drawn = 0;
    for (let j = 0; j < this.labels.length; j++) {
      const job = this.labels[j];
      const next = this.labels[j + 1];
      const sameRow = next && next.y === job.y;
      const s = job.span;
      if (!s) continue;
      const cy = job.y + barH / 2 + 0.5;
      const visibleX = Math.max(job.x, vp.plotLeftCss);
      const inside = Math.min(job.x + job.w, plotRight) - visibleX - 10;
      const from = job.x + job.w + 4;
      const until = Math.min(sameRow ? next.x : plotRight, job.stop ?? Infinity) - 6;
      if (inside < MIN_LABEL_BAR - 10 && until - from < 40) continue;
      const own = spanOf(s);
      const duration = formatDuration(endOf(own, f.nowMs) - own.startMs);
      const says = s.floating ? f.floatingSays?.get(s.id) : undefined;
      if (says) {
        drawn += this.drawFloatingLabel(f, job, s, says, inside, visibleX, from, until, cy);
        continue;
      }
      if (inside >= MIN_LABEL_BAR - 10) {
        // On the bar: label, and the duration at the right when there is room.
        const durW = text.width(duration);
        const withDur = text.width(s.label) + durW + 24 <= inside;
        const label = text.fit(s.label, withDur ? inside - durW - 16 : inside);
        ctx.fillStyle = job.fill;
        if (label) {
          ctx.fillText(label, visibleX + 5, cy);
          drawn++;
        }
        if (withDur) {
          ctx.globalAlpha = 0.85;
          ctx.fillText(duration, job.x + job.w - 5 - durW, cy);
          ctx.globalAlpha = 1;
        }
        continue;
      }
      // Beside the bar, up to the next bar in this row.
      const besideText = `${s.label}  ${duration}`;
      const fitted = text.fit(besideText, until - from, 6);
      if (!fitted) continue;
      ctx.fillStyle = t.muted;
      ctx.fillText(fitted, from, cy);
      drawn++;
    }
    return drawn;
  }

  /**
   * A call nobody awaited, with what became of it, in the first form that fits whole: the sentence
   * on its bar (a pending bar to the end of the run has room); the label on the bar and the sentence
   * beside it (after the bar, else before it); the short form ("unfinished, not awaited") on the bar
   * (the gutter names the row); the label on the bar and the short form, else "not awaited", beside
   * it. Text beside a bar takes the colour of its outcome.
   */
  private drawFloatingLabel(f: FrameInput, job: LabelJob, s: Span, says: FloatingSays, inside: number, visibleX: number, from: number, until: number, cy: number): number {
    const ctx = this.ctx;
    const text = this.text;
    const onBar = (t: string) => {
      ctx.fillStyle = job.fill;
      ctx.fillText(t, visibleX + 5, cy);
      return 1;
    };
    const after = until - from;
    const beforeEnd = job.x - 6;
    const before = beforeEnd - (f.vp.plotLeftCss + 4);
    const beside = (t: string, cut: boolean): number => {
      const w = text.width(t);
      ctx.fillStyle = s.outcome === 'rejected' ? f.theme.mark.error : f.theme.mark.warn;
      if (w <= after) ctx.fillText(t, from, cy);
      else if (w <= before) ctx.fillText(t, beforeEnd - w, cy);
      else if (cut && Math.max(after, before) >= 40) {
        const fitted = text.fit(t, Math.max(after, before), 6);
        if (!fitted) return 0;
        ctx.fillText(fitted, after >= before ? from : beforeEnd - text.width(fitted), cy);
      } else return 0;
      return 1;
    };
    const roomInside = inside >= MIN_LABEL_BAR - 10;
    const fits = (t: string, room: number) => text.width(t) <= room;
    const besideRoom = Math.max(after, before);
    // The gutter names the row already: on a narrow chart the bar says what became of the call.
    if (roomInside && fits(says.text, inside)) return onBar(says.text);
    if (!roomInside) {
      return beside(`${s.label}: ${says.text}`, false) || beside(says.text, false) || beside(says.short, false) || beside('not awaited', true);
    }
    if (fits(says.text, besideRoom)) return onBar(text.fit(s.label, inside) || '') + beside(says.text, false);
    if (fits(says.short, inside)) return onBar(says.short);
    const label = text.fit(s.label, inside);
    if (label) onBar(label);
    return (label ? 1 : 0) + (beside(says.short, false) || beside('not awaited', true));
  }

  private outlineSpan(f: FrameInput, span: Span, rowIndex: number, color: string, width: number): void {
    const { vp } = f;
    const y = rowToCssY(vp, rowIndex) + BAR_INSET;
    if (y + vp.rowHeightCss < ROWS_TOP || y > vp.heightCss) return;
    const x0 = msToCssX(vp, span.startMs);
    const x1 = msToCssX(vp, endOf(span, f.nowMs));
    const h = vp.rowHeightCss - 2 * BAR_INSET;
    const ctx = this.ctx;
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    const pad = width === 2 ? 1.5 : 0.5;
    ctx.beginPath();
    ctx.roundRect(snapCss(vp, x0) - pad, y - pad, Math.max(1, x1 - x0) + 2 * pad, h + 2 * pad, 3);
    ctx.stroke();
  }

  private drawGutter(f: FrameInput, first: number, last: number): void {
    const ctx = this.ctx;
    const { theme: t, vp } = f;
    const width = vp.plotLeftCss;
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, ROWS_TOP, width, vp.heightCss - ROWS_TOP);
    ctx.clip();
    this.gutterLabels = [];
    ctx.fillStyle = t.gutterBackground;
    ctx.fillRect(0, ROWS_TOP, width, vp.heightCss - ROWS_TOP);
    const text = this.text;
    ctx.textBaseline = 'middle';
    for (let i = first; i <= last; i++) {
      const row = f.rows[i];
      const y = rowToCssY(vp, i);
      const cy = y + vp.rowHeightCss / 2 + 0.5;
      if (f.cursorLine !== null && row.line === f.cursorLine) {
        ctx.fillStyle = t.rowCursor;
        ctx.fillRect(0, y, width, vp.rowHeightCss);
      }
      if (i === f.hoverRow) {
        ctx.fillStyle = t.rowHover;
        ctx.fillRect(0, y, width, vp.rowHeightCss);
      }
      let x = 8 + row.depth * INDENT;
      if (row.lane) {
        // The lane's name, with its toggle: no kind, no line.
        this.drawToggle(f, row, x, cy);
        text.setFont(`600 ${t.fontSizePx}px ${t.font}`);
        const label = text.fit(row.label, width - 8 - (x + 12), 1);
        ctx.fillStyle = t.foreground;
        if (label) ctx.fillText(label, x + 12, cy);
        this.gutterLabels.push({ label: row.label, drawn: label });
        continue;
      }
      // Indent guides.
      ctx.fillStyle = t.grid;
      for (let d = 0; d < row.depth; d++) ctx.fillRect(8 + d * INDENT + 4, y, 1, vp.rowHeightCss);
      this.drawToggle(f, row, x, cy);
      x += 12;
      ctx.fillStyle = t.kind[row.kind];
      ctx.beginPath();
      ctx.roundRect(x, cy - 4, 8, 8, 2);
      // A row of aggregates only: its dot is drawn as its bars are, light with an edge.
      if (row.spans.length === 0 && row.aggregate) {
        ctx.globalAlpha = AGGREGATE_ALPHA;
        ctx.fill();
        ctx.globalAlpha = 1;
        ctx.strokeStyle = t.kind[row.kind];
        ctx.lineWidth = 1;
        ctx.stroke();
      } else ctx.fill();
      if (t.contrastBorder) {
        ctx.strokeStyle = t.contrastBorder;
        ctx.lineWidth = 1;
        ctx.stroke();
      }
      x += 13;
      // Right side: line number and repeat count.
      text.setFont(`${t.fontSizePx - 1}px ${t.font}`);
      const right = `${rowCountText(row)}:${row.line}`;
      // Never over the kind dot in a narrow gutter: then the label gets the room.
      const rightW = x + 4 <= width - 8 - text.width(right) ? text.width(right) : 0;
      ctx.fillStyle = t.muted;
      if (rightW) ctx.fillText(right, width - 8 - rightW, cy);
      text.setFont(`${t.fontSizePx}px ${t.monoFont}`);
      const label = text.fit(row.label, width - 8 - rightW - 8 - x, 1);
      ctx.fillStyle = t.foreground;
      if (label) ctx.fillText(label, x, cy);
      this.gutterLabels.push({ label: row.label, drawn: label });
    }
    ctx.restore();
    ctx.fillStyle = t.border;
    ctx.fillRect(snapCss(vp, width) - 1, 0, 1, vp.heightCss);
    void last;
  }

  /** The chevron of a row with children: right when collapsed, down when open. */
  private drawToggle(f: FrameInput, row: Row, x: number, cy: number): void {
    if (!row.children.length) return;
    const ctx = this.ctx;
    ctx.strokeStyle = f.theme.muted;
    ctx.lineWidth = 1.25;
    ctx.beginPath();
    if (f.collapsed.has(row.key)) {
      ctx.moveTo(x + 2.5, cy - 4);
      ctx.lineTo(x + 6.5, cy);
      ctx.lineTo(x + 2.5, cy + 4);
    } else {
      ctx.moveTo(x + 0.5, cy - 2);
      ctx.lineTo(x + 4.5, cy + 2);
      ctx.lineTo(x + 8.5, cy - 2);
    }
    ctx.stroke();
  }

  private drawAxis(f: FrameInput, ticks: readonly { ms: number; label: string }[], t0: number, t1: number): void {
    const ctx = this.ctx;
    const { theme: t, vp } = f;
    ctx.fillStyle = t.background;
    ctx.fillRect(0, 0, f.widthCss, ROWS_TOP);
    const text = this.text;
    text.setFont(`${t.fontSizePx - 1}px ${t.font}`);
    ctx.textBaseline = 'middle';
    ctx.fillStyle = t.muted;
    ctx.fillText('Await site', 8, AXIS_HEIGHT / 2);
    const lineCaption = 'line';
    ctx.fillText(lineCaption, vp.plotLeftCss - 8 - text.width(lineCaption), AXIS_HEIGHT / 2);
    ctx.save();
    ctx.beginPath();
    ctx.rect(vp.plotLeftCss, 0, vp.plotWidthCss, ROWS_TOP);
    ctx.clip();
    const plotRight = vp.plotLeftCss + vp.plotWidthCss;
    let labelsEnd = -Infinity;
    for (const tick of ticks) {
      const x = snapCss(vp, msToCssX(vp, tick.ms));
      ctx.fillStyle = t.border;
      ctx.fillRect(x, AXIS_HEIGHT - 6, 1, 6);
      // A label that would run past the right edge sits left of its tick, or is left out when that
      // would cover the previous one: never a cut "4" for "4 s".
      const w = text.width(tick.label);
      let lx = x + 4;
      if (lx + w > plotRight - 2) lx = x - 4 - w;
      if (lx < labelsEnd + 6 || lx < vp.plotLeftCss) continue;
      ctx.fillStyle = t.muted;
      ctx.fillText(tick.label, lx, AXIS_HEIGHT / 2);
      labelsEnd = lx + w;
    }
    // Captions for block intervals in the marks strip.
    const stripY = AXIS_HEIGHT + MARKS_HEIGHT / 2;
    visibleRuns(f.blocked, t0, t1, vp.msPerCssPx, f.nowMs, (_i, n, s, e) => {
      if (n !== 1) return;
      const x0 = Math.max(msToCssX(vp, s), vp.plotLeftCss);
      const w = msToCssX(vp, e) - x0;
      const caption = text.fit(`blocked ${formatDuration(e - s)}`, w - 8, 7);
      if (!caption) return;
      ctx.fillStyle = t.blockText;
      ctx.fillText(caption, x0 + 4, stripY);
    });
    // Delays that were not the snippet's: a neutral line along the strip's bottom, and a caption.
    if (f.delays?.length) {
      visibleRuns(f.delays, t0, t1, vp.msPerCssPx, f.nowMs, (i, n, s, e) => {
        const x0 = Math.max(msToCssX(vp, s), vp.plotLeftCss);
        const w = Math.max(1, msToCssX(vp, e) - x0);
        ctx.fillStyle = t.muted;
        ctx.fillRect(x0, ROWS_TOP - 3, w, 2);
        if (n !== 1) return;
        for (const c of delayCaptions(f.delays![i])) {
          const caption = text.fit(c, w - 8, c.length);
          if (!caption) continue;
          ctx.fillText(caption, x0 + 4, stripY);
          break;
        }
      });
    }
    // Console marks as ticks; merged when closer than 3 px.
    let lastX = -Infinity;
    for (let i = firstMarkAt(f.marks, t0 - 4 * vp.msPerCssPx); i < f.marks.length; i++) {
      const m = f.marks[i];
      if (m.atMs > t1) break;
      const x = snapCss(vp, msToCssX(vp, m.atMs));
      if (x - lastX < 3) continue;
      lastX = x;
      ctx.fillStyle = t.mark[m.kind];
      ctx.beginPath();
      ctx.moveTo(x - 3.5, AXIS_HEIGHT + 3);
      ctx.lineTo(x + 3.5, AXIS_HEIGHT + 3);
      ctx.lineTo(x, AXIS_HEIGHT + 9);
      ctx.closePath();
      ctx.fill();
      ctx.fillRect(x - 0.5, AXIS_HEIGHT + 8, 1, MARKS_HEIGHT - 8);
    }
    ctx.restore();
    ctx.fillStyle = t.border;
    ctx.fillRect(0, snapCss(vp, ROWS_TOP) - 1, f.widthCss, 1);
  }
}

/** How strongly an aggregated bar takes its kind's colour (its stripes and edge take it whole). */
const AGGREGATE_ALPHA = 0.3;

/** The gutter's count for a row: its spans and the spans past the budget drawn on it ("×40  "). */
function rowCountText(row: Row): string {
  // Read without making the span objects of rows not drawn yet (the gutter is sized from many rows).
  const n = rowSpanCount(row) + (row.aggregate?.count ?? 0);
  return n > 1 ? `×${COUNT_FORMAT.format(n)}  ` : '';
}

/** As n.toLocaleString('en-US') writes it, without making a formatter for each call (2,000 rows are measured at load). */
const COUNT_FORMAT = new Intl.NumberFormat('en-US');

function fillRects(ctx: CanvasRenderingContext2D, rects: Rects): void {
  if (!rects.length) return;
  ctx.beginPath();
  for (let i = 0; i < rects.length; i += 4) ctx.rect(rects[i], rects[i + 1], rects[i + 2], rects[i + 3]);
  ctx.fill();
}

function strokeRects(ctx: CanvasRenderingContext2D, rects: Rects, color: string, width: number): void {
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.beginPath();
  for (let i = 0; i < rects.length; i += 4) ctx.rect(rects[i] + 0.5, rects[i + 1] + 0.5, Math.max(0, rects[i + 2] - 1), rects[i + 3] - 1);
  ctx.stroke();
}

function firstMarkAt(marks: readonly Mark[], t: number): number {
  let lo = 0;
  let hi = marks.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (marks[mid].atMs < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
