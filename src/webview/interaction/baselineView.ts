// The pinned baseline on screen: the Pin / Clear button, the wall-time change in the header, the
// baseline's spans as ghosts under each row of the same site, and the per-site change in tooltips.

import { decodeRun, type WireRun } from '../../shared/webviewProtocol';
import type { Span } from '../../shared/timeline';
import { BaselineRun, describeSiteChange, LIVE_COMPARE_LIMIT } from '../model/baseline';
import type { Row } from '../../shared/chart/layout';
import type { TimelineModel } from '../model/timelineModel';
import { el } from './dom';
import type { Header } from './header';
import { baseName } from './tooltip';

export class BaselineView {
  /** Pin / Clear, for the toolbar; null in the standalone report (nothing to pin to). */
  readonly button: HTMLButtonElement | null;
  private run: BaselineRun | null = null;
  /** Bumped whenever what the view shows of the baseline changes (for the table's rebuild key). */
  version = 0;

  constructor(onPin: ((pin: boolean) => void) | null) {
    if (!onPin) {
      this.button = null;
      return;
    }
    this.button = el('button', { class: 'at-btn', type: 'button' });
    this.button.addEventListener('click', () => onPin(this.run === null));
    this.updateButton();
  }

  get wallMs(): number {
    return this.run?.wallMs ?? 0;
  }

  /** A `baseline` message arrived (or the report's embedded baseline): show this one, or none. */
  set(wire: WireRun | null): void {
    this.run = wire ? new BaselineRun(decodeRun(wire)) : null;
    this.version++;
    this.updateButton();
  }

  /** Pairs the sites again with the run on screen; cheap for workshop-sized runs, skipped while a huge one streams. */
  compare(model: TimelineModel): void {
    if (!this.run || !model.file) return;
    if (model.running && model.store.spanCount > LIVE_COMPARE_LIMIT) return;
    this.run.compareWith({ file: model.file, wallMs: model.running ? model.nowMs() : model.wallMs, spans: [...model.store.spans()] });
    this.version++;
  }

  /** For the renderer: a row's baseline spans; null when nothing is pinned. */
  ghosts(): ((row: Row) => readonly Span[] | undefined) | null {
    const run = this.run;
    return run ? (row) => run.spansForRow(row) : null;
  }

  /** Extra tooltip rows for a span: its site in the baseline and what changed. */
  tooltipRows(span: Span): [string, string][] {
    const site = this.run?.forSite(span)?.site;
    return site ? describeSiteChange(site) : this.run?.comparison ? [['Baseline', 'not at this site']] : [];
  }

  /** The table's "vs baseline" cell for a span; null when nothing is pinned (no column). */
  tableCell(): ((span: Span) => string) | undefined {
    if (!this.run?.comparison) return undefined;
    return (span) => this.tooltipRows(span).map(([k, v]) => (k === 'Change' ? v : v === 'not at this site' ? 'new' : `was ${v}`)).join('; ');
  }

  updateHeader(header: Header, model: TimelineModel): void {
    const c = this.run?.comparison;
    if (!this.run || !c || !model.file) {
      header.setBaseline(null, '', null);
      return;
    }
    const faster = Math.abs(c.deltaWallMs) < 0.01 * c.baselineWallMs ? null : c.deltaWallMs < 0;
    const text = model.running ? `${c.wallText} so far` : c.wallText;
    const paired = c.sites.filter((s) => s.current && s.baseline).length;
    const title = `Compared with the pinned run of ${baseName(c.baselineFile)}: ${paired} await sites in both, ` +
      `${c.sites.filter((s) => s.match === 'added').length} new, ${c.sites.filter((s) => s.match === 'removed').length} gone. ` +
      'Its bars are the faint boxes behind each row; hover a bar for the change at that site.';
    header.setBaseline(text, title, faster);
  }

  private updateButton(): void {
    if (!this.button) return;
    const pinned = this.run !== null;
    this.button.textContent = pinned ? 'Clear baseline' : 'Pin as baseline';
    const title = pinned
      ? `Stop comparing with the pinned run of ${baseName(this.run!.file)}`
      : 'Pin this run as the baseline: the next runs are drawn over it, with the change per await site';
    this.button.title = title;
    this.button.setAttribute('aria-label', title);
    this.button.setAttribute('aria-pressed', String(pinned));
  }
}
