// Patches of globals inside the child: timers become spans where instrumented code announced the
// call, callbacks run in the context they were scheduled from, and output becomes marks.
// Each patch is transparent: same arguments, same return values, same errors, same order.
import type { MarkKind } from '../shared/timeline';
import { MAX_MARK_CHARS, OUTCOME_REJECTED } from '../shared/runtimeProtocol';
import type { Handle, Recorder } from './recorder';
import {
  ArrayPrototypeSlice, FunctionPrototypeCall, ReflectApply, ReflectConstruct, ReflectDefineProperty, ReflectGetOwnPropertyDescriptor,
  ReflectGetPrototypeOf, ReflectOwnKeys, StringCtor, StringPrototypeSplit, WeakMapCtor, WeakMapPrototypeGet, WeakMapPrototypeSet,
  BufferFrom, Uint8ArrayCtor, ErrorCaptureStackTrace, ErrorCtor, uncurryThis, FunctionPrototypeToString,
  StringPrototypeIncludes, StringPrototypeReplace, StringPrototypeIndexOf, StringPrototypeSlice, timeOrigin,
  AtomicsLoad, AtomicsStore, AtomicsWait,
} from './primordials';
import { ST_IN_NATIVE, ST_WATCHDOG_WRITING } from './transport';
import { INSERT_OPEN, INSERTED } from './moduleFormat';
import { noteMissedEvent, Stamp, stampOnce } from './pending';
import { PROBE_NATIVE_COLUMN, PROBE_NATIVE_LINE, PROBE_NATIVE_PARENT } from './watchdogShared';

/**
 * A timer with a span of its own: the span until it fires or is cleared (a repeating one gets the
 * next span at each call). A private field, so the timer prints and reflects as under node.
 */
class TimerSpan extends Stamp {
  #span: Handle | null;
  constructor(timer: object, span: Handle) {
    super(timer);
    this.#span = span;
  }
  /** The timer's open span, now no longer its own; null when it has none. */
  static take(t: unknown): Handle | null {
    if (t === null || typeof t !== 'object' || !(#span in t)) return null;
    const span = (t as TimerSpan).#span;
    (t as TimerSpan).#span = null;
    return span;
  }
  static set(t: object, span: Handle | null): void {
    if (#span in t) (t as TimerSpan).#span = span;
    else if (span) new TimerSpan(t, span);
  }
}

/** A timer armed with `fire` (see patchTimers): the span it runs in and the program's callback. */
class TimerContext extends Stamp {
  #ctx: Handle | null;
  #cb: Function;
  constructor(timer: object, ctx: Handle | null, cb: Function) {
    super(timer);
    this.#ctx = ctx;
    this.#cb = cb;
  }
  static holds(t: unknown): boolean {
    return t !== null && typeof t === 'object' && #cb in t;
  }
  static ctx(t: any): Handle | null {
    return t.#ctx;
  }
  static cb(t: any): Function {
    return t.#cb;
  }
}

/** Each replacement and the built-in it stands for: toString() prints the built-in's text. */
const originals = new WeakMapCtor<Function, Function>();

function isConstructor(fn: Function): boolean {
  try {
    ReflectConstruct(StringCtor, [], fn);
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes `replacement` indistinguishable from `original`: name, length, extra properties
 * (util.promisify.custom), constructibility and a `prototype` only where the original has them,
 * and toString() printing the original's text. `replacement` must not be constructible (a method
 * shorthand): one that stands for a constructible original gets a plain function in front.
 */
export function lookAlike<T extends Function>(replacement: T, original: Function): T {
  let fn: Function = replacement;
  if (isConstructor(original)) {
    fn = function (this: unknown) {
      return new.target ? ReflectConstruct(original, arguments, new.target) : ReflectApply(replacement, this, arguments);
    };
  }
  return standIn(fn as T, original);
}

/**
 * Gives `fn` the own properties of `original` (name, length, prototype, extra ones) and its
 * toString() text. For a replacement that must construct in its own way (the warped Date); any
 * other goes through lookAlike.
 */
export function standIn<T extends Function>(fn: T, original: Function): T {
  const keys = ReflectOwnKeys(original);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (key === 'caller' || key === 'arguments') continue;
    const d = ReflectGetOwnPropertyDescriptor(original, key);
    if (d) ReflectDefineProperty(fn, key, d); // false: non-configurable on the replacement; leave it
  }
  WeakMapPrototypeSet(originals, fn, original);
  return fn as T;
}

/**
 * The built-in a replacement stands for, if it is one: through every replacement in between (the
 * timer patch stands for the time warp's, which stands for node's).
 */
export function originalOf(fn: unknown): Function | undefined {
  if (typeof fn !== 'function') return undefined;
  let original = WeakMapPrototypeGet(originals, fn) as Function | undefined;
  for (let next = original; next !== undefined; next = WeakMapPrototypeGet(originals, next) as Function | undefined) original = next;
  return original;
}

/**
 * Function.prototype.toString prints what the user wrote: a replaced built-in prints the
 * built-in's text, an instrumented function its text without what the transform inserted.
 */
export function patchFunctionToString(): void {
  const proto = Function.prototype as any;
  const origToString = proto.toString;
  const toString = lookAlike({
    toString(this: unknown) {
      const original = originalOf(this);
      const text = FunctionPrototypeToString(original ?? this);
      if (original !== undefined || !StringPrototypeIncludes(text, INSERT_OPEN)) return text;
      return StringPrototypeReplace(text, INSERTED, '');
    },
  }.toString, origToString);
  ReflectDefineProperty(proto, 'toString', { value: toString, writable: true, configurable: true, enumerable: false });
}

/** The object on `obj`'s prototype chain that defines `key` (`obj` itself when none does). */
export function ownerOf(obj: object, key: PropertyKey): object {
  for (let o: object | null = obj; o; o = ReflectGetPrototypeOf(o)) if (ReflectGetOwnPropertyDescriptor(o, key)) return o;
  return obj;
}

/**
 * Counts the program's reads of the wall clock (`count` is called after each, with the time it read
 * on performance.now's absolute scale when `real`, NaN when the clocks are a time warp's): Date.now,
 * performance.now, process.hrtime and process.hrtime.bigint (the time warp's own, when one is
 * installed), each replaced where it is defined, by a look-alike that calls
 * it with the same receiver and arguments. The watchdog tells a loop waiting on the wall clock from
 * finite work by it (see `clocked` in watchdog.ts).
 */
export function patchClockReads(count: (atMs: number) => void, real: boolean): void {
  // hrtime's time on performance.now's absolute scale (timeOrigin + now): its offset, read once.
  const hrOffset = timeOrigin + performance.now() - Number(process.hrtime.bigint()) / 1e6;
  const wrap = (owner: object, key: string, at: (value: any, args: IArguments) => number) => {
    const d = ReflectGetOwnPropertyDescriptor(owner, key);
    if (!d || typeof d.value !== 'function') return;
    const original = d.value as Function;
    const counted = lookAlike({
      read(this: unknown) {
        const value = ReflectApply(original, this, arguments);
        count(real ? at(value, arguments) : NaN);
        return value;
      },
    }.read, original);
    ReflectDefineProperty(owner, key, { ...d, value: counted });
  };
  // performance.now lives on Performance.prototype.
  wrap(ownerOf(performance, 'now'), 'now', (v: number) => timeOrigin + v);
  wrap(Date, 'now', (v: number) => v);
  // hrtime's bigint first: process.hrtime's look-alike carries the counted one.
  wrap(process.hrtime, 'bigint', (v: bigint) => Number(v) / 1e6 + hrOffset);
  // hrtime(prev) gives a difference, not a time.
  wrap(process, 'hrtime', (v: [number, number], args) => (args.length > 0 && args[0] !== undefined ? NaN : v[0] * 1e3 + v[1] / 1e6 + hrOffset));
}

/** Runs `fn` with `ctx` as the current span. */
function bind(rec: Recorder, ctx: Handle | null, fn: Function): (...args: unknown[]) => unknown {
  return function (this: unknown) {
    const saved = rec.current;
    rec.current = ctx;
    try {
      return ReflectApply(fn, this, arguments);
    } finally {
      rec.current = saved;
    }
  };
}

export function patchTimers(rec: Recorder, sink?: MarkSink): void {
  const g = globalThis as any;
  const origSetTimeout = g.setTimeout;
  const origSetInterval = g.setInterval;
  const origSetImmediate = g.setImmediate;
  const origClearTimeout = g.clearTimeout;
  const origClearInterval = g.clearInterval;
  const origClearImmediate = g.clearImmediate;
  const origOf: Record<string, Function> = {
    setTimeout: origSetTimeout, setInterval: origSetInterval, setImmediate: origSetImmediate,
    clearTimeout: origClearTimeout, clearInterval: origClearInterval, clearImmediate: origClearImmediate,
  };

  // Runs a timer callback in the span it was scheduled from, and ends the timer's own span if it
  // has one. The context and the callback are private fields of the timer (TimerContext): the
  // timer is armed with no arguments, so node calls it as it calls the program's own (the same
  // line of node's in a stack printed later, no `_timerArgs` or `_argv` the program could see),
  // with no closure and no array made per call.
  const fire = function (this: any) {
    if (!TimerContext.holds(this)) return undefined;
    const cb = TimerContext.cb(this);
    if (this._onTimeout === fire && this._repeat === null) {
      // A timeout that fired holds its callback under node, which names its frame
      // `Timeout.cb [as _onTimeout]` in a stack printed later.
      this._onTimeout = cb;
    }
    const span = TimerSpan.take(this);
    if (span) rec.endTimer(span);
    const saved = rec.current;
    rec.current = TimerContext.ctx(this);
    try {
      return FunctionPrototypeCall(cb, this);
    } finally {
      rec.current = saved;
    }
  };

  const schedule = (orig: Function, repeat: boolean, delayed: boolean) => {
    const callOrig = uncurryThis(orig);
    return lookAlike({
      schedule(this: unknown, cb: unknown) {
        const span = rec.openTimer();
        const ctx = rec.current;
        if (typeof cb !== 'function' || (span === null && ctx === null)) {
          return ReflectApply(orig, this, arguments);
        }
        // No arguments for the callback (the common case), and no span or one that ends when it
        // fires once: armed with `fire`. An omitted delay and an undefined one mean the same to node.
        if (arguments.length <= (delayed ? 2 : 1) && (span === null || !repeat)) {
          const timer = delayed ? callOrig(this, fire, arguments[1]) : callOrig(this, fire);
          if (timer !== null && typeof timer === 'object') {
            new TimerContext(timer, ctx, cb);
            if (span) new TimerSpan(timer, span);
          }
          return timer;
        }
        const args = ArrayPrototypeSlice(arguments);
        let timer: any;
        let live = span;
        const wrapper = args[0] = function (this: any) {
          if (!repeat && this !== null && typeof this === 'object' && this._onTimeout === wrapper) this._onTimeout = cb;
          if (live) {
            rec.endTimer(live);
            live = repeat ? rec.reopenTimer(live) : null;
            if (timer !== null && typeof timer === 'object') TimerSpan.set(timer, live);
          }
          const saved = rec.current;
          rec.current = ctx;
          try {
            return ReflectApply(cb, this, arguments);
          } finally {
            rec.current = saved;
          }
        };
        timer = ReflectApply(orig, this, args);
        if (span && timer !== null && typeof timer === 'object') new TimerSpan(timer, span);
        return timer;
      },
    }.schedule, orig);
  };

  const clear = (orig: Function) => {
    const replacement: Function = lookAlike({
      clear(this: unknown, timer: any) {
        const span = TimerSpan.take(timer);
        if (span) {
          rec.endTimer(span, OUTCOME_REJECTED);
          // Where it was cleared: the answer when an await waited on what this timer would have done.
          if (sink) rec.noteCleared(span, callerPosition(replacement, sink));
        }
        return ReflectApply(orig, this, arguments);
      },
    }.clear, orig);
    return replacement;
  };

  g.setTimeout = schedule(origSetTimeout, false, true);
  g.setInterval = schedule(origSetInterval, true, true);
  g.setImmediate = schedule(origSetImmediate, false, false);
  g.clearTimeout = clear(origClearTimeout);
  g.clearInterval = clear(origClearInterval);
  g.clearImmediate = clear(origClearImmediate);
  // require('node:timers').setTimeout is the global one under node: the same function here too.
  const timers = require('node:timers');
  for (const name of ['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'clearImmediate']) {
    if (timers[name] === origOf[name]) timers[name] = g[name];
  }
}

/** Callbacks of queueMicrotask, process.nextTick and .then run in the span that scheduled them. */
export function patchContextPropagation(rec: Recorder): void {
  const g = globalThis as any;
  const origQueueMicrotask = g.queueMicrotask;
  g.queueMicrotask = lookAlike({
    queueMicrotask(this: unknown, cb: unknown) {
      const ctx = rec.current;
      if (ctx === null || typeof cb !== 'function') return ReflectApply(origQueueMicrotask, this, arguments);
      return ReflectApply(origQueueMicrotask, this, [bind(rec, ctx, cb)]);
    },
  }.queueMicrotask, origQueueMicrotask);

  const origNextTick = process.nextTick;
  process.nextTick = lookAlike({
    nextTick(this: unknown, cb: unknown) {
      const ctx = rec.current;
      if (ctx === null || typeof cb !== 'function') return ReflectApply(origNextTick, this, arguments);
      const args = ArrayPrototypeSlice(arguments);
      args[0] = bind(rec, ctx, cb);
      return ReflectApply(origNextTick, this, args);
    },
  }.nextTick, origNextTick);

  const proto = Promise.prototype as any;
  const origThen = proto.then;
  const callThen = uncurryThis(origThen);
  const then = lookAlike({
    then(this: unknown, onFulfilled: unknown, onRejected: unknown) {
      const ctx = rec.current;
      if (ctx === null) return ReflectApply(origThen, this, arguments);
      return callThen(
        this,
        typeof onFulfilled === 'function' ? bind(rec, ctx, onFulfilled) : onFulfilled,
        typeof onRejected === 'function' ? bind(rec, ctx, onRejected) : onRejected,
      );
    },
  }.then, origThen);
  Object.defineProperty(proto, 'then', { value: then, writable: true, configurable: true, enumerable: false });
}

export interface MarkSink {
  /** One line of output; `fullLength` when `text` is only its start (see MAX_MARK_CHARS). */
  mark(kind: MarkKind, text: string, line?: number, fullLength?: number): void;
  /** True once no more marks are recorded (the cap): output is then not even looked at. */
  readonly full?: boolean;
  /** Files whose line numbers are worth reporting (instrumented ones). */
  isUserFile(file: string): boolean;
}

/** Every line the program writes becomes a mark; console calls carry their kind and line. */
export function patchOutput(sink: MarkSink): void {
  let consoleKind: MarkKind | null = null;
  let consoleLine: number | undefined;

  const wrapStream = (stream: NodeJS.WriteStream, kind: MarkKind) => {
    const orig = stream.write;
    stream.write = lookAlike({
      write(this: unknown, chunk: unknown) {
        try {
          if (!sink.full) {
            const k = consoleKind ?? kind;
            const line = consoleKind ? consoleLine : undefined;
            outputLines(chunk, (text, fullLength) => sink.mark(k, text, line, fullLength));
          }
        } catch {
          // never let recording break the program's output
        }
        return ReflectApply(orig, this, arguments);
      },
    }.write, orig) as any;
  };
  // node makes process.stdout and process.stderr on first use (a pipe's handle is then among the
  // program's active resources): wrapped when the program first asks for them, not before.
  const wrapOnFirstUse = (name: 'stdout' | 'stderr') => {
    const d = ReflectGetOwnPropertyDescriptor(process, name);
    if (!d || typeof d.get !== 'function' || !d.configurable) {
      wrapStream(process[name], name);
      return;
    }
    const origGet = d.get;
    let wrapped: unknown;
    const get = lookAlike({
      get(this: unknown) {
        const stream = ReflectApply(origGet, this, arguments);
        if (stream !== wrapped && stream !== null && typeof stream === 'object') {
          wrapped = stream;
          wrapStream(stream, name);
        }
        return stream;
      },
    }.get, origGet);
    ReflectDefineProperty(process, name, { get, set: d.set, enumerable: d.enumerable, configurable: true });
  };
  wrapOnFirstUse('stdout');
  wrapOnFirstUse('stderr');

  // console.trace is not wrapped: its stack starts above itself, so a wrapper would be its first
  // frame; it prints through console.error, which is.
  const kinds: Array<[keyof Console, MarkKind]> = [
    ['log', 'log'], ['info', 'info'], ['debug', 'log'], ['warn', 'warn'], ['error', 'error'],
    ['dir', 'log'], ['table', 'log'],
  ];
  for (const [method, kind] of kinds) {
    const orig = (console as any)[method];
    if (typeof orig !== 'function') continue;
    const replacement = lookAlike({
      [method](this: unknown) {
        const outer = consoleKind;
        if (outer === null) {
          consoleKind = kind;
          consoleLine = callerLine(replacement, sink);
        }
        try {
          return ReflectApply(orig, this, arguments);
        } finally {
          if (outer === null) consoleKind = null;
        }
      },
    }[method], orig);
    (console as any)[method] = replacement;
  }
}

/**
 * The lines of one write, each cut to MAX_MARK_CHARS (with '…', and its whole length passed on):
 * linear in the write's size, and only the kept part of a line is decoded, so a 100 MB line costs
 * a scan for newlines, not a 100 MB string. A write that ends in a newline has no empty last line.
 */
export function outputLines(chunk: unknown, emit: (text: string, fullLength?: number) => void): void {
  if (typeof chunk === 'string') {
    let from = 0;
    while (from < chunk.length) {
      let nl = StringPrototypeIndexOf(chunk, '\n', from);
      if (nl < 0) nl = chunk.length;
      const n = nl - from;
      if (n > MAX_MARK_CHARS) emit(StringPrototypeSlice(chunk, from, from + MAX_MARK_CHARS) + '…', n);
      else emit(StringPrototypeSlice(chunk, from, nl));
      from = nl + 1;
    }
    if (chunk.length === 0) emit('');
    return;
  }
  if (!(chunk instanceof Uint8ArrayCtor)) return;
  const bytes = BufferFrom(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  let from = 0;
  while (from < bytes.length) {
    let nl = BufferPrototypeIndexOf(bytes, 10, from);
    if (nl < 0) nl = bytes.length;
    const n = nl - from;
    // A UTF-8 character is at most 4 bytes: this many bytes hold the characters kept, and more.
    if (n > MAX_MARK_CHARS) {
      const head = BufferPrototypeToString(bytes, 'utf8', from, from + MAX_MARK_CHARS * 4);
      emit((head.length > MAX_MARK_CHARS ? StringPrototypeSlice(head, 0, MAX_MARK_CHARS) : head) + '…', n);
    } else emit(BufferPrototypeToString(bytes, 'utf8', from, nl));
    from = nl + 1;
  }
  if (bytes.length === 0) emit('');
}

const BufferPrototypeIndexOf = uncurryThis(Buffer.prototype.indexOf) as (b: Buffer, v: number, from: number) => number;
const BufferPrototypeToString = uncurryThis(Buffer.prototype.toString) as (b: Buffer, enc: string, start: number, end: number) => string;

/** The line of the user's code that called `fn`, read from V8's structured stack (no formatting). */
export function callerLine(fn: Function, sink: MarkSink): number | undefined {
  return callerPosition(fn, sink)?.line;
}

export function callerPosition(fn: Function, sink: MarkSink): { file: string; line: number; column: number } | undefined {
  const savedPrepare = ErrorCtor.prepareStackTrace;
  const savedLimit = ErrorCtor.stackTraceLimit;
  try {
    ErrorCtor.stackTraceLimit = 4;
    ErrorCtor.prepareStackTrace = (_e, frames) => frames;
    const holder: { stack?: NodeJS.CallSite[] } = {};
    ErrorCaptureStackTrace(holder, fn);
    const frames = holder.stack ?? [];
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i];
      const file = f.getFileName();
      if (file && sink.isUserFile(file)) return { file, line: f.getLineNumber() ?? 0, column: f.getColumnNumber() ?? 1 };
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    ErrorCtor.prepareStackTrace = savedPrepare;
    ErrorCtor.stackTraceLimit = savedLimit;
  }
}

/**
 * `events.once(emitter, name)` promises say what they wait for and where the snippet asked, and an
 * event emitted while nobody listened is remembered (emitter, name, time): together they tell a
 * missed event ("emitted before the listener was added") from one never emitted. `emit` itself
 * only gains a check of its return value (false: nobody listened).
 */
export function patchEvents(now: () => number, sink: MarkSink): void {
  const events = require('node:events');
  const EventEmitter = events.EventEmitter ?? events;
  const origOnce = events.once;
  if (typeof origOnce === 'function') {
    const once: Function = lookAlike({
      once(this: unknown, emitter: unknown, name: unknown) {
        const p = ReflectApply(origOnce, this, arguments);
        try {
          const at = callerPosition(once, sink);
          if (at && typeof emitter === 'object' && emitter !== null) {
            stampOnce(p, { emitter, event: StringCtor(name), line: at.line, column: at.column, atMs: now() });
          }
        } catch {
          // recording must never change what once() does
        }
        return p;
      },
    }.once, origOnce);
    events.once = once;
    if (EventEmitter !== events && EventEmitter.once === origOnce) EventEmitter.once = once;
  }
  const proto = EventEmitter.prototype;
  const origEmit = proto.emit;
  proto.emit = lookAlike({
    emit(this: object, type: unknown) {
      const listened = ReflectApply(origEmit, this, arguments);
      if (listened === false && (typeof type === 'string' || typeof type === 'symbol')) noteMissedEvent(this, StringCtor(type), now());
      return listened;
    },
  }.emit, origEmit);
}

/**
 * Synchronous calls that wait in native code (the inspector cannot interrupt them): they say
 * where they were called from before they wait, so the watchdog can label the block.
 */
export function patchBlockingCalls(rec: Recorder, probe: Float64Array, state: Int32Array, sink: MarkSink): void {
  const wrap = (owner: any, name: string) => {
    const orig = owner[name];
    if (typeof orig !== 'function') return;
    const replacement = lookAlike({
      [name](this: unknown) {
        const where = callerPosition(replacement, sink);
        probe[PROBE_NATIVE_PARENT] = rec.currentId();
        probe[PROBE_NATIVE_COLUMN] = where?.column ?? 1;
        probe[PROBE_NATIVE_LINE] = where?.line ?? -1;
        AtomicsStore(state, ST_IN_NATIVE, 1);
        try {
          return ReflectApply(orig, this, arguments);
        } finally {
          probe[PROBE_NATIVE_LINE] = 0;
          AtomicsStore(state, ST_IN_NATIVE, 0);
          // A write the watchdog began while the call waited ends before the program runs on.
          while (AtomicsLoad(state, ST_WATCHDOG_WRITING) === 1) AtomicsWait(state, ST_WATCHDOG_WRITING, 1, 50);
        }
      },
    }[name], orig);
    owner[name] = replacement;
  };
  const cp = require('node:child_process');
  for (const name of ['execSync', 'execFileSync', 'spawnSync']) wrap(cp, name);
  wrap(Atomics, 'wait');
  require('node:module').syncBuiltinESMExports();
}
