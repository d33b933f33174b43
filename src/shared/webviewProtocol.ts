// Messages between the extension host and the timeline webview: typed, versioned, validated on arrival.
//
// Spans travel in a compact form: the host interns each await site (kind, label, line, column) once
// in a site table and sends span tuples that refer to the site by index (as speedscope stores frames
// once). `SiteInterner` and `encodeSpans` build that form on the host; `decodeSpans` reads it back.

import type {
  ExpectationResult, FloatingPromise, Insight, Language, LoopDelay, Mark, MarkKind, Outcome, RunError, RunStatus, Span, SpanAggregate, SpanKind,
  StillWaiting, TimeMode, TimelineStats, WaitLink,
} from './timeline';

/** Bumped on any incompatible change; both sides drop messages of another version. */
export const WEBVIEW_PROTOCOL_VERSION = 1;

/** One await site: sent once, then referred to by its index in the run's site table. */
export interface WireSite {
  /** What kind of span this site produces. */
  kind: SpanKind;
  /** Source text as the user wrote it. */
  label: string;
  /** 1-based line in the original file; 0 while unknown (a block not located yet). */
  line: number;
  /** 1-based column in the original file; 0 while unknown. */
  column: number;
}

/**
 * One span, compact: [id, parentId (0 = top level), siteIndex, startMs, endMs (null = pending), outcome, floating?].
 * outcome: 0 pending, 1 fulfilled, 2 rejected. floating: 1 when nobody awaited the call's promise
 * (`Span.floating`), left out otherwise.
 */
export type WireSpan =
  | [id: number, parentId: number, site: number, startMs: number, endMs: number | null, outcome: 0 | 1 | 2]
  | [id: number, parentId: number, site: number, startMs: number, endMs: number | null, outcome: 0 | 1 | 2, floating: 1];

/**
 * Spans past the run's span budget (`SpanAggregate`), compact:
 * [parentId (0 = top level), siteIndex, count, startMs, endMs].
 */
export type WireAggregate = [parentId: number, site: number, count: number, startMs: number, endMs: number];

interface MessageBase<T extends string> {
  /** Protocol version, always WEBVIEW_PROTOCOL_VERSION. */
  v: typeof WEBVIEW_PROTOCOL_VERSION;
  /** Discriminates the message. */
  type: T;
}

// ---------------------------------------------------------------- host -> webview

/** A new run starts: forget the previous one. */
export interface ResetMessage extends MessageBase<'reset'> {
  /** File name shown in the header (base name or path). */
  file: string;
  /** Language of the snippet. */
  language: Language;
  /** Status of the new run, normally 'running'. */
  status: RunStatus;
  /**
   * True when this replaces the same run's streamed spans with its final timeline (the engine
   * refines blocks at the end): the view keeps its zoom, scroll, selection and collapsed rows.
   */
  keepView?: boolean;
  /** `warp`: the run's clock skipped waits for timers; its times are virtual. Absent: real time. */
  time?: TimeMode;
}

/** New or updated spans and marks. A span may arrive pending (endMs null) and again when it ends. */
export interface AppendMessage extends MessageBase<'append'> {
  /** Sites new to this run, appended to the site table in order (first batch starts at index 0). */
  sites: WireSite[];
  /** New spans, or spans seen before that now have an end. */
  spans: WireSpan[];
  /**
   * More of them, after `spans`, in columns (src/shared/spanColumns.ts: a typed array per field in
   * one buffer, sites by index in this table): what the host sends, so a million spans cross to the
   * webview as one buffer of 37 bytes each instead of a million arrays. Absent: none.
   */
  columns?: Uint8Array;
  /** New console output, exceptions and other marks. */
  marks: Mark[];
  /** Running count of spans counted but not listed (aggregated hot sites, caps). */
  droppedSpans: number;
  /**
   * The run's aggregates so far (spans past its span budget), referring to the site table; they
   * replace any sent before. Absent: unchanged.
   */
  aggregates?: WireAggregate[];
  /** Delays of the event loop that were not the snippet's, new since the last append; absent: none. */
  delays?: LoopDelay[];
}

/** The run's status and totals; sent when they change and about once a second while running. */
export interface StatusMessage extends MessageBase<'status'> {
  /** Current status of the run. */
  status: RunStatus;
  /** Why the run failed, if it did. */
  error: RunError | null;
  /** Totals computed by the engine; null lets the webview compute them itself. */
  stats: TimelineStats | null;
  /** Wall time of the run so far, in ms. */
  wallMs: number;
  /** Exit code of the child once it has exited. */
  exitCode: number | null;
  /** Run clock (ms since the snippet started) when this was sent: pending bars grow from it. */
  nowMs: number;
  /** At the end of a run: awaits that ran back to back but could overlap. */
  insights?: Insight[];
  /** At the end of a run: ids of the spans that set the wall time, outermost first. */
  criticalPath?: number[];
  /** At the end of a run: the snippet's `@expect` comments, checked against the run. */
  expectations?: ExpectationResult[];
  /** At the end of a run: awaits still pending and what would have settled them. */
  stillWaiting?: StillWaiting[];
  /** At the end of a run: promises nobody awaited that were still running or rejected. */
  floating?: FloatingPromise[];
  /** At the end of a run: why the timeline holds only part of it (Timeline.incomplete). */
  incomplete?: string;
}

/** The editor's cursor moved: highlight that line's spans (null: none). */
export interface CursorMessage extends MessageBase<'cursor'> {
  /** 1-based line of the cursor in the run's file, or null when the editor is another file. */
  line: number | null;
}

/** A finished run in the compact form: its own site table and spans that refer to it. */
export interface WireRun {
  /** The run's file (base name or path), shown as the baseline's name. */
  file: string;
  /** Wall time of the run, ms. */
  wallMs: number;
  /** The run's site table. */
  sites: WireSite[];
  /** The run's spans, referring to `sites` by index. */
  spans: WireSpan[];
}

/**
 * The run the current one is compared with (pinned as baseline), or none. Sent after `ready` and
 * whenever the pin changes; it outlives `reset`. The webview pairs the sites itself
 * (shared/compare.ts), so the comparison follows the current run live.
 */
export interface BaselineMessage extends MessageBase<'baseline'> {
  /** The pinned run; null: no baseline. */
  baseline: WireRun | null;
}

/** How the next runs go: the panel's Warp toggle and the Live badge. Outlives `reset`. */
export interface ClockMessage extends MessageBase<'clock'> {
  /** The next run of the panel's file skips waits for timers (time warp). */
  warp: boolean;
  /** The panel's file is re-run as it is edited (live mode). */
  live: boolean;
}

export type HostToWebviewMessage = ResetMessage | AppendMessage | StatusMessage | CursorMessage | BaselineMessage | ClockMessage;

// ---------------------------------------------------------------- webview -> host

/** The webview has loaded and listens: the host replays the current run. */
export interface ReadyMessage extends MessageBase<'ready'> {}

/** The user clicked a bar or pressed Enter on one: show that place in the editor. */
export interface RevealMessage extends MessageBase<'reveal'> {
  /** 1-based line to reveal and select. */
  line: number;
  /** 1-based column. */
  column: number;
}

/** The user asked to export the current run. */
export interface ExportMessage extends MessageBase<'export'> {
  /** svg: image of the chart; html: standalone report; trace: Chrome trace JSON. */
  kind: 'svg' | 'html' | 'trace' | 'otlp';
}

/** The user pressed Stop. */
export interface StopMessage extends MessageBase<'stop'> {}

/** The user pinned the shown run as the baseline, or cleared the baseline. */
export interface PinBaselineMessage extends MessageBase<'pinBaseline'> {
  /** true: pin the run the panel shows; false: clear the baseline. */
  pin: boolean;
}

/** The user flipped the panel's Warp toggle. */
export interface SetTimeMessage extends MessageBase<'setTime'> {
  /** true: the next runs skip waits for timers; false: they run in real time. */
  warp: boolean;
}

export type WebviewToHostMessage = ReadyMessage | RevealMessage | ExportMessage | StopMessage | PinBaselineMessage | SetTimeMessage;

// ---------------------------------------------------------------- validation

const SPAN_KINDS: readonly SpanKind[] = ['await', 'call', 'block', 'timer', 'combinator', 'task'];
const LANGUAGES: readonly Language[] = ['typescript', 'javascript', 'python'];
const STATUSES: readonly RunStatus[] = ['running', 'completed', 'failed', 'timeout', 'cancelled'];
const MARK_KINDS: readonly MarkKind[] = ['log', 'info', 'warn', 'error', 'stdout', 'stderr', 'exception', 'unhandledRejection'];
const EXPORT_KINDS: readonly ExportMessage['kind'][] = ['svg', 'html', 'trace', 'otlp'];

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isStr = (x: unknown): x is string => typeof x === 'string';
const isPosInt = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 1;
const isNonNegInt = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 0;
const isOneOf = <T>(list: readonly T[], x: unknown): x is T => list.includes(x as T);
const isOptNum = (x: unknown) => x === undefined || isNum(x);
const isOptStr = (x: unknown) => x === undefined || isStr(x);

function hasHeader(x: unknown): x is Obj & { type: string } {
  return isObj(x) && x.v === WEBVIEW_PROTOCOL_VERSION && isStr(x.type);
}

export function isWireSite(x: unknown): x is WireSite {
  // Line 0: not known (yet). Rejecting it would drop the whole batch it came in.
  return isObj(x) && isOneOf(SPAN_KINDS, x.kind) && isStr(x.label) && isNonNegInt(x.line) && isNonNegInt(x.column);
}

/** Checks shape and numbers; the site index is checked against the table by `decodeSpans`. */
export function isWireSpan(x: unknown): x is WireSpan {
  if (!Array.isArray(x) || (x.length !== 6 && !(x.length === 7 && x[6] === 1))) return false;
  const [id, parentId, site, start, end, outcome] = x;
  return (
    isPosInt(id) &&
    Number.isInteger(parentId) && parentId >= 0 &&
    Number.isInteger(site) && site >= 0 &&
    isNum(start) &&
    (end === null || (isNum(end) && end >= start)) &&
    (outcome === 0 || outcome === 1 || outcome === 2)
  );
}

/** Checks shape and numbers; the site index is checked against the table by `decodeAggregates`. */
export function isWireAggregate(x: unknown): x is WireAggregate {
  if (!Array.isArray(x) || x.length !== 5) return false;
  const [parentId, site, count, start, end] = x;
  return isNonNegInt(parentId) && isNonNegInt(site) && isPosInt(count) && isNum(start) && isNum(end) && end >= start;
}

export function isLoopDelay(x: unknown): x is LoopDelay {
  return (
    isObj(x) && (x.kind === 'delayed' || x.kind === 'instrumenting') && isStr(x.label) && isNum(x.startMs) && isNum(x.endMs) &&
    x.endMs >= x.startMs && (x.line === undefined || isNonNegInt(x.line))
  );
}

export function isMark(x: unknown): x is Mark {
  return (
    isObj(x) && isOneOf(MARK_KINDS, x.kind) && isStr(x.text) && isNum(x.atMs) &&
    isOptNum(x.line) && isOptNum(x.column) && isOptStr(x.stack)
  );
}

export function isRunError(x: unknown): x is RunError {
  return isObj(x) && isStr(x.message) && isOptNum(x.line) && isOptNum(x.column) && isOptStr(x.stack);
}

export function isTimelineStats(x: unknown): x is TimelineStats {
  return isObj(x) && isNum(x.wallMs) && isNum(x.awaitedMs) && isNum(x.blockedMs) && isNum(x.maxConcurrency);
}

const INSIGHT_KINDS: readonly Insight['kind'][] = ['sequential-awaits', 'sequential-loop'];

export function isInsight(x: unknown): x is Insight {
  if (!isObj(x)) return false;
  const fix = x.fix;
  const fixOk = fix === undefined || (isObj(fix) && isStr(fix.title) && isPosInt(fix.line) && isPosInt(fix.column) &&
    isPosInt(fix.endLine) && isPosInt(fix.endColumn) && isStr(fix.newText));
  return (
    isOneOf(INSIGHT_KINDS, x.kind) && isPosInt(x.line) && isPosInt(x.endLine) &&
    Array.isArray(x.sites) && x.sites.every((p) => isObj(p) && isPosInt(p.line) && isPosInt(p.column)) &&
    Array.isArray(x.spanIds) && x.spanIds.every(isPosInt) &&
    isNum(x.sequentialMs) && isNum(x.parallelMs) && isNum(x.savesMs) && isStr(x.message) && fixOk
  );
}

export function isExpectationResult(x: unknown): x is ExpectationResult {
  return (
    isObj(x) && isPosInt(x.line) && isPosInt(x.column) && isStr(x.text) && typeof x.passed === 'boolean' &&
    isStr(x.actual) && isOptStr(x.error)
  );
}

const WAIT_LINK_KINDS: readonly WaitLink['kind'][] = [
  'await', 'call', 'combinator', 'promise', 'timer', 'event', 'task', 'future', 'event-wait', 'queue-get', 'lock', 'sleep', 'cycle', 'other',
];
const isLine = (x: unknown) => Number.isInteger(x) && (x as number) >= 0;

export function isWaitLink(x: unknown): x is WaitLink {
  return isObj(x) && isOneOf(WAIT_LINK_KINDS, x.kind) && isStr(x.text) && isLine(x.line) && isLine(x.column) &&
    (x.spanId === undefined || isPosInt(x.spanId));
}

export function isStillWaiting(x: unknown): x is StillWaiting {
  return (
    isObj(x) && Number.isInteger(x.id) && (x.id as number) >= 0 && isLine(x.line) && isLine(x.column) && isStr(x.label) &&
    Array.isArray(x.chain) && x.chain.every(isWaitLink) && typeof x.cycle === 'boolean' && isStr(x.message) &&
    isObj(x.cause) && isLine(x.cause.line) && isLine(x.cause.column) && isStr(x.cause.message)
  );
}

export function isFloatingPromise(x: unknown): x is FloatingPromise {
  return (
    isObj(x) && isPosInt(x.line) && isPosInt(x.column) && isStr(x.label) && (x.spanId === undefined || isPosInt(x.spanId)) &&
    (x.state === 'pending' || x.state === 'rejected') && isOptStr(x.reason) && (x.neverRan === undefined || x.neverRan === true) && isStr(x.message)
  );
}

/** A Uint8Array, also one made in another realm (the webview's frame). */
const isBytes = (x: unknown): x is Uint8Array => ArrayBuffer.isView(x) && Object.prototype.toString.call(x) === '[object Uint8Array]';

const everyItem = <T>(x: unknown, guard: (item: unknown) => item is T): x is T[] => Array.isArray(x) && x.every(guard);

/** A whole run in wire form: every span names a site of its own table. */
export function isWireRun(x: unknown): x is WireRun {
  return (
    isObj(x) && isStr(x.file) && isNum(x.wallMs) && x.wallMs >= 0 && everyItem(x.sites, isWireSite) &&
    everyItem(x.spans, isWireSpan) && x.spans.every((s) => s[2] < (x.sites as WireSite[]).length)
  );
}

/** Validates anything that arrives in the webview. */
export function isHostToWebviewMessage(x: unknown): x is HostToWebviewMessage {
  if (!hasHeader(x)) return false;
  switch (x.type) {
    case 'reset':
      return isStr(x.file) && isOneOf(LANGUAGES, x.language) && isOneOf(STATUSES, x.status) && (x.keepView === undefined || typeof x.keepView === 'boolean') &&
        (x.time === undefined || x.time === 'real' || x.time === 'warp');
    case 'append':
      return (
        everyItem(x.sites, isWireSite) && everyItem(x.spans, isWireSpan) && everyItem(x.marks, isMark) &&
        // Each span in the columns is checked as it is read (SpanStore.applyColumns in the webview).
        (x.columns === undefined || isBytes(x.columns)) &&
        Number.isInteger(x.droppedSpans) && (x.droppedSpans as number) >= 0 &&
        (x.aggregates === undefined || everyItem(x.aggregates, isWireAggregate)) &&
        (x.delays === undefined || everyItem(x.delays, isLoopDelay))
      );
    case 'status':
      return (
        isOneOf(STATUSES, x.status) && (x.error === null || isRunError(x.error)) &&
        (x.stats === null || isTimelineStats(x.stats)) && isNum(x.wallMs) &&
        (x.exitCode === null || Number.isInteger(x.exitCode)) && isNum(x.nowMs) &&
        (x.insights === undefined || everyItem(x.insights, isInsight)) &&
        (x.criticalPath === undefined || everyItem(x.criticalPath, isPosInt)) &&
        (x.expectations === undefined || everyItem(x.expectations, isExpectationResult)) &&
        (x.stillWaiting === undefined || everyItem(x.stillWaiting, isStillWaiting)) &&
        (x.floating === undefined || everyItem(x.floating, isFloatingPromise)) &&
        (x.incomplete === undefined || isStr(x.incomplete))
      );
    case 'baseline':
      return x.baseline === null || isWireRun(x.baseline);
    case 'cursor':
      return x.line === null || isPosInt(x.line);
    case 'clock':
      return typeof x.warp === 'boolean' && typeof x.live === 'boolean';
    default:
      return false;
  }
}

/** Validates anything that arrives in the host from the webview. */
export function isWebviewToHostMessage(x: unknown): x is WebviewToHostMessage {
  if (!hasHeader(x)) return false;
  switch (x.type) {
    case 'ready':
    case 'stop':
      return true;
    case 'reveal':
      return isPosInt(x.line) && isPosInt(x.column);
    case 'export':
      return isOneOf(EXPORT_KINDS, x.kind);
    case 'pinBaseline':
      return typeof x.pin === 'boolean';
    case 'setTime':
      return typeof x.warp === 'boolean';
    default:
      return false;
  }
}

// ---------------------------------------------------------------- builders and the compact span form

/** A message without its version stamp. */
export type MessageBody<M> = M extends unknown ? Omit<M, 'v'> : never;

/** Stamps the protocol version on a message body. */
export function message<B extends MessageBody<HostToWebviewMessage | WebviewToHostMessage>>(body: B): B & { v: typeof WEBVIEW_PROTOCOL_VERSION } {
  return { v: WEBVIEW_PROTOCOL_VERSION, ...body };
}

const OUTCOME_CODES: Record<Outcome, 0 | 1 | 2> = { pending: 0, fulfilled: 1, rejected: 2 };
const OUTCOMES: readonly Outcome[] = ['pending', 'fulfilled', 'rejected'];

/** Sites of one label looked through one by one before a keyed lookup. */
const LABEL_SITES = 16;

/** Host side: hands out site indices, once per distinct site; `takeNew` returns the sites not yet sent. */
export class SiteInterner {
  /** The first sites of each label (a label's string hashes once; no key is built per span). */
  private readonly byLabel = new Map<string, { kind: SpanKind; line: number; column: number; index: number }[]>();
  /** Sites of a label past its first LABEL_SITES, by a key of all four fields. */
  private readonly index = new Map<string, number>();
  private readonly fresh: WireSite[] = [];
  private count = 0;

  indexOf(span: Pick<Span, 'kind' | 'label' | 'line' | 'column'>): number {
    const { kind, label, line, column } = span;
    const list = this.byLabel.get(label);
    if (list) {
      for (let k = 0; k < list.length; k++) {
        const e = list[k];
        if (e.line === line && e.column === column && e.kind === kind) return e.index;
      }
    }
    let key = '';
    if (list && list.length >= LABEL_SITES) {
      key = `${kind}\u0000${line}\u0000${column}\u0000${label}`;
      const i = this.index.get(key);
      if (i !== undefined) return i;
    }
    const i = this.count++;
    if (!list) this.byLabel.set(label, [{ kind, line, column, index: i }]);
    else if (!key) list.push({ kind, line, column, index: i });
    else this.index.set(key, i);
    this.fresh.push({ kind, label, line, column });
    return i;
  }

  takeNew(): WireSite[] {
    return this.fresh.splice(0, this.fresh.length);
  }
}

/**
 * Host side: builds an `append` message for these spans and marks, sending only new sites;
 * `aggregates` (all of the run's so far) and `delays` (new ones) when given.
 */
export function encodeAppend(
  interner: SiteInterner, spans: readonly Span[], marks: readonly Mark[], droppedSpans: number,
  more: { aggregates?: readonly SpanAggregate[]; delays?: readonly LoopDelay[] } = {},
): AppendMessage {
  const wire: WireSpan[] = spans.map((s): WireSpan => s.floating
    ? [s.id, s.parentId ?? 0, interner.indexOf(s), s.startMs, s.endMs, OUTCOME_CODES[s.outcome], 1]
    : [s.id, s.parentId ?? 0, interner.indexOf(s), s.startMs, s.endMs, OUTCOME_CODES[s.outcome]]);
  const aggregates: WireAggregate[] | undefined = more.aggregates?.map((a) => [a.parentId ?? 0, interner.indexOf(a), a.count, a.startMs, Math.max(a.startMs, a.endMs)]);
  return message({
    type: 'append', sites: interner.takeNew(), spans: wire, marks: [...marks], droppedSpans,
    ...(aggregates ? { aggregates } : {}),
    ...(more.delays?.length ? { delays: [...more.delays] } : {}),
  });
}

/** Webview side: compact aggregates back as aggregates; those that name an unknown site are dropped. */
export function decodeAggregates(sites: readonly WireSite[], wire: readonly WireAggregate[]): SpanAggregate[] {
  const out: SpanAggregate[] = [];
  for (const [parentId, siteIndex, count, startMs, endMs] of wire) {
    const site = sites[siteIndex];
    if (!site) continue;
    out.push({ kind: site.kind, label: site.label, line: site.line, column: site.column, parentId: parentId === 0 ? null : parentId, count, startMs, endMs });
  }
  return out;
}

/**
 * Webview side: turns compact spans back into spans, given the run's site table.
 * Spans that name an unknown site are dropped and counted in `invalid`.
 */
export function decodeSpans(sites: readonly WireSite[], wire: readonly WireSpan[]): { spans: Span[]; invalid: number } {
  const spans: Span[] = [];
  let invalid = 0;
  for (const w of wire) {
    const [id, parentId, siteIndex, startMs, endMs, outcome] = w;
    const site = sites[siteIndex];
    if (!site) {
      invalid++;
      continue;
    }
    const span: Span = {
      id,
      parentId: parentId === 0 ? null : parentId,
      kind: site.kind,
      label: site.label,
      line: site.line,
      column: site.column,
      startMs,
      endMs,
      outcome: endMs === null ? 'pending' : OUTCOMES[outcome],
    };
    if (w[6] === 1) span.floating = true;
    spans.push(span);
  }
  return { spans, invalid };
}

/** Host side: a finished run in wire form (the baseline). */
export function encodeRun(file: string, wallMs: number, spans: readonly Span[]): WireRun {
  const { sites, spans: wire } = encodeAppend(new SiteInterner(), spans, [], 0);
  return { file, wallMs, sites, spans: wire };
}

/** Webview side: a run in wire form back as spans. */
export function decodeRun(run: WireRun): { file: string; wallMs: number; spans: Span[] } {
  return { file: run.file, wallMs: run.wallMs, spans: decodeSpans(run.sites, run.spans).spans };
}
