// Under the toolbar: what the colours and outlines of this chart mean (src/shared/chart/legend.ts),
// one line that wraps, only the entries the chart shows.

import { legendEntries, type LegendPresence } from '../../shared/chart/legend';
import { el } from './dom';

export class LegendBar {
  readonly element = el('div', { class: 'at-legend', role: 'list', 'aria-label': 'Legend' });
  private shownKey = '';

  update(presence: LegendPresence): void {
    const entries = legendEntries(presence);
    const key = entries.map((e) => e.id).join(' ');
    if (key === this.shownKey) return;
    this.shownKey = key;
    this.element.replaceChildren(...entries.map((e) =>
      el('span', { class: 'at-legend-item', role: 'listitem', title: e.title, 'data-legend': e.id },
        el('span', { class: `at-swatch at-swatch-${e.swatch.type === 'kind' ? e.swatch.kind : e.swatch.type}`, 'aria-hidden': 'true' }),
        e.label)));
    this.element.hidden = entries.length === 0;
  }
}
