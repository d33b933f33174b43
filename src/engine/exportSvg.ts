// The chart as an SVG image for slides: same pure layout, ticks and level of detail as the panel
// (src/shared/chart), text kept as <text>. Plain Node: no DOM, no 'vscode'.

import type { Span, SpanKind, Timeline } from '../shared/timeline';
import { msToCssX, type Viewport } from '../shared/chart/coords';
import { formatDuration } from '../shared/format';
import { visibleText } from '../shared/safeText';
import { AXIS_HEIGHT, BAR_INSET, INDENT, MARKS_HEIGHT, ROW_HEIGHT, ROWS_TOP } from '../shared/chart/geometry';
import { parseColor, readableOn, textOn, toCss } from '../shared/chart/color';
import { compactSpans, shownIds } from '../shared/chart/compact';
import { aggregateText, countText, groupAggregates } from '../shared/chart/aggregates';
import { DELAY_MEANING, delayBands, delayCaptions, delayLines } from '../shared/chart/delays';
import { legendEntries, type LegendEntry } from '../shared/chart/legend';
import { layoutSpans } from '../shared/chart/layout';
import { endOf, unionIntervals, visibleRuns } from '../shared/chart/lod';
import { timeTicks } from '../shared/chart/ticks';

export interface SvgOptions {
  /** Width of the image in px (default 1200). */
  width?: number;
  /** Colours: 'light' (default, for slides) or 'dark'. */
  theme?: 'light' | 'dark';
  /** At most this many rows; the rest are summarised in a last line (default 400). */
  maxRows?: number;
  /** Every span on its own row; by default the rows are compacted as the panel's are. */
  all?: boolean;
}

interface Palette {
  bg: string;
  fg: string;
  muted: string;
  grid: string;
  gutter: string;
  border: string;
  kind: Record<SpanKind, string>;
  rejected: string;
  band: string;
  mark: string;
  warn: string;
  error: string;
}

// VS Code's Light Modern / Dark Modern chart colours, as the panel shows them by default.
const PALETTES: Record<'light' | 'dark', Palette> = {
  light: {
    bg: '#ffffff', fg: '#3b3b3b', muted: '#717171', grid: '#ececec', gutter: '#f8f8f8', border: '#e5e5e5',
    kind: { await: '#1a85ff', call: '#652d90', block: '#d18616', timer: '#bf8803', combinator: '#388a34', task: '#9a9a9a' },
    rejected: '#e51400', band: 'rgba(209, 134, 22, 0.12)', mark: '#717171', warn: '#bf8803', error: '#e51400',
  },
  dark: {
    bg: '#1f1f1f', fg: '#cccccc', muted: '#9d9d9d', grid: '#2b2b2b', gutter: '#181818', border: '#2b2b2b',
    kind: { await: '#3794ff', call: '#b180d7', block: '#d18616', timer: '#cca700', combinator: '#89d185', task: '#7a7a7a' },
    rejected: '#f14c4c', band: 'rgba(209, 134, 22, 0.12)', mark: '#9d9d9d', warn: '#cca700', error: '#f14c4c',
  },
};

const FONT = "system-ui, -apple-system, 'Segoe UI', Ubuntu, sans-serif";
const MONO = "Menlo, Consolas, 'DejaVu Sans Mono', monospace";
/** Rough width of a character of 12 px monospace text; SVG has no measureText. */
const MONO_CHAR = 7.2;

/** Text as XML character data: markup escaped, and characters XML 1.0 forbids (ESC, NUL…) shown as visible stand-ins. */
export function escapeXml(text: string): string {
  return visibleText(text).replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

function fit(text: string, width: number): string {
  const n = Math.floor(width / MONO_CHAR);
  if (n <= 0) return '';
  if (text.length <= n) return text;
  return n < 4 ? '' : `${text.slice(0, n - 1)}…`;
}

const num = (x: number) => String(Math.round(x * 100) / 100);

export function renderSvg(timeline: Timeline, options: SvgOptions = {}): string {
  const width = options.width ?? 1200;
  const base = PALETTES[options.theme ?? 'light'];
  // Bars stand out from the background 3:1 (the light palette's yellow is 2.9:1 on white).
  const bg = parseColor(base.bg)!;
  const solid = (c: string) => toCss(readableOn(parseColor(c)!, bg, 3));
  const kindFill = Object.fromEntries(Object.entries(base.kind).map(([k, c]) => [k, solid(c)])) as Record<SpanKind, string>;
  const pal: Palette = { ...base, kind: kindFill, rejected: solid(base.rejected) };
  // Text on a bar: black or white, whichever reads better on that fill (4.5:1 or more); the
  // "blocked" caption in the block colour, darkened or lightened until it reads on the background.
  const onBar = (fill: string) => textOn(parseColor(fill)!);
  const blockText = toCss(readableOn(parseColor(pal.kind.block)!, parseColor(pal.bg)!, 4.5));
  const maxRows = options.maxRows ?? 400;
  const extentGuess = timeline.spans.reduce((m, s) => Math.max(m, s.endMs ?? s.startMs), timeline.wallMs);
  const compaction = options.all ? null : compactSpans(timeline.spans, extentGuess);
  const layout = layoutSpans(compaction ? compaction.spans : timeline.spans);
  // Spans past the run's budget: on their site's rows, as the panel draws them.
  if (timeline.aggregates?.length) layout.placeAggregates(groupAggregates(timeline.aggregates, compaction?.shownAs), compaction?.members);
  const delays = delayBands(timeline.delays ?? []);
  const allRows = layout.flatten();
  const rows = allRows.slice(0, maxRows);
  const hidden = allRows.length - rows.length;
  const shown = (ids: Iterable<number>) => (compaction ? shownIds(ids, compaction) : new Set(ids));
  const critical = shown(timeline.criticalPath ?? []);
  const couldOverlap = shown((timeline.insights ?? []).flatMap((i) => i.spanIds));
  const legend = legendEntries({
    kinds: new Set(rows.filter((r) => !r.lane).map((r) => r.kind)),
    critical: critical.size > 0,
    couldOverlap: couldOverlap.size > 0,
    pending: rows.some((r) => r.spans.some((s) => s.endMs === null)),
    rejected: rows.some((r) => r.spans.some((s) => s.outcome === 'rejected')),
    aggregated: rows.some((r) => r.aggregate),
    delayed: delays.length > 0,
  });
  const legendLines = layoutLegend(legend, width - 24);
  const titleHeight = 44;
  const gutter = Math.min(320, Math.max(160, Math.round(width * 0.26)));
  const extent = Math.max(timeline.wallMs, layout.extentMs, 1);
  const legendTop = titleHeight + ROWS_TOP + rows.length * ROW_HEIGHT + (hidden ? ROW_HEIGHT : 0) + 10;
  const height = legendTop + legendLines.length * LEGEND_LINE + 8;
  const plotWidth = width - gutter - 24;
  const vp: Viewport = {
    startMs: 0,
    msPerCssPx: extent / plotWidth,
    plotLeftCss: gutter + 12,
    plotWidthCss: plotWidth,
    rowsTopCss: titleHeight + ROWS_TOP,
    rowHeightCss: ROW_HEIGHT,
    heightCss: height,
    scrollTopCss: 0,
    dpr: 1,
  };
  const now = extent;
  const x = (ms: number) => msToCssX(vp, ms);
  const out: string[] = [];
  const stats = timeline.stats;
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${escapeXml(FONT)}" font-size="12">`,
    `<title>${escapeXml(`Await Timeline: ${timeline.file}`)}</title>`,
    `<defs><pattern id="hatch" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="3" height="8" fill="rgba(0,0,0,0.25)"/></pattern>${
      // Stripes in each kind's colour for bars of spans past the budget.
      (Object.keys(pal.kind) as SpanKind[]).map((k) => `<pattern id="agg-${k}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="1.5" height="6" fill="${pal.kind[k]}"/></pattern>`).join('')
    }</defs>`,
    `<rect width="100%" height="100%" fill="${pal.bg}"/>`,
    `<text x="12" y="20" font-weight="600" font-size="14" fill="${pal.fg}">${escapeXml(baseName(timeline.file))} <tspan font-weight="400" fill="${pal.muted}">${escapeXml(timeline.status)}</tspan></text>`,
    `<text x="12" y="37" fill="${pal.muted}">${escapeXml(
      `Wall ${formatDuration(timeline.wallMs)} · awaited ${formatDuration(stats.awaitedMs)} · max concurrency ${stats.maxConcurrency} · blocked ${formatDuration(stats.blockedMs)}`,
    )}</text>`,
  );
  const top = titleHeight;
  const rowsTop = vp.rowsTopCss;
  const bottom = rowsTop + rows.length * ROW_HEIGHT;
  // Gutter and grid.
  out.push(`<rect x="0" y="${top + ROWS_TOP}" width="${gutter}" height="${bottom - top - ROWS_TOP}" fill="${pal.gutter}"/>`);
  const { ticks } = timeTicks(0, extent, plotWidth, 90);
  for (const t of ticks) {
    const tx = num(x(t.ms));
    out.push(`<line x1="${tx}" y1="${top + AXIS_HEIGHT - 6}" x2="${tx}" y2="${bottom}" stroke="${pal.grid}"/>`);
    out.push(`<text x="${num(x(t.ms) + 4)}" y="${top + AXIS_HEIGHT / 2 + 4}" fill="${pal.muted}" font-size="11">${escapeXml(t.label)}</text>`);
  }
  out.push(`<line x1="0" y1="${rowsTop - 0.5}" x2="${width}" y2="${rowsTop - 0.5}" stroke="${pal.border}"/>`);
  // Delays that were not the snippet's: a faint neutral band, dotted edges, a caption; never orange.
  for (const band of delays) {
    const bx = x(band.startMs);
    const bw = Math.max(1, x(band.endMs) - bx);
    const h = bottom - top - AXIS_HEIGHT;
    out.push(`<g data-delay="${num(band.startMs)}"><title>${escapeXml([`Event loop delayed: not your code · ${formatDuration(band.endMs - band.startMs)}`, ...delayLines(band), DELAY_MEANING].join('\n'))}</title>`);
    out.push(`<rect x="${num(bx)}" y="${top + AXIS_HEIGHT}" width="${num(bw)}" height="${h}" fill="${pal.fg}" fill-opacity="0.06"/>`);
    out.push(`<rect x="${num(bx)}" y="${rowsTop - 3}" width="${num(bw)}" height="2" fill="${pal.muted}"/>`);
    if (bw >= 3) {
      for (const ex of [bx + 0.5, bx + bw - 0.5]) out.push(`<line x1="${num(ex)}" y1="${top + AXIS_HEIGHT}" x2="${num(ex)}" y2="${bottom}" stroke="${pal.muted}" stroke-dasharray="2 2"/>`);
    }
    const caption = delayCaptions(band).find((c) => fit(c, bw - 8) === c);
    if (caption) out.push(`<text x="${num(bx + 4)}" y="${top + AXIS_HEIGHT + MARKS_HEIGHT / 2 + 4}" fill="${pal.muted}" font-size="11">${escapeXml(caption)}</text>`);
    out.push('</g>');
  }
  // Block band across all rows.
  const blocks = timeline.spans.filter((s) => s.kind === 'block');
  for (const b of unionIntervals(blocks, now)) {
    const bx = x(b.startMs);
    const bw = Math.max(1, x(endOf(b, now)) - bx);
    out.push(`<rect x="${num(bx)}" y="${top + AXIS_HEIGHT}" width="${num(bw)}" height="${bottom - top - AXIS_HEIGHT}" fill="${pal.band}"/>`);
    const caption = fit(`blocked ${formatDuration(endOf(b, now) - b.startMs)}`, bw - 8);
    if (caption) out.push(`<text x="${num(bx + 4)}" y="${top + AXIS_HEIGHT + MARKS_HEIGHT / 2 + 4}" fill="${blockText}" font-size="11">${escapeXml(caption)}</text>`);
  }
  // Marks.
  for (const m of timeline.marks) {
    const mx = x(m.atMs);
    const color = m.kind === 'warn' || m.kind === 'stderr' ? pal.warn : m.kind === 'error' || m.kind === 'exception' || m.kind === 'unhandledRejection' ? pal.error : pal.mark;
    out.push(`<path d="M${num(mx - 3.5)} ${top + AXIS_HEIGHT + 3}h7l-3.5 6z" fill="${color}"><title>${escapeXml(`${m.kind}: ${m.text}`)}</title></path>`);
  }
  // What became of each call nobody awaited: said after its bar in the lane.
  const floatingSays = new Map<number, string>();
  for (const f of timeline.floating ?? []) if (f.spanId !== undefined) floatingSays.set(compaction?.shownAs.get(f.spanId) ?? f.spanId, f.message);
  // Rows.
  rows.forEach((row, i) => {
    const y = rowsTop + i * ROW_HEIGHT;
    const cy = y + ROW_HEIGHT / 2 + 4;
    const lx = 12 + row.depth * INDENT;
    if (row.lane) {
      // The "Not awaited" lane: a rule across the chart and its name; its calls follow.
      out.push(`<line x1="0" y1="${y + 0.5}" x2="${width}" y2="${y + 0.5}" stroke="${pal.border}"/>`);
      out.push(`<text x="${lx}" y="${cy}" font-weight="600" fill="${pal.fg}">${escapeXml(row.label)}<title>${escapeXml('Calls whose promise nobody awaited, returned, chained or stored')}</title></text>`);
      return;
    }
    out.push(row.spans.length === 0 && row.aggregate
      ? `<rect x="${lx + 0.5}" y="${y + ROW_HEIGHT / 2 - 3.5}" width="7" height="7" rx="2" fill="${pal.kind[row.kind]}" fill-opacity="0.3" stroke="${pal.kind[row.kind]}"/>`
      : `<rect x="${lx}" y="${y + ROW_HEIGHT / 2 - 4}" width="8" height="8" rx="2" fill="${pal.kind[row.kind]}"/>`);
    const n = row.spans.length + (row.aggregate?.count ?? 0);
    const right = `${n > 1 ? `×${n.toLocaleString('en-US')}  ` : ''}:${row.line}`;
    out.push(`<text x="${gutter - 8}" y="${cy}" text-anchor="end" fill="${pal.muted}" font-size="11">${escapeXml(right)}</text>`);
    out.push(`<text x="${lx + 13}" y="${cy}" font-family="${escapeXml(MONO)}" fill="${pal.fg}">${escapeXml(fit(row.label, gutter - lx - 13 - right.length * 6.5 - 16))}</text>`);
    const barY = y + BAR_INSET;
    const barH = ROW_HEIGHT - 2 * BAR_INSET;
    visibleRuns(row.spans, 0, extent, vp.msPerCssPx, now, (first, count, startMs, endMs) => {
      const span: Span = row.spans[first];
      const bx = x(startMs);
      const bw = Math.max(1, x(endMs) - bx);
      const fill = count === 1 && span.outcome === 'rejected' ? pal.rejected : pal.kind[row.kind];
      const title = count === 1
        ? `${span.label} · ${formatDuration(endMs - startMs)} · ${span.outcome} · line ${span.line}`
        : `${count} spans of ${row.label}`;
      out.push(`<g><title>${escapeXml(title)}</title><rect x="${num(bx)}" y="${barY}" width="${num(bw)}" height="${barH}" rx="2" fill="${fill}"${span.endMs === null ? ' fill-opacity="0.55"' : ''}/>`);
      // Stripes along the bottom of a block bar, under its text (as in the panel).
      if (row.kind === 'block') out.push(`<rect x="${num(bx)}" y="${barY + barH - 3}" width="${num(bw)}" height="3" fill="url(#hatch)"/>`);
      if (count === 1 && critical.has(span.id)) out.push(`<rect x="${num(bx)}" y="${barY}" width="${num(bw)}" height="${barH}" rx="2" fill="none" stroke="${pal.fg}" stroke-width="2"/>`);
      if (count === 1 && couldOverlap.has(span.id)) out.push(`<rect x="${num(bx - 2)}" y="${barY - 2}" width="${num(bw + 4)}" height="${barH + 4}" rx="3" fill="none" stroke="${pal.warn}" stroke-width="2" stroke-dasharray="4 3"/>`);
      const says = count === 1 && span.floating ? floatingSays.get(span.id) : undefined;
      // A call nobody awaited says what became of it on its bar when the sentence fits there.
      const saysInside = says !== undefined && fit(says, bw - 10) === says;
      if (count === 1) {
        const label = saysInside ? says : fit(`${span.label}  ${formatDuration(endMs - startMs)}`, bw - 10) || fit(span.label, bw - 10);
        if (label) out.push(`<text x="${num(bx + 5)}" y="${barY + barH / 2 + 4}" font-family="${escapeXml(MONO)}" fill="${onBar(fill)}">${escapeXml(label)}</text>`);
      }
      if (says && saysInside) out.push(`<title>${escapeXml(says)}</title>`);
      else if (says) {
        // After the bar when it fits there, else before it: the insight reads on the background.
        const after = width - 12 - (bx + bw + 6);
        const before = bx - vp.plotLeftCss - 6;
        const room = Math.max(after, before);
        // The whole sentence when it fits beside the bar, else the short form (as the panel does).
        const entry = (timeline.floating ?? []).find((f) => f.message === says);
        const short = entry?.state === 'rejected' ? 'rejected, not awaited' : entry?.neverRan ? 'never ran, not awaited' : 'unfinished, not awaited';
        const text = fit(says, room) === says ? says : fit(short, room);
        const color = span.outcome === 'rejected' ? pal.rejected : pal.warn;
        const readable = toCss(readableOn(parseColor(color)!, bg, 4.5));
        if (text) {
          out.push(after >= before
            ? `<text x="${num(bx + bw + 6)}" y="${barY + barH / 2 + 4}" fill="${readable}" font-size="11">${escapeXml(text)}</text>`
            : `<text x="${num(bx - 6)}" y="${barY + barH / 2 + 4}" text-anchor="end" fill="${readable}" font-size="11">${escapeXml(text)}</text>`);
        }
        out.push(`<title>${escapeXml(says)}</title>`);
      }
      out.push('</g>');
    });
    // Spans past the budget: light, striped bars with an edge and their count.
    const agg = row.aggregate;
    if (agg) {
      const color = pal.kind[row.kind];
      visibleRuns(agg.bars, 0, extent, vp.msPerCssPx, now, (first, count, startMs, endMs) => {
        let n = 0;
        for (let k = first; k < first + count; k++) n += agg.bars[k].count;
        const bx = x(startMs);
        const bw = Math.max(1, x(endMs) - bx);
        const title = n ? `${aggregateText(agg.kind, { count: n, startMs, endMs })} · ${agg.label} · line ${row.line} · counted, not listed (past the run's span budget)` : `${agg.label} · counted, not listed`;
        out.push(`<g data-aggregate="${n}"><title>${escapeXml(title)}</title>`);
        out.push(`<rect x="${num(bx)}" y="${barY}" width="${num(bw)}" height="${barH}" fill="${color}" fill-opacity="0.3"/>`);
        out.push(`<rect x="${num(bx)}" y="${barY}" width="${num(bw)}" height="${barH}" fill="url(#agg-${row.kind})" stroke="${color}"/>`);
        const words = n ? countText(agg.kind, n) : '';
        const label = words && fit(words, bw - 10) === words ? words : n && fit(`×${n.toLocaleString('en-US')}`, bw - 10) === `×${n.toLocaleString('en-US')}` ? `×${n.toLocaleString('en-US')}` : '';
        if (label) {
          out.push(`<rect x="${num(bx + 3)}" y="${barY + 2}" width="${num(label.length * MONO_CHAR + 4)}" height="${barH - 4}" fill="${pal.bg}" fill-opacity="0.85"/>`);
          out.push(`<text x="${num(bx + 5)}" y="${barY + barH / 2 + 4}" font-family="${escapeXml(MONO)}" fill="${pal.fg}">${escapeXml(label)}</text>`);
        }
        out.push('</g>');
      });
    }
  });
  if (hidden) {
    out.push(`<text x="12" y="${bottom + ROW_HEIGHT / 2 + 4}" fill="${pal.muted}">${escapeXml(`… ${hidden} more rows not shown`)}</text>`);
  }
  out.push(`<line x1="${gutter}" y1="${top + ROWS_TOP}" x2="${gutter}" y2="${bottom}" stroke="${pal.border}"/>`);
  // The legend: what the colours and outlines mean, only those this chart shows.
  legendLines.forEach((line, li) => {
    const ly = legendTop + li * LEGEND_LINE;
    for (const { entry, x: lx } of line) {
      const sw = entry.swatch;
      const sx = 12 + lx;
      const attrs = `x="${sx}" y="${ly + 3}" width="14" height="9" rx="2"`;
      out.push(`<g data-legend="${entry.id}"><title>${escapeXml(entry.title)}</title>`);
      if (sw.type === 'kind') {
        out.push(`<rect ${attrs} fill="${pal.kind[sw.kind]}"/>`);
        if (sw.kind === 'block') out.push(`<rect ${attrs} fill="url(#hatch)"/>`);
      } else if (sw.type === 'rejected') out.push(`<rect ${attrs} fill="${pal.rejected}"/>`);
      else if (sw.type === 'pending') out.push(`<rect ${attrs} fill="${pal.kind.await}" fill-opacity="0.55"/>`);
      else if (sw.type === 'critical') out.push(`<rect ${attrs} fill="none" stroke="${pal.fg}" stroke-width="2"/>`);
      else if (sw.type === 'aggregated') {
        out.push(`<rect ${attrs} fill="${pal.kind.await}" fill-opacity="0.3"/>`);
        out.push(`<rect ${attrs} fill="url(#agg-await)" stroke="${pal.kind.await}"/>`);
      } else if (sw.type === 'delayed') {
        out.push(`<rect ${attrs} fill="${pal.fg}" fill-opacity="0.06"/>`);
        out.push(`<rect x="${sx}" y="${ly + 10}" width="14" height="2" fill="${pal.muted}"/>`);
        for (const ex of [sx + 0.5, sx + 13.5]) out.push(`<line x1="${ex}" y1="${ly + 3}" x2="${ex}" y2="${ly + 12}" stroke="${pal.muted}" stroke-dasharray="2 2"/>`);
      }
      else out.push(`<rect ${attrs} fill="none" stroke="${pal.warn}" stroke-width="2" stroke-dasharray="4 3"/>`);
      out.push(`<text x="${sx + 19}" y="${ly + 12}" fill="${pal.muted}" font-size="11">${escapeXml(entry.label)}</text></g>`);
    }
  });
  out.push('</svg>');
  return out.join('\n');
}

const LEGEND_LINE = 18;

/** Legend entries placed left to right, wrapping at `width` (text widths estimated: SVG has no measureText). */
function layoutLegend(entries: LegendEntry[], width: number): { entry: LegendEntry; x: number }[][] {
  const lines: { entry: LegendEntry; x: number }[][] = [];
  let line: { entry: LegendEntry; x: number }[] = [];
  let x = 0;
  for (const entry of entries) {
    const w = 19 + entry.label.length * 6.2 + 16;
    if (line.length && x + w > width) {
      lines.push(line);
      line = [];
      x = 0;
    }
    line.push({ entry, x });
    x += w;
  }
  if (line.length) lines.push(line);
  return lines;
}

function baseName(file: string): string {
  const parts = file.split(/[\\/]/);
  return parts[parts.length - 1] || file;
}
