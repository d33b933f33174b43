// Patches of globals inside the child: timers become spans where instrumented code announced the
// call, callbacks run in the context they were scheduled from, and output becomes marks.
// Each patch is transparent: same arguments, same return values, same errors, same order.
import type { MarkKind } from '../shared/timeline';
import { OUTCOME_REJECTED } from '../shared/runtimeProtocol';
import type { Handle, Recorder } from './recorder';
import { PROBE_NATIVE_COLUMN, PROBE_NATIVE_LINE, PROBE_NATIVE_PARENT } from './watchdogShared';

const TIMER_SPAN = Symbol('await-timeline.timer');

/** Keeps a replacement indistinguishable in name, length and extra properties (util.promisify.custom). */
function lookAlike<T extends Function>(replacement: T, original: Function): T {
  for (const key of Reflect.ownKeys(original)) {
    if (key === 'prototype' || key === 'caller' || key === 'arguments') continue;
    const d = Object.getOwnPropertyDescriptor(original, key);
    if (d) {
      try {
        Object.defineProperty(replacement, key, d);
      } catch {
        // non-configurable on the replacement; leave it
      }
    }
  }
  return replacement;
}

/** Runs `fn` with `ctx` as the current span. */
function bind(rec: Recorder, ctx: Handle | null, fn: Function): (...args: unknown[]) => unknown {
  return function (this: unknown) {
    const saved = rec.current;
    rec.current = ctx;
    try {
      return fn.apply(this, arguments as unknown as unknown[]);
    } finally {
      rec.current = saved;
    }
  };
}

export function patchTimers(rec: Recorder): void {
  const g = globalThis as any;
  const origSetTimeout = g.setTimeout;
  const origSetInterval = g.setInterval;
  const origSetImmediate = g.setImmediate;
  const origClearTimeout = g.clearTimeout;
  const origClearInterval = g.clearInterval;
  const origClearImmediate = g.clearImmediate;

  // Runs a timer callback in the span it was scheduled from. It gets that span and the callback
  // as timer arguments, so scheduling allocates no closure (a run can have 100,000s pending).
  const inContext = function (this: unknown, ctx: Handle, cb: Function) {
    const saved = rec.current;
    rec.current = ctx;
    try {
      return cb.call(this);
    } finally {
      rec.current = saved;
    }
  };

  const schedule = (orig: Function, repeat: boolean, delayed: boolean) =>
    lookAlike(function (this: unknown, cb: unknown) {
      const span = rec.openTimer();
      const ctx = rec.current;
      if (typeof cb !== 'function' || (span === null && ctx === null)) {
        return orig.apply(this, arguments);
      }
      if (span === null) {
        // No span of its own and no arguments for the callback (the common case): it only needs
        // its context. An omitted delay and an undefined one mean the same to node.
        if (!delayed && arguments.length === 1) return orig.call(this, inContext, ctx, cb);
        if (delayed && arguments.length <= 2) return orig.call(this, inContext, arguments[1], ctx, cb);
      }
      const args = Array.prototype.slice.call(arguments);
      let timer: any;
      let live = span;
      args[0] = function (this: unknown) {
        if (live) {
          rec.endTimer(live);
          live = repeat ? rec.reopenTimer(live) : null;
          if (timer) timer[TIMER_SPAN] = live;
        }
        const saved = rec.current;
        rec.current = ctx;
        try {
          return cb.apply(this, arguments);
        } finally {
          rec.current = saved;
        }
      };
      timer = orig.apply(this, args);
      if (span && timer && typeof timer === 'object') timer[TIMER_SPAN] = span;
      return timer;
    }, orig);

  const clear = (orig: Function) =>
    lookAlike(function (this: unknown, timer: any) {
      const span: Handle | null | undefined = timer && typeof timer === 'object' ? timer[TIMER_SPAN] : undefined;
      if (span) {
        timer[TIMER_SPAN] = null;
        rec.endTimer(span, OUTCOME_REJECTED);
      }
      return orig.apply(this, arguments);
    }, orig);

  g.setTimeout = schedule(origSetTimeout, false, true);
  g.setInterval = schedule(origSetInterval, true, true);
  g.setImmediate = schedule(origSetImmediate, false, false);
  g.clearTimeout = clear(origClearTimeout);
  g.clearInterval = clear(origClearInterval);
  g.clearImmediate = clear(origClearImmediate);
}

/** Callbacks of queueMicrotask, process.nextTick and .then run in the span that scheduled them. */
export function patchContextPropagation(rec: Recorder): void {
  const g = globalThis as any;
  const origQueueMicrotask = g.queueMicrotask;
  g.queueMicrotask = lookAlike(function (this: unknown, cb: unknown) {
    const ctx = rec.current;
    if (ctx === null || typeof cb !== 'function') return origQueueMicrotask.apply(this, arguments);
    return origQueueMicrotask.call(this, bind(rec, ctx, cb));
  }, origQueueMicrotask);

  const origNextTick = process.nextTick;
  process.nextTick = lookAlike(function (this: unknown, cb: unknown) {
    const ctx = rec.current;
    if (ctx === null || typeof cb !== 'function') return origNextTick.apply(this, arguments as any);
    const args = Array.prototype.slice.call(arguments);
    args[0] = bind(rec, ctx, cb);
    return origNextTick.apply(this, args as any);
  }, origNextTick);

  const proto = Promise.prototype as any;
  const origThen = proto.then;
  const then = lookAlike(function (this: unknown, onFulfilled: unknown, onRejected: unknown) {
    const ctx = rec.current;
    if (ctx === null) return origThen.apply(this, arguments);
    return origThen.call(
      this,
      typeof onFulfilled === 'function' ? bind(rec, ctx, onFulfilled) : onFulfilled,
      typeof onRejected === 'function' ? bind(rec, ctx, onRejected) : onRejected,
    );
  }, origThen);
  Object.defineProperty(proto, 'then', { value: then, writable: true, configurable: true, enumerable: false });
}

export interface MarkSink {
  mark(kind: MarkKind, text: string, line?: number): void;
  /** Files whose line numbers are worth reporting (instrumented ones). */
  isUserFile(file: string): boolean;
}

/** Every line the program writes becomes a mark; console calls carry their kind and line. */
export function patchOutput(sink: MarkSink): void {
  let consoleKind: MarkKind | null = null;
  let consoleLine: number | undefined;

  const wrapStream = (stream: NodeJS.WriteStream, kind: MarkKind) => {
    const orig = stream.write;
    stream.write = lookAlike(function (this: unknown, chunk: unknown) {
      try {
        const text = typeof chunk === 'string' ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : '';
        const k = consoleKind ?? kind;
        const lines = text.split('\n');
        if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
        for (const line of lines) sink.mark(k, line, consoleKind ? consoleLine : undefined);
      } catch {
        // never let recording break the program's output
      }
      return orig.apply(this, arguments as any);
    }, orig) as any;
  };
  wrapStream(process.stdout, 'stdout');
  wrapStream(process.stderr, 'stderr');

  const kinds: Array<[keyof Console, MarkKind]> = [
    ['log', 'log'], ['info', 'info'], ['debug', 'log'], ['warn', 'warn'], ['error', 'error'],
    ['trace', 'error'], ['dir', 'log'], ['table', 'log'],
  ];
  for (const [method, kind] of kinds) {
    const orig = (console as any)[method];
    if (typeof orig !== 'function') continue;
    const replacement = lookAlike(function (this: unknown) {
      const outer = consoleKind;
      if (outer === null) {
        consoleKind = kind;
        consoleLine = callerLine(replacement, sink);
      }
      try {
        return orig.apply(this, arguments);
      } finally {
        if (outer === null) consoleKind = null;
      }
    }, orig);
    (console as any)[method] = replacement;
  }
}

/** The line of the user's code that called `fn`, read from V8's structured stack (no formatting). */
export function callerLine(fn: Function, sink: MarkSink): number | undefined {
  return callerPosition(fn, sink)?.line;
}

export function callerPosition(fn: Function, sink: MarkSink): { line: number; column: number } | undefined {
  const savedPrepare = Error.prepareStackTrace;
  const savedLimit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = 4;
    Error.prepareStackTrace = (_e, frames) => frames;
    const holder: { stack?: NodeJS.CallSite[] } = {};
    Error.captureStackTrace(holder, fn);
    for (const f of holder.stack ?? []) {
      const file = f.getFileName();
      if (file && sink.isUserFile(file)) return { line: f.getLineNumber() ?? 0, column: f.getColumnNumber() ?? 1 };
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    Error.prepareStackTrace = savedPrepare;
    Error.stackTraceLimit = savedLimit;
  }
}

/**
 * Synchronous calls that wait in native code (the inspector cannot interrupt them): they say
 * where they were called from before they wait, so the watchdog can label the block.
 */
export function patchBlockingCalls(rec: Recorder, probe: Float64Array, sink: MarkSink): void {
  const wrap = (owner: any, name: string) => {
    const orig = owner[name];
    if (typeof orig !== 'function') return;
    const replacement = lookAlike(function (this: unknown) {
      const where = callerPosition(replacement, sink);
      probe[PROBE_NATIVE_PARENT] = rec.currentId();
      probe[PROBE_NATIVE_COLUMN] = where?.column ?? 1;
      probe[PROBE_NATIVE_LINE] = where?.line ?? -1;
      try {
        return orig.apply(this, arguments);
      } finally {
        probe[PROBE_NATIVE_LINE] = 0;
      }
    }, orig);
    owner[name] = replacement;
  };
  const cp = require('node:child_process');
  for (const name of ['execSync', 'execFileSync', 'spawnSync']) wrap(cp, name);
  wrap(Atomics, 'wait');
  require('node:module').syncBuiltinESMExports();
}
