// Builds the timeline from a child's frames: resolves site indexes to labels and lines,
// applies opens, closes and span updates, validates every record, and computes the stats.
import {
  OP_AGGREGATE, OP_AGGREGATE_END, OP_CLOSE, OP_DROPPED, OP_FLOATING, OP_OPEN, RECORD_WORDS, outcomeFromCode, type ChildMessage, type PendingMessage, type Site,
} from '../shared/runtimeProtocol';
import type { Language, LoopDelay, Mark, RunError, RunStatus, Span, SpanAggregate, Timeline, TimelineStats } from '../shared/timeline';
import { AggregateStore } from './aggregateStore';
import { MalformedStreamError, type Frame } from './frameDecoder';
import { SpanTable } from './spanTable';

export interface TimelineDelta {
  /** New spans and spans that changed (ended, relabelled), in their latest state. */
  spans: Span[];
  marks: Mark[];
  /** Delays of the event loop that were not the snippet's, new since the last delta. */
  delays: LoopDelay[];
  /** Whether the aggregates (spans past the budget) changed since the last delta: `aggregateList()`. */
  aggregatesChanged: boolean;
}

export class TimelineBuilder {
  private readonly sites: Site[] = [];
  private readonly spans = new SpanTable(this.sites);
  private readonly marks: Mark[] = [];
  /**
   * Whether takeDelta() will be asked for (someone shows the run live): only then are changed
   * spans remembered. A CLI run keeps no per-span bookkeeping beyond the spans themselves.
   */
  trackChanges = true;
  /** Stretches the event loop was late or held but not by the snippet (never blocks). */
  private readonly delays: LoopDelay[] = [];
  /** Block id -> the block it was split from. */
  private readonly continues = new Map<number, number>();
  private dirty = new Set<number>();
  private newMarks: Mark[] = [];
  private newDelays: LoopDelay[] = [];
  private aggregatesSent = 0;
  droppedSpans = 0;
  /** Spans past the run's budget, per site and parent in stretches of time. */
  readonly aggregates = new AggregateStore();
  /** An OP_AGGREGATE waiting for its OP_AGGREGATE_END (the pair may straddle two frames). */
  private openAggregate: { site: number; parentId: number; count: number; startMs: number } | undefined;
  started = false;
  /** The runtime said hello (it started and its channel works), whether or not the snippet then did. */
  saidHello = false;
  exit: { code: number; atMs: number } | undefined;
  compileError: RunError | undefined;
  internalError: string | undefined;
  flushed = false;
  /** The child's last end-of-run report of what was still waiting (exit or stop). */
  pendingReport: PendingMessage | undefined;

  constructor(readonly file: string, readonly language: Language) {}

  apply(frame: Frame): void {
    if (frame.type === 'events') this.applyRecords(frame.records);
    else this.applyMessage(frame.message);
  }

  /**
   * For the error only: the span's first opening against this one, and where this one is in its
   * batch (the same record again, in a later batch, is a batch sent twice: a fault of the runtime's).
   */
  private twiceWhy(id: number, parentId: number, r: Float64Array, i: number): string {
    const first = this.spans.get(id);
    const was = first ? `parent ${first.parentId ?? 0}, ${first.startMs.toFixed(3)} ms` : '?';
    return ` (first: ${was}; again: parent ${parentId}, site ${r[i + 3]}, ${r[i + 4].toFixed(3)} ms, record ${i / RECORD_WORDS} of ${r.length / RECORD_WORDS} in its batch, ${this.spans.size} spans so far, last id ${this.spans.maxId()})`;
  }

  private applyRecords(r: Float64Array): void {
    for (let i = 0; i < r.length; i += RECORD_WORDS) {
      const op = r[i];
      if (this.openAggregate && op !== OP_AGGREGATE_END) throw new MalformedStreamError('an aggregate without its end');
      if (op === OP_OPEN) {
        const id = r[i + 1];
        const parentId = r[i + 2];
        const site = this.sites[r[i + 3]];
        const start = r[i + 4];
        if (!Number.isInteger(id) || id <= 0) throw new MalformedStreamError(`bad span id ${id}`);
        if (this.spans.has(id)) throw new MalformedStreamError(`span id ${id} opened twice${this.twiceWhy(id, parentId, r, i)}`);
        if (!site) throw new MalformedStreamError(`unknown site ${r[i + 3]}`);
        if (!Number.isFinite(start)) throw new MalformedStreamError('bad start time');
        if (parentId !== 0 && !this.spans.has(parentId)) throw new MalformedStreamError(`unknown parent ${parentId}`);
        this.spans.open(id, parentId, r[i + 3], start);
        if (this.trackChanges) this.dirty.add(id);
      } else if (op === OP_CLOSE) {
        const id = r[i + 1];
        const outcome = outcomeFromCode(r[i + 2]);
        const turn = r[i + 3];
        if (outcome === undefined || outcome === 'pending' || !Number.isFinite(r[i + 4]) || !(turn >= 0) || !this.spans.close(id, outcome, r[i + 4], turn)) {
          throw new MalformedStreamError('bad close record');
        }
        if (this.trackChanges) this.dirty.add(id);
      } else if (op === OP_FLOATING) {
        if (!this.spans.setFloating(r[i + 1])) throw new MalformedStreamError('floating record of an unknown span');
        if (this.trackChanges) this.dirty.add(r[i + 1]);
      } else if (op === OP_DROPPED) {
        if (!Number.isInteger(r[i + 1]) || r[i + 1] < 0) throw new MalformedStreamError('bad dropped count');
        this.droppedSpans += r[i + 1];
      } else if (op === OP_AGGREGATE) {
        const site = r[i + 1];
        const parentId = r[i + 2];
        const count = r[i + 3];
        if (!this.sites[site]) throw new MalformedStreamError(`unknown site ${site}`);
        if (parentId !== 0 && !this.spans.has(parentId)) throw new MalformedStreamError(`unknown parent ${parentId}`);
        if (!Number.isInteger(count) || count < 0 || !Number.isFinite(r[i + 4])) throw new MalformedStreamError('bad aggregate');
        this.openAggregate = { site, parentId, count, startMs: r[i + 4] };
      } else if (op === OP_AGGREGATE_END) {
        const a = this.openAggregate;
        if (!a || !Number.isFinite(r[i + 1])) throw new MalformedStreamError('bad aggregate end');
        this.openAggregate = undefined;
        this.aggregates.add(a.site, a.parentId, a.count, a.startMs, Math.max(a.startMs, r[i + 1]));
        this.droppedSpans += a.count;
      } else {
        throw new MalformedStreamError(`unknown record ${op}`);
      }
    }
  }

  private applyMessage(m: ChildMessage): void {
    switch (m.type) {
      case 'started':
        this.started = true;
        break;
      case 'sites':
        if (m.base !== this.sites.length) throw new MalformedStreamError(`sites at ${m.base}, expected ${this.sites.length}`);
        // One by one: a spread of a module's whole table overflows the call stack past ~120,000 sites.
        for (const site of m.sites) this.sites.push(site);
        break;
      case 'label': {
        const known = this.spans.has(m.id);
        this.spans.setLabel(m.id, m.label);
        if (known && this.trackChanges) this.dirty.add(m.id);
        break;
      }
      case 'span': {
        const { type: _type, continues, ...span } = m;
        if (continues !== undefined) this.continues.set(span.id, continues);
        // An update of a span already known as not awaited stays so (Python sends spans whole).
        if (span.floating === undefined && this.spans.get(span.id)?.floating) span.floating = true;
        this.spans.set(span);
        if (this.trackChanges) this.dirty.add(span.id);
        break;
      }
      case 'mark': {
        const { type: _type, ...mark } = m;
        this.marks.push(mark);
        this.newMarks.push(mark);
        break;
      }
      case 'error':
        if (m.phase === 'compile') this.compileError = { message: m.message, line: m.line, column: m.column };
        else this.internalError = m.message;
        break;
      case 'exit':
        this.exit = { code: m.code, atMs: m.atMs };
        break;
      case 'flushed':
        this.flushed = true;
        break;
      case 'pending':
        this.pendingReport = m;
        break;
      case 'delay': {
        const { type: _type, ...delay } = m;
        this.delays.push(delay);
        if (this.trackChanges) this.newDelays.push(delay);
        break;
      }
      case 'hello':
        this.saidHello = true;
        break;
      case 'deadline': // the run's (Run ends it as a timeout)
        break;
    }
  }

  /** What changed since the last call. */
  takeDelta(): TimelineDelta {
    const spans: Span[] = [];
    for (const id of this.dirty) {
      const s = this.spans.get(id);
      if (s) spans.push({ ...s });
    }
    this.dirty = new Set();
    const marks = this.newMarks;
    this.newMarks = [];
    const delays = this.newDelays;
    this.newDelays = [];
    const aggregatesChanged = this.aggregates.version !== this.aggregatesSent;
    this.aggregatesSent = this.aggregates.version;
    return { spans, marks, delays, aggregatesChanged };
  }

  /** Spans in start order. */
  /** The lag probe's tick count when span `id` closed (OP_CLOSE's turn); 0 when not known. */
  closeTurn(id: number): number {
    return this.spans.turnOf(id);
  }

  allSpans(): Span[] {
    return this.spans.all().sort((a, b) => a.startMs - b.startMs || a.id - b.id);
  }

  allMarks(): Mark[] {
    return [...this.marks];
  }

  /** The block span still going, if any (what a stuck program is stuck on). */
  openBlock(): Span | undefined {
    for (const s of this.spans.objects.values()) if (s.kind === 'block' && s.endMs === null) return s;
    return undefined;
  }

  /** The first uncaught exception, as the run's error. */
  exception(): Mark | undefined {
    return this.marks.find((m) => m.kind === 'exception' || m.kind === 'unhandledRejection');
  }

  /**
   * Blocks are seen from another thread, to within a sampling period; the calls they sit in are
   * timed exactly. A block never starts before nor ends after its parent call, and a block split
   * from another starts where that one ended or where its own call began.
   */
  refineBlocks(endOfRunMs: number | undefined, thresholdMs: number): void {
    // Blocks come whole (JSON messages): these are the live objects.
    const ordered = this.spans.ofKind('block').sort((a, b) => a.startMs - b.startMs || a.id - b.id);
    this.callCache = undefined;
    for (const b of ordered) {
      if (b.endMs === null && endOfRunMs !== undefined) {
        // The program exited normally while we still saw it stuck: it was stuck until it exited.
        b.endMs = Math.max(b.startMs, endOfRunMs);
        b.outcome = 'fulfilled';
      }
      const parent = b.parentId === null ? undefined : this.spans.get(b.parentId);
      const from = this.continues.get(b.id);
      const prev = from === undefined ? undefined : this.spans.get(from);
      if (prev?.endMs != null) {
        // The loop was held all along: a block split off where the sample that saw the next call
        // was asked, which on a busy machine may be before that call began (the answer came in
        // it), ends no sooner than its own call when that call ended before this one's began.
        const prevCall = prev.parentId === null ? undefined : this.spans.get(prev.parentId);
        if (parent?.kind === 'call' && prevCall?.kind === 'call' && prevCall.endMs !== null && prevCall.endMs > prev.endMs && prevCall.endMs <= parent.startMs) {
          prev.endMs = prevCall.endMs;
        }
        b.startMs = prev.endMs!;
      }
      if (parent && parent.kind === 'call') {
        if (from === undefined && parent.startMs - b.startMs >= thresholdMs) {
          // The loop was held before this call began, and no sample answered in time to say
          // where (the first look is slow on a busy machine). When the same function called from
          // the same place ran then (two chefs spinning in turn), that stretch is its block too;
          // anything else there is only known to be since the probe's last tick, not a block.
          const headStart = b.startMs;
          b.startMs = parent.startMs;
          this.blockTail(b, parent, headStart, parent.startMs, thresholdMs);
        }
        b.startMs = Math.max(b.startMs, parent.startMs);
        if (parent.endMs !== null && b.endMs !== null && b.endMs > parent.endMs) {
          const tailEnd = b.endMs;
          b.endMs = parent.endMs;
          // The loop stayed held after this call returned, and no sample caught where (a loaded
          // machine answers late). When the same function called from the same place ran then
          // (two chefs spinning in turn), the rest is its block; anything else after the call is
          // only known to last until the probe's next tick — on a busy machine, the wait for a CPU
          // — and is not a block.
          this.blockTail(b, parent, parent.endMs, tailEnd, thresholdMs);
        }
      }
      if (b.endMs !== null && b.endMs < b.startMs) b.endMs = b.startMs;
      // The tail of a block split off by a sample, shorter than a block: not a block of its own.
      if (from !== undefined && b.endMs !== null && b.endMs - b.startMs < thresholdMs) {
        this.spans.delete(b.id);
      }
    }
    this.tidyBlocks(thresholdMs);
    this.removeToolTime();
    // What is left shorter than the threshold is not a block: blocks under it never appear.
    for (const b of this.spans.ofKind('block')) {
      if (b.endMs !== null && b.endMs - b.startMs < thresholdMs) this.spans.delete(b.id);
    }
  }

  /**
   * The runtime's own work (instrumenting a module the snippet loaded) is timed exactly by the
   * child: it is the tool's time, never the user's block. A block keeps only what lies outside it;
   * the longest piece left keeps the block's identity.
   */
  private removeToolTime(): void {
    const tool = this.delays.filter((d) => d.kind === 'instrumenting');
    if (tool.length === 0) return;
    for (const b of this.spans.ofKind('block')) {
      if (b.endMs === null) continue;
      let pieces: Array<[number, number]> = [[b.startMs, b.endMs]];
      for (const d of tool) {
        pieces = pieces.flatMap(([s, e]): Array<[number, number]> =>
          d.endMs <= s || d.startMs >= e ? [[s, e]] : ([[s, d.startMs], [d.endMs, e]] as Array<[number, number]>).filter(([a, z]) => z > a));
      }
      if (pieces.length === 1 && pieces[0]![0] === b.startMs && pieces[0]![1] === b.endMs) continue;
      if (pieces.length === 0) {
        this.spans.delete(b.id);
        continue;
      }
      pieces.sort((x, y) => (y[1] - y[0]) - (x[1] - x[0]));
      [b.startMs, b.endMs] = pieces[0]!;
      let id = this.spans.maxId();
      for (const [s, e] of pieces.slice(1)) this.spans.set({ ...b, id: ++id, startMs: s, endMs: e });
    }
  }

  /** Delays of the event loop that were not the snippet's (see `LoopDelay`), in start order. */
  allDelays(): LoopDelay[] {
    return [...this.delays].sort((a, b) => a.startMs - b.startMs);
  }

  /**
   * Samples of a long block taken on a loaded machine land on neighbouring lines (the closing
   * brace, the function's first line, its caller just before the call began): each block goes into
   * the deepest call that covers it, and touching blocks of one call merge when they are the same
   * line or one is a short sample; the longer piece names the result.
   */
  private tidyBlocks(thresholdMs: number): void {
    const blocks = this.spans.ofKind('block').filter((s) => s.endMs !== null);
    if (blocks.length === 0 || blocks.length > 500) return; // a flood of blocks: leave as measured
    const calls = this.calls();
    for (const b of blocks) {
      if (b.endMs! <= b.startMs) continue;
      const parent = b.parentId === null ? undefined : this.spans.get(b.parentId);
      const best = deepestCall(calls, b.startMs, b.endMs!, 0.9);
      if (best && best.id !== b.parentId && (!parent || best.startMs >= parent.startMs)) b.parentId = best.id;
    }
    const byParent = new Map<number | null, Span[]>();
    for (const b of blocks) {
      let list = byParent.get(b.parentId);
      if (!list) byParent.set(b.parentId, (list = []));
      list.push(b);
    }
    const len = (x: Span) => x.endMs! - x.startMs;
    for (const list of byParent.values()) {
      list.sort((a, b) => a.startMs - b.startMs);
      let cur = list[0]!;
      for (const next of list.slice(1)) {
        const touching = next.startMs <= cur.endMs! + 1;
        // One thread cannot block twice at once: overlapping blocks are one block seen twice (a
        // sampled one and a tail the last pass inferred).
        const overlapping = next.startMs < cur.endMs! - 1;
        const sameLine = next.line === cur.line && next.label === cur.label;
        if (overlapping || (touching && (sameLine || Math.min(len(cur), len(next)) < 2 * thresholdMs))) {
          const inferred = (x: Span) => x.label.startsWith('synchronous work');
          const longer = inferred(next) !== inferred(cur) ? (inferred(next) ? cur : next) : len(next) > len(cur) ? next : cur;
          cur.label = longer.label;
          cur.line = longer.line;
          cur.column = longer.column;
          cur.endMs = Math.max(cur.endMs!, next.endMs!);
          this.spans.delete(next.id);
        } else {
          cur = next;
        }
      }
    }
  }

  /**
   * A block's stretch [fromMs, toMs] that its call did not cover, given to the calls of the same
   * function from the same place that ran then (two chefs spinning in turn), with the block's label
   * and line. Nothing else is known of such a stretch but that the probe did not tick.
   */
  private blockTail(b: Span, parent: Span, fromMs: number, toMs: number, thresholdMs: number): void {
    for (let guard = 0; guard < 16 && toMs - fromMs >= thresholdMs; guard++) {
      const parentId = parent.id;
      const others = this.calls().filter((s) => s.id !== parentId);
      const host = deepestCall(others, fromMs, toMs, 0.5);
      if (!host || host.label !== parent.label || host.line !== parent.line || host.column !== parent.column) return;
      const id = this.spans.maxId() + 1;
      const endMs = Math.min(toMs, host.endMs ?? toMs);
      this.spans.set({
        id, parentId: host.id, kind: 'block', label: b.label, line: b.line, column: b.column,
        startMs: Math.max(fromMs, host.startMs), endMs, outcome: b.outcome,
      });
      parent = host;
      fromMs = endMs;
    }
  }

  private callCache: Span[] | undefined;
  /** The call spans (read only), made once per refineBlocks(). */
  private calls(): Span[] {
    return (this.callCache ??= this.spans.ofKind('call'));
  }

  build(status: RunStatus, exitCode: number | null, wallMs: number, error: RunError | null): Timeline {
    const spans = this.allSpans();
    const delays = this.allDelays();
    const stats = computeStats(spans, wallMs);
    if (delays.length > 0) stats.delayedMs = round(unionLength(delays.map((d) => [d.startMs, d.endMs])));
    return {
      version: 1,
      file: this.file,
      language: this.language,
      status,
      exitCode,
      wallMs,
      error,
      spans,
      marks: this.allMarks(),
      droppedSpans: this.droppedSpans,
      stats,
      ...(this.aggregates.size ? { aggregates: this.aggregateList() } : {}),
      ...(delays.length > 0 ? { delays } : {}),
    };
  }

  /** The aggregates as the timeline lists them: with their site's kind, label and place. */
  aggregateList(): SpanAggregate[] {
    return this.aggregates.rows().map((a) => {
      const site = this.sites[a.site]!;
      return {
        kind: site.kind, label: site.label, line: site.line, column: site.column,
        parentId: a.parentId === 0 ? null : a.parentId, count: a.count, startMs: a.startMs, endMs: a.endMs,
      };
    });
  }
}

/**
 * The call that covers at least `share` of [fromMs, toMs] and began last (the deepest: calls on
 * one thread nest), if any. A call still running covers up to `toMs`.
 */
function deepestCall(calls: Iterable<Span>, fromMs: number, toMs: number, share: number): Span | undefined {
  let best: Span | undefined;
  for (const c of calls) {
    const overlap = Math.min(toMs, c.endMs ?? toMs) - Math.max(fromMs, c.startMs);
    if (overlap >= share * (toMs - fromMs) && (!best || c.startMs > best.startMs)) best = c;
  }
  return best;
}

/** Length of the union of intervals. */
export function unionLength(intervals: Array<[number, number]>): number {
  intervals.sort((a, b) => a[0] - b[0]);
  let total = 0;
  let curStart = -Infinity;
  let curEnd = -Infinity;
  for (const [s, e] of intervals) {
    if (s > curEnd) {
      if (curEnd > curStart) total += curEnd - curStart;
      curStart = s;
      curEnd = e;
    } else if (e > curEnd) curEnd = e;
  }
  if (curEnd > curStart) total += curEnd - curStart;
  return total;
}

export function computeStats(spans: Span[], wallMs: number): TimelineStats {
  const end = (s: Span) => (s.endMs === null ? Math.max(wallMs, s.startMs) : s.endMs);
  const count = spans.length;
  const awaits: Span[] = [];
  const blocks: Span[] = [];
  const isAwait = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const s = spans[i];
    if (s.kind === 'await') {
      awaits.push(s);
      isAwait[i] = 1;
    } else if (s.kind === 'block') blocks.push(s);
  }

  // Each span's parent by position, found once: the ids records give are small integers (a typed
  // index, no Map entry per span for a million of them); larger ones (blocks) through a Map. Of
  // two spans with one id, the later is the one found, as a Map keyed by id would keep it.
  const small = 4 * count + 1024;
  const posBySmallId = new Int32Array(small);
  const posByLargeId = new Map<number, number>();
  for (let i = 0; i < count; i++) {
    const id = spans[i].id;
    if (id >= 0 && id < small && Number.isInteger(id)) posBySmallId[id] = i + 1;
    else posByLargeId.set(id, i);
  }
  const posOf = (id: number | null): number => {
    if (id === null) return -1;
    if (id >= 0 && id < small && Number.isInteger(id)) return posBySmallId[id] - 1;
    return posByLargeId.get(id) ?? -1;
  };
  // Innermost waits: awaits with no await inside them.
  const hasAwaitChild = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    if (!isAwait[i]) continue;
    for (let p = posOf(spans[i].parentId); p >= 0; p = posOf(spans[p].parentId)) {
      if (isAwait[p]) {
        if (hasAwaitChild[p]) break;
        hasAwaitChild[p] = 1;
      }
    }
  }
  const innermost: Span[] = [];
  for (let i = 0; i < count; i++) if (isAwait[i] && !hasAwaitChild[i]) innermost.push(spans[i]);
  // Starts and ends sorted apart (typed arrays sort numerically, without a comparator): at one
  // moment an end comes before a start, as a wait that ends lets the next one begin.
  let n = 0;
  for (const a of innermost) if (end(a) > a.startMs) n++;
  const starts = new Float64Array(n);
  const ends = new Float64Array(n);
  n = 0;
  for (const a of innermost) {
    const e = end(a);
    if (e <= a.startMs) continue;
    starts[n] = a.startMs;
    ends[n++] = e;
  }
  starts.sort();
  ends.sort();
  let live = 0;
  let maxConcurrency = 0;
  for (let i = 0, j = 0; i < n; ) {
    if (ends[j] <= starts[i]) {
      live--;
      j++;
    } else {
      live++;
      i++;
      if (live > maxConcurrency) maxConcurrency = live;
    }
  }
  return {
    wallMs,
    awaitedMs: round(sweptUnion(awaits, end)),
    blockedMs: round(sweptUnion(blocks, end)),
    maxConcurrency,
  };
}

/**
 * unionLength() of the spans' intervals, for many spans: starts and ends sorted apart, a stretch
 * begins where none was open and ends where the last closes (touching intervals are one stretch),
 * and each stretch adds end − start, as unionLength adds them.
 */
function sweptUnion(spans: readonly Span[], end: (s: Span) => number): number {
  const n = spans.length;
  const starts = new Float64Array(n);
  const ends = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    starts[k] = spans[k].startMs;
    ends[k] = end(spans[k]);
  }
  starts.sort();
  ends.sort();
  let total = 0;
  let open = 0;
  let from = 0;
  for (let i = 0, j = 0; j < n; ) {
    if (i < n && starts[i] <= ends[j]) {
      if (open++ === 0) from = starts[i];
      i++;
    } else {
      if (--open === 0 && ends[j] > from) total += ends[j] - from;
      j++;
    }
  }
  return total;
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;
