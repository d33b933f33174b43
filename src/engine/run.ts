// Starts a run: an instrumented child (warm when one is ready), its event stream turned into a
// live timeline, cancel and timeout that keep everything recorded, and the final timeline.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';

import type { RunRequest } from '../shared/runtimeProtocol';
import type { Language, RunError, RunStatus, TimeMode, Timeline } from '../shared/timeline';
import { resolveTimeMode } from './timeMode';
import { CompileError, transformSnippet } from '../runtime/transform';
import { declaredFormat } from '../runtime/moduleFormat';
import { checkExpectations } from './expectations';
import { FrameDecoder, MalformedStreamError, type Frame } from './frameDecoder';
import { TimelineBuilder, type TimelineDelta } from './timelineBuilder';
import { attachInsights } from './insights';

export const DEFAULT_BLOCK_THRESHOLD_MS = 50;
export const DEFAULT_MAX_SPANS_PER_SITE = 1000;
/** How long a stop waits for the child to flush before it is killed. */
const STOP_GRACE_MS = 500;
/** How long after exit the event pipes may take to drain. */
const DRAIN_MS = 500;
/** How long after a warm child is taken its replacement starts. */
const REFILL_DELAY_MS = 250;

type StdioTarget = 'inherit' | 'pipe' | 'ignore' | number;

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
  if (/\.(c|m)?ts$/i.test(file)) return 'typescript';
  return 'javascript';
}

export const SUPPORTED_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '.py'];

/** Where the built runtime lives: next to the bundle that contains this code. */
export function runtimeDir(): string {
  // dist/cli.js and dist/extension.js sit next to dist/runtime; tests run from src/ via tsx.
  const here = typeof __dirname === 'string' && path.isAbsolute(__dirname) ? __dirname : process.cwd();
  const candidates = [path.join(here, 'runtime'), path.join(here, '..', '..', 'dist', 'runtime'), path.resolve('dist', 'runtime')];
  const fs = require('node:fs') as typeof import('node:fs');
  return candidates.find((c) => fs.existsSync(path.join(c, 'bootstrap.js'))) ?? candidates[0];
}

export interface LaunchSpec {
  command: string;
  args: string[];
}

export function launchSpec(language: Language, options: Pick<RunOptions, 'nodePath' | 'pythonPath' | 'runtimeArgs'>): LaunchSpec {
  const dir = runtimeDir();
  if (language === 'python') {
    return { command: options.pythonPath ?? 'python3', args: [...(options.runtimeArgs ?? []), path.join(dir, 'python', 'runner.py')] };
  }
  return {
    command: options.nodePath ?? process.execPath,
    // No --enable-source-maps: it changes how node prints errors; the runtime maps stacks itself.
    args: [...(options.runtimeArgs ?? []), path.join(dir, 'bootstrap.js')],
  };
}

/** A spawned runtime waiting for its run request. */
export interface WarmChild {
  child: ChildProcess;
  spec: LaunchSpec;
  /** Frames that arrived before the run (the hello). */
  early: Buffer[];
}

export function spawnRuntime(spec: LaunchSpec, stdio: [StdioTarget, StdioTarget, StdioTarget], env?: NodeJS.ProcessEnv, cwd?: string): WarmChild {
  const child = spawn(spec.command, spec.args, {
    stdio: [...stdio, 'pipe', 'pipe', 'pipe'] as StdioOptions,
    env: env ?? process.env,
    cwd,
    // Its own process group: a stop ends the snippet and everything it spawned.
    detached: true,
    windowsHide: true,
  });
  const early: Buffer[] = [];
  const events = child.stdio[3] as Readable | null;
  const onEarly = (b: Buffer) => early.push(b);
  events?.on('data', onEarly);
  (child as any).__awtEarly = onEarly;
  child.on('error', () => undefined);
  return { child, spec, early };
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
  private spawnError: string | undefined;
  private startedAt = 0;
  private timeoutTimer: NodeJS.Timeout | undefined;
  private timeoutMs: number | undefined;
  private pendingDelta: NodeJS.Immediate | undefined;
  private stopping: Promise<void> | undefined;
  /** The text that runs, read once at the start: insights (JS/TS) and `@expect` comments at the end. */
  private sourceText: string | undefined;
  /** The run's clock, known once the source is read. */
  time: TimeMode = 'real';

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
    for (const s of this.child.stdio) (s as any)?.ref?.();
    const events = (this.child.stdio as unknown[])[3] as Readable | null;
    const watchdog = (this.child.stdio as unknown[])[4] as Readable | null;
    const control = (this.child.stdio as unknown[])[5] as Writable | null;
    events?.off('data', (this.child as any).__awtEarly);

    let resolveDone!: (t: Timeline) => void;
    this.done = new Promise((r) => (resolveDone = r));

    const decoders = [new FrameDecoder(), new FrameDecoder()];
    const feed = (which: number) => (chunk: Buffer) => {
      try {
        decoders[which].push(chunk, (frame: Frame) => this.onFrame(frame));
      } catch (err) {
        if (err instanceof MalformedStreamError && !this.streamError) {
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

    this.child.once('error', (err: NodeJS.ErrnoException) => {
      this.spawnError = err.code === 'ENOENT' && this.language === 'python'
        ? `Python interpreter '${spec.command}' not found: install Python 3.9 or later, or set the interpreter to use`
        : `could not start ${spec.command}: ${err.message}`;
      // A child that never started emits no 'exit': end the run here.
      if (this.child.pid === undefined) {
        clearTimeout(this.timeoutTimer);
        resolveDone(this.finish(null, null));
      }
    });
    this.child.once('exit', (code, signal) => {
      // Grandchildren may keep the event pipes open: wait for them only a little.
      let drainTimer: NodeJS.Timeout | undefined;
      const drained = Promise.race([streamsEnded, new Promise((r) => (drainTimer = setTimeout(r, DRAIN_MS)))]);
      void drained.then(() => {
        clearTimeout(drainTimer);
        clearTimeout(this.timeoutTimer);
        resolveDone(this.finish(code, signal));
        for (const s of [events, watchdog]) s?.destroy();
      });
    });

    const prepared = this.prepare();
    this.time = resolveTimeMode(options.time, this.sourceText, options.defaultTime);
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
      code: prepared.code,
      format: prepared.format,
      args: options.args ?? [],
      cwd: options.cwd ?? path.dirname(this.file),
      argv0: options.argv0,
      blockThresholdMs: options.blockThresholdMs ?? DEFAULT_BLOCK_THRESHOLD_MS,
      maxSpansPerSite: options.maxSpansPerSite ?? DEFAULT_MAX_SPANS_PER_SITE,
      ...(this.time === 'warp' ? { time: 'warp' as const } : {}),
    };
    control?.write(JSON.stringify(request) + '\n');
    this.startedAt = performance.now();
    if (options.timeoutMs && options.timeoutMs > 0) {
      this.timeoutMs = options.timeoutMs;
      this.timeoutTimer = setTimeout(() => void this.stop('timeout'), options.timeoutMs);
      this.timeoutTimer.unref?.();
    }
  }

  /** Instruments the entry here (the engine is warm; the child need not load the transform). */
  private prepare(): { code?: string; format?: 'esm' | 'cjs'; compileError?: RunError } {
    if (this.language === 'python') {
      try {
        this.sourceText = this.options.source ?? (require('node:fs').readFileSync(this.file, 'utf8') as string);
      } catch {
        // The Python runner reports an unreadable file itself.
      }
      return {};
    }
    let source = this.options.source;
    if (source === undefined) {
      try {
        source = require('node:fs').readFileSync(this.file, 'utf8') as string;
      } catch (err: any) {
        return { compileError: { message: `cannot read ${this.file}: ${err?.message ?? err}` } };
      }
    }
    this.sourceText = source;
    try {
      const out = transformSnippet(source, { file: this.file, format: declaredFormat(this.file) });
      return { code: out.code, format: out.format };
    } catch (err) {
      if (err instanceof CompileError) return { compileError: { message: err.message, line: err.line, column: err.column } };
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

  /** Milliseconds since the run started, by the engine's clock. */
  elapsedMs(): number {
    return performance.now() - this.startedAt;
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
      const control = (this.child.stdio as unknown[])[5] as Writable | null;
      if (status !== 'failed' && control?.writable) {
        control.write('{"type":"stop"}\n');
        const deadline = performance.now() + STOP_GRACE_MS;
        while (!this.builder.flushed && performance.now() < deadline && this.child.exitCode === null) {
          await new Promise((r) => setTimeout(r, 5));
        }
      }
      killGroup(this.child);
    })();
    return this.stopping;
  }

  private onFrame(frame: Frame): void {
    this.builder.apply(frame);
    if (!this.pendingDelta) {
      this.pendingDelta = setImmediate(() => {
        this.pendingDelta = undefined;
        const delta = this.builder.takeDelta();
        if (delta.spans.length || delta.marks.length) this.emit('update', delta);
      });
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
    const wallMs = round(b.exit && !this.endStatus ? b.exit.atMs : this.elapsedMs());
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
      error = { kind: 'stream', message: this.streamError };
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
        error = { kind: 'spawn', message: 'the runtime exited before the snippet started' };
      }
    }
    this.status = status;
    b.refineBlocks(b.exit && !this.endStatus ? b.exit.atMs : undefined, this.options.blockThresholdMs ?? DEFAULT_BLOCK_THRESHOLD_MS);
    const exitCode = this.endStatus ? null : exitCodeOverride ?? code ?? signalCode ?? null;
    const timeline = b.build(status, exitCode, wallMs, error);
    if (bySignal && !this.endStatus) timeline.signal = bySignal;
    if (this.time === 'warp') timeline.time = 'warp';
    attachInsights(timeline, this.sourceText);
    const expectations = this.sourceText === undefined ? undefined : checkExpectations(this.sourceText, this.language, timeline);
    if (expectations) timeline.expectations = expectations;
    this.emit('end', timeline);
    return timeline;
  }
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
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

  fill(): void {
    if (this.warm) return;
    this.warm = spawnRuntime(launchSpec('javascript', this.options), ['ignore', 'pipe', 'pipe'], this.options.env);
    this.warm.child.unref();
    for (const s of this.warm.child.stdio) (s as any)?.unref?.();
  }

  dispose(): void {
    clearTimeout(this.refill);
    this.refill = undefined;
    if (this.warm) killGroup(this.warm.child);
    this.warm = undefined;
  }
}
