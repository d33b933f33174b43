// The header: file, run status, and the totals (wall, awaited, max concurrency, blocked).

import type { RunStatus } from '../../shared/timeline';
import { formatDuration } from '../model/format';
import type { TimelineModel } from '../model/timelineModel';
import { DELAY_MEANING, delayedMs as delayedMsOf } from '../../shared/chart/delays';
import { el, setText } from './dom';
import { baseName } from './tooltip';

const STATUS_TEXT: Record<RunStatus, string> = {
  running: 'Running…',
  completed: 'Completed',
  failed: 'Failed',
  timeout: 'Timed out',
  cancelled: 'Stopped',
};

export class Header {
  readonly element: HTMLElement;
  private readonly file = el('span', { class: 'at-file' });
  private readonly status = el('span', { class: 'at-status', role: 'status' });
  private readonly warped = el('span', {
    class: 'at-badge', 'data-badge': 'warp', hidden: '',
    title: 'Time warp: waits for timers were skipped, so this run took far less real time. Every time shown is the program\'s own clock, which jumped over the waits; busy loops and real I/O took their real time.',
    text: 'Warped time',
  });
  private readonly live = el('span', {
    class: 'at-badge', 'data-badge': 'live', hidden: '',
    title: 'Live: the file runs again, warped, a moment after you stop typing; the previous run shows as ghost bars.',
    text: 'Live',
  });
  private readonly incomplete = el('span', { class: 'at-badge', 'data-badge': 'incomplete', hidden: '', text: 'Incomplete' });
  private readonly values: Record<'wall' | 'awaited' | 'concurrency' | 'blocked' | 'delayed' | 'spans', HTMLElement>;
  private readonly stats = el('dl', { class: 'at-stats' });
  private readonly error = el('div', { class: 'at-error', role: 'alert' });
  private readonly baseline = el('dd');
  private readonly baselineStat = el('div', { class: 'at-stat', 'data-stat': 'baseline', hidden: '' }, el('dt', { text: 'vs baseline' }), this.baseline);

  constructor() {
    const stat = (key: string, title: string, help: string) => {
      const dd = el('dd');
      this.stats.append(el('div', { class: 'at-stat', 'data-stat': key, title: help }, el('dt', { text: title }), dd));
      return dd;
    };
    this.values = {
      wall: stat('wall', 'Wall time', 'From the first line to the end of the run'),
      awaited: stat('awaited', 'Awaited', 'Time in which at least one await was pending'),
      concurrency: stat('concurrency', 'Max concurrency', 'Most awaits pending at the same moment'),
      blocked: stat('blocked', 'Blocked', 'Time the event loop was busy in synchronous code: nothing else could run'),
      delayed: stat('delayed', 'Not your code', DELAY_MEANING),
      spans: stat('spans', 'Spans', 'Spans recorded in this run'),
    };
    this.stats.append(this.baselineStat);
    this.element = el('header', { class: 'at-header' }, el('div', { class: 'at-title' }, this.status, this.incomplete, this.live, this.warped, this.file), this.stats, this.error);
  }

  /**
   * The two figures that move with every frame while a run goes on: the wall and Blocked, as the
   * frame drawn at the same time shows them (its axis and its "blocked" captions).
   */
  updateLive(wallMs: number, blockedMs: number): void {
    setText(this.values.wall, formatDuration(wallMs));
    setText(this.values.blocked, formatDuration(blockedMs));
    (this.values.blocked.parentElement as HTMLElement).dataset.nonzero = String(blockedMs > 0);
  }

  /** The header's wall and Blocked as shown, for tests. */
  liveText(): { wall: string; blocked: string } {
    return { wall: this.values.wall.textContent ?? '', blocked: this.values.blocked.textContent ?? '' };
  }

  /** Live mode is on for the panel's file. */
  setLive(live: boolean): void {
    this.live.hidden = !live;
  }

  /** The wall-time change against the pinned baseline ("4.01 s → 2.01 s, −50 %"), or null: none pinned. */
  setBaseline(text: string | null, title: string, faster: boolean | null): void {
    this.baselineStat.hidden = text === null;
    setText(this.baseline, text ?? '');
    this.baselineStat.title = title;
    if (faster === null) delete this.baselineStat.dataset.change;
    else this.baselineStat.dataset.change = faster ? 'faster' : 'slower';
  }

  /** `frameNowMs`: the run time of the frame last drawn; while running the wall and Blocked are its. */
  update(model: TimelineModel, frameNowMs: number): void {
    setText(this.file, model.file ? baseName(model.file) : 'No run yet');
    this.file.title = model.file;
    setText(this.status, STATUS_TEXT[model.status]);
    this.status.dataset.status = model.status;
    this.warped.hidden = model.time !== 'warp';
    this.incomplete.hidden = !model.incomplete;
    this.incomplete.title = model.incomplete
      ? `Timeline incomplete: ${model.incomplete}. The chart shows what was recorded before that; the program itself ran on to its end, as it would without the tool.`
      : '';
    const stats = model.stats();
    if (model.running) {
      // A frame of the run before (a new run's first frame not drawn yet) is never ahead of this one.
      const now = Math.min(frameNowMs, model.nowMs());
      this.updateLive(now, model.blockedMsAt(now));
    }
    else this.updateLive(model.wallMs || stats.wallMs, stats.blockedMs);
    setText(this.values.awaited, formatDuration(stats.awaitedMs));
    setText(this.values.concurrency, String(stats.maxConcurrency));
    // Delays of the loop that were not the snippet's: shown apart, only when there were some.
    const delayedMs = stats.delayedMs ?? delayedMsOf(model.delayBands());
    setText(this.values.delayed, formatDuration(delayedMs));
    (this.values.delayed.parentElement as HTMLElement).hidden = !(delayedMs > 0);
    const count = model.store.spanCount.toLocaleString('en-US');
    const dropped = model.droppedSpans.toLocaleString('en-US');
    // Past the span budget they are drawn as ×N bars; past a site's cap they are only counted.
    setText(this.values.spans, model.droppedSpans ? `${count} (+${dropped} ${model.aggregates.length ? 'aggregated' : 'not shown'})` : count);
    let error = '';
    if (model.error) {
      // Stop and timeout messages already say "stuck at line N".
      const where = model.error.line && !/\bline \d/.test(model.error.message) ? ` (line ${model.error.line})` : '';
      error = `${model.error.message}${where}`;
    } else if (model.status === 'timeout') error = 'The run hit its time limit and was stopped.';
    else if (model.status === 'failed' && model.exitCode !== null) error = `Exited with code ${model.exitCode}.`;
    // Said in words too, not only in the badge's tooltip (which a keyboard cannot reach).
    if (!error && model.incomplete) error = `Timeline incomplete: ${model.incomplete}.`;
    setText(this.error, error);
  }
}
