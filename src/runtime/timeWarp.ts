// Time warp inside the child: when the program is idle and waits only for timers, the clock jumps
// to the next timer instead of waiting for it. Everything the program can read of time sees the
// same virtual clock (Date, performance.now, process.hrtime, timers, timers/promises,
// AbortSignal.timeout); synchronous work and real I/O take their real time.
//
// The timers stay node's own: a jump re-arms each pending Timeout (same object, same list order)
// with what is left of its delay after the jump, so ordering between timers, immediates,
// microtasks and I/O callbacks is exactly node's. The clock is real time plus an offset that grows
// only at a jump, and a jump happens only when nothing but timers is pending: no immediate, no
// request, no handle of real I/O (process.getActiveResourcesInfo()).
//
// The machine's holds are not the program's time. On a busy machine the kernel keeps the main
// thread waiting for a CPU (a timer due now runs 200 ms late, a callback is preempted halfway):
// that wait, the thread's run delay (the second field of /proc/self/task/<tid>/schedstat), is
// taken out of the clock, and every pending timer is pushed back by as much, so the same program
// reads the same times on a saturated machine as on a quiet one. What the thread does itself
// still counts at its real rate: CPU work (a busy-wait spins its whole delay), and sleeping in
// the kernel for real I/O or a synchronous child. While real I/O is in flight nothing is taken
// out. The clock never goes back: a hold is taken out only past the last value anyone read, and
// never so much that a timer firing now would see its due time not yet reached.

import { lookAlike, ownerOf, standIn } from './patches';
import { ErrorCaptureStackTrace, ErrorCtor, ReflectApply, ReflectConstruct, ReflectGetOwnPropertyDescriptor, StringPrototypeStartsWith } from './primordials';

/** What the rest of the runtime needs to know of the warp. */
export interface TimeWarp {
  /** Milliseconds the clock has jumped so far, less what was taken out for the machine's holds. */
  readonly offsetMs: () => number;
  /**
   * The warped clock on performance.now's scale: what the program's performance.now returns. The
   * runtime reads it for the timeline's times, so they are the program's times.
   */
  readonly now: () => number;
}

/** The arguments node's performance.now is called with, for its receiver check (it takes none). */
const NO_ARGS: [] = [];

/** How often at most (real ms) a clock read looks at the thread's run delay. */
const HOLD_SAMPLE_MS = 0.5;
/**
 * A look at the run delay that took longer than this (real ms; one takes a few µs) lost the CPU
 * on the way: it looks again.
 */
const LOOK_AGAIN_MS = 0.2;
/**
 * Clock reads per ms the main thread was not waiting for a CPU that only a loop waiting on the
 * clock makes (see spinStall). `while (Date.now() < end) {}` warped: thousands; a loop making a
 * system call each time round, at most ~400 (`fs.writeSync` to /dev/null 370, `fs.statSync` 231,
 * measured here).
 */
const SPIN_READ_RATE = 700;
/** And at least this many reads since the last look. */
const SPIN_READS = 100;
/**
 * The kernel brings a thread's CPU time in its schedstat up to date at its scheduler ticks (100 to
 * 1,000 a second) and switches: a reading can be up to a tick behind, and a stop measured from two
 * readings up to a tick longer than it was. This much of every stop stays on the clock, so that
 * the program never reads less time than it ran.
 */
const STALE_CPU_MS = 10;


interface NodeTimeout {
  _idleStart: number;
  _idleTimeout: number;
  _destroyed: boolean;
  _repeat: number | null;
  /** Node's timer list link: null while the timer is off its list (firing, or not armed). */
  _idleNext: unknown;
  refresh(): NodeTimeout;
  hasRef(): boolean;
  unref(): NodeTimeout;
}

const ownDir = (() => {
  const f = typeof __filename === 'string' ? __filename : '';
  return f.slice(0, f.lastIndexOf('/') + 1);
})();

/**
 * Where the program read the clock ("file:line:column" of the nearest frame outside the
 * runtime's directory), undefined when none is found.
 */
function readSite(): string | undefined {
  const savedPrepare = ErrorCtor.prepareStackTrace;
  const savedLimit = ErrorCtor.stackTraceLimit;
  try {
    ErrorCtor.stackTraceLimit = 8;
    ErrorCtor.prepareStackTrace = (_e, frames) => frames;
    const holder: { stack?: NodeJS.CallSite[] } = {};
    ErrorCaptureStackTrace(holder, readSite);
    const frames = holder.stack ?? [];
    for (let i = 0; i < frames.length; i++) {
      const file = frames[i].getFileName() ?? '';
      if (ownDir !== '' && StringPrototypeStartsWith(file, ownDir)) continue;
      if (StringPrototypeStartsWith(file, 'node:')) continue;
      return `${file}:${frames[i].getLineNumber()}:${frames[i].getColumnNumber()}`;
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    ErrorCtor.prepareStackTrace = savedPrepare;
    ErrorCtor.stackTraceLimit = savedLimit;
  }
}

/** A Timeout the warp keeps track of (see `pending` in installTimeWarp). */
interface Pending {
  t: NodeTimeout;
  seq: number;
  heldAt: number;
  pushed: number;
  marginAt: number;
}

/**
 * The loop's clock counts whole ms: a timer armed late in one (node keeps the loop time it was
 * armed at, rounded down) fires when the loop's clock gets to its due ms, which the program's
 * clock can read up to 1 ms short of its delay. Node does so in real time; warped, a timer never
 * fires before its delay has passed on the clocks the program reads, so the first re-arm after
 * node armed it (the program arming or refreshing it, an interval's next period) adds 1 ms.
 */
const marginOf = (p: Pending): number => (p.marginAt === p.t._idleStart ? 0 : 1);

const isTimeout = (t: unknown): t is NodeTimeout =>
  typeof t === 'object' && t !== null && typeof (t as NodeTimeout)._idleStart === 'number' && typeof (t as NodeTimeout).refresh === 'function';

/** A warped run's timeout on the program's clock: the clock never jumps past it. */
export interface WarpDeadline {
  /** Program time (ms from time 0) of the deadline. */
  atMs: number;
  /** The program's time now, ms from time 0. */
  now: () => number;
  /** Called once, when the program waits for nothing sooner than the deadline and the clock is there. */
  reached: (atMs: number) => void;
}

/**
 * Installs the warp. `onShift(ms)` is called after each change of the clock against real time: a
 * jump (ms > 0) or a hold taken out (ms < 0); the runtime maps the watchdog's real times with it.
 * `runDelayMs` reads the main thread's run delay (ms waiting for a CPU so far), -1 when it cannot:
 * then holds stay on the clock. `cpuMs` gives the main thread's CPU time (ms) as the last
 * runDelayMs() read it (one file gives both), -1 when unknown: then a spin's stalls stay on the
 * clock (see takeOutHolds). Call before any timer is patched.
 */
export function installTimeWarp(onShift: (ms: number) => void, deadline?: WarpDeadline, runDelayMs?: () => number, cpuMs?: () => number): TimeWarp {
  const timers = require('node:timers') as typeof import('node:timers');
  const g = globalThis as any;
  const nativeSetTimeout = timers.setTimeout;
  const nativeSetInterval = timers.setInterval;
  const nativeSetImmediate = timers.setImmediate;
  const nativeClearTimeout = timers.clearTimeout;
  const perfNow = performance.now.bind(performance);
  const RealDate = Date;
  const realDateNow = Date.now;
  const realHrtime = process.hrtime;
  const realHrtimeBigint = process.hrtime.bigint;
  const activeResources = (process as any).getActiveResourcesInfo as () => string[];
  const activeHandles = (process as any)._getActiveHandles as () => any[];
  const activeRequests = (process as any)._getActiveRequests as () => unknown[];

  /**
   * A handle or request of real I/O is alive (a socket, a server, a child process, a file or DNS
   * request, a stdin being read, a worker): then time passes at its real rate. The pipes or
   * terminals of stdout and stderr are always there and wait for nothing.
   */
  function realIoInFlight(): boolean {
    for (const h of activeHandles.call(process)) {
      const fd = h?.fd;
      if (fd !== 1 && fd !== 2) return true;
    }
    return activeRequests.call(process).length > 0;
  }

  let offset = 0; // whole milliseconds jumped
  let held = 0; // milliseconds of the machine's holds taken out of the clock
  let seq = 0;
  // Every Timeout the program made that may still be pending, in the order it was armed, with the
  // holds taken out before it was armed, the whole ms it has been pushed back for later ones, and
  // the loop time it was last re-armed at with its margin (see marginOf).
  let pending: Pending[] = [];

  // --- the clock ------------------------------------------------------------------------------
  // One clock, on performance.now's scale; Date and hrtime are read from it, so every clock the
  // program reads agrees and none goes back.
  const dateOrigin = realDateNow() - perfNow();
  const hrOrigin = realHrtimeBigint() - BigInt(Math.round(perfNow() * 1e6));
  let lastValue = -Infinity;
  let sampledAt = perfNow();
  let delayAt = runDelayMs ? runDelayMs() : -1;
  let cpuAt = cpuMs && delayAt >= 0 ? cpuMs() : -1;
  // Clock reads so far, at the last look, and where a loop waiting on the clock read it then.
  let reads = 0;
  let readsAtLook = 0;
  let spinSite: string | undefined;
  const vnow = (): number => {
    reads++;
    let r = perfNow();
    if (delayAt >= 0 && r - sampledAt >= HOLD_SAMPLE_MS) r = takeOutHolds();
    const v = r + offset - held;
    if (v < lastValue) return lastValue;
    lastValue = v;
    return v;
  };

  /**
   * Takes the run delay since the last look out of the clock, and pushes the timers back. Returns
   * the real time it looked at, which the run delay read covers: the read of the file (a system
   * call) is where a busy machine takes the CPU away most often, and the kernel adds the wait to
   * the run delay only once the thread has the CPU back. Real time read across such a wait while
   * the run delay read does not have it yet would count it, and the next look could not take it
   * out (never behind a value already read). So a look that lost the CPU looks again.
   */
  function takeOutHolds(): number {
    let before = perfNow();
    let d = runDelayMs!();
    let r = perfNow();
    for (let tries = 0; r - before > LOOK_AGAIN_MS && d >= 0 && tries < 3; tries++) {
      before = r;
      d = runDelayMs!();
      r = perfNow();
    }
    const since = sampledAt;
    sampledAt = r;
    if (d < 0) return r;
    let h = d - delayAt;
    h += spinStall(r - since, d - delayAt);
    delayAt = d;
    if (!(h > 0) || pastDeadline || realIoInFlight()) return r;
    // Never behind a value already read.
    h = Math.min(h, r + offset - held - lastValue);
    // A timer firing now (node took it off its list) stays at or past its due time: no more than
    // it is late comes out, less the loop clock's whole-ms rounding.
    let now = NaN;
    for (const p of pending) {
      if (p.t._destroyed || p.t._idleNext) continue;
      if (Number.isNaN(now)) now = loopNow();
      h = Math.min(h, now - (p.t._idleStart + p.t._idleTimeout) - 1);
    }
    if (!(h > 0)) return r;
    held += h;
    onShift(-h);
    // Each timer is pushed back by every hold since it was armed, rounded up to whole ms: it never
    // fires before its delay has passed on the program's clock.
    let push = false;
    for (const p of pending) if (!p.t._destroyed && p.t._idleNext && Math.ceil(held - p.heldAt) > p.pushed) push = true;
    if (push) {
      // The program may be idle now: the wait is jumped as any other.
      if (rearm((p) => {
        const by = Math.max(0, Math.ceil(held - p.heldAt) - p.pushed);
        p.pushed += by;
        return by;
      }, Number.isNaN(now) ? loopNow() : now) > 0) scheduleCheckSoon();
    }
    return r;
  }

  /**
   * The machine's holds that are not run delay, inside a loop that waits on the clock. On a busy
   * machine the main thread also stops without being on a CPU or waiting for one: it sleeps in
   * the kernel on a page fault, or on a lock another of its threads holds while that thread waits
   * for a CPU (V8's helpers). Seen here in a 10 ms spin: 30-230 ms such stops with no system call
   * of the program's, at load 11 (warped gradings of 06-heartbeat: a 100 ms heartbeat read 270-450
   * ms, "blocked 209-363 ms", in 4 of 600). Such a stop is taken out only where the program cannot
   * have slept itself: before the last look it was reading the clock at one place at a rate no
   * loop making system calls reaches (SPIN_READ_RATE), and it reads it there again now. Less
   * STALE_CPU_MS, for the CPU time's reading.
   * Elsewhere a sleep may be the program's own (a synchronous read of a slow disk) and stays.
   * `realMs` and `delayMs`: real time and run delay since the last look. Returns the ms to take out.
   */
  function spinStall(realMs: number, delayMs: number): number {
    const n = reads - readsAtLook;
    readsAtLook = reads;
    const c = cpuMs ? cpuMs() : -1;
    const cpu = c >= 0 && cpuAt >= 0 ? c - cpuAt : NaN;
    cpuAt = c;
    const stop = realMs - cpu - delayMs - STALE_CPU_MS;
    const wasSpin = spinSite;
    // Where a loop waiting on the clock reads it, named once a look while it runs; kept through
    // a look with fewer reads (the loop optimized, a collection): until a stop finds another place.
    const dense = n >= SPIN_READS && n >= SPIN_READ_RATE * (realMs - delayMs);
    if (dense) spinSite = readSite();
    if (!(stop > 0) || wasSpin === undefined) return 0;
    const here = dense ? spinSite : readSite();
    if (here === wasSpin) return stop;
    // Elsewhere: the loop ended, and what came after (maybe a wait of the program's) stays.
    spinSite = undefined;
    return 0;
  }

  // Each replacement looks like the built-in it stands for (lookAlike): name, length, properties,
  // constructibility and toString(); the clocks are method shorthands (not constructible).
  // Where node defines it (Performance.prototype), as node defines it; node's own checks its receiver.
  const perfOwner = ownerOf(performance, 'now');
  const perfDescriptor = ReflectGetOwnPropertyDescriptor(perfOwner, 'now')!;
  const realPerfNow = perfDescriptor.value as (this: unknown) => number;
  const vPerfNow = lookAlike({
    now(this: unknown) {
      ReflectApply(realPerfNow, this, NO_ARGS);
      return vnow();
    },
  }.now, realPerfNow);
  Object.defineProperty(perfOwner, 'now', { ...perfDescriptor, value: vPerfNow });
  const vDateNow = () => Math.floor(dateOrigin + vnow());
  const WarpDate = standIn(function Date(this: unknown) {
    if (new.target === undefined) return new RealDate(vDateNow()).toString();
    return ReflectConstruct(RealDate, arguments.length === 0 ? [vDateNow()] : arguments, new.target);
  } as unknown as DateConstructor, RealDate);
  Object.defineProperty(RealDate.prototype, 'constructor', { value: WarpDate, writable: true, configurable: true, enumerable: false });
  Object.setPrototypeOf(WarpDate, Object.getPrototypeOf(RealDate));
  Object.defineProperty(WarpDate, 'now', { value: lookAlike({ now() { return vDateNow(); } }.now, realDateNow), writable: true, configurable: true });
  g.Date = WarpDate;
  const vHrBigint = () => hrOrigin + BigInt(Math.round(vnow() * 1e6));
  const vHrtime = lookAlike({ hrtime(prev?: [number, number]) {
    const total = vHrBigint();
    let sec = Number(total / 1_000_000_000n);
    let nsec = Number(total % 1_000_000_000n);
    if (prev !== undefined) {
      // node's own validation and arithmetic, on our time
      realHrtime(prev);
      sec -= prev[0];
      nsec -= prev[1];
      if (nsec < 0) {
        sec -= 1;
        nsec += 1_000_000_000;
      }
    }
    return [sec, nsec];
  } }.hrtime, realHrtime) as typeof process.hrtime;
  vHrtime.bigint = lookAlike({
    bigint() {
      return vHrBigint();
    },
  }.bigint, realHrtimeBigint);
  process.hrtime = vHrtime;

  // --- the timers: node's own, remembered so a jump can re-arm them ---------------------------
  const track = (t: unknown) => {
    if (isTimeout(t)) {
      pending.push({ t, seq: seq++, heldAt: held, pushed: 0, marginAt: NaN });
      scheduleCheckSoon();
    }
    return t;
  };
  const trackedSetTimeout = lookAlike({
    setTimeout(this: unknown) {
      return track(ReflectApply(nativeSetTimeout, this, arguments));
    },
  }.setTimeout, nativeSetTimeout);
  const trackedSetInterval = lookAlike({
    setInterval(this: unknown) {
      return track(ReflectApply(nativeSetInterval, this, arguments));
    },
  }.setInterval, nativeSetInterval);
  g.setTimeout = trackedSetTimeout;
  g.setInterval = trackedSetInterval;
  (timers as any).setTimeout = trackedSetTimeout;
  (timers as any).setInterval = trackedSetInterval;
  patchTimersPromises(trackedSetTimeout, nativeClearTimeout, trackedSetInterval, timers.clearInterval);
  patchAbortSignalTimeout(trackedSetTimeout);
  try {
    require('node:module').syncBuiltinESMExports();
  } catch {
    // older node: ESM imports of node:timers keep the originals
  }

  // --- the jump -------------------------------------------------------------------------------
  let immediateQueued = false;
  let pastDeadline = false;
  // One unref'd native timer for the checks that must wait (real I/O in flight, a timer due now).
  const checkTimer = nativeSetTimeout(() => check(), 1 << 30) as unknown as NodeTimeout;
  checkTimer.unref();
  let checkTimerArmed = false;

  function scheduleCheckSoon(): void {
    if (immediateQueued) return;
    immediateQueued = true;
    // Ref'd: an unref'd immediate would not stop the loop from sleeping until the next timer.
    nativeSetImmediate(() => {
      immediateQueued = false;
      check();
    });
  }

  function scheduleCheckAfter(ms: number): void {
    checkTimer._idleTimeout = Math.max(1, Math.ceil(ms));
    checkTimer.refresh();
    checkTimerArmed = true;
  }

  /** Libuv's cached loop time, in the scale of the timers' _idleStart. */
  function loopNow(): number {
    const armed = checkTimerArmed;
    const keep = checkTimer._idleTimeout;
    const start = checkTimer._idleStart;
    checkTimer.refresh();
    const now = checkTimer._idleStart;
    if (armed) {
      // put it back as it was
      checkTimer._idleTimeout = Math.max(1, start + keep - now);
      checkTimer.refresh();
    }
    return now;
  }

  function check(): void {
    checkTimerArmed = false;
    if (pastDeadline) return; // time passes at its real rate until the engine ends the run
    if (delayAt >= 0) takeOutHolds(); // the machine's holds first: they push the timers back
    pending = pending.filter((p) => !p.t._destroyed);
    if (pending.length === 0) return;
    let refed = false;
    for (const p of pending) if (p.t.hasRef()) refed = true;
    if (!refed) return; // node is about to exit: nothing would ever fire

    let immediate = false;
    for (const k of activeResources()) if (k === 'Immediate') immediate = true;
    if (immediate) {
      scheduleCheckSoon(); // the program still has a turn to take; look again after it
      return;
    }
    const idle = !realIoInFlight();
    const now = loopNow();
    let next = Infinity;
    let unmargined = false;
    for (const p of pending) {
      const margin = marginOf(p);
      if (margin > 0 && p.t._idleNext) unmargined = true;
      next = Math.min(next, p.t._idleStart + p.t._idleTimeout + margin - now);
    }
    if (!idle) {
      // Real I/O in flight: time passes at its real rate; look again soon.
      scheduleCheckAfter(Math.min(next, 10));
      return;
    }
    // The whole wait for the first timer, its margin in and rounded up: the clock jumps to a loop
    // millisecond before it, and it fires as the loop's clock gets there.
    const wait = Math.ceil(next);
    const jump = wait >= 2 ? wait - 1 : 0;
    if (deadline && wait >= 1) {
      // The next timer is due at or past the run's timeout: the clock goes to the timeout and no
      // further; the engine ends the run there, as real time would have after the wait.
      const left = deadline.atMs - deadline.now();
      if (jump >= left) {
        jumpBy(Math.max(0, Math.ceil(left)), now);
        const reached = deadline;
        deadline = undefined;
        pastDeadline = true;
        reached.reached(reached.now());
        return;
      }
    }
    if (jump > 0 || unmargined) {
      jumpBy(jump, now);
      next -= jump;
    }
    scheduleCheckAfter(next);
  }

  /**
   * Moves the clock `jump` ms ahead (none when 0) and every pending timer with it, each timer armed
   * since the last re-arm with its margin.
   */
  function jumpBy(jump: number, now: number): void {
    if (jump > 0) offset += jump;
    rearm(() => -jump, now);
    if (jump > 0) onShift(jump);
  }

  /**
   * Re-arms every pending timer `by(it)` ms later (earlier when negative), in order of its new due
   * time, then of arming: the same order as they would have fired. A timer node took off its list
   * (firing now) is left alone.
   */
  function rearm(by: (p: Pending) => number, now: number): number {
    pending = pending.filter((p) => !p.t._destroyed);
    const order = pending
      .filter((p) => p.t._idleNext)
      .map((p) => ({ p, due: p.t._idleStart + p.t._idleTimeout + by(p) + marginOf(p) }))
      .sort((a, b) => a.due - b.due || a.p.seq - b.p.seq);
    for (const { p, due } of order) {
      p.t._idleTimeout = Math.max(1, due - now);
      p.t.refresh();
      p.marginAt = p.t._idleStart;
    }
    return order.length;
  }

  return { offsetMs: () => offset - held, now: vnow };
}

/** node's AbortError (internal to node): what timers/promises rejects with when its signal aborts. */
class AbortError extends Error {
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
    (this as { code?: string }).code = 'ABORT_ERR';
    this.name = 'AbortError';
  }
}

/**
 * timers/promises' setTimeout, setInterval and scheduler.wait on the tracked timers, as node's own
 * do it (lib/timers/promises.js): same checks, same errors.
 */
function patchTimersPromises(setTimeoutTracked: Function, clearTimeoutNative: Function, setIntervalTracked: Function, clearIntervalNative: Function): void {
  let tp: any;
  try {
    tp = require('node:timers/promises');
  } catch {
    return;
  }
  const origSetTimeout = tp.setTimeout;
  const origSetInterval = tp.setInterval;
  const abortError = (signal: AbortSignal | undefined) => new AbortError(undefined, { cause: signal?.reason });
  // What node accepts; anything else goes to node's own implementation, with its own errors.
  const valid = (delay: unknown, options: any) =>
    (delay === undefined || typeof delay === 'number') &&
    (options === undefined || (typeof options === 'object' && options !== null &&
      (options.signal === undefined || options.signal instanceof AbortSignal) &&
      (options.ref === undefined || typeof options.ref === 'boolean')));
  const warped = lookAlike({
    setTimeout(this: unknown, delay?: unknown, value?: unknown, options?: any) {
      if (!valid(delay, options)) return ReflectApply(origSetTimeout, this, arguments);
      const signal: AbortSignal | undefined = options?.signal;
      if (signal?.aborted) return Promise.reject(abortError(signal));
      return new Promise((resolve, reject) => {
        const onAbort = () => {
          clearTimeoutNative(timer);
          reject(abortError(signal!));
        };
        const timer = setTimeoutTracked(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve(value);
        }, delay);
        if (options?.ref === false) timer.unref();
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
  }.setTimeout, origSetTimeout);
  tp.setTimeout = warped;
  if (typeof origSetInterval === 'function') {
    tp.setInterval = lookAlike({
      async *setInterval(this: unknown, delay?: unknown, value?: unknown, options?: any) {
        if (!valid(delay, options)) return yield* ReflectApply(origSetInterval, this, arguments);
        const signal: AbortSignal | undefined = options?.signal;
        if (signal?.aborted) throw abortError(signal);
        let onCancel: (() => void) | undefined;
        let interval: any;
        try {
          let notYielded = 0;
          let callback: ((v?: unknown) => void) | undefined;
          interval = setIntervalTracked(() => {
            notYielded++;
            if (callback) {
              callback();
              callback = undefined;
            }
          }, delay);
          if (options?.ref === false) interval.unref();
          if (signal) {
            onCancel = () => {
              clearIntervalNative(interval);
              if (callback) {
                callback(Promise.reject(abortError(signal)));
                callback = undefined;
              }
            };
            signal.addEventListener('abort', onCancel, { once: true });
          }
          while (!signal?.aborted) {
            if (notYielded === 0) await new Promise((resolve) => (callback = resolve));
            for (; notYielded > 0; notYielded--) yield value;
          }
          throw abortError(signal);
        } finally {
          clearIntervalNative(interval);
          if (onCancel) signal?.removeEventListener('abort', onCancel);
        }
      },
    }.setInterval, origSetInterval);
  }
  if (tp.scheduler && typeof tp.scheduler.wait === 'function') {
    const origWait = tp.scheduler.wait;
    tp.scheduler.wait = lookAlike({
      wait(this: unknown, delay: unknown, options?: unknown) {
        return warped(delay, undefined, options);
      },
    }.wait, origWait);
  }
}

/** AbortSignal.timeout on the tracked clock: an unref'd timer, as node's own. */
function patchAbortSignalTimeout(setTimeoutTracked: Function): void {
  const orig = (AbortSignal as any).timeout;
  if (typeof orig !== 'function') return;
  (AbortSignal as any).timeout = lookAlike({
    timeout(this: unknown, delay: unknown) {
      if (typeof delay !== 'number' || !(delay >= 0) || delay > 2 ** 53) return ReflectApply(orig, this, arguments);
      const controller = new AbortController();
      const timer = setTimeoutTracked(() => {
        controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
      }, delay);
      timer.unref();
      return controller.signal;
    },
  }.timeout, orig);
}
