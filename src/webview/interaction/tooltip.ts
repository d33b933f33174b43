// Hover card for a span or for console marks.

import type { Mark, Span } from '../../shared/timeline';
import { aggregateText, countText, timeRangeText, type AggregateBar } from '../../shared/chart/aggregates';
import { DELAY_MEANING, delayLines, type DelayBand } from '../../shared/chart/delays';
import type { Row } from '../../shared/chart/layout';
import { endOf } from '../../shared/chart/lod';
import { formatDuration, formatTime } from '../model/format';
import { el } from './dom';

export class Tooltip {
  readonly element = el('div', { class: 'at-tooltip', role: 'tooltip', hidden: '' });

  /** `extra`: more rows after the span's own (the comparison with a baseline). */
  showSpan(span: Span, file: string, nowMs: number, x: number, y: number, canReveal: boolean, extra: readonly [string, string][] = []): void {
    const duration = endOf(span, nowMs) - span.startMs;
    const outcome = span.outcome === 'pending' ? `pending (${formatDuration(duration)} so far)` : span.outcome;
    const grid = el('dl', { class: 'at-tt-grid' });
    const row = (k: string, v: string, cls?: string) => grid.append(el('dt', { text: k }), el('dd', { text: v, class: cls }));
    row('Kind', span.kind);
    row('Where', `${baseName(file)}:${span.line}:${span.column}`);
    row('Start', formatTime(span.startMs));
    row('Duration', formatDuration(duration));
    row('Outcome', outcome, `at-tt-outcome-${span.outcome}`);
    for (const [k, v] of extra) row(k, v);
    this.element.replaceChildren(el('div', { class: 'at-tt-label', text: span.label }), grid);
    if (canReveal) this.element.append(el('div', { class: 'at-tt-hint', text: 'Click to show in the editor' }));
    this.place(x, y);
  }

  /** A bar of spans past the run's budget: how many of what, when, and why they are not listed. */
  showAggregate(row: Row, bar: AggregateBar, file: string, x: number, y: number, canReveal: boolean): void {
    const agg = row.aggregate!;
    const grid = el('dl', { class: 'at-tt-grid' });
    const line = (k: string, v: string) => grid.append(el('dt', { text: k }), el('dd', { text: v }));
    line('Kind', `${agg.kind}, past the span budget`);
    line('Where', `${baseName(file)}:${row.line}:${row.column}`);
    line('Here', bar.count ? aggregateText(agg.kind, bar) : timeRangeText(bar.startMs, bar.endMs));
    line('Duration', formatDuration(bar.endMs - bar.startMs));
    line('On this row', `${countText(agg.kind, agg.count)} counted${row.spans.length ? `, ${row.spans.length.toLocaleString('en-US')} listed` : ''}`);
    agg.includes.forEach((inc, i) => line(i === 0 ? 'Includes' : '', `${countText(inc.kind, inc.count)} ${inc.label}`));
    this.element.replaceChildren(
      el('div', { class: 'at-tt-label', text: agg.label }),
      grid,
      el('div', { class: 'at-tt-hint', text: 'Counted, not listed: the run went past its span budget (awaitTimeline.maxSpans). The bar covers when they ran.' }),
    );
    if (canReveal) this.element.append(el('div', { class: 'at-tt-hint', text: 'Click to show in the editor' }));
    this.place(x, y);
  }

  /** A delay of the event loop that was not the snippet's. */
  showDelay(band: DelayBand, x: number, y: number): void {
    this.element.replaceChildren(
      el('div', { class: 'at-tt-label', text: `Event loop delayed: not your code · ${formatDuration(band.endMs - band.startMs)}` }),
      el('div', { class: 'at-tt-hint', text: `${formatTime(band.startMs)} – ${formatTime(band.endMs)}` }),
      ...delayLines(band).slice(0, 6).map((text) => el('div', { text })),
      el('div', { class: 'at-tt-hint', text: DELAY_MEANING }),
    );
    this.place(x, y);
  }

  showMarks(marks: readonly Mark[], x: number, y: number): void {
    const shown = marks.slice(0, 8);
    this.element.replaceChildren(
      ...shown.map((m) => el('div', {}, el('span', { class: 'at-tt-hint', text: `${m.kind} at ${formatTime(m.atMs)}  ` }), el('div', { class: 'at-tt-label', text: m.text }))),
    );
    if (marks.length > shown.length) this.element.append(el('div', { class: 'at-tt-hint', text: `and ${marks.length - shown.length} more` }));
    this.place(x, y);
  }

  hide(): void {
    this.element.hidden = true;
  }

  /** Next to the pointer, flipped to stay inside the chart. */
  private place(x: number, y: number): void {
    this.element.hidden = false;
    const parent = this.element.parentElement;
    const pw = parent?.clientWidth ?? innerWidth;
    const ph = parent?.clientHeight ?? innerHeight;
    const w = this.element.offsetWidth;
    const h = this.element.offsetHeight;
    const left = x + 14 + w > pw ? Math.max(4, x - 14 - w) : x + 14;
    const top = y + 16 + h > ph ? Math.max(4, y - 10 - h) : y + 16;
    this.element.style.setProperty('left', `${left}px`);
    this.element.style.setProperty('top', `${top}px`);
  }
}

export function baseName(file: string): string {
  const parts = file.split(/[\\/]/);
  return parts[parts.length - 1] || file;
}
