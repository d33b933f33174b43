// Under the header: what could overlap (each insight a button that shows its line in the editor)
// and the switch that outlines the critical path on the chart.

import type { Insight } from '../../shared/timeline';
import { formatDuration } from '../model/format';
import { el, setText } from './dom';

export class InsightsBar {
  readonly element: HTMLElement;
  private readonly list = el('ul', { class: 'at-insights-list' });
  private readonly summary = el('span', { class: 'at-insights-summary' });
  private readonly criticalButton: HTMLButtonElement;
  private shown: readonly Insight[] | null = null;

  /**
   * @param onReveal shows a line in the editor; null in the standalone report (no editor).
   * @param onToggleCritical the critical-path switch was pressed.
   */
  constructor(private readonly onReveal: ((line: number, column: number) => void) | null, onToggleCritical: () => void) {
    this.criticalButton = el('button', {
      class: 'at-btn at-critical-toggle', type: 'button', text: 'Critical path',
      title: 'Outline the spans that set the wall time', 'aria-pressed': 'true',
    });
    this.criticalButton.addEventListener('click', onToggleCritical);
    this.element = el('section', { class: 'at-insights', 'aria-label': 'What could overlap' },
      el('div', { class: 'at-insights-head' }, this.summary, this.criticalButton), this.list);
    this.element.hidden = true;
  }

  /** Rebuilds the list only when the run's insights changed. */
  update(insights: readonly Insight[], hasCriticalPath: boolean, criticalShown: boolean): void {
    this.element.hidden = !insights.length && !hasCriticalPath;
    this.criticalButton.hidden = !hasCriticalPath;
    this.criticalButton.setAttribute('aria-pressed', String(criticalShown));
    if (insights === this.shown) return;
    this.shown = insights;
    const total = insights.reduce((sum, i) => sum + i.savesMs, 0);
    const awaits = insights.reduce((sum, i) => sum + (i.kind === 'sequential-loop' ? i.spanIds.length : i.sites.length), 0);
    setText(this.summary, insights.length
      ? `${awaits} awaits could overlap: saves about ${formatDuration(total)}`
      : '');
    this.list.replaceChildren(...insights.map((i) => this.item(i)));
  }

  private item(i: Insight): HTMLElement {
    const where = i.endLine > i.line ? `Lines ${i.line}–${i.endLine}` : `Line ${i.line}`;
    const text = `${where}: ${i.message}${i.fix ? '' : ' (no automatic fix here)'}`;
    if (!this.onReveal) return el('li', { class: 'at-insight', text });
    const button = el('button', { class: 'at-insight-link', type: 'button', text, title: `Show line ${i.line} in the editor` });
    const reveal = this.onReveal;
    button.addEventListener('click', () => reveal(i.sites[0].line, i.sites[0].column));
    return el('li', { class: 'at-insight' }, button);
  }
}
