// The in-process recorder that instrumented code calls as `__awt$`: it keeps the current span
// across calls, awaits, yields and callbacks, and turns them into records on the transport.
// Hot paths allocate nothing once a site is past its cap: a loop of a million awaits costs a
// counter increment per await after the first `maxSpansPerSite`.
import {
  OP_AGGREGATE, OP_AGGREGATE_END, OP_CLOSE, OP_DROPPED, OP_FLOATING, OP_OPEN, OUTCOME_FULFILLED, OUTCOME_REJECTED,
} from '../shared/runtimeProtocol';
import { grown } from '../shared/columns';
import {
  ArrayIsArray, ArrayPrototypeJoin, ArrayPrototypePush, JSONParse, JSONStringify, MathMax, MathMin, PromiseCtor, PromisePrototypeThen,
  performanceNow, ReflectApply, StringPrototypeLastIndexOf, StringPrototypeSlice, StringPrototypeStartsWith, SymbolAsyncIterator, SymbolIterator, timeOrigin,
} from './primordials';
import type { FloatingReport, PendingMessage } from '../shared/runtimeProtocol';
import type { RuntimeSite } from './transform';
import type { ChildTransport } from './transport';
import { isPromise, promiseState, stampCreated, stampMembers, stampReturned, waitTarget } from './pending';

/** Sync calls shorter than this with no recorded child are not spans. */
const SYNC_CALL_MIN_MS = 1;
const RESOLVED = PromiseCtor.resolve();

/** A span in the making. id 0: not sent yet (lazy sync call); > 0: sent. */
export class Handle {
  id = 0;
  /** An await's: the value it awaits, while it is suspended on it (what a pending one waits on). */
  v: unknown = undefined;
  /** An await's neighbours in the recorder's list of open awaits (read only at the end of a run). */
  nx: Handle | null = null;
  pv: Handle | null = null;
  /**
   * 1: a call that ended while the stack was full, before leave() could record it (the injected
   * code sets it; see Recorder.leave). It stays `current` until the recorder finishes it.
   */
  late = 0;
  constructor(
    readonly site: number,
    readonly start: number,
    readonly parent: Handle | null,
  ) {}
}

/** The state of one invocation of an instrumented function (or of the module's top level). */
export class Frame extends Handle {
  // Spelled out: the implicit derived constructor spreads its arguments through Array's iterator.
  constructor(site: number, start: number, parent: Handle | null) {
    super(site, start, parent);
  }
  /** false: past its site's cap; its work is attributed to `parent`. */
  recorded = true;
  /**
   * 0: enter() found the stack full. The injected code then calls no b() for this invocation's
   * awaits until one resumes: b() would be the call that overflows, in the tool's code, where
   * node's recursion overflows in the program's next call.
   */
  room = 1;
  /** What becomes current again when this invocation suspends or ends. */
  prev: Handle | null = null;
  /** The await (or for-await step) this invocation is waiting on; SKIPPED when not recorded. */
  aw: Handle | null = null;
  /** Awaits evaluated inside another await's argument: the outer ones. */
  awOuter: Array<Handle | null> | null = null;
  suspended = false;
  /** Until ok() says otherwise, a call that ends has thrown. */
  failed = true;
  returned: unknown = undefined;
  /** 1: `returned` is the promise of the call the return statement just made (see Recorder.pc). */
  rc = 0;
  /** An async call that returned a promise: that promise, until it settles. */
  waitsOn: unknown = undefined;
  /** The aggregate slot an unrecorded async call is counted in (its end moves the aggregate's end); -1: none. */
  slot = -1;
  /** The aggregates' generation that slot belongs to. */
  slotGen = 0;
  /** The parent id of that aggregate. */
  slotParent = 0;
  /** The aggregate the current unrecorded await (aw === SKIPPED) is counted in; -1: none. */
  awSlot = -1;
  awGen = 0;
  awSite = 0;
  awParent = 0;
  a0: unknown; a1: unknown; a2: unknown; a3: unknown;
}

/** Stands for a call that entered while the stack was full: not recorded, and leave() skips it. */
const LOST = new Frame(-1, 0, null);
LOST.recorded = false;
LOST.room = 0;
LOST.id = -1;

/** Stands for an await past its site's cap. */
const SKIPPED = new Handle(-1, 0, null);

export interface RecorderOptions {
  maxSpansPerSite: number;
  /** The run's span budget: past it, spans are counted per site and parent (aggregates). */
  maxSpans?: number;
}

/** The aggregates' time bins: their width's bounds, and the pairs per bin that widen or narrow them. */
const MIN_BIN_MS = 10;
const MAX_BIN_MS = 1000;
const BIN_PAIRS_HIGH = 2048;
const BIN_PAIRS_LOW = 256;

/** Caps on what the end-of-run report lists. */
const MAX_FLOATING = 200;
const MAX_CLEARED = 200;
const MAX_REPORTED = 500;

/**
 * Spans past the run's budget, counted per (site, parent) since the last flush: each flush sends
 * one OP_AGGREGATE per pair, so the flushes (the lag probe's 10 ms ticks, full buffers, exit) are
 * the aggregates' time bins. Columns grow by doubling; nothing is allocated per counted span.
 */
// A snippet may replace Math.imul: the recorder keeps its own.
const MathImul = Math.imul;

/** The slot table's entries: a pair's slot made by add() (a new aggregate), or by end() alone (count 0). */
const COUNTED = 0;
const END_ONLY = 1;

export class Aggregates {
  /**
   * Each site's pair of this generation (the common case: one parent per site and flush), read
   * without a lookup: cachedGen[site] === gen + 1 when cachedParent/cachedSlot hold one.
   */
  private cachedGen = new Int32Array(256);
  private cachedParent = new Float64Array(256);
  private cachedSlot = new Int32Array(256);
  /**
   * Every pair's slot of this generation, by (site, parent, kind): an open-addressing table in
   * typed arrays, exact for any parent id (a number key made of both lost the site past parent id
   * 2^21, and the end went to another pair), and no Map entry per pair and flush. An entry is live
   * while tGen === gen + 1: a flush empties the table by bumping gen, and within a generation
   * nothing is removed, so a probe stops at the first entry that is not live.
   */
  private tGen = new Int32Array(1024);
  private tSite = new Int32Array(1024);
  private tParent = new Float64Array(1024);
  private tKind = new Uint8Array(1024);
  private tSlot = new Int32Array(1024);
  /** Live entries in the table. */
  private entries = 0;
  /** Bumped by each flush: a slot from before it is stale. */
  gen = 0;
  site = new Int32Array(64);
  parent = new Float64Array(64);
  count = new Float64Array(64);
  first = new Float64Array(64);
  last = new Float64Array(64);
  n = 0;

  constructor(private readonly clock: () => number) {}

  /** Room for `sites` sites. */
  sites(sites: number): void {
    if (sites <= this.cachedGen.length) return;
    const n = MathMax(sites, this.cachedGen.length * 2);
    this.cachedGen = grown(this.cachedGen, n);
    this.cachedParent = grown(this.cachedParent, n);
    this.cachedSlot = grown(this.cachedSlot, n);
  }

  /**
   * Counts one span of `site` under span `parentId`; returns its slot for end() (with `gen`).
   * The clock is read only for a new slot (its first start): a counted span's time is its end's,
   * read once, by end(). `before` is a time the span began at or after (the recorder's last clock
   * reading): the slot's extent covers spans that never end.
   */
  add(site: number, parentId: number, before: number): number {
    let i: number;
    if (this.cachedGen[site] === this.gen + 1 && this.cachedParent[site] === parentId) i = this.cachedSlot[site];
    else i = this.lookup(site, parentId);
    this.count[i]++;
    if (before > this.last[i]) this.last[i] = before;
    return i;
  }

  /** The slot of (site, parent) in this generation, made if there is none (its first start read now). */
  private lookup(site: number, parentId: number): number {
    let i = this.find(site, parentId, COUNTED);
    if (i < 0) {
      i = this.slot(site, parentId, this.clock());
      this.insert(site, parentId, COUNTED, i);
    }
    this.cachedGen[site] = this.gen + 1;
    this.cachedParent[site] = parentId;
    this.cachedSlot[site] = i;
    return i;
  }

  /**
   * A counted span ended at `t` (`slot` and `gen` from add()). When its aggregate went out with a
   * flush since, the pair's aggregate of this generation takes the end, or, if it has none, an
   * aggregate of 0 spans carries it (the engine extends the pair's last one).
   */
  end(slot: number, gen: number, site: number, parentId: number, t: number): void {
    let i: number;
    if (gen === this.gen) i = slot;
    else if (this.cachedGen[site] === this.gen + 1 && this.cachedParent[site] === parentId) i = this.cachedSlot[site];
    else {
      i = this.find(site, parentId, COUNTED);
      if (i < 0) i = this.find(site, parentId, END_ONLY);
      if (i < 0) {
        i = this.slot(site, parentId, t);
        this.insert(site, parentId, END_ONLY, i);
      }
    }
    if (t > this.last[i]) this.last[i] = t;
  }

  /** Where the probe for (site, parent, kind) starts. */
  private home(site: number, parentId: number, kind: number): number {
    // The parent id's low and high 32 bits (a listed span's id can pass 2^32 in a long run).
    const h = MathImul(site ^ MathImul(kind + 1, 0x27d4eb2d), 0x9e3779b1) ^ MathImul((parentId | 0) ^ ((parentId / 4294967296) | 0), 0x85ebca6b);
    return (h ^ (h >>> 15)) & (this.tGen.length - 1);
  }

  /** The slot of (site, parent, kind) in this generation; -1: none. */
  private find(site: number, parentId: number, kind: number): number {
    const live = this.gen + 1;
    const mask = this.tGen.length - 1;
    for (let k = this.home(site, parentId, kind); this.tGen[k] === live; k = (k + 1) & mask) {
      if (this.tSite[k] === site && this.tParent[k] === parentId && this.tKind[k] === kind) return this.tSlot[k];
    }
    return -1;
  }

  private insert(site: number, parentId: number, kind: number, slot: number): void {
    if (2 * (this.entries + 1) > this.tGen.length) this.growTable();
    const live = this.gen + 1;
    const mask = this.tGen.length - 1;
    let k = this.home(site, parentId, kind);
    while (this.tGen[k] === live) k = (k + 1) & mask;
    this.tGen[k] = live;
    this.tSite[k] = site;
    this.tParent[k] = parentId;
    this.tKind[k] = kind;
    this.tSlot[k] = slot;
    this.entries++;
  }

  /** Twice the room, this generation's entries placed again (the others are dropped). */
  private growTable(): void {
    const live = this.gen + 1;
    const tGen = this.tGen;
    const tSite = this.tSite;
    const tParent = this.tParent;
    const tKind = this.tKind;
    const tSlot = this.tSlot;
    const n = tGen.length * 2;
    this.tGen = new Int32Array(n);
    this.tSite = new Int32Array(n);
    this.tParent = new Float64Array(n);
    this.tKind = new Uint8Array(n);
    this.tSlot = new Int32Array(n);
    this.entries = 0;
    for (let k = 0; k < tGen.length; k++) {
      if (tGen[k] === live) this.insert(tSite[k], tParent[k], tKind[k], tSlot[k]);
    }
  }

  private slot(site: number, parentId: number, t: number): number {
    if (this.n === this.site.length) this.grow();
    const i = this.n++;
    this.site[i] = site;
    this.parent[i] = parentId;
    this.count[i] = 0;
    this.first[i] = t;
    this.last[i] = t;
    return i;
  }

  private grow(): void {
    const n = this.site.length * 2;
    this.site = grown(this.site, n);
    this.parent = grown(this.parent, n);
    this.count = grown(this.count, n);
    this.first = grown(this.first, n);
    this.last = grown(this.last, n);
  }

  clear(): void {
    this.entries = 0;
    this.n = 0;
    this.gen++;
  }
}



export class Recorder {
  /** What new spans are children of. */
  current: Handle | null = null;
  /** What the injected code uses as its frame when enter() could not be called (a full stack). */
  readonly L: Frame = LOST;
  /** The call enter() is recording, until it returns (see enter). */
  private entering: Frame | null = null;
  t0 = 0;
  private nextId = 0;
  private siteTable: RuntimeSite[] = [];
  private counts = new Uint32Array(256);
  private dropped = 0;
  private cap: number;
  /** Spans listed so far, and how many the run may list. */
  private listed = 0;
  private budget: number;
  private readonly aggregates = new Aggregates(() => this.clock());
  /** The recorder's last reading of the clock. */
  private lastT = 0;
  /** Combinator spans whose argument list is being evaluated. */
  private combinators: Array<{ h: Handle | null; before: Handle | null }> = [];
  /** The array an awaited combinator was given, until cc() takes it. */
  private members: unknown[] | null = null;
  /** Site given by instrumented code just before it calls a timer function. */
  pendingTimerSite = -1;
  /** Head of the list of open await spans (a sentinel): linked in b(), unlinked when they resume. */
  private readonly openAwaits = new Handle(-1, 0, null);
  /** The frame that last suspended or ended: right after a call returns, the callee's. */
  private lastFrame: Frame | null = null;
  /** Head of the list of async calls whose returned promise is still pending (a sentinel). */
  private readonly returning = new Handle(-1, 0, null);
  /** Promises calls returned that nobody awaited, returned, chained or stored (the first ones). */
  private readonly floating: Array<{ site: number; p: Promise<unknown>; frame: Frame | null }> = [];
  /** Timers the program cleared: span id and where. */
  private readonly cleared: Array<{ id: number; line: number; column: number }> = [];
  /** Called when a module's code starts (it registers its sites first). */
  onModuleStart: (() => void) | null = null;
  /** The site of the await that began last: names a loop of awaits that starves the event loop. */
  private lastAwait = -1;
  /** Awaits begun so far: rising while the loop does not turn means awaits starve it. */
  private awaitCount = 0;
  /** Each site's file (a site table entry has none: files come with each module's table). */
  private siteFiles: string[] = [];
  /** Absolute time of the lag probe's last tick, as this thread wrote it (the watchdog compares). */
  tickAt = 0;
  /** The lag probe's ticks so far, from 1: each close carries it (OP_CLOSE's turn). */
  turn = 1;
  /** What the runtime is doing on this thread on its own account (instrumenting a module), or ''. */
  toolWork = '';
  /** This thread's CPU time in ms (-1 unknown), for the watchdog's samples (set by the bootstrap). */
  cpuNow: () => number = () => -1;
  /** How many times the program has read the wall clock (see patchClockReads); the watchdog's samples say it. */
  clockReads: () => number = () => 0;

  constructor(private readonly transport: ChildTransport, private readonly now: () => number, options: RecorderOptions) {
    this.cap = options.maxSpansPerSite;
    this.budget = options.maxSpans ?? Infinity;
  }

  /** Reads the clock (ms since the run's start). */
  private clock(): number {
    return (this.lastT = this.now());
  }

  configure(options: RecorderOptions): void {
    this.cap = options.maxSpansPerSite;
    this.budget = options.maxSpans ?? Infinity;
  }

  /** Registers a module's site table; returns the base index its code adds to local indexes. */
  sites(json: string, file: string): number {
    const local = JSONParse(json) as RuntimeSite[];
    const base = this.siteTable.length;
    const sent: Array<Pick<RuntimeSite, 'kind' | 'label' | 'line' | 'column' | 'callLabel'>> = [];
    for (let i = 0; i < local.length; i++) {
      const s = local[i];
      // A function whose calls are all labelled alike: the engine labels them from the site, and
      // a call that becomes a span sends no label of its own (see materialize).
      if (s.fn !== undefined && sameLabelEveryCall(s)) s.callLabel = callLabelOf(s, undefined, undefined, undefined, undefined);
      ArrayPrototypePush(this.siteTable, s);
      ArrayPrototypePush(this.siteFiles, file);
      sent[i] = s.callLabel === undefined
        ? { kind: s.kind, label: s.label, line: s.line, column: s.column }
        : { kind: s.kind, label: s.label, line: s.line, column: s.column, callLabel: s.callLabel };
    }
    this.aggregates.sites(this.siteTable.length);
    if (this.siteTable.length > this.counts.length) {
      this.counts = grown(this.counts, MathMax(this.siteTable.length, this.counts.length * 2));
    }
    this.transport.send({
      type: 'sites', base, file,
      sites: sent,
    });
    this.onModuleStart?.();
    return base;
  }

  top(): Frame {
    const f = new Frame(-1, 0, null);
    f.recorded = false;
    f.id = -1;
    return f;
  }

  /**
   * Counts one more span of `site`; false when past its site's cap or the run's budget. Past the
   * cap the span is only counted (OP_DROPPED); past the budget the caller counts it in an
   * aggregate (aggregate()).
   */
  private admit(site: number): boolean {
    if (this.counts[site]++ < this.cap) {
      if (this.listed < this.budget) {
        this.listed++;
        return true;
      }
      return false;
    }
    this.dropped++;
    return false;
  }

  /** The parent id of the last aggregate() call. */
  private aggParent = 0;

  /** A span of `site` not listed because of the budget (not the cap): counted in its aggregate. */
  private aggregate(site: number, parent: Handle | null): number {
    if (this.listed < this.budget) return -1; // past its site's cap: only counted
    let p = parent;
    while (p !== null && p.id <= 0) p = p.parent;
    const parentId = (this.aggParent = p === null ? 0 : p.id);
    return this.aggregates.add(site, parentId, this.lastT);
  }

  /** A span counted past the budget whose end is never reported (timers, combinators): its start is read. */
  private aggregateStart(site: number, parent: Handle | null): void {
    const slot = this.aggregate(site, parent);
    if (slot >= 0) this.aggregates.end(slot, this.aggregates.gen, site, this.aggParent, this.clock());
  }

  /** Non-zero while materialize() sends spans (see where()). */
  private materializing = 0;

  private materialize(h: Handle): number {
    if (h.id !== 0) return h.id;
    this.materializing++;
    try {
      const parentId = h.parent ? this.materialize(h.parent) : 0;
      // The id is taken once its record is written: a full stack can make record() throw, and a
      // span must not close that never opened.
      const id = this.nextId + 1;
      this.transport.record(OP_OPEN, id, parentId, h.site, h.start);
      this.nextId = h.id = id;
      if (h instanceof Frame && this.siteTable[h.site].callLabel === undefined) {
        this.transport.send({ type: 'label', id, label: callLabelOf(this.siteTable[h.site], h.a0, h.a1, h.a2, h.a3) });
      }
      return id;
    } finally {
      this.materializing--;
    }
  }

  private closeSpan(h: Handle, outcome: number): void {
    if (h.id > 0) this.transport.record(OP_CLOSE, h.id, outcome, this.turn, this.clock());
  }

  private open(site: number, parent: Handle | null): Handle {
    const h = new Handle(site, this.clock(), parent);
    this.materialize(h);
    return h;
  }

  // ---- calls -------------------------------------------------------------------------------

  enter(site: number, a0?: unknown, a1?: unknown, a2?: unknown, a3?: unknown): Frame {
    this.entering = null;
    try {
      return this.enterNow(site, a0, a1, a2, a3);
    } catch {
      // The stack is full (no test of the error: even `instanceof` is a call, and would throw
      // again). Node would throw at the call's own first line, not in the tool's code:
      // so the call goes on unrecorded (its span, if already sent, is kept and ends as usual),
      // and the recursion overflows where node's does, in the program's code.
      const f = this.entering as Frame | null;
      if (f !== null && f.id > 0) {
        f.room = 0;
        this.current = f;
        return f;
      }
      LOST.prev = this.current;
      return LOST;
    }
  }

  private enterNow(site: number, a0: unknown, a1: unknown, a2: unknown, a3: unknown): Frame {
    if (this.lateChains.length !== 0 || (this.current !== null && this.current.late !== 0)) this.finishLate();
    const parent = this.current;
    if (!this.admit(site)) {
      const f = new Frame(site, 0, parent);
      f.recorded = false;
      f.id = -1;
      f.prev = parent;
      // Async and generator calls are always spans: past the budget they are counted; a
      // synchronous call would only be one if it held the thread, which is not timed here.
      if (this.siteTable[site].fn) {
        f.slot = this.aggregate(site, parent);
        f.slotGen = this.aggregates.gen;
        f.slotParent = this.aggParent;
      }
      else if (this.listed >= this.budget) this.dropped++;
      // The work of an uncounted call belongs to its caller.
      return f;
    }
    const f = new Frame(site, this.clock(), parent);
    f.prev = parent;
    f.a0 = a0; f.a1 = a1; f.a2 = a2; f.a3 = a3;
    this.entering = f;
    if (this.siteTable[site].fn) this.materialize(f); // async and generator calls are always spans
    this.current = f;
    return f;
  }

  /** The call returns `value` (or falls off its end): it did not throw. */
  ok(f: Frame, value?: unknown): unknown {
    f.failed = false;
    f.returned = value;
    return value;
  }

  leave(f: Frame): void {
    if (f === LOST) return;
    try {
      if (this.current !== f || this.lateChains.length !== 0) this.finishLate();
      const callee = this.lastFrame;
      // Still suspended: an await rejected and the error left the function from there.
      if (f.suspended) this.resume(f, OUTCOME_REJECTED);
      this.current = f.prev;
      this.lastFrame = f;
      // The call the return statement made, if it is the last one that left (or suspended).
      this.finish(f, callee !== null && callee !== f && callee.prev === f ? callee : null);
    } catch {
      // The stack is full (as in enter, the error is not looked at): a recursion that overflowed is unwinding, and every call this near
      // its end throws, in node's code as in ours. A throw from here would make the program's
      // call reject where node's returns; so this call stays current, marked, and is finished by
      // the next hook with room to spare (or at the end of the run), innermost first.
      if (f.recorded) {
        f.late = 1;
        const c = this.current;
        if (c === null || c.late === 0) this.current = f;
      }
    }
  }

  /** Calls that ended late and were current when their caller suspended (see s), innermost first. */
  private lateChains: Handle[] = [];

  /** Finishes the calls that ended while the stack was full, innermost first (see leave). */
  private finishLate(): void {
    const later = this.lateChains;
    while (later.length !== 0) {
      for (let c: Handle | null = later[later.length - 1]; c !== null && c.late !== 0; c = (c as Frame).prev) {
        const f = c as Frame;
        this.finish(f, null);
        f.late = 0;
      }
      later.length--;
    }
    for (let c = this.current; c !== null && c.late !== 0; c = this.current) {
      const f = c as Frame;
      this.finish(f, null);
      f.late = 0;
      this.current = f.prev;
      this.lastFrame = f;
    }
  }

  private finish(f: Frame, callee: Frame | null): void {
    if (!f.recorded) {
      if (f.slot >= 0) this.aggregates.end(f.slot, f.slotGen, f.site, f.slotParent, this.clock());
      return;
    }
    const outcome = f.failed ? OUTCOME_REJECTED : OUTCOME_FULFILLED;
    if (f.id === 0) {
      // A synchronous call no child needed: a span only if it held the thread long enough.
      if (this.clock() - f.start < SYNC_CALL_MIN_MS) return;
      this.materialize(f);
    }
    const r = f.returned;
    if (!f.failed && r instanceof PromiseCtor && this.siteTable[f.site].fn === 1) {
      // `return promise` from an async function: the call ends when that promise settles.
      // The async function adopts it anyway, so observing it changes no handled-ness or order.
      if (f.rc !== 0 && callee !== null) this.pcOf(r, callee);
      f.waitsOn = r;
      if (f.pv === null) this.linkReturning(f);
      // Unless r is the promise of a call just made that did not throw, r may be rejected: a
      // handler attached now, in a stack a deep recursion may have nearly filled, would make
      // node's rejection tracking run here and overflow ("Exception in PromiseRejectCallback",
      // once per level). A tick later the stack is empty; the span still ends before the
      // caller's promise does.
      const surelyPending = f.rc !== 0 && callee !== null && !callee.failed;
      const settle = (outcome: number) => () => {
        this.unlink(f);
        f.waitsOn = undefined;
        this.closeSpan(f, outcome);
      };
      if (surelyPending) PromisePrototypeThen(r, settle(OUTCOME_FULFILLED), settle(OUTCOME_REJECTED));
      else PromisePrototypeThen(RESOLVED, () => PromisePrototypeThen(r, settle(OUTCOME_FULFILLED), settle(OUTCOME_REJECTED)));
      // Last: finish() runs again for this call if the stack ran out before here.
      f.returned = undefined;
      return;
    }
    this.closeSpan(f, outcome);
  }

  // ---- awaits ------------------------------------------------------------------------------

  /** Before the awaited expression is evaluated: the await span begins. */
  b(f: Frame, site: number): void {
    // A call enter() could not record (the stack was full): its awaits are not recorded either.
    if (f === LOST) return;
    if (this.lateChains.length !== 0 || (this.current !== null && this.current.late !== 0)) {
      // Maybe at the bottom of a recursion that is about to overflow: the program's next call
      // must be what overflows, as under node, not this hook (see s).
      try {
        this.finishLate();
      } catch {
        // still late: the next hook with room finishes them
      }
    }
    this.lastAwait = site;
    this.awaitCount++;
    if (f.aw !== null) {
      // Stored, not pushed: push is a call, and the stack may be full here.
      const outer = (f.awOuter ??= []);
      outer[outer.length] = f.aw;
    }
    let h: Handle | null = null;
    try {
      if (this.admit(site)) h = this.open(site, this.current);
    } catch {
      // The stack is full: this await goes unrecorded (its open record was not written).
      f.aw = SKIPPED;
      f.awSlot = -1;
      return;
    }
    if (h !== null) {
      const head = this.openAwaits;
      h.pv = head;
      h.nx = head.nx;
      if (head.nx !== null) head.nx.pv = h;
      head.nx = h;
      f.aw = h;
      this.current = h;
    } else {
      f.aw = SKIPPED;
      f.awSlot = -1;
      try {
        f.awSlot = this.aggregate(site, this.current);
      } catch {
        return; // the stack is full: not counted
      }
      f.awGen = this.aggregates.gen;
      f.awSite = site;
      f.awParent = this.aggParent;
    }
  }

  /** The expression is evaluated; the function suspends: its caller's context comes back. */
  s(f: Frame, value: unknown): unknown {
    const c = this.current;
    if (c !== null && c.late !== 0) {
      // Right after the program's call returned, perhaps out of a recursion that overflowed: a
      // throw from here would reject the program's function where node's awaits (see leave), so
      // s() makes no call. The calls that ended late are finished by the next hook (finishLate).
      const later = this.lateChains;
      later[later.length] = c;
    }
    f.suspended = true;
    this.current = f.prev;
    this.lastFrame = f;
    const h = f.aw;
    if (h !== null && h !== SKIPPED) h.v = value;
    return value;
  }

  /** Execution resumed after the await. */
  r(f: Frame, value: unknown): unknown {
    if (f.recorded) f.room = 1; // resumed: on a stack of its own
    this.resume(f, OUTCOME_FULFILLED);
    return value;
  }

  private resume(f: Frame, outcome: number): void {
    f.prev = this.current;
    f.suspended = false;
    const h = f.aw;
    if (h !== null && h !== SKIPPED) {
      h.v = undefined;
      if (h.pv !== null) this.unlink(h);
      this.closeSpan(h, outcome);
    } else if (h === SKIPPED && f.awSlot >= 0) {
      this.aggregates.end(f.awSlot, f.awGen, f.awSite, f.awParent, this.clock());
      f.awSlot = -1;
    }
    const outer = f.awOuter && f.awOuter.length ? f.awOuter.pop()! : null;
    f.aw = outer;
    this.current = outer && outer !== SKIPPED ? outer : f.recorded ? f : f.parent;
  }

  /** At the top of a catch or finally block: if we got here from a rejected await, it ended now. */
  caught(f: Frame): void {
    if (f.suspended) this.resume(f, OUTCOME_REJECTED);
  }

  /** Yield: suspend (ys) and resume (y). */
  ys(f: Frame, value: unknown): unknown {
    return this.s(f, value);
  }

  y(f: Frame, value: unknown): unknown {
    f.prev = this.current;
    f.suspended = false;
    this.current = f.recorded ? f : f.parent;
    return value;
  }

  /**
   * for await: each step of the loop is an await span from next() to the loop body. The iterator
   * is wrapped as the language would use it: its iterator method and `next` read once, `return`
   * and `throw` read only when the loop closes, every call with the arguments it was given.
   */
  fa(f: Frame, site: number, iterable: any): unknown {
    if (iterable == null) return iterable; // let the language throw its own TypeError
    const rec = this;
    let key: symbol = SymbolAsyncIterator;
    let method = iterable[SymbolAsyncIterator];
    if (method == null) {
      key = SymbolIterator;
      method = iterable[SymbolIterator];
    }
    if (typeof method !== 'function') return iterable;
    const forward = (it: any, name: 'return' | 'throw') => {
      const m = it[name];
      if (typeof m !== 'function') return m; // absent, or not callable: the language says so
      return function (this: unknown) {
        return ReflectApply(m, it, arguments);
      };
    };
    const open = function (this: unknown) {
      const it = ReflectApply(method, iterable, arguments);
      if (it === null || (typeof it !== 'object' && typeof it !== 'function')) return it;
      const next = it.next;
      if (typeof next !== 'function') return it;
      return {
        next(this: unknown) {
          if (f.suspended) rec.resume(f, OUTCOME_FULFILLED);
          rec.b(f, site);
          try {
            return ReflectApply(next, it, arguments);
          } finally {
            rec.s(f, undefined);
          }
        },
        get return() {
          return forward(it, 'return');
        },
        get throw() {
          return forward(it, 'throw');
        },
      };
    };
    return { [key]: open };
  }

  /** Loop body start and loop end of a for await. */
  fr(f: Frame): void {
    if (f.suspended) this.resume(f, OUTCOME_FULFILLED);
  }

  // ---- where promises come from (read at the end: see pending.ts) ----------------------------

  private linkReturning(f: Frame): void {
    const head = this.returning;
    f.pv = head;
    f.nx = head.nx;
    if (head.nx !== null) head.nx.pv = f;
    head.nx = f;
  }

  /** Takes a handle out of the list it is in (open awaits, or calls returning a promise). */
  private unlink(h: Handle): void {
    if (h.pv === null) return;
    h.pv.nx = h.nx;
    if (h.nx !== null) h.nx.pv = h.pv;
    h.pv = h.nx = null;
  }

  /** `new Promise(…)` of the snippet at `site`. */
  np(site: number, p: unknown): unknown {
    stampCreated(p, site);
    return p;
  }

  /** A call of an async function the snippet declares, whose promise is kept for later. */
  pc(p: unknown): unknown {
    const f = this.lastFrame;
    try {
      if (f !== null) this.pcOf(p, f);
    } catch {
      // Right after the program's call returned, maybe out of a recursion that overflowed: a
      // throw here would reject the program's function where node's goes on. Not stamped.
    }
    return p;
  }

  private pcOf(p: unknown, f: Frame): void {
    if (f.id > 0 && this.siteTable[f.site].fn === 1) stampReturned(p, f);
  }

  /** A call whose value is dropped (an expression statement): a promise there floats. */
  fl(site: number, v: unknown, known: number): unknown {
    if (typeof v === 'object' && v !== null) {
      try {
        if (!isPromise(v)) return v;
        const f = known ? this.lastFrame : null;
        // Every listed call whose promise is dropped is drawn in the chart's "Not awaited" lane; the
        // first MAX_FLOATING are also kept to say, at the end, which were still running or rejected.
        if (f !== null && f.id > 0 && this.siteTable[f.site].fn === 1) this.transport.record(OP_FLOATING, f.id, 0, 0, 0);
        if (this.floating.length < MAX_FLOATING) {
          if (f !== null) this.pc(v);
          ArrayPrototypePush(this.floating, { site, p: v as Promise<unknown>, frame: f !== null && f.id > 0 ? f : null });
        }
      } catch {
        // The stack is full (a recursion that overflowed is unwinding): the program's statement
        // goes on as under node, where nothing is called after its call; this one is not listed.
      }
    }
    return v;
  }

  /** A timer span the program cleared, and where it did. */
  noteCleared(h: Handle, at: { line: number; column: number } | undefined): void {
    if (h.id > 0 && at && this.cleared.length < MAX_CLEARED) ArrayPrototypePush(this.cleared, { id: h.id, line: at.line, column: at.column });
  }

  /** What every open await waits on, every floating promise's state: sent once, at exit or stop. */
  reportPending(at: 'exit' | 'stop', finishLate = true): void {
    if (this.transport.busy) return;
    if (finishLate) this.finishLate();
    const siteAt = (i: number) => this.siteTable[i];
    const waits: PendingMessage['waits'] = [];
    // Index loops and primordials: the program may have replaced Array.prototype's methods by now.
    for (let h = this.openAwaits.nx; h !== null && waits.length < MAX_REPORTED; h = h.nx) {
      if (h.id > 0) ArrayPrototypePush(waits, { id: h.id, on: waitTarget(h.v, siteAt) });
    }
    const returns: PendingMessage['returns'] = [];
    for (let f = this.returning.nx; f !== null && returns.length < MAX_REPORTED; f = f.nx) {
      if (f.id > 0) ArrayPrototypePush(returns, { id: f.id, on: waitTarget((f as Frame).waitsOn, siteAt) });
    }
    const floating: FloatingReport[] = [];
    for (let i = 0; i < this.floating.length; i++) {
      const { site, p, frame } = this.floating[i];
      const { state, reason } = promiseState(p);
      if (state === 'fulfilled') continue;
      const s = this.siteTable[site];
      ArrayPrototypePush(floating, { line: s.line, column: s.column, label: s.label, id: frame ? frame.id : 0, state, ...(reason ? { reason } : {}) });
    }
    if (!waits.length && !returns.length && !floating.length) return;
    this.transport.send({ type: 'pending', at, waits, returns, cleared: this.cleared, floating });
  }

  // ---- combinators -------------------------------------------------------------------------

  co(site: number): void {
    const before = this.current;
    let h: Handle | null = null;
    if (this.admit(site)) {
      h = this.open(site, before);
      this.current = h;
    } else this.aggregateStart(site, before);
    this.combinators.push({ h, before });
  }

  /**
   * The combinator's argument is evaluated; the combinator itself runs next. Over an array it only
   * calls `then` on the elements with its own resolve functions, which run no user code: they
   * need no context, and binding two callbacks per element costs a run of 100,000 calls dearly.
   * cc() brings the context back.
   */
  ca(iterable: unknown): unknown {
    if (Array.isArray(iterable)) {
      this.current = null;
      this.members = iterable;
    }
    return iterable;
  }

  cc(result: unknown): unknown {
    const top = this.combinators.pop();
    // The members, for the end-of-run report, should this combinator never settle.
    const members = this.members;
    this.members = null;
    if (members !== null) stampMembers(result, members);
    if (!top) return result;
    this.current = top.before;
    const h = top.h;
    // Only used where the result is awaited right away, so observing it changes nothing.
    if (h && result instanceof PromiseCtor) {
      PromisePrototypeThen(result, () => this.closeSpan(h, OUTCOME_FULFILLED), () => this.closeSpan(h, OUTCOME_REJECTED));
    } else if (h) {
      this.closeSpan(h, OUTCOME_FULFILLED);
    }
    return result;
  }

  // ---- timers ------------------------------------------------------------------------------

  ts(site: number): void {
    this.pendingTimerSite = site;
  }

  /** Opens a timer span for a call instrumented code announced with ts(); null otherwise. */
  openTimer(): Handle | null {
    const site = this.pendingTimerSite;
    if (site < 0) return null;
    this.pendingTimerSite = -1;
    if (this.admit(site)) return this.open(site, this.current);
    this.aggregateStart(site, this.current);
    return null;
  }

  endTimer(h: Handle, outcome = OUTCOME_FULFILLED): void {
    this.closeSpan(h, outcome);
  }

  /** A new span of the same site (a setInterval's next period), or null past the cap. */
  reopenTimer(h: Handle): Handle | null {
    if (this.admit(h.site)) return this.open(h.site, h.parent);
    this.aggregateStart(h.site, h.parent);
    return null;
  }

  /** Id of the current span for the watchdog's block spans (sends it if needed). */
  currentId(): number {
    let h = this.current;
    while (h && h.id < 0) h = h.parent;
    return h ? this.materialize(h) : 0;
  }

  /**
   * Called by the watchdog through an inspector interrupt while the thread is stuck: sends what
   * is buffered and tells where the interrupted code is (JSON: current span, stack frames, the
   * probe tick this thread last wrote — a sample answered after the stall ended is no evidence —,
   * the await that began last, the runtime's own work in progress and this thread's CPU time).
   */
  where(): string {
    const frames = interruptedFrames();
    // Interrupted inside the runtime's own code (see interruptedInRuntime): its buffers are left
    // to it, and while it sends spans (or the transport appends) nothing is sent: the nearest span
    // already sent is named. Elsewhere in the runtime the current span is sent as usual, so that a
    // block inside a synchronous call is that call's, whichever sample comes first.
    const inRuntime = interruptedInRuntime(frames);
    const busy = this.transport.busy;
    const id = busy || (inRuntime && this.materializing !== 0) ? this.sentId() : this.currentId();
    if (!busy && !inRuntime) this.flushNow();
    const aw = this.lastAwait >= 0 ? this.siteTable[this.lastAwait] : undefined;
    // `at`: when the main thread was looked at (real time, as the ticks), which on a busy machine
    // can be long after the watchdog asked.
    return JSONStringify({
      id, frames, at: timeOrigin + performanceNow(), tick: this.tickAt, tool: this.toolWork, awaits: this.awaitCount, cpu: this.cpuNow(), clocks: this.clockReads(),
      aw: aw ? [this.siteFiles[this.lastAwait], aw.line, aw.column] : null,
    });
  }

  /**
   * Called by the watchdog through an inspector interrupt: writes its frames (see
   * ChildTransport.relayWatchdog). 'busy', having done nothing, when the interrupt stopped the
   * transport's own writing: that may be between node filling its shared stat array and reading
   * it, in the check that a descriptor is still the channel, and a check here would hand it
   * another pipe's numbers (the events writer then took its channel for gone: a run's events
   * stopped mid-run, 1 in 300 gradings under load). Elsewhere in the runtime's code the relay
   * touches nothing of its state (a descriptor check in the stat array of its own form, a write):
   * refusing there too would hold a block's frames back for most of a spin on the clock, which
   * runs in the runtime's clock code. (The rule that seemed to refuse there never did: it took the
   * evaluated expression's frame for the interrupted code; the relay as measured, 0 faults in 658
   * gradings under load, is this one.)
   */
  relay(id: number): string {
    if (this.transport.busy) return 'busy';
    return this.transport.relayWatchdog(id);
  }

  /** The current span's id if it was sent, else its nearest ancestor's that was: nothing is recorded. */
  private sentId(): number {
    let h = this.current;
    while (h && h.id <= 0) h = h.parent;
    return h ? h.id : 0;
  }

  /**
   * The watchdog's report when it stops the run (through an inspector interrupt, as where()):
   * what is still waiting, and everything recorded, waiting until the engine has taken it.
   * False, having done nothing, when the interrupt landed inside the runtime's own code: the
   * watchdog asks again (the next interrupt lands elsewhere); `anyway`: the last try, which
   * sends what is buffered and the report, without the work that records more.
   */
  stopReport(anyway = false): boolean {
    if (!anyway && interruptedInRuntime(interruptedFrames())) return false;
    if (anyway) {
      this.reportPending('stop', false); // finishLate() records: not on top of the runtime's own work
      this.transport.flush(true);
    } else {
      this.reportPending('stop');
      this.flushNow(true);
    }
    return true;
  }

  /**
   * Sends everything recorded so far. `all` (the watchdog's call before a kill): also what the
   * transport held back for the engine, waiting until it is taken.
   */
  flushNow(all = false): void {
    if (this.transport.busy) return;
    this.finishLate();
    this.flushDropped();
    this.transport.flush(all);
  }

  /** When the aggregates' current time bin began, and how wide bins are now (see flushDropped). */
  private binStart = 0;
  private binMs = MIN_BIN_MS;

  /**
   * Reports the spans that were only counted: per site and parent past the budget, in all past a
   * cap. `due` (the lag probe's ticks): the aggregates only once their time bin is over. A bin is
   * 10 ms wide while it holds few (site, parent) pairs; it widens, up to a second, while each
   * holds many (a loop over 100,000 await sites counts about one span per pair in 10 ms: as
   * many aggregates as spans, a record pair each, would cost what listing them costs).
   */
  flushDropped(due = false): void {
    if (this.dropped > 0) {
      this.transport.record(OP_DROPPED, this.dropped, 0, 0, 0);
      this.dropped = 0;
    }
    const a = this.aggregates;
    if (a.n === 0) return;
    if (due) {
      const t = this.clock();
      if (t - this.binStart < this.binMs) return;
      this.binStart = t;
      if (a.n > BIN_PAIRS_HIGH) this.binMs = MathMin(this.binMs * 2, MAX_BIN_MS);
      else if (a.n < BIN_PAIRS_LOW) this.binMs = MathMax(this.binMs / 2, MIN_BIN_MS);
    }
    // Ends of aggregates sent before (count 0) first: they extend the pair's last aggregate, not a new one.
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < a.n; i++) {
        if ((a.count[i] === 0) !== (pass === 0)) continue;
        this.transport.record(OP_AGGREGATE, a.site[i], a.parent[i], a.count[i], a.first[i]);
        this.transport.record(OP_AGGREGATE_END, a.last[i], 0, 0, 0);
      }
    }
    a.clear();
  }

  siteOf(id: number): RuntimeSite | undefined {
    return this.siteTable[id];
  }
}

/** A stack frame as where() reports it: [file, line, column, line and column where its function begins]. */
type FrameTuple = [string, number, number, number, number];

/**
 * The stack of the code an inspector interrupt stopped, as seen from the interrupt's handler
 * (where(), stopReport()): [the handler, the evaluated expression's two frames (the arrow it calls
 * and its script's top level, of no file), the interrupted code…].
 */
function interruptedFrames(): FrameTuple[] {
  const savedPrepare = Error.prepareStackTrace;
  const savedLimit = Error.stackTraceLimit;
  const frames: FrameTuple[] = [];
  try {
    Error.stackTraceLimit = 30;
    Error.prepareStackTrace = (_e, cs) => cs;
    const holder: { stack?: NodeJS.CallSite[] } = {};
    Error.captureStackTrace(holder, interruptedFrames);
    const cs = holder.stack ?? [];
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i] as NodeJS.CallSite & { getEnclosingLineNumber?(): number; getEnclosingColumnNumber?(): number };
      frames[i] = [c.getFileName() ?? '', c.getLineNumber() ?? 0, c.getColumnNumber() ?? 0, c.getEnclosingLineNumber?.() ?? 0, c.getEnclosingColumnNumber?.() ?? 0];
    }
  } finally {
    Error.prepareStackTrace = savedPrepare;
    Error.stackTraceLimit = savedLimit;
  }
  return frames;
}

/**
 * Whether an inspector interrupt stopped the runtime's own code. V8 takes interrupts at calls and
 * at loops' back edges, so one can land between two steps of the runtime's bookkeeping: in
 * materialize() between taking a span's id and storing it (the handler's currentId() then sent
 * that id again: "bad span id", the run marked as tampered with, seen under load), in
 * flushDropped() between an aggregate's two records. Then the handler flushes nothing, and sends
 * no span while materialize() is under way (see where()).
 * `frames` as interruptedFrames() gives them: the handler's own file says where the runtime's
 * code lives; node's code the runtime was calling is looked through.
 */
function interruptedInRuntime(frames: FrameTuple[]): boolean {
  const own = frames.length > 0 ? frames[0][0] : '';
  const dir = StringPrototypeSlice(own, 0, StringPrototypeLastIndexOf(own, '/') + 1);
  if (dir === '') return false;
  // The evaluated expression's own frames, of no file: its script's top level and the arrow it
  // calls (the interrupted code is below them; taken for it, no interrupt was ever "in the runtime").
  let i = 1;
  while (i < frames.length && frames[i][0] === '') i++;
  for (; i < frames.length; i++) {
    const file = frames[i][0];
    if (StringPrototypeStartsWith(file, 'node:')) continue;
    return StringPrototypeStartsWith(file, dir);
  }
  return false;
}

/** Whether every call of a function site gets the same label: it previews none of its arguments' values. */
function sameLabelEveryCall(site: RuntimeSite): boolean {
  const kinds = site.params ?? [];
  for (let i = 0; i < kinds.length && i < 4; i++) if (kinds[i] === '' || kinds[i] === '…') return false;
  return true;
}

/** A call span's label: the function's name and a preview of its first arguments. */
function callLabelOf(site: RuntimeSite, a0: unknown, a1: unknown, a2: unknown, a3: unknown): string {
  const kinds = site.params ?? [];
  const args = [a0, a1, a2, a3];
  const parts: string[] = [];
  for (let i = 0; i < kinds.length && i < 4; i++) {
    const k = kinds[i];
    if (k === '…') {
      // A rest parameter: an array the runtime made, but its elements are read by index.
      const rest = ArrayIsArray(args[i]) ? (args[i] as unknown[]) : [];
      for (let j = 0; j < rest.length && j < 4 - i; j++) ArrayPrototypePush(parts, preview(rest[j]));
    } else if (k) ArrayPrototypePush(parts, k);
    else ArrayPrototypePush(parts, preview(args[i]));
  }
  const name = site.label;
  // Accessors (see the transform's functionName): `get o.x`, `set o.x = 5`.
  if (StringPrototypeStartsWith(name, 'get ')) return name;
  if (StringPrototypeStartsWith(name, 'set ')) return `${name} = ${parts[0] ?? ''}`;
  return `${name}(${ArrayPrototypeJoin(parts, ', ')})`;
}

/** A short, side-effect-free rendering of an argument value. */
export function preview(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return JSONStringify(v.length > 24 ? StringPrototypeSlice(v, 0, 23) + '…' : v);
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(v);
    case 'bigint':
      return `${v}n`;
    case 'symbol':
      return 'Symbol()';
    case 'function':
      return v.name ? v.name : 'ƒ';
    default:
      if (v === null) return 'null';
      return ArrayIsArray(v) ? '[…]' : '{…}';
  }
}
