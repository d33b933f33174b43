// Entry of the instrumented child (`node --enable-source-maps bootstrap.js`). A guest in the
// user's process: it loads once, takes the engine's pipes (see takeChannel) and the run's key, says
// hello on the events pipe, waits for one run request on the control pipe, then
// runs the snippet as the main module, instrumented, with the user's own argv and cwd.
// First: the watchdog thread starts before the rest of the runtime is even evaluated.
import { early, startWatchdog, takeChannel, type ChannelEnds } from './watchdogEarly';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import Module, { syncBuiltinESMExports } from 'node:module';

import { ENGINE_ANSWER_WAIT_MS, MAX_MARK_CHARS, NODE_CHANNEL_FDS, PROTOCOL_VERSION, SEAL_KEY_BYTES, type InstrumentedMessage, type PreparedModule, type RunRequest } from '../shared/runtimeProtocol';
import type { MarkKind } from '../shared/timeline';
import { ChildTransport, createSharedChannel, makeNonBlocking, ownCopy, type ChannelEnd, type SealKey } from './transport';
import { Recorder } from './recorder';
import { callerPosition, lookAlike, patchBlockingCalls, patchClockReads, patchContextPropagation, patchEvents, patchFunctionToString, patchOutput, patchTimers } from './patches';
import { declaredFormat, mapOfBytes, mapOfCode, nearestPackageJson, nearestPackageType, RUNTIME_KEY } from './moduleFormat';
import { installTimeWarp } from './timeWarp';
import { ControlReader } from './controlReader';
import type * as TransformModule from './transform';
import { installStackTraces, registerCode, registerMap, reportUncaughtAsNode, setEntryFile, sourceMapsForUncaught } from './stackTraces';
import { AtomicsLoad, AtomicsStore, AtomicsWait, ReflectApply, ReflectDefineProperty, ReflectGetOwnPropertyDescriptor, timeOrigin, RegExpPrototypeExec, StringPrototypeSlice, TypedArrayPrototypeSet, utf8 } from './primordials';
import { CPU_FILES, cpuMsOfBytes, runDelayMsOfBytes, SHARED_PROBE_SLOTS, PROBE_ANSWERS_I32, PROBE_EXITING_I32, PROBE_SESSION_I32, PROBE_LAST_TICK, PROBE_T0, PROBE_TICK_CPU, PROBE_CLOCK_READS, PROBE_TICK_CLOCKS, PROBE_GAP_CPU, PROBE_GAP_CLOCKS, PROBE_FIRST_READ_AT, PROBE_FIRST_READ_CPU, PROBE_LAST_READ_AT, PROBE_GAP_START, PROBE_GAP_END, PROBE_GAP_END_CPU, PROBE_GAP_END_CLOCKS, PROBE_GAP_FIRST_READ_AT, PROBE_GAP_LAST_READ_AT, PROBE_GAP_SEEN, PROBE_NATIVE_LINE, PROBE_MAIN_ALIVE, PROBE_READY_I32, WATCHDOG_WATCHING, PROBE_READ_WANTED, PROBE_READ_TICK, PROBE_READ_LINE, PROBE_READ_COLUMN, PROBE_READ_PARENT, PROBE_READ_CLOCKS, PROBE_READ_CPU, type CpuFile, type WatchdogRun } from './watchdogShared';

const LOADED = Symbol.for(RUNTIME_KEY);
const MAX_MARKS = 20000;
/** An exception mark keeps this much of its stack (the message alone is cut to MAX_MARK_CHARS). */
const MAX_STACK_CHARS = 64 * 1024;
/** The longest the snippet waits for its watchdog thread to run. */
const WATCHDOG_READY_WAIT_MS = 5000;
/**
 * The longest an exiting program waits for the watchdog to judge a stall it may have missed (see
 * settleMissedStall): a thread a busy machine keeps off a CPU gets one in hundreds of ms.
 */
const EXIT_GAP_WAIT_MS = 1000;

function main(): void {
  const g = globalThis as any;
  if (g[LOADED]) return; // loaded twice (e.g. a grandchild given our flags): stay out of the way

  const ends = early?.ends ?? takeChannel();
  let whenIdle: () => void = () => undefined;
  const control = new ControlReader(ends.control, (idleMs) => {
    // Idle until a run comes (a warm child): a module the snippet loads that the engine could not
    // instrument ahead (a computed specifier) then costs a parse, not the transform's loading too;
    // and an import, not the module loader's start.
    if (idleMs <= WARM_AFTER_MS) return;
    if (!transformModule) transform();
    whenIdle();
  });
  const seal = readKey(control);
  const channel = early?.channel ?? createSharedChannel();
  const transport = new ChildTransport(ends.events, seal, channel, true);
  transport.watchdogEnd = ends.watchdog; // moved in place by keepFromChildren
  // The runtime's clock is its own: the program may replace performance.now (fake timers), and a
  // time warp replaces it on purpose.
  const perfNow = performance.now.bind(performance);
  const clock = { t0: perfNow() };
  // A time warp's clock once one is installed: the timeline records the program's times.
  let clockNow = perfNow;
  const now = () => clockNow() - clock.t0;
  const recorder = new Recorder(transport, now, { maxSpansPerSite: 1000 });
  Object.defineProperty(globalThis, LOADED, { value: recorder, enumerable: false, writable: false, configurable: false });
  compileHooks(recorder);

  transport.send({ type: 'hello', protocol: PROTOCOL_VERSION, runtime: 'node', pid: process.pid });
  transport.flush();

  // The watchdog thread started first (see watchdogEarly; a warm child does this while it waits,
  // not on the run's time): it boots on its own thread while this one goes on; it learns what runs
  // from a message, and sleeps until then.
  const probe = early?.probe ?? new Float64Array(new SharedArrayBuffer(SHARED_PROBE_SLOTS * 8));
  // Made now: the exit hook runs after the program, which may have replaced Int32Array.
  const probeFlags = new Int32Array(probe.buffer);
  const watchdog = early ? early.watchdog : startWatchdog(channel, probe, ends);

  // The loader thread serves the instrumented entry module and instruments local ES modules. It
  // starts when something will be imported (Node blocks this thread until it runs: tens of ms):
  // an ES module entry, CommonJS that imports (see needsLoader), or a child idle long enough to
  // be a warm one (see ControlReader).
  let loaderPort: MessagePort | undefined;
  let onLoaderStarted: (port: MessagePort) => void = () => undefined;
  const startLoader = (): MessagePort => {
    if (loaderPort) return loaderPort;
    const { port1, port2 } = new MessageChannel();
    port1.unref();
    withStdioStandIns(() => (Module as any).register(pathToFileURL(path.join(__dirname, 'loaderHooks.mjs')).href, {
      data: { port: port2 },
      transferList: [port2],
    }));
    loaderPort = port1;
    onLoaderStarted(port1);
    return port1;
  };
  whenIdle = () => startLoader();

  // Node's source-map modules load now, while the engine instruments the entry (a warm child:
  // while it waits), not after the run request on the way to time 0.
  warmSourceMaps();

  // What of the program's start does not depend on its run is done before the run request: a warm
  // child does it while it waits, and the run's first event does not wait for it. Not the timers:
  // a time warp, which the request may ask for, goes under them. Nothing the runtime does before
  // the request goes through what is patched here (its control reads and waits are its own).
  const userFiles = new Set<string>();
  let marks = 0;
  const sink = {
    isUserFile: (f: string) => userFiles.has(f),
    mark(kind: MarkKind, text: string, line?: number, fullLength?: number) {
      if (marks++ >= MAX_MARKS) return;
      transport.send({ type: 'mark', kind, text, atMs: now(), line, fullLength });
    },
    get full() {
      return marks >= MAX_MARKS;
    },
  };
  // Stacks print as node prints them, at the user's columns: the loader thread sends the source
  // maps of the ES modules it instruments, read when a stack needs one. It also says how long it
  // spent instrumenting (the tool's time), read at the probe's ticks.
  let onInstrumented: (label: string, startAbs: number, endAbs: number) => void = () => undefined;
  const drainLoader = () => {
    if (!loaderPort) return;
    for (let m = receiveMessageOnPort(loaderPort); m; m = receiveMessageOnPort(loaderPort)) {
      const msg = m.message as { type?: string; url?: string; map?: string; label?: string; startAbs?: number; endAbs?: number };
      if (msg?.type === 'map' && typeof msg.url === 'string' && typeof msg.map === 'string') registerMap(msg.url, msg.map);
      if (msg?.type === 'instrumented' && typeof msg.startAbs === 'number' && typeof msg.endAbs === 'number') {
        onInstrumented(String(msg.label), msg.startAbs, msg.endAbs);
      }
    }
  };
  installStackTraces(drainLoader);
  patchFunctionToString();
  patchContextPropagation(recorder);
  patchOutput(sink);
  patchBlockingCalls(recorder, probe, transport.state, sink);

  const request = readRunRequest(control, startLoader);
  if (!request) process.exit(0); // the engine let this warm child go unused
  // The program runs from here on: what it spawns must not inherit the channel.
  const cpu = keepFromChildren(ends);

  recorder.configure({ maxSpansPerSite: request.maxSpansPerSite, maxSpans: request.maxSpans });
  const file = path.resolve(request.file);
  setEntryFile(file);
  userFiles.add(file);
  userFiles.add(pathToFileURL(file).href);

  try {
    process.chdir(request.cwd);
  } catch {
    // a missing cwd: keep ours, as node would run from wherever it was started
  }
  process.argv = [process.argv[0], file, ...request.args];
  // Node caches the source maps of code compiled while they are enabled; it uses them only for
  // the source line it prints above an uncaught error (see sourceMapsForUncaught).
  process.setSourceMapsEnabled(true);

  const watchdogRun: WatchdogRun = {
    type: 'run', thresholdMs: request.blockThresholdMs, file, source: request.source,
    channel: { events: ends.events.fd, watchdog: ends.watchdog.fd, control: ends.control },
    seal,
    cpu,
  };
  // The engine's answers to InstrumentMessage come on the control pipe, which the watchdog reads:
  // it hands them on here.
  const answers = request.instruments && watchdog ? new MessageChannel() : undefined;
  if (answers) {
    watchdogRun.answers = answers.port2;
    watchdog!.postMessage(watchdogRun, [answers.port2]);
  } else watchdog?.postMessage(watchdogRun);

  if (request.time === 'warp') {
    // The timeline records the warped clock's times. The watchdog's times are real ones: each
    // jump (or hold taken out) moves the real time of the snippet's time 0 by as much, so they map
    // onto the warped clock.
    const deadlineMs = request.deadlineMs;
    const schedstat = cpu?.kind === 'schedstat' ? ownRunDelayReader(cpu.fd) : undefined;
    const warp = installTimeWarp((ms) => {
      probe[PROBE_T0] -= ms;
    }, deadlineMs === undefined ? undefined : {
      atMs: deadlineMs,
      now,
      reached: (atMs) => {
        transport.send({ type: 'deadline', atMs });
        transport.flush();
      },
    }, schedstat?.runDelayMs, schedstat?.cpuMs);
    clockNow = warp.now;
  }
  // Over the time warp's clocks, when there is one: what the program calls is what is counted.
  // The first read after a tick also says the main thread's CPU time then (one look at /proc a
  // tick at most): the watchdog counts the reads' rate from there, not from the tick.
  // The watchdog may ask where the snippet reads the clock (PROBE_READ_WANTED): the next read says.
  const thresholdMs = request.blockThresholdMs;
  const siteLength = new Int32Array(channel.site, 0, 1);
  const siteBytes = new Uint8Array(channel.site, 4);
  const noteReadSite = function readSite(want: number, n: number): void {
    if (want === probe[PROBE_READ_WANTED]) probe[PROBE_READ_WANTED] = 0;
    if (want !== probe[PROBE_LAST_TICK]) return; // the stall it asked about is over
    const at = callerPosition(readSite, sink);
    if (!at) return;
    const file = utf8(at.file);
    if (file.length > siteBytes.length) return;
    TypedArrayPrototypeSet(siteBytes, file, 0);
    siteLength[0] = file.length;
    probe[PROBE_READ_LINE] = at.line;
    probe[PROBE_READ_COLUMN] = at.column;
    probe[PROBE_READ_PARENT] = recorder.currentId();
    probe[PROBE_READ_CLOCKS] = n;
    probe[PROBE_READ_CPU] = recorder.cpuNow();
    probe[PROBE_READ_TICK] = want;
  };
  patchClockReads(function count(at) {
    const n = probe[PROBE_CLOCK_READS]!;
    if (n === probe[PROBE_TICK_CLOCKS]) {
      probe[PROBE_FIRST_READ_AT] = at;
      probe[PROBE_FIRST_READ_CPU] = recorder.cpuNow();
    }
    probe[PROBE_CLOCK_READS] = n + 1;
    probe[PROBE_LAST_READ_AT] = at;
    const want = probe[PROBE_READ_WANTED]!;
    if (want !== 0) noteReadSite(want, n + 1);
    // Reading the clock a threshold after the last tick: a stall the watchdog may not have seen
    // yet (a busy machine keeps it off a CPU too); say where, once a tick.
    else if (at - probe[PROBE_LAST_TICK]! >= thresholdMs && probe[PROBE_READ_TICK] !== probe[PROBE_LAST_TICK]) noteReadSite(probe[PROBE_LAST_TICK]!, n + 1);
  }, request.time !== 'warp');
  recorder.clockReads = () => probe[PROBE_CLOCK_READS]!;
  // Under the timer patch: the time warp's timers are the ones it wraps.
  patchTimers(recorder, sink);
  // node:timers as the program imports it: its named ES module exports follow what was patched.
  syncBuiltinESMExports();
  installExitHooks(recorder, transport, now, sink, userFiles, () => settleMissedStall(), () => {
    // The watchdog's inspector session must be gone before node exits (it would print "Waiting
    // for the debugger to disconnect..."): it is connected only while a block is being looked at.
    // Exiting is said first, so the watchdog connects no session from now on (see
    // PROBE_SESSION_I32); one already connected is waited for. The watchdog lets go at its next
    // check, a few ms, unless the machine keeps it off the CPU: the bound is for a thread that died.
    const flags = probeFlags;
    AtomicsStore(flags, PROBE_EXITING_I32, 1);
    const deadline = perfNow() + 3000;
    while (AtomicsLoad(flags, PROBE_SESSION_I32) === 1 && perfNow() < deadline) AtomicsWait(flags, PROBE_SESSION_I32, 1, 10);
  });
  // After the exit hooks: process.emit is their own replacement of the built-in, not this one.
  patchEvents(now, sink);

  // The lag probe: the watchdog reads its ticks to see the main thread stuck; it also flushes.
  // Each tick says the main thread's CPU time with it: a stall's CPU counts from its first moment.
  const readCpu = ownCpuReader(cpu);
  recorder.cpuNow = readCpu;
  /** Writes down the gap from the last tick (`before`) to `at` for the watchdog (see PROBE_GAP_END). */
  const noteGap = (before: number, at: number, cpuNow: number) => {
    // A gap the watchdog has not looked at yet in which the snippet read the clock (its read site
    // says where: what a starved watchdog needs to judge it) is not replaced by a later one with
    // no such read: a busy machine makes many, while the watchdog waits for a CPU.
    const kept = probe[PROBE_GAP_START]!;
    if (kept > probe[PROBE_GAP_SEEN]! && probe[PROBE_READ_TICK] === kept) return;
    // The record is the watchdog's to read at any time: not its own while it is written.
    probe[PROBE_GAP_START] = NaN;
    const clocks = probe[PROBE_CLOCK_READS]!;
    const read = clocks > probe[PROBE_TICK_CLOCKS]!;
    probe[PROBE_GAP_CPU] = cpuNow - probe[PROBE_TICK_CPU]!;
    probe[PROBE_GAP_CLOCKS] = clocks - probe[PROBE_TICK_CLOCKS]!;
    probe[PROBE_GAP_END] = at;
    probe[PROBE_GAP_END_CPU] = cpuNow;
    probe[PROBE_GAP_END_CLOCKS] = clocks;
    probe[PROBE_GAP_FIRST_READ_AT] = read ? probe[PROBE_FIRST_READ_AT]! : NaN;
    probe[PROBE_GAP_LAST_READ_AT] = read ? probe[PROBE_LAST_READ_AT]! : NaN;
    probe[PROBE_GAP_START] = before;
  };
  const gapSince = (before: number, at: number, cpuNow: number) => at - before >= thresholdMs && cpuNow >= 0 && probe[PROBE_TICK_CPU]! >= 0;
  const markTick = () => {
    const cpuNow = readCpu();
    const at = timeOrigin + perfNow();
    const before = probe[PROBE_LAST_TICK]!;
    if (gapSince(before, at, cpuNow)) noteGap(before, at, cpuNow);
    probe[PROBE_TICK_CPU] = cpuNow;
    probe[PROBE_TICK_CLOCKS] = probe[PROBE_CLOCK_READS]!;
    probe[PROBE_LAST_TICK] = recorder.tickAt = at;
  };
  /**
   * At exit, soon after a stretch that held the loop and read the clock (a spin on it, near the
   * program's end): the watchdog may not have seen that stall at all, a busy machine keeping it
   * off a CPU all along, and the program's end would come before its next look. A stretch going
   * on now is written down as a tick would, and the watchdog gets a bounded wait to judge the
   * last gap (see missedStall); its frames are written from here meanwhile. Only a gap in which
   * the snippet read the clock (its read site says where): nothing else could be judged
   * afterwards. Not one the watchdog watched (it ends with the run).
   */
  const settleMissedStall = () => {
    if (!watchdog) return;
    const before = probe[PROBE_LAST_TICK]!;
    if (probe[PROBE_READ_TICK] === before && probe[PROBE_GAP_SEEN]! < before) {
      const cpuNow = readCpu();
      const at = timeOrigin + perfNow();
      if (gapSince(before, at, cpuNow)) noteGap(before, at, cpuNow);
    }
    const gap = probe[PROBE_GAP_START]!;
    if (!(gap > probe[PROBE_GAP_SEEN]!) || probe[PROBE_READ_TICK] !== gap) return;
    const deadline = perfNow() + EXIT_GAP_WAIT_MS;
    while (probe[PROBE_GAP_SEEN]! < gap && perfNow() < deadline) {
      transport.serveRelay();
      AtomicsWait(probeFlags, PROBE_EXITING_I32, 0, 2);
    }
  };
  const tick = () => {
    // A macrotask of its own: what closes after it closed in a later turn of the loop.
    recorder.turn++;
    markTick();
    drainLoader();
    recorder.flushDropped(true);
    transport.flush();
  };
  const interval = setIntervalUnpatched(tick, 10);
  interval.unref();
  // The first spans of a module go out as soon as its first synchronous part has run, not at the
  // next tick (up to 10 ms later): a warm run's first event comes that much sooner.
  let flushQueued = false;
  recorder.onModuleStart = () => {
    if (flushQueued) return;
    flushQueued = true;
    runtimeTimers.setImmediate(() => {
      flushQueued = false;
      tick();
    }).unref();
  };

  // The entry's code; for an ES module the engine instrumented, its UTF-8 bytes instead (`code`
  // is then empty). Neither is kept once handed to node: the request lives as long as the run
  // (its options are read at every tick), and the code can be tens of MB (100,000 await sites).
  let compiled: { code: string; format: 'esm' | 'cjs'; bytes?: Buffer };
  if (request.codeBody !== undefined && request.format === 'esm') {
    compiled = { code: '', format: 'esm', bytes: request.codeBody };
    request.codeBody = undefined;
  } else if (request.code !== undefined && request.format) {
    compiled = { code: request.code, format: request.format };
    request.code = undefined;
  } else {
    // Launched without an engine-side transform: instrument here.
    const source = request.source ?? readSource(file);
    if (source === undefined) return;
    const t = transform();
    try {
      compiled = t.transformSnippet(source, { file, format: declaredFormat(file) });
    } catch (err) {
      if (err instanceof t.CompileError) {
        transport.send({ type: 'error', phase: 'compile', message: err.message, file: err.file, line: err.line, column: err.column });
        process.exitCode = 1;
        return;
      }
      throw err;
    }
  }
  if (compiled.format === 'esm') {
    // V8 compiles the loader's copy of an ES module's code, not this one: its source map is
    // kept as a string of its own (a slice would keep all of this copy, tens of MB on a module
    // of 100,000 await sites, for the whole run).
    const map = compiled.bytes ? mapOfBytes(compiled.bytes) : mapOfCode(compiled.code);
    if (map !== undefined) registerMap(pathToFileURL(file).href, Buffer.from(map, 'latin1').toString('latin1'));
  } else {
    registerCode(file, compiled.code);
  }
  // The runtime's own time (instrumenting a module the snippet loads) is reported as such: never
  // the snippet's block.
  const toolTime = (label: string, startMs: number, endMs: number, line?: number) =>
    transport.send({ type: 'delay', kind: 'instrumenting', label, startMs, endMs, line });
  const prepared = new Map<string, PreparedModule>();
  for (const m of request.modules ?? []) if (m.as === 'require') prepared.set(m.file, m);
  const tool = <T>(label: string, work: () => T): T => {
    const startMs = now();
    // The snippet's stretch before the require ends here, judged by its own CPU time: the
    // transform's CPU is the tool's, never counted for the snippet's line.
    markTick();
    recorder.toolWork = label;
    try {
      return work();
    } finally {
      recorder.toolWork = '';
      // The snippet's time starts again here: a stall the watchdog measures from now on is not
      // the tool's (on a busy machine the CPU the transform used would otherwise count for it).
      markTick();
      toolTime(label, startMs, now(), firstUserFrame(String(new Error().stack ?? ''), userFiles)?.line);
    }
  };
  // An ES module entry's code is not kept for the hook (the loader thread has it): required as
  // CommonJS, which node would refuse anyway, it is instrumented again, the same way.
  // A module instrumented during the run that imports starts the loader then, as the tool's time.
  const probeI32 = new Int32Array(probe.buffer);
  let asked = 0;
  let engineSilent = false;
  /**
   * The engine's instrumented code for a module (its transform is warm; here it would load
   * first), or undefined: the engine did not instrument it, or did not answer in time.
   */
  const askEngine = (source: string, file: string, format: 'esm' | 'cjs'): string | undefined => {
    // An engine that did not answer once (a channel the program wrote into is no longer believed,
    // nor its questions) is not asked again: one wait in a run at most.
    if (!answers || engineSilent) return undefined;
    const id = ++asked;
    transport.send({ type: 'instrument', id, file, format, source });
    transport.flush();
    if (!transport.open) {
      // The program closed the channel (or took its descriptor): nobody will answer.
      engineSilent = true;
      return undefined;
    }
    const deadline = perfNow() + ENGINE_ANSWER_WAIT_MS;
    for (;;) {
      const seen = AtomicsLoad(probeI32, PROBE_ANSWERS_I32);
      for (let m = receiveMessageOnPort(answers.port1); m !== undefined; m = receiveMessageOnPort(answers.port1)) {
        const answer = m.message as InstrumentedMessage;
        if (answer.id === id) return typeof answer.code === 'string' ? answer.code : undefined;
        // an answer that came too late for an earlier question
      }
      const left = deadline - perfNow();
      if (left <= 0) {
        engineSilent = true;
        return undefined;
      }
      AtomicsWait(probeI32, PROBE_ANSWERS_I32, seen, left);
    }
  };
  installRequireHook(file, compiled.format === 'cjs' ? compiled.code : undefined, userFiles, prepared, tool, askEngine, () => {
    if (!loaderPort) tool('starting the module loader', startLoader);
  });
  onInstrumented = (label, startAbs, endAbs) =>
    toolTime(label, Math.max(0, startAbs - probe[PROBE_T0]), Math.max(0, endAbs - probe[PROBE_T0]));
  const esmModules = (request.modules ?? []).filter((m) => m.as === 'import');
  // What the engine instrumented for import reaches the loader thread first thing.
  onLoaderStarted = (port) => {
    if (esmModules.length) port.postMessage({ type: 'modules', modules: esmModules });
    if (answers) {
      // An import the engine could not know ahead (its name computed): the loader thread asks the
      // engine through the watchdog thread, which has a channel of its own to it and reads the
      // control pipe the answer comes on. Neither line waits for this thread.
      const line = new MessageChannel();
      watchdog!.postMessage({ type: 'loader', port: line.port2 }, [line.port2]);
      port.postMessage({ type: 'engine', port: line.port1 }, [line.port1]);
    }
  };
  if (loaderPort) onLoaderStarted(loaderPort);
  // Before time 0, whenever the run will import: the module loader is the tool's, never the snippet's time.
  if (compiled.format === 'esm' || needsLoader(compiled.code) || [...prepared.values()].some((m) => needsLoader(m.code))) startLoader();
  // What the runtime queued while it started (the watchdog thread, the loader hooks) runs now:
  // the snippet starts with an empty nextTick queue, as a main module does under node, so its
  // first microtasks run from the same place (no extra processTicksAndRejections frame) and in
  // the same order relative to its own ticks.
  (process as any)._tickCallback?.();

  // A cold child's watchdog thread may still be starting (slow on a busy machine): the snippet
  // starts once it watches the run, so that a loop that never yields is seen and named, and no
  // descriptor of the thread's is opened beside the program's own (bounded wait).
  if (watchdog) {
    const deadline = perfNow() + WATCHDOG_READY_WAIT_MS;
    for (let seen; (seen = AtomicsLoad(probeFlags, PROBE_READY_I32)) < WATCHDOG_WATCHING;) {
      const left = deadline - perfNow();
      if (left <= 0) break;
      AtomicsWait(probeFlags, PROBE_READY_I32, seen, left);
    }
  }

  // Time 0: everything before this was ours, not the snippet's.
  clock.t0 = clockNow();
  probe[PROBE_T0] = timeOrigin + perfNow();
  probe[PROBE_TICK_CPU] = readCpu();
  probe[PROBE_LAST_TICK] = recorder.tickAt = probe[PROBE_T0];
  probe[PROBE_MAIN_ALIVE] = 1;
  probe[PROBE_NATIVE_LINE] = 0;
  transport.send({ type: 'started' });
  transport.flush();

  if (compiled.format === 'esm') {
    const url = pathToFileURL(file).href;
    const pjson = /\.js$/i.test(file) && declaredFormat(file) === undefined ? nearestPackageJson(path.dirname(file)) : undefined;
    if (pjson) {
      // What node says when it reparses a typeless package's .js as a module.
      process.emitWarning(
        `Module type of ${url} is not specified and it doesn't parse as CommonJS.\n` +
        'Reparsing as ES module because module syntax was detected. This incurs a performance overhead.\n' +
        `To eliminate this warning, add "type": "module" to ${pjson}.`,
        { code: 'MODULE_TYPELESS_PACKAGE_JSON' },
      );
    }
    // The code goes to the loader thread and comes back as node's source as UTF-8 bytes whose
    // buffer is moved, not copied, both ways (node's loader moves a source's buffer back): a
    // string would be cloned twice and the loader thread, idle once it has served it, would
    // keep its copy (tens of MB for a module of 100,000 await sites). Node decodes the bytes
    // with a decoder that drops a leading byte order mark; the transform already dropped an ES
    // module's (transformSnippet), so none is lost here. Both sources of the bytes (the control
    // reader, the encoder) own their whole buffer.
    const loader = startLoader();
    const bytes = compiled.bytes ?? utf8(compiled.code);
    loader.postMessage({ type: 'entry', url, code: bytes }, [bytes.buffer as ArrayBuffer]);
    compiled.code = '';
    compiled.bytes = undefined;
    if (nodeUsesModuleLoader(file)) {
      // Node's own entry point, as `node file.mjs` runs it: its frames under the user's
      // (`async asyncRunEntryPointWithESMLoader`), its report of an error the module throws
      // (non-Error values too) and its exit code 13, with no warning, for a top-level await that
      // never settles. The loader thread serves the instrumented code for the URL it imports.
      (Module as any).runMain(file);
      return;
    }
    let settled = false;
    process.once('beforeExit', () => {
      if (!settled) {
        // What node says of a top-level await that can never finish.
        process.stderr.write(`Warning: Detected unsettled top-level await at ${url}\n`);
        process.exitCode = 13;
      }
    });
    // As node's own main-module promise: a rejection stays unhandled, so node reports it the way
    // it reports an ES module's error, at the user's line.
    const done = () => { settled = true; };
    import(url).then(done, (err) => {
      done();
      return Promise.reject(err);
    });
  } else {
    runCommonJs(file, compiled.code);
  }
}

/**
 * Whether node itself would start this main module through its ES module loader
 * (`shouldUseESMLoader` in node's run_main.js): an .mjs file, or a .js whose package says
 * "type": "module". A typeless .js that only parses as a module, and TypeScript, are started by
 * the runtime (node would go through its CommonJS loader first).
 */
function nodeUsesModuleLoader(file: string): boolean {
  if (/\.mjs$/i.test(file)) return true;
  return /\.js$/i.test(file) && nearestPackageType(path.dirname(file)) === 'module';
}

// The transform is big: load it only when something must be instrumented in this process.
let transformModule: typeof TransformModule | undefined;
function transform(): typeof TransformModule {
  return (transformModule ??= require(path.join(__dirname, 'transform.js')) as typeof TransformModule);
}

/**
 * V8 compiles a function the first time it is called. A hook the instrumented code calls only
 * after the program's call returns (`s` before an await, `fl` after a dropped call) is first
 * called, in a recursion that overflows, at the bottom of a full stack: compiling it needs more
 * stack than is left, so the call throws in the program's function, which rejects, one level
 * after another for hundreds of levels (each an "Exception in PromiseRejectCallback"), where under
 * node nothing is called there. Called once here, on a receiver that throws at its first touch,
 * each hook is compiled and does nothing.
 */
function compileHooks(recorder: Recorder): void {
  const poison = new Proxy({}, { get() { throw 0; }, set() { throw 0; }, has() { throw 0; } });
  for (const name of ['s', 'ys', 'y', 'r', 'fl', 'pc', 'np', 'cc', 'ca', 'caught', 'fr', 'leave', 'enter', 'b', 'co', 'ts'] as const) {
    try {
      ReflectApply((recorder as any)[name], poison, []);
    } catch {
      // compiled: that was all
    }
  }
}

/** node:stream's Writable, taken before the program runs. */
const StreamWritable = (require('node:stream') as typeof import('node:stream')).Writable;

/**
 * Node pipes its module loader thread's stdout and stderr into process.stdout and process.stderr
 * when it starts that thread, which makes the two streams at once: a program whose stdout is a
 * pipe would find two pipe handles among its active resources at its first line, and the pipe's
 * listeners on both streams, where plain node has neither. While the thread starts, the two
 * getters give stand-ins that pass on what the thread prints (nothing, unless node warns there)
 * to the program's streams when it prints it.
 */
function withStdioStandIns<T>(start: () => T): T {
  const names = ['stdout', 'stderr'] as const;
  const saved = names.map((name) => ReflectGetOwnPropertyDescriptor(process, name));
  names.forEach((name, i) => {
    if (!saved[i]?.configurable) return;
    const standIn = new StreamWritable({
      write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void) {
        try {
          process[name].write(chunk, callback);
        } catch (err) {
          callback(err as Error);
        }
      },
    });
    ReflectDefineProperty(process, name, { get: () => standIn, configurable: true, enumerable: saved[i]!.enumerable });
  });
  try {
    return start();
  } finally {
    names.forEach((name, i) => {
      if (saved[i]?.configurable) ReflectDefineProperty(process, name, saved[i]!);
    });
  }
}

/** The runtime's own timers: node's, taken before anything (the time warp) patches node:timers. */
const runtimeTimers = (() => {
  const t = require('node:timers') as typeof import('node:timers');
  return { setInterval: t.setInterval, setImmediate: t.setImmediate };
})();

function setIntervalUnpatched(fn: () => void, ms: number): NodeJS.Timeout {
  return runtimeTimers.setInterval(fn, ms);
}

/**
 * The engine's pipes, where it put them (NODE_CHANNEL_FDS: high numbers, so descriptors 3, 4, 5…
 * are where plain node has its own), with the identity of each: the transport never writes to a
 * descriptor the program closed and reused. Inherited, they would be inherited again by the
 * program's children: keepFromChildren moves them before the program runs.
 */
/**
 * Moves the channel to close-on-exec descriptors (see ownCopy): the program's children neither see
 * nor hold it. Where that cannot be done (the engine gave socket pairs) they inherit it, and what
 * they write is not believed (sealed frames). The ends change in place: the transport writes to
 * the new descriptors; the watchdog learns them with its run message.
 */
function keepFromChildren(ends: ChannelEnds): WatchdogRun['cpu'] {
  // The copies go above the inherited ends, not at the lowest free numbers: a program that closes
  // them and opens a file would get its file on a copy's number at once, and a write of the
  // watchdog's racing that close could land in it. Placeholders take the numbers below for a moment.
  const fillers: number[] = [];
  try {
    while (fillers.length < 256 && (fillers.length === 0 || fillers[fillers.length - 1] <= NODE_CHANNEL_FDS[2])) {
      fillers.push(fs.openSync('/dev/null', 'r'));
    }
  } catch {
    // out of descriptors: the copies go where they can
  }
  try {
    // Non-blocking: the snippet never waits for the engine to read (see ChildTransport).
    const events = ends.events.fd;
    ends.events.fd = ownCopy(events, 'write', true);
    if (ends.events.fd === events) makeNonBlocking(events);
    ends.watchdog.fd = ownCopy(ends.watchdog.fd, 'write');
    ends.control = ownCopy(ends.control, 'read');
    // The main thread's CPU-time file goes up there too, above what the program's files get.
    return openOwnCpu();
  } finally {
    for (const fd of fillers) fs.closeSync(fd);
  }
}

/** This thread's CPU-time file in /proc (the main thread's tid is the process id), if there is one. */
function openOwnCpu(): WatchdogRun['cpu'] {
  for (const kind of CPU_FILES) {
    try {
      const fd = fs.openSync(`/proc/${process.pid}/task/${process.pid}/${kind}`, 'r');
      const b = Buffer.alloc(1024);
      if (cpuMsOfBytes(kind, b, fs.readSync(fd, b, 0, b.length, 0)) !== undefined) return { fd, kind };
      fs.closeSync(fd);
    } catch {
      // not there (not Linux): the next, else the watchdog's own readings only
    }
  }
  return undefined;
}

/** Reads the main thread's CPU time in ms (-1 without /proc), with nothing the program can replace. */
function ownCpuReader(cpu: WatchdogRun['cpu']): () => number {
  if (!cpu) return () => -1;
  const readSync = fs.readSync;
  const b = new Uint8Array(1024);
  const kind: CpuFile = cpu.kind;
  return () => {
    try {
      return cpuMsOfBytes(kind, b, readSync(cpu.fd, b, 0, 1024, 0)) ?? -1;
    } catch {
      return -1;
    }
  };
}

/**
 * The main thread's run delay (ms it waited for a CPU, from its schedstat), -1 when it cannot be
 * read: read by the time warp, which takes the machine's holds out of the program's clock; and
 * its CPU time (ms) as that read found it (the file's first field), -1 when unknown.
 */
function ownRunDelayReader(fd: number): { runDelayMs: () => number; cpuMs: () => number } {
  const readSync = fs.readSync;
  const b = new Uint8Array(256);
  let cpu = -1;
  return {
    runDelayMs: () => {
      try {
        const n = readSync(fd, b, 0, 256, 0);
        cpu = cpuMsOfBytes('schedstat', b, n) ?? -1;
        return runDelayMsOfBytes(b, n) ?? -1;
      } catch {
        cpu = -1;
        return -1;
      }
    },
    cpuMs: () => cpu,
  };
}

/** A child kept waiting this long is a warm one: it loads the transform while it waits. */
const WARM_AFTER_MS = 250;

/** The run's key, the engine's first control line; it stays in this closure and the threads that seal. */
function readKey(control: ControlReader): SealKey | undefined {
  const line = control.line();
  if (line === undefined) process.exit(0); // the engine let this child go before it began
  try {
    const msg = JSON.parse(line);
    if (msg?.type === 'key' && typeof msg.key === 'string' && msg.key.length === SEAL_KEY_BYTES * 2 && (msg.mac === 'poly1305' || msg.mac === 'hmac-sha256')) {
      return { key: Buffer.from(msg.key, 'hex'), mac: msg.mac };
    }
  } catch {
    // not a key line: nothing is sealed
  }
  return undefined;
}

/** The run request; a `loader` line before it (the engine's hint) starts the module loader. */
/** A run request as read: an ES module entry's code as the UTF-8 bytes that came. */
type ReadRequest = RunRequest & { codeBody?: Buffer };

function readRunRequest(control: ControlReader, startLoader: () => void): ReadRequest | undefined {
  for (;;) {
    const line = control.line();
    if (line === undefined) return undefined;
    const msg = JSON.parse(line);
    if (msg?.type === 'loader') {
      startLoader();
      continue;
    }
    if (msg?.type !== 'run') return undefined;
    if (typeof msg.codeBytes === 'number') {
      // The code follows the line as raw UTF-8 (RunRequest.codeBytes). An ES module's stays
      // bytes: they go to the loader thread as they are (see runRequest), never a string here.
      const body = control.bytes(msg.codeBytes);
      if (body === undefined) return undefined;
      if (msg.format === 'esm') msg.codeBody = body;
      else msg.code = body.toString('utf8');
    }
    return msg as ReadRequest;
  }
}

function readSource(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err: any) {
    process.stderr.write(`Error: Cannot find module '${file}'\n`);
    process.exitCode = 1;
    return undefined;
  }
}

function runCommonJs(file: string, code: string): void {
  const M = Module as any;
  const m = new M(file, null);
  m.filename = file;
  m.id = '.';
  m.paths = M._nodeModulePaths(path.dirname(file));
  process.mainModule = m;
  M._cache[file] = m;
  m._compile(code, file);
  m.loaded = true;
}

/**
 * Local CommonJS files required by the snippet are instrumented too (TypeScript ones need it to
 * load): with the engine's code when it instrumented the same text before the run, else here, as
 * the runtime's own time (`tool`).
 */
function installRequireHook(
  entry: string, entryCode: string | undefined, userFiles: Set<string>, prepared: Map<string, PreparedModule>,
  tool: <T>(label: string, work: () => T) => T,
  askEngine: (source: string, file: string, format: 'esm' | 'cjs') => string | undefined,
  beforeCompile: (code: string) => void,
): void {
  const M = Module as any;
  const jsLoader = M._extensions['.js'];
  // One function for every extension, so that between node's Module.load and Module._compile
  // there is one frame of the runtime's, where node has its own loader's (see stackTraces).
  const load = (module: any, filename: string) => {
    if (filename.includes(`${path.sep}node_modules${path.sep}`) || (!TS_OR_JSX.test(filename) && !userFilesRoot(entry, filename))) {
      return jsLoader(module, filename);
    }
    let code: string;
    if (filename === entry && entryCode !== undefined) code = entryCode;
    else {
      const source = fs.readFileSync(filename, 'utf8');
      const ready = prepared.get(filename);
      if (ready && ready.source === source) code = ready.code;
      else {
        // The ES module entry, required: as the engine instrumented it (see above).
        const format = filename === entry ? declaredFormat(entry) ?? 'esm' : 'cjs';
        try {
          // Loading the transform is the tool's time too.
          code = tool(`instrumenting ${relativeName(entry, filename)}`, () =>
            askEngine(source, filename, format) ?? transform().transformSnippet(source, { file: filename, format }).code);
        } catch (err) {
          // JavaScript that does not parse: node compiles it and throws its own SyntaxError, at
          // the file's line, exactly as without the tool.
          const t = transform();
          if (err instanceof t.CompileError && !t.isTypeScriptFile(filename) && !t.isJsxFile(filename)) return jsLoader(module, filename);
          throw err;
        }
      }
    }
    userFiles.add(filename);
    registerCode(filename, code);
    if (needsLoader(code)) beforeCompile(code);
    module._compile(code, filename);
  };
  for (const ext of ['.js', '.ts', '.cts', '.mts', '.tsx', '.jsx']) M._extensions[ext] = load;
}

/**
 * CommonJS that may import an ES module (a dynamic `import(`, or the word in a string it may
 * eval): the loader must run before it does. Conservative: a comment that says import counts.
 */
export function needsLoader(code: string): boolean {
  return RegExpPrototypeExec(/\bimport\b/, code) !== null;
}

/**
 * With source maps enabled node parses the map of every module it compiles, and the first time
 * loads its own source-map modules: tens of ms of CPU on a busy machine. Done here on a module of
 * nothing (never run, never cached as a module), that first time is the tool's, before the run
 * request, not the snippet's first require. (Starting the module loader used to do it on the way.)
 */
function warmSourceMaps(): void {
  const enabled = process.sourceMapsEnabled === true;
  try {
    process.setSourceMapsEnabled(true);
    const map = Buffer.from(JSON.stringify({ version: 3, sources: ['warm.js'], names: [], mappings: 'AAAA' })).toString('base64');
    const m = new (Module as any)(path.join(__dirname, 'warm.js'), null);
    m._compile(`//# sourceMappingURL=data:application/json;base64,${map}\n`, m.id);
  } catch {
    // the snippet's first require pays it, as before
  } finally {
    // Off again until the run: the runtime's own modules compiled meanwhile (a warm child's
    // transform) have maps nobody will read.
    process.setSourceMapsEnabled(enabled);
  }
}

/** `./tiny_mod.js`: a module as the snippet would name it. */
export function relativeName(entry: string, file: string): string {
  const rel = path.relative(path.dirname(entry), file).split(path.sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

/** What only the runtime can load (node's .js loader loads every other extension). */
const TS_OR_JSX = /\.(?:[cm]?ts|tsx|jsx)$/i;

function userFilesRoot(entry: string, filename: string): boolean {
  return filename === entry || filename.startsWith(path.dirname(entry) + path.sep);
}

function installExitHooks(
  recorder: Recorder, transport: ChildTransport, now: () => number,
  sink: { mark(kind: MarkKind, text: string, line?: number): void }, userFiles: Set<string>,
  settleWatchdog: () => void, releaseWatchdog: () => void,
): void {
  // Seen through process.emit, not through listeners: the program's own listenerCount() and
  // eventNames() stay what they are under plain node. Node emits 'uncaughtExceptionMonitor' for
  // every uncaught error before it decides anything, and 'exit' last; the exit frame follows
  // the program's own exit listeners so that what they print is recorded.
  const onUncaught = (err: any, origin: unknown) => {
    try {
      process.setSourceMapsEnabled(sourceMapsForUncaught(err));
    } catch {
      // an older node without it: node prints the instrumented line
    }
    try {
      const kind: MarkKind = origin === 'unhandledRejection' ? 'unhandledRejection' : 'exception';
      const message = err instanceof Error ? `${err.name}: ${err.message}` : `Uncaught ${String(err)}`;
      const stack = err instanceof Error ? String(err.stack ?? '') : undefined;
      const where = stack ? firstUserFrame(stack, userFiles) : undefined;
      // The program prints its error whole; the mark keeps a bounded part of it.
      const text = message.length > MAX_MARK_CHARS ? StringPrototypeSlice(message, 0, MAX_MARK_CHARS) + '…' : message;
      const fullLength = message.length > MAX_MARK_CHARS ? message.length : undefined;
      const kept = stack !== undefined && stack.length > MAX_STACK_CHARS ? StringPrototypeSlice(stack, 0, MAX_STACK_CHARS) + '…' : stack;
      transport.send({ type: 'mark', kind, text, fullLength, atMs: now(), line: where?.line, column: where?.column, stack: kept });
    } catch {
      // recording must never change how the program fails
    }
  };
  const origEmit = process.emit;
  let finished = false;
  // The uncaught error node is about to print, once nothing of the program is left to run (see
  // reportUncaughtAsNode): after node's 'exit' event, or at once when that has been emitted.
  let fatal: { err: unknown } | undefined;
  // An 'exit' listener of the program's threw: node handles that error as any uncaught one
  // ('uncaughtException' listeners, or it prints it), then exits. The run ends after that, so
  // its mark is recorded; the code the 'exit' event was given, or the one node then exits with.
  let exitThrew: { code: number } | undefined;
  const finish = (code: number) => {
    finished = true;
    // The program's end: what follows is the tool's.
    const atMs = now();
    try {
      settleWatchdog();
    } catch {
      // what the watchdog missed is an extra: never let it change how the program ends
    }
    try {
      recorder.reportPending('exit');
    } catch {
      // the report is an extra: never let it change how the program ends
    }
    recorder.flushDropped();
    transport.send({ type: 'exit', code, atMs });
    transport.flush(true);
    releaseWatchdog();
  };
  const emit = {
    emit(this: NodeJS.Process, event: string | symbol) {
      if (event === 'uncaughtExceptionMonitor') onUncaught(arguments[1], arguments[2]);
      const exiting = (process as any)._exiting === true;
      const code = event === 'exit' ? (typeof arguments[1] === 'number' ? arguments[1] : Number(process.exitCode ?? 0)) : 0;
      let result = false;
      let returned = false;
      try {
        result = ReflectApply(origEmit, this, arguments);
        returned = true;
      } finally {
        // Not a catch and rethrow: node prints where the error was thrown, which a rethrow moves.
        if (!returned && event === 'exit' && !finished && exitThrew === undefined) exitThrew = { code };
      }
      if (event === 'uncaughtException') {
        const handled = result !== false || process.hasUncaughtExceptionCaptureCallback();
        if (!handled) fatal = { err: arguments[1] };
        if (exitThrew !== undefined && !finished) {
          const ec = process.exitCode;
          finish(handled ? exitThrew.code : typeof ec === 'number' && ec !== 0 ? ec : 1);
        }
      }
      if (event === 'exit' && !finished) finish(code);
      if (fatal && (exiting || event === 'exit' || exitThrew !== undefined)) {
        reportUncaughtAsNode(fatal.err);
        fatal = undefined;
      }
      return result;
    },
  }.emit;
  Object.defineProperty(process, 'emit', { value: lookAlike(emit, origEmit), writable: true, configurable: true, enumerable: false });
  void sink;
}

/** file:line:col of the first stack frame in the user's files (stacks are source-mapped). */
export function firstUserFrame(stack: string, userFiles: Set<string>): { line: number; column: number } | undefined {
  const re = /\(?((?:file:\/\/)?[^\s()]+):(\d+):(\d+)\)?$/gm;
  for (let m = RegExpPrototypeExec(re, stack); m !== null; m = RegExpPrototypeExec(re, stack)) {
    let f = m[1];
    if (f.startsWith('file://')) {
      try {
        f = fileURLToPath(f);
      } catch {
        continue;
      }
    }
    if (userFiles.has(f)) return { line: Number(m[2]), column: Number(m[3]) };
  }
  return undefined;
}

main();
