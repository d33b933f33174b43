// Starts a run: an instrumented child (warm when one is ready), its event stream turned into a
// live timeline, cancel and timeout that keep everything recorded, and the final timeline.
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';

import { OP_CLOSE, OP_OPEN, RECORD_WORDS, type InstrumentedMessage, type InstrumentMessage, type PreparedModule, type RunRequest } from '../shared/runtimeProtocol';
import type { Language, RunError, RunStatus, TimeMode, Timeline } from '../shared/timeline';
import { resolveTimeMode } from './timeMode';
import { prepareLocalModules, transformCached, transformInWorker, transformModule, WORKER_SOURCE_CHARS } from './instrument';
import { runtimeDir } from './runtimeDir';

export { runtimeDir };
import { declaredFormat } from '../runtime/moduleFormat';
import { checkExpectations } from './expectations';
import { FrameDecoder, MalformedStreamError, type Frame } from './frameDecoder';
import { TimelineBuilder, type TimelineDelta } from './timelineBuilder';
import { attachInsights } from './insights';
import type { OverlapCandidate } from './overlap';
import { isAlive, procAvailable, ProcessTree, signalAll } from '../runtime/processTree';
import { attachStillWaiting } from './stillWaiting';
import { hintLoader, killGroup, launchSpec, likelyImports, spawnRuntime, type StdioTarget, type WarmChild } from './spawnRuntime';
import { drainAfterExit } from './pipeDrain';
import { channelPipesStocked, stockChannelPipes } from './channelPipes';

export { launchSpec, likelyImports, spawnRuntime, type LaunchSpec, type StdioTarget, type WarmChild } from './spawnRuntime';

export const DEFAULT_BLOCK_THRESHOLD_MS = 50;
/**
 * The run request to the child's control pipe: its JSON line, then the instrumented code as raw
 * UTF-8 bytes (RunRequest.codeBytes). Written inside the JSON, a module of 100,000 await sites
 * (30 MB of code) cost the engine about 110 MB more at its peak (JSON.stringify's building of the
 * escaped copy, the line joined to its newline, node's copy of a string it could not write at
 * once) and the child the same again to join and parse it.
 */
function writeRunRequest(out: Writable, request: RunRequest, code: string | Uint8Array | undefined): void {
  if (code === undefined) {
    out.write(JSON.stringify(request) + '\n');
    return;
  }
  // A big module's code comes from its thread as UTF-8 bytes already (see transformInWorker).
  const body = typeof code === 'string' ? Buffer.from(code, 'utf8') : Buffer.from(code.buffer, code.byteOffset, code.byteLength);
  out.write(JSON.stringify({ ...request, codeBytes: body.length } satisfies RunRequest) + '\n');
  out.write(body);
}

/** Timeline.incomplete when a sealed stream stopped checking out mid-run. */
export const INCOMPLETE_TAMPERED = "the program closed or wrote to the tool's channel";
/** Timeline.incomplete when the program ended with a code but its exit never came over the channel. */
export const INCOMPLETE_CLOSED = "the tool's channel closed before the program ended (the program closed it, or left without its exit handlers: process.reallyExit, os._exit)";
/** Python's runtime still caps each site (it has no run budget yet); a Node run has no per-site cap by default. */
export const DEFAULT_MAX_SPANS_PER_SITE = 1000;
/**
 * The run's span budget: this many spans are listed, the rest counted per site and parent
 * (`Timeline.aggregates`). High enough that a program a person reads stays whole.
 */
export const DEFAULT_MAX_SPANS = 200_000;
const NO_CAP = 0xffffffff;
/**
 * How much longer a timeout waits while the runtime starts, before the snippet does: starting is
 * the tool's time (a cold child on a busy machine takes seconds), and `--timeout` is the program's.
 */
const STARTUP_ALLOWANCE_MS = 30_000;
/** How long a stop waits for the child to flush before it is killed. */
const STOP_GRACE_MS = 500;
/** How long after exit the event pipes may take to drain. */
const DRAIN_MS = 500;
/** How often the run's process tree is looked at, and every how many looks all of /proc. */
const TRACK_MS = 100;
const TRACK_FULL_EVERY = 5;
/** How long descendants have after SIGHUP at the end of a run before SIGKILL. */
const HANGUP_GRACE_MS = 250;
/** What a warm pool has its transform instrument once, to warm it up: an await, a call, a timer, a combinator. */
const WARM_UP_SNIPPET = 'async function f(x) {\n  await new Promise((r) => setTimeout(r, x));\n  return x;\n}\nawait Promise.all([f(1), f(2)]);\n';
/** How long after a warm child is taken its replacement starts. */
const REFILL_DELAY_MS = 250;

export interface RunOptions {
  /** Absolute or relative path of the snippet; an untitled buffer passes a path that need not exist. */
  file: string;
  /** Text to run instead of the file's content (unsaved editors). */
  source?: string;
  /** The snippet's own arguments. */
  args?: string[];
  /** Working directory; default: the snippet's folder. */
  cwd?: string;
  /** The file as the user typed it (Python's sys.argv[0]); default: the absolute path. */
  argv0?: string;
  timeoutMs?: number;
  blockThresholdMs?: number;
  maxSpansPerSite?: number;
  /** The run's span budget (default DEFAULT_MAX_SPANS); past it spans are aggregated. */
  maxSpans?: number;
  stdin?: StdioTarget;
  stdout?: StdioTarget;
  stderr?: StdioTarget;
  /** Node executable for JS/TS; default: the one running the engine. */
  nodePath?: string;
  /** Python executable for .py; default: python3. */
  pythonPath?: string;
  /** Extra arguments for the runtime (node flags). */
  runtimeArgs?: string[];
  env?: NodeJS.ProcessEnv;
  /** A child started earlier by a WarmPool, used instead of spawning. */
  warm?: WarmChild;
  /** The clock, as the user asked for it; over the snippet's own `@time` line. */
  time?: TimeMode;
  /** The clock when neither the user nor the snippet says (e.g. warp when grading `@expect` lines). */
  defaultTime?: TimeMode;
}

export interface RunEvents {
  update: [TimelineDelta];
  end: [Timeline];
}

export function languageOf(file: string): Language {
  if (/\.py$/i.test(file)) return 'python';
  if (/\.(?:[cm]?ts|tsx)$/i.test(file)) return 'typescript';
  return 'javascript';
}

export const SUPPORTED_EXTENSIONS = ['.ts', '.mts', '.cts', '.tsx', '.js', '.mjs', '.cjs', '.jsx', '.py'];

/** The entry instrumented for its run request, or why it cannot run. */
interface Prepared {
  /** The entry instrumented: text, or (from a worker thread) its UTF-8 bytes. */
  code?: string | Uint8Array;
  format?: 'esm' | 'cjs';
  modules?: PreparedModule[];
  compileError?: RunError;
  /** The overlap candidates, found where the module was instrumented (see transformInWorker). */
  candidates?: OverlapCandidate[] | null;
}

export class Run extends EventEmitter<RunEvents> {
  readonly builder: TimelineBuilder;
  readonly child: ChildProcess;
  readonly done: Promise<Timeline>;
  readonly language: Language;
  readonly file: string;
  private status: RunStatus = 'running';
  private endStatus: RunStatus | undefined;
  private streamError: string | undefined;
  /** The stream was good but reading it failed (a fault of the engine's, not of the child's). */
  private streamFault = false;
  private spawnError: string | undefined;
  /** Bytes read from the child's channel (both event streams). */
  private bytesRead = 0;
  /** The engine's clock at the run request, then when the snippet's start was heard of (its time 0). */
  private startedAt = 0;
  /** Date.now() when the snippet started: the timeline's 0 on the wall clock. */
  private startedAtEpochMs = 0;
  private timeoutTimer: NodeJS.Timeout | undefined;
  private timeoutMs: number | undefined;
  private pendingDelta: NodeJS.Immediate | undefined;
  private stopping: Promise<void> | undefined;
  private control: Writable | null = null;
  private tree: ProcessTree | undefined;
  private trackTimer: NodeJS.Timeout | undefined;
  /** The runtime seals its frames: a stream that stops checking out was tampered with by the program. */
  private sealed = false;
  /** Why the channel stopped being believed mid-run (the program wrote to, read from or closed it). */
  private tampered: string | undefined;
  /**
   * What the engine found when the channel stopped checking out (which stream, how far in, what
   * did not check out); undefined while it does. Not in the timeline: for a report of a fault
   * of the tool's own, which looks the same from outside.
   */
  get channelFault(): string | undefined {
    return this.tampered;
  }
  /** The text that runs, read once at the start: insights (JS/TS) and `@expect` comments at the end. */
  private sourceText: string | undefined;
  /** What the insights need of the code, when the thread that instrumented it found it (undefined: found at the end). */
  private overlapCandidates: OverlapCandidate[] | null | undefined;
  /** The run's clock, known once the source is read. */
  time: TimeMode = 'real';
  /**
   * How far the program's clock is ahead of the engine's, as its events show (an event stamped at
   * time t that arrives when the engine's clock reads r was sent at r or before, so the program's
   * clock was at least t - r ahead): a warped run's virtual time, and in real time how late the
   * engine heard that the snippet started. What a stopped or timed-out run reads as its wall time:
   * the program's clock when it was stopped, not the engine's.
   */
  private aheadMs = 0;

  constructor(readonly options: RunOptions) {
    super();
    this.file = path.resolve(options.file);
    this.language = languageOf(this.file);
    this.builder = new TimelineBuilder(this.file, this.language);
    const spec = launchSpec(this.language, options);
    const warm = options.warm && options.warm.spec.command === spec.command && options.warm.child.exitCode === null ? options.warm : undefined;
    const w = warm ?? spawnRuntime(spec, [options.stdin ?? 'ignore', options.stdout ?? 'pipe', options.stderr ?? 'pipe'], options.env, options.cwd ?? path.dirname(this.file));
    this.child = w.child;
    this.child.ref();
    for (const s of [...this.child.stdio, ...w.channel]) (s as any)?.ref?.();
    const [events, watchdog, control] = w.channel;
    this.control = control;
    this.sealed = !!w.key;
    events?.off('data', (this.child as any).__awtEarly);

    let resolveDone!: (t: Timeline) => void;
    this.done = new Promise((r) => (resolveDone = r));

    const seal = (stream: number) => (w.key && w.spec.seal ? { key: w.key, mac: w.spec.seal, stream } : undefined);
    const decoders = [new FrameDecoder(seal(0)), new FrameDecoder(seal(1))];
    const feed = (which: number) => (chunk: Buffer) => {
      this.bytesRead += chunk.length;
      try {
        decoders[which].push(chunk, (frame: Frame) => this.onFrame(frame));
      } catch (err) {
        if (!(err instanceof MalformedStreamError)) {
          // A fault of ours while reading a good stream: the run ends here, says why, and keeps
          // what was read before (never 'completed' with events silently lost).
          if (this.streamError) return;
          this.streamError = `internal error while reading the run's events: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
          this.streamFault = true;
          void this.stop('failed');
          return;
        }
        if (this.sealed && this.builder.started) {
          // The program's doing, not the runtime's: nothing more from this stream is believed (the
          // pipe is still read, so the child never blocks on it), and the program runs on.
          this.tampered ??= `${which === 0 ? 'events' : 'watchdog'} stream, after ${decoders[which].bytesTaken} bytes, ${this.elapsedMs().toFixed(0)} ms into the run: ${err.message}`;
        } else if (!this.streamError) {
          this.streamError = err.message;
          void this.stop('failed');
        }
      }
    };
    for (const b of w.early) feed(0)(b);
    events?.on('data', feed(0));
    watchdog?.on('data', feed(1));
    control?.on('error', () => undefined);

    const streamsEnded = Promise.all([events, watchdog].map((s) => (s ? new Promise<void>((r) => {
      if (s.readableEnded || s.destroyed) r();
      s.once('end', () => r());
      s.once('close', () => r());
    }) : Promise.resolve())));

    const missing = this.language === 'python'
      ? `Python interpreter '${spec.command}' not found: install Python 3.9 or later, or set the interpreter to use`
      : `Node.js '${spec.command}' not found: install Node.js 20 or later, or set the Node.js to use`;
    this.child.once('error', (err: NodeJS.ErrnoException) => {
      // A missing runtime is said the same way for both languages (the panel adds Open Settings).
      this.spawnError = err.code !== 'ENOENT' ? `could not start ${spec.command}: ${err.message}` : missing;
      // A child that never started emits no 'exit': end the run here.
      if (this.child.pid === undefined) {
        clearTimeout(this.timeoutTimer);
        resolveDone(this.finishSafely(null, null));
      }
    });
    this.startTracking(w);
    this.child.once('exit', (code, signal) => {
      // A runtime that could not be executed at all: the spawn usually says ENOENT ('error' above),
      // but the forked child can also report it as exit code 127 (seen in 1 of 5 runs with a
      // missing interpreter). Before the runtime said anything, with no such command, it is that.
      if (code === 127 && !this.builder.started && !this.spawnError && commandMissing(spec.command, options.env ?? process.env)) {
        this.spawnError = missing;
      }
      // What the program started and left running is ended now (see endDescendants).
      const ended = this.endDescendants();
      // Grandchildren may keep the event pipes open: wait for them only a little, but read what
      // the runtime wrote (see drainAfterExit).
      const drained = Promise.all([ended, drainAfterExit(streamsEnded, () => this.bytesRead, DRAIN_MS)]);
      void drained.then(() => {
        clearTimeout(this.timeoutTimer);
        resolveDone(this.finishSafely(code, signal));
        for (const s of [events, watchdog]) s?.destroy();
      });
    });

    // The child starts its module loader while this thread instruments the entry: in turn the
    // two would add up.
    if (this.language !== 'python' && likelyImports(this.file, options.source)) hintLoader(w);
    const prepared = this.prepare();
    this.time = resolveTimeMode(options.time, this.sourceText, options.defaultTime);
    if (prepared instanceof Promise) {
      // A big module, instrumented in a thread of its own (see WORKER_SOURCE_CHARS).
      prepared.then((p) => this.begin(p), (err) => {
        this.streamError = `internal error while instrumenting ${this.file}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
        this.streamFault = true;
        killGroup(this.child);
      });
    } else {
      this.begin(prepared);
    }
  }

  /** Sends the run request with the instrumented code (or ends the child where it does not compile). */
  private begin(prepared: Prepared): void {
    // Stopped, or gone, while a big module was being instrumented.
    if (this.stopping || this.child.exitCode !== null || this.child.signalCode !== null) return;
    const options = this.options;
    const control = this.control;
    this.overlapCandidates = prepared.candidates;
    if (prepared.compileError) {
      // Nothing to run: the child goes, the timeline says where the code does not compile.
      this.builder.compileError = prepared.compileError;
      killGroup(this.child);
      return;
    }
    const request: RunRequest = {
      type: 'run',
      file: this.file,
      source: options.source,
      format: prepared.format,
      args: options.args ?? [],
      cwd: options.cwd ?? path.dirname(this.file),
      argv0: options.argv0,
      blockThresholdMs: options.blockThresholdMs ?? DEFAULT_BLOCK_THRESHOLD_MS,
      maxSpansPerSite: options.maxSpansPerSite ?? (this.language === 'python' ? DEFAULT_MAX_SPANS_PER_SITE : NO_CAP),
      maxSpans: options.maxSpans ?? DEFAULT_MAX_SPANS,
      ...(this.time === 'warp' ? { time: 'warp' as const } : {}),
      // Warped, the timeout is on the program's clock too: a wait past it is jumped to it.
      ...(this.time === 'warp' && options.timeoutMs && options.timeoutMs > 0 ? { deadlineMs: options.timeoutMs } : {}),
      ...(prepared.modules?.length ? { modules: prepared.modules } : {}),
      ...(this.language === 'python' ? {} : { instruments: true }),
    };
    if (control) writeRunRequest(control, request, prepared.code);
    this.startedAt = performance.now();
    this.startedAtEpochMs = Date.now();
    if (options.timeoutMs && options.timeoutMs > 0) {
      this.timeoutMs = options.timeoutMs;
      // Until the snippet starts (see onStarted).
      this.timeoutTimer = setTimeout(() => void this.stop('timeout'), options.timeoutMs + STARTUP_ALLOWANCE_MS);
      this.timeoutTimer.unref?.();
    }
  }

  /** Instruments the entry here (the engine is warm; the child need not load the transform). */
  private prepare(): Prepared | Promise<Prepared> {
    if (this.language === 'python') {
      try {
        this.sourceText = this.options.source ?? fs.readFileSync(this.file, 'utf8');
      } catch {
        // The Python runner reports an unreadable file itself.
      }
      return {};
    }
    let source = this.options.source;
    if (source === undefined) {
      try {
        source = fs.readFileSync(this.file, 'utf8');
      } catch (err: any) {
        return { compileError: { message: `cannot read ${this.file}: ${err?.message ?? err}` } };
      }
    }
    this.sourceText = source;
    if (source.length >= WORKER_SOURCE_CHARS) {
      return transformInWorker(source, this.file, declaredFormat(this.file)).then((w) => 'compileError' in w ? { compileError: w.compileError }
        : { code: w.result.code, format: w.result.format, modules: prepareLocalModules(this.file, w.result), candidates: w.candidates });
    }
    try {
      const out = transformCached(source, this.file, declaredFormat(this.file));
      return { code: out.code, format: out.format, modules: prepareLocalModules(this.file, out) };
    } catch (err) {
      if (err instanceof transformModule().CompileError) return { compileError: { message: err.message, line: err.line, column: err.column } };
      throw err;
    }
  }

  get stdout(): Readable | null {
    return this.child.stdout;
  }

  get stderr(): Readable | null {
    return this.child.stderr;
  }

  get runStatus(): RunStatus {
    return this.status;
  }

  /** Milliseconds since the snippet started (before it did: since the run request), by the engine's clock. */
  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  /** Milliseconds since the run started, by the program's clock (virtual in a warped run). */
  private programElapsedMs(): number {
    return this.elapsedMs() + this.aheadMs;
  }

  /**
   * Ctrl-C as a terminal delivers it: SIGINT to the program's process group (it runs in a group of
   * its own, so the terminal's signal does not reach it). The program decides what happens, as under
   * plain node or python3: it may clean up and exit, or ignore it. False when there is nothing to
   * interrupt.
   */
  interrupt(): boolean {
    if (this.child.pid === undefined || this.child.exitCode !== null || this.child.signalCode !== null) return false;
    try {
      process.kill(-this.child.pid, 'SIGINT');
      return true;
    } catch {
      return false;
    }
  }

  /** Stops the run: the child flushes what it recorded, then it and its process group are killed. */
  cancel(): Promise<Timeline> {
    void this.stop('cancelled');
    return this.done;
  }

  private stop(status: RunStatus): Promise<void> {
    if (this.stopping) return this.stopping;
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    this.endStatus = status;
    this.stopping = (async () => {
      const control = this.control;
      if (status !== 'failed' && control?.writable && !this.tampered) {
        control.write('{"type":"stop"}\n');
        const deadline = performance.now() + STOP_GRACE_MS;
        while (!this.builder.flushed && performance.now() < deadline && this.child.exitCode === null) {
          await new Promise((r) => setTimeout(r, 5));
        }
      }
      killGroup(this.child);
      this.tree?.look(true);
      if (this.tree) signalAll(this.tree.descendants(), 'SIGKILL');
    })();
    return this.stopping;
  }

  /** Looks for the processes the run starts while it goes; the runtime learns them too (see processTree.ts). */
  private startTracking(w: WarmChild): void {
    if (this.child.pid === undefined || !procAvailable()) return;
    // The marker the engine gave, or else the channel itself (socket pairs, inherited by all).
    this.tree = new ProcessTree(this.child.pid, w.markers.length ? [] : w.spec.channelFds, w.markers);
    let n = 0;
    this.trackTimer = setInterval(() => {
      const found = this.tree!.look(++n % TRACK_FULL_EVERY === 0);
      // The watchdog ends these if the engine dies (the CLI killed): it cannot find them all itself.
      if (found.length && this.control?.writable) this.control.write(JSON.stringify({ type: 'track', pids: found }) + '\n');
    }, TRACK_MS);
    this.trackTimer.unref();
  }

  /**
   * After the runtime exits: its descendants still running are ended, as a terminal's hang-up
   * would (SIGHUP, then SIGKILL for those still there HANGUP_GRACE_MS later); after a stop or a
   * timeout at once with SIGKILL.
   */
  private async endDescendants(): Promise<void> {
    clearInterval(this.trackTimer);
    const tree = this.tree;
    if (!tree) return;
    tree.look(true);
    const left = tree.descendants();
    if (this.endStatus) {
      signalAll(left, 'SIGKILL');
      return;
    }
    if (signalAll(left, 'SIGHUP') === 0) return;
    const deadline = performance.now() + HANGUP_GRACE_MS;
    while (performance.now() < deadline && left.some(([pid, start]) => isAlive(pid, start))) {
      await new Promise((r) => setTimeout(r, 10));
    }
    tree.look(true);
    signalAll(tree.descendants(), 'SIGKILL');
  }

  /**
   * The snippet started (the runtime's time 0): the run's clock and its timeout start now. What came
   * before (starting node or python3, the runtime, the transform) was the tool's time: a busy
   * machine that takes seconds for it neither eats into `--timeout` nor shows in the wall time.
   */
  private onStarted(): void {
    this.startedAt = performance.now();
    this.startedAtEpochMs = Date.now();
    if (!this.timeoutMs || this.endStatus) return;
    clearTimeout(this.timeoutTimer);
    this.timeoutTimer = setTimeout(() => void this.stop('timeout'), this.timeoutMs);
    this.timeoutTimer.unref?.();
  }

  private onFrame(frame: Frame): void {
    if (frame.type === 'json' && frame.message.type === 'instrument') {
      this.answerInstrument(frame.message);
      return;
    }
    if (!this.builder.started && frame.type === 'json' && frame.message.type === 'started') this.onStarted();
    const at = lastTimeOf(frame);
    if (at !== undefined) this.aheadMs = Math.max(this.aheadMs, at - this.elapsedMs());
    if (this.time === 'warp' && frame.type === 'json' && frame.message.type === 'deadline' && this.timeoutMs) {
      // The program's clock reached the timeout with nothing sooner to wait for: it times out
      // now, as it would have after waiting (the wall reads the deadline).
      this.aheadMs = Math.max(this.aheadMs, frame.message.atMs - this.elapsedMs());
      void this.stop('timeout');
    }
    // Nobody shows this run live (the CLI): no deltas to keep or copy.
    if (this.listenerCount('update') === 0) {
      this.builder.trackChanges = false;
      this.builder.apply(frame);
      return;
    }
    this.builder.trackChanges = true;
    this.builder.apply(frame);
    if (!this.pendingDelta) {
      this.pendingDelta = setImmediate(() => {
        this.pendingDelta = undefined;
        const delta = this.builder.takeDelta();
        if (delta.spans.length || delta.marks.length || delta.delays.length || delta.aggregatesChanged) this.emit('update', delta);
      });
    }
  }

  /**
   * A module the snippet loads whose name could not be known before the run: instrumented here,
   * where the transform is warm (the child would load it first: tens to hundreds of ms of the
   * program's wall), through the same content-keyed cache as the entry's. A module that does not
   * compile, or too big to instrument on this thread, gets no code: the child does it itself, and
   * says what node would say of it.
   */
  private answerInstrument(m: InstrumentMessage): void {
    const control = this.control;
    if (!control?.writable || this.tampered) return;
    const answer: InstrumentedMessage = { type: 'instrumented', id: m.id };
    if (m.source.length < WORKER_SOURCE_CHARS) {
      try {
        const out = transformCached(m.source, m.file, m.format);
        answer.code = out.code;
        answer.format = out.format;
      } catch {
        // the child's own transform throws the error the user sees
      }
    }
    control.write(JSON.stringify(answer) + '\n');
  }

  /** finish(), or, if building the timeline fails, a failed run that says so and lists what was read. */
  private finishSafely(code: number | null, signal: NodeJS.Signals | null): Timeline {
    try {
      return this.finish(code, signal);
    } catch (err) {
      const b = this.builder;
      let spans: Timeline['spans'] = [];
      try {
        spans = b.allSpans();
      } catch {
        // nothing more to keep
      }
      const wallMs = round(this.programElapsedMs());
      const timeline: Timeline = {
        version: 1, file: this.file, language: this.language, status: 'failed', exitCode: code, wallMs,
        error: { kind: 'internal', message: `internal error while building the timeline: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}` },
        spans, marks: b.allMarks(), droppedSpans: b.droppedSpans,
        stats: { wallMs, awaitedMs: 0, blockedMs: 0, maxConcurrency: 0 },
      };
      this.status = 'failed';
      this.emit('end', timeline);
      return timeline;
    }
  }

  private finish(code: number | null, signal: NodeJS.Signals | null): Timeline {
    if (this.pendingDelta) {
      clearImmediate(this.pendingDelta);
      this.pendingDelta = undefined;
    }
    const b = this.builder;
    const delta = b.takeDelta();
    if (delta.spans.length || delta.marks.length) this.emit('update', delta);
    const wallMs = round(b.exit && !this.endStatus ? b.exit.atMs : this.programElapsedMs());
    let status: RunStatus;
    let error: RunError | null = null;
    let exitCodeOverride: number | undefined;
    // Death by a signal: the code a shell reports for it, 128 + its number (SIGTERM 143, SIGABRT 134).
    const bySignal = code === null && signal ? signal : undefined;
    const signalCode = bySignal ? shellCodeForSignal(bySignal) : undefined;
    const open = b.openBlock();
    const stuck = open ? ` while stuck at line ${open.line}: ${open.label}` : '';
    if (this.streamError) {
      status = 'failed';
      error = { kind: this.streamFault ? 'internal' : 'stream', message: this.streamError };
    } else if (this.endStatus === 'timeout') {
      status = 'timeout';
      error = { kind: 'timeout', message: `timed out after ${this.timeoutMs} ms${stuck}`, line: open?.line };
    } else if (this.endStatus === 'cancelled') {
      status = 'cancelled';
      error = { kind: 'cancelled', message: `stopped${stuck}`, line: open?.line };
    } else if (this.spawnError) {
      status = 'failed';
      error = { kind: 'spawn', message: this.spawnError };
    } else if (b.compileError) {
      status = 'failed';
      error = { kind: 'compile', ...b.compileError };
      exitCodeOverride = 1; // what node exits with on a SyntaxError
    } else {
      const exception = b.exception();
      status = code === 0 ? 'completed' : 'failed';
      if (exception) error = { kind: 'exception', message: exception.text, line: exception.line, column: exception.column, stack: exception.stack };
      else if (b.internalError) error = { kind: 'internal', message: `internal error: ${b.internalError}` };
      else if (bySignal) error = { kind: 'exit', message: `killed by ${bySignal} (exit code ${signalCode})` };
      else if (code !== 0) error = { kind: 'exit', message: `exited with code ${code}` };
      if (!b.started && !error) {
        status = 'failed';
        // What is known of it, so that a rare failure on a busy machine can be told apart: a runtime
        // that never spoke, one that could not read its run request, one whose events were lost.
        const heard = b.saidHello ? 'after it said hello' : this.bytesRead ? `after ${this.bytesRead} bytes on its channel, with no hello` : 'without a word on its channel';
        error = { kind: 'spawn', message: `the runtime exited (code ${code}) before the snippet started, ${heard}` };
      }
    }
    this.status = status;
    b.refineBlocks(b.exit && !this.endStatus ? b.exit.atMs : undefined, this.options.blockThresholdMs ?? DEFAULT_BLOCK_THRESHOLD_MS);
    const exitCode = this.endStatus ? null : exitCodeOverride ?? code ?? signalCode ?? null;
    const timeline = b.build(status, exitCode, wallMs, error);
    if (bySignal && !this.endStatus) timeline.signal = bySignal;
    if (this.time === 'warp') timeline.time = 'warp';
    if (this.tampered) timeline.incomplete = INCOMPLETE_TAMPERED;
    else if (this.sealed && b.started && !b.exit && !this.endStatus && !bySignal && !this.streamError && !this.spawnError) {
      timeline.incomplete = INCOMPLETE_CLOSED;
    }
    if (this.startedAtEpochMs) timeline.startEpochMs = this.startedAtEpochMs;
    attachInsights(timeline, this.sourceText, this.overlapCandidates, (id) => this.builder.closeTurn(id));
    // What was still waiting is known only from a whole stream: past the point where the channel
    // stopped being believed, an await that settled looks pending.
    if (!timeline.incomplete) attachStillWaiting(timeline, b.pendingReport, this.sourceText);
    const expectations = this.sourceText === undefined ? undefined : checkExpectations(this.sourceText, this.language, timeline);
    if (expectations) timeline.expectations = expectations;
    this.emit('end', timeline);
    return timeline;
  }
}

/** Whether `command` names no executable file: a path that is not one, or a name not on PATH. */
function commandMissing(command: string, env: NodeJS.ProcessEnv): boolean {
  const executable = (file: string) => {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return fs.statSync(file).isFile();
    } catch {
      return false;
    }
  };
  if (command.includes(path.sep)) return !executable(command);
  return !(env.PATH ?? '').split(path.delimiter).some((dir) => dir && executable(path.join(dir, command)));
}

/** The time of a frame's last event, in the program's clock; undefined if it carries none. */
function lastTimeOf(frame: Frame): number | undefined {
  if (frame.type === 'events') {
    const r = frame.records;
    for (let i = r.length - RECORD_WORDS; i >= 0; i -= RECORD_WORDS) {
      if ((r[i] === OP_OPEN || r[i] === OP_CLOSE) && Number.isFinite(r[i + 4])) return r[i + 4];
    }
    return undefined;
  }
  const m = frame.message;
  if (m.type === 'span') return m.endMs ?? m.startMs;
  if (m.type === 'mark') return m.atMs;
  if (m.type === 'delay') return m.endMs;
  // Sent as the run stops: the program's clock then, read by the child (not when the engine got it).
  if (m.type === 'flushed') return m.atMs;
  return undefined;
}

/** What a shell reports for a process a signal ended: 128 + the signal's number. */
export function shellCodeForSignal(signal: NodeJS.Signals): number {
  const n = os.constants.signals[signal];
  return 128 + (typeof n === 'number' ? n : 0);
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

export function startRun(options: RunOptions): Run {
  return new Run(options);
}

/**
 * Keeps one runtime started ahead of time, so a run skips Node's start-up. Only for callers
 * whose runs use pipes for stdio and the same executable and environment (the extension).
 */
export class WarmPool {
  private warm: WarmChild | undefined;
  private refill: NodeJS.Timeout | undefined;
  /** The next child's FIFOs are being made (see fill). */
  private stocking = false;
  private disposed = false;
  constructor(private readonly options: Pick<RunOptions, 'nodePath' | 'runtimeArgs' | 'env'> = {}) {}

  /** A warm child for a JS/TS run, and another one started a little behind it. */
  take(): WarmChild | undefined {
    const w = this.warm;
    this.warm = undefined;
    // Starting node takes tens of ms of CPU: started right away, the replacement would slow the run
    // that was just asked for (its spawn alone blocks this thread for ms).
    if (!this.refill) {
      this.refill = setTimeout(() => {
        this.refill = undefined;
        this.fill();
      }, REFILL_DELAY_MS);
      this.refill.unref();
    }
    return w && w.child.exitCode === null ? w : undefined;
  }

  /**
   * Starts the warm child. Its channel's FIFOs are made first by a process of their own, without
   * waiting on this thread (the extension host refills the pool while a run is drawn: a
   * synchronous `mkfifo` held it ~120 ms on a busy machine); the child follows when they are there.
   */
  fill(): void {
    if (this.warm || this.disposed || this.stocking) return;
    if (!channelPipesStocked()) {
      this.stocking = true;
      // Once, whatever came of it: where FIFOs cannot be made, the spawn falls back as before.
      void stockChannelPipes().then(() => {
        this.stocking = false;
        if (!this.warm && !this.disposed) this.spawnWarm();
      });
      return;
    }
    this.spawnWarm();
  }

  private spawnWarm(): void {
    this.warm = spawnRuntime(launchSpec('javascript', this.options), ['ignore', 'pipe', 'pipe'], this.options.env);
    // Its module loader starts now, while it waits: started at the run request, it held the
    // run's first event for tens of ms quiet, hundreds on a busy machine (the loader's thread
    // must boot before node lets the main thread go on). The child reads its control pipe with
    // blocking reads, so it cannot notice on its own that it is waiting.
    hintLoader(this.warm);
    this.warm.child.unref();
    for (const s of [...this.warm.child.stdio, ...this.warm.channel]) (s as any)?.unref?.();
    // The engine's half of a warm start: its transform, loaded while nothing runs, and run once on
    // a small module: V8 compiles the parser's functions on their first call, which made the
    // first run of an engine wait 100-150 ms (load 25) for its own transform before its request.
    setTimeout(() => {
      try {
        transformModule().transformSnippet(WARM_UP_SNIPPET, { file: path.join(os.tmpdir(), 'await-timeline-warm-up.mjs'), format: 'esm' });
      } catch {
        // the run that needs it reports why it cannot load
      }
    }, REFILL_DELAY_MS).unref();
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.refill);
    this.refill = undefined;
    if (this.warm) killGroup(this.warm.child);
    this.warm = undefined;
  }
}
