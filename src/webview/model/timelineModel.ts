// Everything the webview knows about the current run, fed by protocol messages or a whole timeline.

import type {
  ExpectationResult, FloatingPromise, Insight, Language, LoopDelay, Mark, RunError, RunStatus, Span, SpanAggregate, StillWaiting, TimeMode, Timeline,
  TimelineStats,
} from '../../shared/timeline';
import { decodeAggregates, decodeSpans, type AppendMessage, type ResetMessage, type StatusMessage, type WireSite } from '../../shared/webviewProtocol';
import { groupAggregates } from '../../shared/chart/aggregates';
import { compactColumns, type MembersOf, type ShownAs } from '../../shared/chart/compact';
import { delayBands, type DelayBand } from '../../shared/chart/delays';
import { copySpan, TimelineLayout } from '../../shared/chart/layout';
import { byStart } from '../../shared/chart/startOrder';
import { unionIntervals, type Interval } from '../../shared/chart/lod';
import { computeStats } from './stats';
import { SpanStore } from './spanStore';

export class TimelineModel {
  file = '';
  language: Language = 'typescript';
  status: RunStatus = 'completed';
  /** The run's clock: `warp` when waits for timers were skipped (every time is virtual). */
  time: TimeMode = 'real';
  error: RunError | null = null;
  exitCode: number | null = null;
  /** Why the timeline holds only part of the run (Timeline.incomplete); undefined: it is whole. */
  incomplete: string | undefined = undefined;
  /** Stats from the engine; when null the header computes its own. */
  engineStats: TimelineStats | null = null;
  wallMs = 0;
  droppedSpans = 0;
  /** Spans dropped because they named an unknown site. */
  invalidSpans = 0;
  /** The run's spans; their layout one row per span only when the All spans view asks (`store.layout()`). */
  store = new SpanStore();
  /** Awaits that ran back to back but could overlap, from the end of the run. */
  insights: readonly Insight[] = [];
  /** Spans that set the wall time, from the end of the run. */
  criticalPath: ReadonlySet<number> = new Set();
  /** The snippet's `@expect` comments checked against the run, from the end of the run. */
  expectations: readonly ExpectationResult[] = [];
  /** At the end of a run: what is still waiting, and the promises nobody awaited. */
  stillWaiting: readonly StillWaiting[] = [];
  floating: readonly FloatingPromise[] = [];
  /** Sorted by time. */
  readonly marks: Mark[] = [];
  /** Spans past the run's span budget, as the engine last sent them. */
  aggregates: readonly SpanAggregate[] = [];
  /** Bumped when `aggregates` change. */
  private aggregatesVersion = 0;
  private aggregatesEndMs = 0;
  /** Delays of the event loop that were not the snippet's, in arrival order. */
  readonly delays: LoopDelay[] = [];
  private bands: DelayBand[] | null = null;
  /** The drawn layout that holds the current aggregates, and what they were placed from. */
  private placed: { layout: TimelineLayout | null; key: string; at: number; cost: number } = { layout: null, key: '', at: 0, cost: 0 };
  private sites: WireSite[] = [];
  /** The block spans as last read from the store (at `blocksVersion` of it). */
  private blocks: Span[] = [];
  private blocksVersion = -1;
  private blockBand: Interval[] | null = null;
  private blockBandAt = -1;
  /** Run clock (ms) at the last status message, and the local clock (ms) when it arrived. */
  private clock = { runMs: 0, localMs: 0 };
  private statsCache: { stats: TimelineStats; version: number; at: number; cost: number } | null = null;
  /** Every span on its own row (the toolbar's All spans); by default the rows are compacted. */
  allSpans = false;
  /** Bumped when the run's status changes: a finished run's compacted rows adopt their orphans. */
  private epoch = 0;
  private compacted: (ChartRows & { key: string; at: number; cost: number }) | null = null;

  reset(msg: Pick<ResetMessage, 'file' | 'language' | 'status' | 'time'>): void {
    this.file = msg.file;
    this.time = msg.time ?? 'real';
    this.language = msg.language;
    this.status = msg.status;
    this.error = null;
    this.exitCode = null;
    this.incomplete = undefined;
    this.engineStats = null;
    this.wallMs = 0;
    this.droppedSpans = 0;
    this.invalidSpans = 0;
    this.store = new SpanStore();
    this.insights = [];
    this.criticalPath = new Set();
    this.expectations = [];
    this.stillWaiting = [];
    this.floating = [];
    this.marks.length = 0;
    this.aggregates = [];
    this.aggregatesVersion++;
    this.aggregatesEndMs = 0;
    this.delays.length = 0;
    this.bands = null;
    this.placed = { layout: null, key: '', at: 0, cost: 0 };
    this.sites = [];
    this.blocks = [];
    this.blocksVersion = -1;
    this.blockBand = null;
    this.clock = { runMs: 0, localMs: nowLocal() };
    this.statsCache = null;
    this.compacted = null;
    this.epoch++;
  }

  append(msg: Pick<AppendMessage, 'sites' | 'spans' | 'columns' | 'marks' | 'droppedSpans' | 'aggregates' | 'delays'>): void {
    for (const site of msg.sites) this.sites.push(site);
    const { spans, invalid } = decodeSpans(this.sites, msg.spans);
    this.invalidSpans += invalid;
    this.addSpans(spans);
    // The columns as they came: no object per span.
    if (msg.columns) this.invalidSpans += this.store.applyColumns(this.sites, msg.columns);
    this.addMarks(msg.marks);
    this.droppedSpans = msg.droppedSpans;
    if (msg.aggregates) this.setAggregates(decodeAggregates(this.sites, msg.aggregates));
    if (msg.delays?.length) this.addDelays(msg.delays);
  }

  private setAggregates(aggregates: readonly SpanAggregate[]): void {
    this.aggregates = aggregates;
    this.aggregatesVersion++;
    this.aggregatesEndMs = aggregates.reduce((m, a) => Math.max(m, a.endMs), 0);
  }

  private addDelays(delays: readonly LoopDelay[]): void {
    this.delays.push(...delays);
    this.bands = null;
  }

  /** The delays as neutral bands on the axis (src/shared/chart/delays.ts). */
  delayBands(): DelayBand[] {
    return (this.bands ??= delayBands(this.delays));
  }

  status_(msg: Pick<StatusMessage, 'status' | 'error' | 'stats' | 'wallMs' | 'exitCode' | 'nowMs' | 'insights' | 'criticalPath' | 'expectations' | 'stillWaiting' | 'floating' | 'incomplete'>): void {
    this.incomplete = msg.incomplete;
    if (msg.insights) this.insights = msg.insights;
    if (msg.stillWaiting) this.stillWaiting = msg.stillWaiting;
    if (msg.floating) this.floating = msg.floating;
    if (msg.expectations) this.expectations = msg.expectations;
    if (msg.criticalPath) this.criticalPath = new Set(msg.criticalPath);
    this.status = msg.status;
    this.error = msg.error;
    this.engineStats = msg.stats;
    this.wallMs = msg.wallMs;
    this.exitCode = msg.exitCode;
    this.clock = { runMs: msg.nowMs, localMs: nowLocal() };
    if (msg.status !== 'running') this.store.adoptOrphans();
    this.epoch++;
  }

  /** Loads a finished (or stored) run in one go. */
  load(t: Timeline): void {
    this.reset({ file: t.file, language: t.language, status: t.status, time: t.time });
    // Copied in the order given (the engine's: by start), then put in start order.
    this.addSpans(byStart(t.spans.map(copySpan)));
    this.addMarks(t.marks);
    this.droppedSpans = t.droppedSpans;
    if (t.aggregates?.length) this.setAggregates(t.aggregates);
    if (t.delays?.length) this.addDelays(t.delays);
    this.status_({
      status: t.status, error: t.error, stats: t.stats, wallMs: t.wallMs, exitCode: t.exitCode, nowMs: t.wallMs,
      insights: t.insights, criticalPath: t.criticalPath, expectations: t.expectations,
      stillWaiting: t.stillWaiting, floating: t.floating, incomplete: t.incomplete,
    });
  }

  private addSpans(spans: Span[]): void {
    if (!spans.length) return;
    this.store.apply(spans);
  }

  private addMarks(marks: readonly Mark[]): void {
    if (!marks.length) return;
    const last = this.marks[this.marks.length - 1];
    this.marks.push(...marks);
    if (last && marks.some((m) => m.atMs < last.atMs)) this.marks.sort((a, b) => a.atMs - b.atMs);
    else if (!last) this.marks.sort((a, b) => a.atMs - b.atMs);
  }

  /**
   * The rows the chart draws: every span (`allSpans`), or the compacted rows (src/shared/chart/
   * compact.ts), rebuilt when spans change — while running at most as often as keeps the rebuild
   * under ~5 % of the main thread, so 100,000 spans do not cost a rebuild a frame.
   */
  chartRows(): ChartRows {
    if (this.allSpans) {
      const rows = { layout: this.store.layout(), members: NO_MEMBERS, shownAs: null };
      this.placeAggregates(rows, false);
      return rows;
    }
    const key = `${this.store.version}|${this.epoch}|${this.aggregatesVersion}`;
    const c = this.compacted;
    if (c && (c.key === key || (this.running && nowLocal() - c.at < Math.max(100, c.cost * 20)))) return c;
    const at = nowLocal();
    // On the store's columns; the layout makes the drawn spans' objects, its own (the store ends
    // pending spans in place), row after row: a row's spans then lie together in memory, which its
    // drawing reads span after span. Given in the order the model got them (by start for a loaded
    // run), as the layout sorts them.
    const { drawn, members, shownAs } = compactColumns(this.store, this.nowMs(), this.store.idSlots);
    const layout = TimelineLayout.ofTable(drawn, !this.running);
    this.compacted = { layout, members, shownAs, key, at, cost: 0 };
    this.placeAggregates(this.compacted, true);
    this.compacted.cost = nowLocal() - at;
    return this.compacted;
  }

  /**
   * Puts the aggregates on the drawn rows: again when they change, or when rows were added (a
   * parent they wait for may have come) — while running at most as often as keeps it cheap.
   */
  private placeAggregates(rows: ChartRows, fresh: boolean): void {
    const layout = rows.layout;
    if (!this.aggregates.length && this.placed.layout !== layout) return;
    const key = `${this.aggregatesVersion}|${this.epoch}`;
    const p = this.placed;
    if (!fresh && p.layout === layout && p.key === `${key}|${layout.structureVersion}`) return;
    if (!fresh && p.layout === layout && this.running && nowLocal() - p.at < Math.max(250, p.cost * 20)) return;
    const at = nowLocal();
    layout.placeAggregates(groupAggregates(this.aggregates, rows.shownAs), rows.members);
    this.placed = { layout, key: `${key}|${layout.structureVersion}`, at, cost: nowLocal() - at };
  }

  get running(): boolean {
    return this.status === 'running';
  }

  /** Run clock now: grows between status messages while running, so pending bars grow. */
  nowMs(): number {
    if (!this.running) return Math.max(this.wallMs, this.store.extentMs);
    return Math.max(this.clock.runMs + (nowLocal() - this.clock.localMs), this.store.extentMs);
  }

  /** Time the chart needs to show: to the end of the run, or up to now while running. */
  extentMs(): number {
    return Math.max(this.wallMs, this.store.extentMs, this.aggregatesEndMs, this.running ? this.nowMs() : 0);
  }

  /** Union of block spans, recomputed when blocks change (and each frame while one is pending). */
  blockedIntervals(): Interval[] {
    return this.blockedIntervalsAt(this.nowMs());
  }

  /** The union of block spans as a frame drawn at `now` shows it (a pending block up to `now`). */
  blockedIntervalsAt(now: number): Interval[] {
    if (this.blocksVersion !== this.store.version) {
      const blocks = this.store.blocks();
      const same = blocks.length === this.blocks.length && blocks.every((b, i) => b.endMs === this.blocks[i].endMs);
      this.blocks = blocks;
      this.blocksVersion = this.store.version;
      if (!same) this.blockBand = null;
    }
    const hasPending = this.blocks.some((b) => b.endMs === null);
    if (!this.blockBand || (hasPending && this.blockBandAt !== now)) {
      this.blockBand = unionIntervals(this.blocks, now);
      this.blockBandAt = now;
    }
    return this.blockBand;
  }

  /**
   * Blocked time as the chart draws it now: the union of the block bands, a pending block up to
   * now. While running the header shows this, so it reads what the axis's "blocked" captions add
   * up to (the engine's figure comes with its last status message and lags behind).
   */
  blockedMsNow(): number {
    return this.blockedMsAt(this.nowMs());
  }

  /** Blocked time as a frame drawn at `now` shows it (see blockedMsNow). */
  blockedMsAt(now: number): number {
    let total = 0;
    for (const b of this.blockedIntervalsAt(now)) total += (b.endMs ?? now) - b.startMs;
    return total;
  }

  /**
   * Engine stats when known, else the last ones computed here (see `refreshStats`). Computing them
   * over 100,000 spans takes tens of ms, so it never happens inside a frame.
   */
  stats(): TimelineStats {
    if (this.engineStats) return this.engineStats;
    if (!this.statsCache) this.refreshStats();
    return this.statsCache!.stats;
  }

  /** Whether `refreshStats` would change anything: spans changed and the last run was long enough ago. */
  statsStale(): boolean {
    if (this.engineStats) return false;
    const c = this.statsCache;
    if (!c) return true;
    if (c.version === this.store.version && !this.running) return false;
    // Back off in proportion to the cost: at most ~5 % of the main thread.
    return nowLocal() - c.at > Math.max(1000, c.cost * 20);
  }

  refreshStats(): void {
    const at = nowLocal();
    const now = this.nowMs();
    // The spans as objects once, looked up among themselves (not an object per lookup).
    const { spans, byId } = this.store.snapshot();
    const stats = computeStats(spans, now, this.running ? now : this.wallMs, byId);
    this.statsCache = { stats, version: this.store.version, at, cost: nowLocal() - at };
  }
}

/** What the chart draws: the rows, and for compacted rows which spans each one stands for. */
export interface ChartRows {
  layout: TimelineLayout;
  /** Drawn span id -> the spans it stands for, outermost first (only spans that merged several). */
  members: MembersOf;
  /** Span id -> the drawn span that shows it; null when every span is drawn as itself. */
  shownAs: ShownAs | null;
}

const NO_MEMBERS: MembersOf = new Map<number, readonly Span[]>();

function nowLocal(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}
