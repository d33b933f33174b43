// The accessible alternative to the canvas: the spans as an HTML table a screen reader can walk.

import type { Span } from '../../shared/timeline';
import { endOf } from '../../shared/chart/lod';
import { formatDuration, formatTime } from '../model/format';
import type { Row } from '../../shared/chart/layout';
import { countText } from '../../shared/chart/aggregates';
import { el } from './dom';

/** A table of thousands of rows is already more than anyone reads; search narrows it. */
export const TABLE_LIMIT = 2000;

export class TableView {
  readonly element = el('div', { class: 'at-table-wrap', hidden: '' });
  private shownVersion = '';

  constructor(private readonly onReveal: ((span: Span) => void) | null) {}

  get visible(): boolean {
    return !this.element.hidden;
  }

  setVisible(visible: boolean): void {
    this.element.hidden = !visible;
    this.shownVersion = '';
  }

  /**
   * Rebuilds when `version` changed (rows, filter, or a span ended). `baseline`, when a baseline is
   * pinned, gives each span's last column: its site then and what changed.
   */
  update(rows: readonly Row[], version: string, nowMs: number, running: boolean, baseline?: (span: Span) => string): void {
    if (!this.visible || version === this.shownVersion) return;
    this.shownVersion = version;
    const total = rows.reduce((n, r) => n + r.spans.length + (r.aggregate?.bars.length ?? 0), 0);
    const table = el('table', { class: 'at-table' });
    const shown = Math.min(total, TABLE_LIMIT);
    table.append(
      el('caption', { text: `${total.toLocaleString('en-US')} spans${shown < total ? `, first ${shown} shown: type in the filter to narrow` : ''}${running ? ' (run in progress)' : ''}` }),
      el('thead', {}, el('tr', {}, ...['Span', 'Kind', 'Line', 'Start', 'Duration', 'Outcome', ...(baseline ? ['vs baseline'] : [])].map((h) => el('th', { scope: 'col', text: h })))),
    );
    const body = el('tbody');
    let n = 0;
    outer: for (const row of rows) {
      if (row.lane) {
        // The lane of calls nobody awaited: its name across the table, its calls under it.
        body.append(el('tr', { class: 'at-table-lane' }, el('th', { scope: 'rowgroup', colspan: String(baseline ? 7 : 6), text: row.label })));
        continue;
      }
      // Spans past the budget: one line per bar, with how many it counts.
      for (const bar of row.aggregate?.bars ?? []) {
        if (n++ >= TABLE_LIMIT) break outer;
        body.append(el('tr', { class: 'at-aggregate' },
          el('td', { class: 'at-code', text: `${'  '.repeat(row.depth)}${row.aggregate!.label}` }),
          el('td', { text: `${row.aggregate!.kind}, aggregated` }),
          el('td', { class: 'at-num', text: String(row.line) }),
          el('td', { class: 'at-num', text: formatTime(bar.startMs) }),
          el('td', { class: 'at-num', text: formatDuration(bar.endMs - bar.startMs) }),
          el('td', { text: bar.count ? `${countText(row.aggregate!.kind, bar.count)} counted` : 'counted' }),
          ...(baseline ? [el('td', { text: '' })] : []),
        ));
      }
      for (const span of row.spans) {
        if (n++ >= TABLE_LIMIT) break outer;
        const label = el('td', { class: 'at-code', text: `${'  '.repeat(row.depth)}${span.label}` });
        const line = el('td', { class: 'at-num' });
        if (this.onReveal) {
          const button = el('button', { class: 'at-link', type: 'button', text: String(span.line), 'aria-label': `Show line ${span.line} in the editor` });
          button.addEventListener('click', () => this.onReveal?.(span));
          line.append(button);
        } else line.textContent = String(span.line);
        body.append(
          el('tr', {},
            label,
            el('td', { text: span.floating ? `${span.kind}, not awaited` : span.kind }),
            line,
            el('td', { class: 'at-num', text: formatTime(span.startMs) }),
            el('td', { class: 'at-num', text: formatDuration(endOf(span, nowMs) - span.startMs) }),
            el('td', { text: span.outcome }),
            ...(baseline ? [el('td', { text: baseline(span) })] : []),
          ),
        );
      }
    }
    table.append(body);
    this.element.replaceChildren(table);
  }
}
