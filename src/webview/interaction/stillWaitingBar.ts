// Under the header, after a run that left awaits pending: "Still waiting (N)", each entry the cause
// (the never-called resolve, the event never emitted, the Event never set…) as a button that shows
// its line in the editor, with the chain that led there; then the promises nobody awaited.
// Pending bars of a chain point here: selecting one marks its entry.

import type { FloatingPromise, StillWaiting, WaitLink } from '../../shared/timeline';
import { shownLinks } from '../../shared/stillWaitingText';
import { el, setText } from './dom';

export class StillWaitingBar {
  readonly element: HTMLElement;
  private readonly summary = el('span', { class: 'at-still-summary' });
  private readonly note = el('span', { class: 'at-still-note' });
  private readonly list = el('ul', { class: 'at-still-list' });
  private shown: readonly StillWaiting[] | null = null;
  private shownFloating: readonly FloatingPromise[] | null = null;
  /** Span id -> the entries whose chain goes through it. */
  private bySpan = new Map<number, HTMLElement[]>();

  /** @param onReveal shows a line in the editor; null in the standalone report (no editor). */
  constructor(private readonly onReveal: ((line: number, column: number) => void) | null) {
    this.element = el('section', { class: 'at-still', 'aria-label': 'Still waiting' },
      el('div', { class: 'at-still-head' }, this.summary, this.note), this.list);
    this.element.hidden = true;
  }

  /** Rebuilds the list only when the run's lists changed. */
  update(still: readonly StillWaiting[], floating: readonly FloatingPromise[], exitCode: number | null, language: string): void {
    if (still === this.shown && floating === this.shownFloating) return;
    this.shown = still;
    this.shownFloating = floating;
    this.element.hidden = !still.length && !floating.length;
    const parts: string[] = [];
    if (still.length) parts.push(`Still waiting (${still.length})`);
    if (floating.length) parts.push(`Not awaited (${floating.length})`);
    setText(this.summary, parts.join(' · '));
    setText(this.note, still.length && exitCode === 13 && language !== 'python'
      ? 'exit code 13: node ends a program whose top-level await can never settle' : '');
    this.bySpan = new Map();
    this.list.replaceChildren(...still.map((w) => this.entry(w)), ...floating.map((f) => this.floatingItem(f)));
  }

  /** Marks the entries whose chain goes through this span (a pending bar was selected). */
  highlight(spanId: number | null): void {
    for (const li of this.list.children) (li as HTMLElement).removeAttribute('data-active');
    const items = spanId === null ? undefined : this.bySpan.get(spanId);
    if (!items?.length) return;
    for (const li of items) li.setAttribute('data-active', 'true');
    items[0].scrollIntoView?.({ block: 'nearest' });
  }

  /** The entry a span's chain leads to, for the tooltip. */
  causeOf(spanId: number): StillWaiting | undefined {
    return this.shown?.find((w) => w.chain.some((l) => l.spanId === spanId));
  }

  private entry(w: StillWaiting): HTMLElement {
    const li = el('li', { class: 'at-still-item', 'data-cycle': String(w.cycle) });
    li.append(el('span', { class: 'at-still-mark', 'aria-label': w.cycle ? 'cycle' : 'never settled', text: w.cycle ? '↺' : '✗' }));
    const body = el('div', { class: 'at-still-body' });
    body.append(this.link(`Line ${w.cause.line}: ${w.cause.message}`, w.cause.line, w.cause.column, 'at-still-cause'));
    const chain = el('div', { class: 'at-still-chain' });
    const links = shownLinks(w).slice(0, -1);
    links.forEach((l, i) => {
      if (i > 0) chain.append(el('span', { class: 'at-still-arrow', text: ' → ' }));
      chain.append(this.link(`${linkText(l)} :${l.line}`, l.line, l.column, 'at-still-step'));
    });
    body.append(chain);
    li.append(body);
    for (const l of w.chain) {
      if (l.spanId === undefined) continue;
      let list = this.bySpan.get(l.spanId);
      if (!list) this.bySpan.set(l.spanId, (list = []));
      if (!list.includes(li)) list.push(li);
    }
    return li;
  }

  private floatingItem(f: FloatingPromise): HTMLElement {
    const li = el('li', { class: 'at-still-item at-still-floating', 'data-state': f.state });
    li.append(el('span', { class: 'at-still-mark', 'aria-label': 'not awaited', text: '!' }));
    li.append(el('div', { class: 'at-still-body' }, this.link(`Line ${f.line}: ${f.message}`, f.line, f.column, 'at-still-cause')));
    if (f.spanId !== undefined) this.bySpan.set(f.spanId, [...(this.bySpan.get(f.spanId) ?? []), li]);
    return li;
  }

  private link(text: string, line: number, column: number, cls: string): HTMLElement {
    if (!this.onReveal || line <= 0) return el('span', { class: cls, text });
    const button = el('button', { class: `at-insight-link ${cls}`, type: 'button', text, title: `Show line ${line} in the editor` });
    const reveal = this.onReveal;
    button.addEventListener('click', () => reveal(line, Math.max(1, column)));
    return button;
  }
}

/** A link as one short phrase: the chain reads left to right. */
function linkText(l: WaitLink): string {
  // A promise link reads "new Promise(…): resolve() was never called": the cause says the rest.
  const t = l.kind === 'promise' ? l.text.replace(/:.*$/, '') : l.text;
  return t.length > 40 ? t.slice(0, 39) + '…' : t;
}
