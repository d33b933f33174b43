// Under the header: the snippet's `@expect` comments after a run, ✓ or ✗ with what the run showed;
// each one a button that shows its line in the editor.

import type { ExpectationResult } from '../../shared/timeline';
import { expectationText, expectationsSummary } from '../model/expectations';
import { el, setText } from './dom';

export class ExpectationsBar {
  readonly element: HTMLElement;
  private readonly summary = el('span', { class: 'at-expect-summary' });
  private readonly list = el('ul', { class: 'at-expect-list' });
  private shown: readonly ExpectationResult[] | null = null;

  /** @param onReveal shows a line in the editor; null in the standalone report (no editor). */
  constructor(private readonly onReveal: ((line: number, column: number) => void) | null) {
    this.element = el('section', { class: 'at-expect', 'aria-label': 'Expectations' }, this.summary, this.list);
    this.element.hidden = true;
  }

  /** Rebuilds the list only when the run's expectations changed. */
  update(results: readonly ExpectationResult[]): void {
    if (results === this.shown) return;
    this.shown = results;
    this.element.hidden = !results.length;
    const failed = results.some((r) => !r.passed);
    this.element.dataset.failed = String(failed);
    setText(this.summary, expectationsSummary(results));
    this.list.replaceChildren(...results.map((r) => this.item(r)));
  }

  private item(r: ExpectationResult): HTMLElement {
    const mark = el('span', { class: 'at-expect-mark', 'aria-label': r.passed ? 'holds' : 'fails', text: r.passed ? '✓' : '✗' });
    const what = expectationText(r);
    const li = el('li', { class: 'at-expect-item', 'data-passed': String(r.passed) }, mark);
    if (!this.onReveal) {
      li.append(el('span', { text: what }));
      return li;
    }
    const button = el('button', { class: 'at-insight-link at-expect-link', type: 'button', text: what, title: `Show line ${r.line} in the editor` });
    const reveal = this.onReveal;
    button.addEventListener('click', () => reveal(r.line, r.column));
    li.append(button);
    return li;
  }
}
