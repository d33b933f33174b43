// The watchdog thread of an instrumented child. It notices the event loop stalled (the lag probe
// stops ticking) and decides from evidence whether the snippet's own synchronous work holds it:
// a sample of the main thread's stack, taken through an inspector interrupt while the stall lasts,
// shows the snippet's code, and the main thread itself spent at least the threshold on a CPU
// (its own CPU time from the kernel). Only then is it a block, reported as a span on fd 4 with its
// line and its wall-clock extent. A stall without that evidence (the process waited for a CPU on a
// busy machine, the runtime or the garbage collector ran) is reported as a delay, never a block.
// It also answers the engine's stop request: everything recorded is flushed before the kill.
import * as fs from 'node:fs';
import * as net from 'node:net';
import { fileURLToPath } from 'node:url';
import { Session } from 'node:inspector';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';

import { markerFdOf, NODE_CHANNEL_FDS, type ChildMessage, type InstrumentMessage, type SpanMessage } from '../shared/runtimeProtocol';
import { RUNTIME_KEY } from './moduleFormat';
import { flushChannel, RELAY_GONE, ST_BACKLOG, ST_IN_NATIVE, ST_LOCK, ST_RELAY, ST_RELAY_BYTES, ST_SEQ, ST_WATCHDOG_WRITING, StreamWriter, type ChannelEnd, type SealKey, type SharedChannel } from './transport';
import { readsTheClock } from './blockEvidence';
import { ProcessTree, signalAll } from './processTree';
import { CPU_FILES, cpuMsOf, PROBE_ANSWERS_I32, PROBE_EXITING_I32, PROBE_SESSION_I32, PROBE_LAST_TICK, PROBE_MAIN_ALIVE, PROBE_NATIVE_COLUMN, PROBE_NATIVE_LINE, PROBE_NATIVE_PARENT, PROBE_READY_I32, WATCHDOG_WATCHING, PROBE_READ_WANTED, PROBE_READ_TICK, PROBE_READ_LINE, PROBE_READ_COLUMN, PROBE_READ_PARENT, PROBE_READ_CLOCKS, PROBE_READ_CPU, PROBE_T0, PROBE_TICK_CPU, PROBE_TICK_CLOCKS, PROBE_GAP_CLOCKS, PROBE_CLOCK_READS, PROBE_FIRST_READ_AT, PROBE_FIRST_READ_CPU, PROBE_LAST_READ_AT, PROBE_GAP_CPU, PROBE_GAP_START, PROBE_GAP_END, PROBE_GAP_END_CPU, PROBE_GAP_END_CLOCKS, PROBE_GAP_FIRST_READ_AT, PROBE_GAP_LAST_READ_AT, PROBE_GAP_SEEN, type CpuFile, type WatchdogRun } from './watchdogShared';

/** Given when the thread starts: a warm child starts it before it knows what it will run. */
interface WatchdogData {
  channel: SharedChannel;
  probe: SharedArrayBuffer;
  /** The events pipe (stream 0, shared with the main thread) and this thread's own (stream 1). */
  events: ChannelEnd;
  watchdog: ChannelEnd;
  controlFd: number;
}

const data = workerData as WatchdogData;
let run: WatchdogRun = { type: 'run', thresholdMs: 50, file: '' };
const probe = new Float64Array(data.probe);
const state = new Int32Array(data.channel.state);
const records = new Float64Array(data.channel.records);
const json = new Uint8Array(data.channel.json);
const relayArea = new Uint8Array(data.channel.relay);
// Made when the run comes: its message carries the run's key.
let eventsOut: StreamWriter;
let watchdogOut: StreamWriter;
const BLOCK_ID_BASE = 1_000_000_000;
const debug = (msg: string) => {
  if (process.env.AWAIT_TIMELINE_DEBUG) fs.writeSync(2, `[watchdog] ${(absNow() - probe[PROBE_T0]).toFixed(0)} ${msg}\n`);
};

/** Only while the main thread cannot touch its buffers (paused, or in a native call). */
function flushMainBuffers(): void {
  if (state[ST_LOCK]) return; // the main thread was paused inside its own flush: it finishes it
  // The main thread holds frames back for a full channel: they go first, so the buffers wait for it.
  if (state[ST_BACKLOG]) return;
  flushChannel(eventsOut, state, records, json);
}

let blockCount = 0;
let pausing = false;
const sourceLines = new Map<string, string[]>();

// ---- what this thread sends ------------------------------------------------------------------
//
// Its frames go out through the main thread (relayed), in the order made. Written from here, the
// check that the descriptor is still the channel and the write would be apart, and a program that
// closed the channel and opened files meanwhile could get a frame in one of them (CI run 50): on
// the main thread, no code of the program's runs between the two. Written here only while the
// main thread cannot run any (inside one of the snippet's blocking calls, which then does not
// return before the write is done; or not answering: node's own native code, exiting).

/** Frames made and not yet written, oldest first. */
const outbox: Uint8Array[] = [];
let delivering = false;
let relayId = 0;
/** How long the main thread has to write a batch before this thread writes it. */
const RELAY_WAIT_MS = 1000;
/** How long a relay the main thread refused ('busy') waits before it asks again. */
const RELAY_RETRY_MS = 5;

function send(message: ChildMessage): void {
  if (!watchdogOut.open) return;
  outbox.push(watchdogOut.frame(message));
  if (!delivering) void deliver();
}

async function deliver(): Promise<void> {
  delivering = true;
  try {
    while (outbox.length && watchdogOut.open) {
      const n = await relayed();
      if (n < 0) watchdogOut.close();
      else if (n > 0) outbox.splice(0, n);
      else {
        debug(`writing ${outbox.length} frames here`);
        writeHere();
      }
    }
  } catch (err) {
    // A full stack before a frame went (it stays first in line): again shortly.
    debug(`deliver: ${err}`);
    setTimeout(() => { if (!delivering) void deliver(); }, 10);
  } finally {
    delivering = false;
    if (!stall) release();
  }
}

/**
 * Has the main thread write the frames that fit in the relay area (see
 * ChildTransport.relayWatchdog): how many it wrote, -1 when it found the channel gone, 0 when
 * this thread must write them (the main thread cannot answer, or did not in RELAY_WAIT_MS).
 */
async function relayed(): Promise<number> {
  if (probe[PROBE_MAIN_ALIVE] !== 1 || Atomics.load(state, ST_IN_NATIVE) === 1) return 0;
  let bytes = 0;
  let k = 0;
  while (k < outbox.length && bytes + outbox[k]!.length <= relayArea.length) {
    relayArea.set(outbox[k]!, bytes);
    bytes += outbox[k++]!.length;
  }
  if (k === 0) return 0;
  const id = relayId = (relayId % 0x3fffffff) + 1;
  Atomics.store(state, ST_RELAY_BYTES, bytes);
  Atomics.store(state, ST_RELAY, id);
  // 'busy': the interrupt stopped the runtime's own code, which it leaves be: again, shortly.
  const deadline = absNow() + RELAY_WAIT_MS;
  for (let left = RELAY_WAIT_MS; left > 0; left = deadline - absNow()) {
    let answer: any;
    try {
      answer = await withTimeout(post<any>('Runtime.evaluate', {
        expression: `(r => r ? r.relay(${id}) : "late")(globalThis[Symbol.for(${JSON.stringify(RUNTIME_KEY)})])`,
        silent: true,
        returnByValue: true,
      }), left);
    } catch {
      // exiting, or the session went: ST_RELAY says whether the batch was taken
    }
    if (answer?.result?.value !== 'busy') break;
    await new Promise((r) => setTimeout(r, RELAY_RETRY_MS));
    // Written meanwhile by the main thread, waiting for this thread at exit (see serveRelay).
    if (Atomics.load(state, ST_RELAY) !== id) break;
  }
  for (;;) {
    const now = Atomics.load(state, ST_RELAY);
    if (now === id) {
      // Not taken: taken back (an interrupt still on its way then finds it gone).
      if (Atomics.compareExchange(state, ST_RELAY, id, 0) === id) return 0;
    } else if (now === -id) {
      await new Promise((r) => setTimeout(r, 1)); // being written
    } else return now === RELAY_GONE ? -1 : k;
  }
}

/** Writes what waits in the outbox from this thread (see above for when). */
function writeHere(): void {
  const write = () => {
    while (outbox.length) {
      watchdogOut.putFrame(outbox[0]!);
      outbox.shift();
    }
  };
  if (!whileMainWaits(write)) write();
}

/**
 * Runs `write` if the main thread is inside one of the snippet's blocking native calls, which
 * then does not return before `write` is done (see patchBlockingCalls); false, having run
 * nothing, when it is not in one. Sequentially consistent on both sides: either this thread sees
 * the call over, or the main thread sees the write begun.
 */
function whileMainWaits(write: () => void): boolean {
  Atomics.store(state, ST_WATCHDOG_WRITING, 1);
  try {
    if (Atomics.load(state, ST_IN_NATIVE) !== 1) return false;
    write();
    return true;
  } finally {
    Atomics.store(state, ST_WATCHDOG_WRITING, 0);
    Atomics.notify(state, ST_WATCHDOG_WRITING);
  }
}

const absNow = () => performance.timeOrigin + performance.now();
const rel = (abs: number) => Math.max(0, abs - probe[PROBE_T0]);

function lineText(file: string, line: number, trim = true): string {
  let lines = sourceLines.get(file);
  if (!lines) {
    let text = '';
    try {
      text = file === run.file && run.source !== undefined ? run.source : fs.readFileSync(file, 'utf8');
    } catch {
      // unreadable: no label text
    }
    lines = text.split(/\r?\n/);
    sourceLines.set(file, lines);
  }
  const text = lines[line - 1] ?? '';
  return trim ? text.trim() : text;
}

function shorten(text: string): string {
  const t = text.replace(/\s+/g, ' ');
  return t.length > 120 ? t.slice(0, 119) + '…' : t;
}

// ---- the main thread's own CPU time ---------------------------------------------------------

/**
 * Milliseconds the main thread has spent on a CPU, from the kernel: `schedstat` (nanoseconds) or
 * else `stat` (utime + stime, in clock ticks of 10 ms); undefined where there is no /proc (then
 * the stack samples alone are the evidence). The main thread opened the file (it reads it at each
 * tick too); else this thread does. The main thread's tid is the process id on Linux.
 */
let cpuSource: { fd: number; kind: CpuFile } | null | undefined;
const cpuBuf = Buffer.alloc(1024);
function mainCpuMs(): number | undefined {
  if (cpuSource === undefined && run.cpu) {
    cpuSource = readCpu(run.cpu) !== undefined ? run.cpu : undefined;
  }
  if (cpuSource === undefined) {
    cpuSource = null;
    for (const kind of CPU_FILES) {
      try {
        cpuSource = { fd: fs.openSync(`/proc/${process.pid}/task/${process.pid}/${kind}`, 'r'), kind };
        if (readCpu(cpuSource) !== undefined) break;
        fs.closeSync(cpuSource.fd);
      } catch {
        // not there: try the next one
      }
      cpuSource = null;
    }
  }
  return cpuSource ? readCpu(cpuSource) : undefined;
}

function readCpu(src: { fd: number; kind: CpuFile }): number | undefined {
  try {
    return cpuMsOf(src.kind, cpuBuf.toString('latin1', 0, fs.readSync(src.fd, cpuBuf, 0, cpuBuf.length, 0)));
  } catch {
    return undefined;
  }
}

/**
 * The main thread's last tick and its CPU time then (PROBE_TICK_CPU; undefined when it could not
 * read it), read together: the tick is read again after the CPU, and a tick that moved meanwhile
 * is read once more.
 */
function lastTick(): { at: number; cpu: number | undefined; clocks: number } {
  for (;;) {
    const at = probe[PROBE_LAST_TICK]!;
    const cpu = probe[PROBE_TICK_CPU]!;
    const clocks = probe[PROBE_TICK_CLOCKS]!;
    if (probe[PROBE_LAST_TICK] === at) return { at, cpu: cpu >= 0 && cpuSource === run.cpu ? cpu : undefined, clocks };
  }
}

/** The last two readings, taken at each check while the loop ticks: where a stall's CPU count starts. */
const cpuReadings: Array<{ at: number; cpu: number }> = [];
function noteCpu(): void {
  const cpu = mainCpuMs();
  if (cpu === undefined) return;
  cpuReadings.push({ at: absNow(), cpu });
  if (cpuReadings.length > 2) cpuReadings.shift();
}

/**
 * The main thread's CPU time at (or just before) `tick`: its own reading with the tick, else this
 * thread's last one before it; undefined without a reading.
 */
function cpuAt(tick: { at: number; cpu: number | undefined }): number | undefined {
  if (tick.cpu !== undefined) return tick.cpu;
  for (let i = cpuReadings.length - 1; i >= 0; i--) if (cpuReadings[i]!.at <= tick.at) return cpuReadings[i]!.cpu;
  return cpuReadings[0]?.cpu;
}

// ---- samples of the main thread -------------------------------------------------------------

let session: Session | null = null;
const flags = new Int32Array(data.probe);
/** The session, or null when the main thread is exiting (it must not be connected then). */
function inspector(): Session | null {
  if (!session) {
    // Say so before connecting, then look whether the main thread exits: it says so before it
    // looks whether a session is there, so one of the two sees the other.
    Atomics.store(flags, PROBE_SESSION_I32, 1);
    if (Atomics.load(flags, PROBE_EXITING_I32) === 1) {
      release();
      return null;
    }
    session = new Session();
    session.connectToMainThread();
  }
  return session;
}

/** A connected session makes node print "Waiting for the debugger to disconnect" at exit. */
function release(): void {
  session?.disconnect();
  session = null;
  Atomics.store(flags, PROBE_SESSION_I32, 0);
  Atomics.notify(flags, PROBE_SESSION_I32);
}

function post<T = any>(method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => {
    const s = inspector();
    if (!s) return reject(new Error('the main thread is exiting'));
    s.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result as T)));
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([p, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms).unref?.())]);
}

/** `fromAwait`: no frame of the snippet was running; the line is the await that began last. */
type Where = {
  file: string; line: number; column: number; parentId: number; fromAwait?: boolean;
  /** `file:line` of every frame of the snippet on the stack, innermost first. */
  stack?: string[];
  /** The innermost frame was the runtime's own (its bookkeeping around the snippet's calls). */
  viaRuntime?: boolean;
  /** Frames of node's own code or of a package (node_modules) were above the snippet's (see `clocked`). */
  viaOther?: boolean;
};

/**
 * What a sample saw. `user`: the snippet's code was running (`where` names the line; for a loop of
 * awaits that never yields, the await that began last). `tool`: the runtime's own work (`what`).
 * `idle`: no code of the snippet (the loop was waiting, or node's own code ran). `late`: the main
 * thread had ticked again before it answered, so the sample says nothing about the stall.
 */
type Sample = ({ kind: 'user'; where: Where; awaits?: number } | { kind: 'tool'; what: string } | { kind: 'idle' }) & {
  /** The main thread's CPU time as it answered; undefined when it could not read it. */
  cpu?: number;
  /** How many times the snippet had read the wall clock then (PROBE_CLOCK_READS). */
  clocks?: number;
  /** When the main thread answered (absolute real time); undefined when it did not itself. */
  at?: number;
} | { kind: 'late' };

const isOurs = (url: string) => !url || url.includes('/node_modules/') || url.startsWith('node:') || url.includes('/dist/runtime/');
const toFile = (url: string) => (url.startsWith('file:') ? fileURLToPath(url) : url);

/**
 * Asks the main thread, through an inspector interrupt, where it is and which span is current.
 * Runtime.evaluate runs on top of the interrupted JavaScript, so its stack is the user's; no
 * Debugger domain is enabled (that would cost the program its optimized code). The main
 * thread flushes its buffers in the same call.
 */
async function sampleMain(stallStart: number): Promise<Sample | undefined> {
  const nativeLine = probe[PROBE_NATIVE_LINE];
  if (nativeLine !== 0) {
    // In a synchronous native call of the snippet (execSync, Atomics.wait…): it cannot answer,
    // and it is not touching its buffers. Not one that node's own code made (no line of the
    // snippet's called it): that one returns when node likes, and the main thread's next record
    // would race this thread's write of its buffers (a garbled frame: the engine read the
    // channel as tampered with, and the run lost every span).
    if (nativeLine > 0) whileMainWaits(flushMainBuffers);
    return { kind: 'user', where: { file: run.file, line: Math.max(0, nativeLine), column: probe[PROBE_NATIVE_COLUMN] || 1, parentId: probe[PROBE_NATIVE_PARENT] } };
  }
  if (pausing) return undefined;
  pausing = true;
  try {
    const answer = await withTimeout(post<any>('Runtime.evaluate', {
      expression: `(r => r ? r.where() : "null")(globalThis[Symbol.for(${JSON.stringify(RUNTIME_KEY)})])`,
      silent: true,
      returnByValue: true,
    }), 1000);
    const value = answer?.result?.value;
    debug(`where: ${value ?? JSON.stringify(answer)?.slice(0, 400)}`);
    if (typeof value !== 'string') return undefined;
    const parsed = JSON.parse(value) as {
      id: number; frames: Array<[string, number, number, number, number]>; tick: number; tool: string; awaits: number;
      aw: [string, number, number] | null; cpu?: number; clocks?: number; at?: number;
    } | null;
    if (!parsed) return undefined;
    if (parsed.tick > stallStart) return { kind: 'late' };
    // The main thread's CPU time as it answered (-1 or absent: it could not read it).
    const cpu = typeof parsed.cpu === 'number' && parsed.cpu >= 0 && cpuSource === run.cpu ? parsed.cpu : undefined;
    const clocks = typeof parsed.clocks === 'number' ? parsed.clocks : undefined;
    const at = typeof parsed.at === 'number' ? parsed.at : undefined;
    if (parsed.tool) return { kind: 'tool', what: parsed.tool, cpu, clocks, at };
    const aw = parsed.aw && !isOurs(parsed.aw[0])
      ? { file: toFile(parsed.aw[0]), line: parsed.aw[1], column: parsed.aw[2], parentId: parsed.id, fromAwait: true }
      : undefined;
    // The first two frames are where() and the evaluated expression; the interrupted code follows.
    let viaRuntime = false;
    let viaOther = false;
    for (let i = 2; i < parsed.frames.length; i++) {
      const [url, line, column, fnLine, fnColumn] = parsed.frames[i]!;
      if (url.includes('/dist/runtime/')) viaRuntime = true;
      else if (url) viaOther ||= isOurs(url); // a builtin (no url) the snippet called is its own work
      if (isOurs(url)) continue;
      const file = toFile(url);
      // An async function being resumed stands at its own header, no line of its body runs yet:
      // in a loop of awaits, the await that began last is the line that holds the loop.
      if (aw && line === fnLine && column > fnColumn && !/=>|\{/.test(lineText(file, line, false).slice(fnColumn - 1, column - 1))) {
        return { kind: 'user', where: aw, awaits: parsed.awaits, cpu, clocks, at };
      }
      const stack: string[] = [];
      for (const [u, l] of parsed.frames) if (!isOurs(u)) stack.push(`${toFile(u)}:${l}`);
      return { kind: 'user', where: { file, line, column, parentId: parsed.id, stack, viaRuntime, viaOther }, cpu, clocks, at };
    }
    // No frame of the snippet: the loop waits, or promise reactions run between two of its
    // awaits (a loop of awaits that resolve at once never lets the loop turn). Which one, the
    // count of awaits says: onSample looks again and wants it risen.
    if (aw) return { kind: 'user', where: aw, awaits: parsed.awaits, cpu, clocks, at };
    return { kind: 'idle', cpu, clocks, at };
  } catch (err) {
    debug(String(err));
    return undefined;
  } finally {
    pausing = false;
  }
}

// ---- stalls and blocks ----------------------------------------------------------------------

/** How often a long stall is looked at again: a new line or span splits its block. */
let SAMPLE_MS = 50;

interface Stall {
  /** Absolute time of the last tick before the stall, and the main thread's CPU time then (undefined without /proc). */
  tick: number;
  tickCpu: number | undefined;
  /** The snippet's count of clock reads with that tick. */
  tickClocks: number;
  /**
   * Where the part of the stall looked at now began: the last tick, or the split after a block
   * (see onSample); and the main thread's CPU time then.
   */
  start: number;
  cpuStart: number | undefined;
  /** Once the loop ticked again: the main thread's CPU time with that tick (the stall's own CPU ends there). */
  cpuEnd: number | undefined;
  /**
   * The samples in a row that found the snippet at one line (`where`): how many, the last one's
   * answer time, the main thread's CPU time and the snippet's count of clock reads then; and both
   * at the look before the first of them (the stall's start for its first look; see `clocked`).
   */
  run: {
    where: Where; n: number; lastCpu: number | undefined; lastClocks: number | undefined;
    beforeCpu: number | undefined; beforeClocks: number | undefined;
    /** A sample of the run found node's own code or a package's running above the snippet's line (see `clocked`). */
    other: boolean;
  } | undefined;
  /** Samples answered in time while the stall lasted (whatever they found). */
  looks: number;
  /** The main thread's CPU time and the count of clock reads at the latest of them (the stall's start before the first). */
  lookCpu: number | undefined;
  lookClocks: number | undefined;
  /** The snippet's line a sample found while the stall lasted. */
  where: Where | undefined;
  /** Samples taken while the stall lasted that found the snippet's code running. */
  userSamples: number;
  /** The recorder's count of awaits at the last sample that found no frame of the snippet. */
  awaits: number | undefined;
  /** A different line or span seen once by the last sample: it splits the block if the next agrees. */
  pendingWhere: Where | undefined;
  /** When that sample was taken: where the split goes; and the look before it (where a run from it counts from). */
  pendingAt: number;
  pendingBefore: { cpu: number | undefined; clocks: number | undefined };
  /** The block the part after a split continues (see onSample). */
  continues: number | undefined;
  /** The evidence for the block is the snippet's wait on the wall clock only (see `clocked`, clockWindow). */
  byClock: boolean;
  /** The runtime's own work a sample found. */
  tool: string;
  sampledAt: number;
  /** The block span, once the evidence says the snippet holds the loop. */
  block: { id: number; span: SpanMessage } | null;
  /** A sample in flight. */
  sampling: Promise<void> | null;
  /**
   * Over before this thread saw it (see missedStall): a block if the evidence says so, else
   * nothing (no sample looked, so the snippet's work is not told from the machine's delay).
   */
  missed?: boolean;
}

let stall: Stall | null = null;

function newBlock(s: Stall, startAbs: number, where: Where, continues?: number): NonNullable<Stall['block']> {
  const id = BLOCK_ID_BASE + ++blockCount;
  const span: SpanMessage = {
    type: 'span', id, parentId: null, kind: 'block', label: 'synchronous work', line: 0, column: 0,
    startMs: rel(startAbs), endMs: null, outcome: 'pending', continues,
  };
  describe(span, where);
  s.block = { id, span };
  return s.block;
}

function describe(span: SpanMessage, where: Where): void {
  span.parentId = where.parentId || null;
  if (where.line === 0) return;
  span.line = where.line;
  span.column = where.column;
  span.label = shorten(lineText(where.file, where.line).replace(/;\s*$/, '')) || 'synchronous work';
}

/**
 * Whether two samples saw the same thing. Between promise reactions the current span is whichever
 * ran last: a line known only from the last await does not tell spans apart.
 */
const sameWhere = (a: Where, b: Where) =>
  a.line === b.line && a.file === b.file && (a.parentId === b.parentId || !!a.fromAwait || !!b.fromAwait);

/**
 * The snippet's code waits on the wall clock, and so holds the loop for as long as the clock
 * says, whatever share of a CPU the machine gives it: samples in a row found the main thread at one
 * line of the snippet (not under node's code or a package's), and from the look before them to the
 * last of them the snippet read the clock as only a loop waiting on it does (see readsTheClock). A loop that spins on the clock (`while (Date.now() < end) {}`) on a
 * saturated machine gets a small share of a CPU: 300 ms of it may be 15 ms of CPU, under the
 * threshold, and this thread, which needs a CPU and an answer from the main thread for each sample,
 * may get a single sample into it. Finite work does not read the clock so (a callback the machine
 * kept off a CPU for 200 ms, or node loading a module, has used a few ms of CPU when it is sampled,
 * reading the clock not at all): its block is its CPU, the threshold's.
 * (Before this, two samples at one line with a few ms of CPU between them were the evidence: the
 * samples' own cost and a cold function's first compile gave a false 185 ms block at a line with an
 * await on a busy machine, and a spin sampled once was no block.)
 */
function clocked(s: Stall, end?: { cpu: number | undefined; clocks: number }): boolean {
  const r = s.run;
  if (!r || r.other || r.beforeClocks === undefined || r.beforeCpu === undefined) return false;
  let last = { cpu: r.lastCpu, clocks: r.lastClocks };
  let from = { cpu: r.beforeCpu, clocks: r.beforeClocks };
  if (r.beforeClocks === s.tickClocks) {
    // From the stall's start: the reads began at the first one, and so does their CPU (not the
    // tick, the callback that started the loop or its compile: 3-9 ms on a saturated machine).
    const first = firstReadCpu(s, end?.clocks);
    if (first !== undefined && first > r.beforeCpu) from = { cpu: first, clocks: r.beforeClocks };
    // Over, and every look found the snippet at this line: the reads and the CPU to the tick that
    // ended it are the line's too.
    if (end && r.n === s.looks) last = end;
  }
  return readsTheClock(from, last);
}

/**
 * The main thread's CPU time at the snippet's first clock read in the stall (PROBE_FIRST_READ_CPU);
 * undefined when it read none, or when that is not known any more (it has read the clock since the
 * stall ended, or it is not over and has ticked since). `clocksEnd`: the count at the tick that
 * ended the stall, once it is over.
 */
function firstReadCpu(s: Stall, clocksEnd?: number): number | undefined {
  const tick = probe[PROBE_LAST_TICK];
  const cpu = probe[PROBE_FIRST_READ_CPU]!;
  // Still in the stall: no tick since (read before and after the CPU), and it has read the clock.
  const ours = clocksEnd === undefined
    ? tick === s.tick && probe[PROBE_LAST_TICK] === s.tick && probe[PROBE_CLOCK_READS]! > s.tickClocks
    : readsOfStallKnown(s, clocksEnd);
  return ours && cpu >= 0 && cpuSource === run.cpu ? cpu : undefined;
}

/**
 * Once a stall is over (`clocksEnd`: the count of clock reads at the tick that ended it): whether
 * the first- and last-read slots are still its own. It read the clock, and has not since.
 */
function readsOfStallKnown(s: Stall, clocksEnd: number): boolean {
  return clocksEnd > s.tickClocks && probe[PROBE_CLOCK_READS] === clocksEnd;
}

/** The main thread's CPU time in the stall so far (to its end once it ended); undefined without /proc. */
function stallCpu(s: Stall): number | undefined {
  if (s.cpuStart === undefined) return undefined;
  const end = s.cpuEnd ?? mainCpuMs();
  return end === undefined ? undefined : end - s.cpuStart;
}

/**
 * The evidence that the snippet holds the loop: a sample taken while the stall lasted found its
 * code running, and either the main thread itself spent the threshold on a CPU since the stall
 * began, or the snippet waits on the wall clock (see `clocked`). On a busy machine the
 * snippet's code may be running but mostly waiting for a CPU: 80 ms of wall time for 15 ms of
 * work, seen once, is the machine's delay, not a block. The CPU counts from the tick that began
 * the stall (the main thread reads it with each tick) to the one that ended it. Without the
 * kernel's count (no /proc), a second sample, asked for only once the first was answered, must
 * find the snippet's code still running (a late wake-up can show a callback once, then the probe
 * ticks). A synchronous native call (execSync, Atomics.wait) waits rather than computes: it is a
 * block as soon as it is seen.
 */
function evidence(s: Stall, end?: { cpu: number | undefined; clocks: number }): boolean {
  if (probe[PROBE_NATIVE_LINE] !== 0) return !!s.where;
  const cpu = stallCpu(s);
  if (s.where && cpu === undefined) return s.userSamples >= 2;
  if (s.where && cpu !== undefined && cpu >= run.thresholdMs) return true;
  s.byClock = false;
  // A wait on the clock at the line the samples found, while they found it there (the snippet
  // read the clock after the last of them: a look that came after the reads names the line after
  // the spin, not the spin)…
  if (s.where && clocked(s, end) && readAfterRun(s, end)) return (s.byClock = true);
  // …or at the line that read the clock once the stall was seen (see PROBE_READ_WANTED).
  const site = readSite(s);
  if (site && readsTheClock(site.reading, end ?? readingNow(s))) {
    s.where = site.where;
    return (s.byClock = true);
  }
  return false;
}

/** The snippet read the clock after the last look of the stall's run of samples at one line. */
function readAfterRun(s: Stall, end?: { clocks: number }): boolean {
  const r = s.run;
  if (!r || r.lastClocks === undefined) return false;
  const now = end ? end.clocks : probe[PROBE_LAST_TICK] === s.tick ? probe[PROBE_CLOCK_READS]! : undefined;
  return now !== undefined && now > r.lastClocks;
}

/** The main thread's CPU time and the snippet's clock reads now, while the stall lasts. */
function readingNow(s: Stall): { cpu: number | undefined; clocks: number | undefined } {
  if (probe[PROBE_LAST_TICK] !== s.tick) return { cpu: undefined, clocks: undefined };
  const clocks = probe[PROBE_CLOCK_READS]!;
  const cpu = cpuSource === run.cpu ? mainCpuMs() : undefined;
  // Again after the reads: a tick between them and the count may be the next stretch's.
  if (probe[PROBE_LAST_TICK] !== s.tick) return { cpu: undefined, clocks: undefined };
  return { cpu, clocks };
}

const siteLength = new Int32Array(data.channel.site, 0, 1);
const siteBytes = new Uint8Array(data.channel.site, 4);

/**
 * Asks the snippet's next clock read where it is (see PROBE_READ_WANTED), for the stall as it is
 * now: unless one already said, in this stall (the main thread's own reads say so once they come
 * a threshold after the tick); `again`: after a split, whatever was said before it.
 */
function askReadSite(s: Stall, again = false): void {
  if (!again && probe[PROBE_READ_TICK] === s.tick) return;
  probe[PROBE_READ_TICK] = 0;
  probe[PROBE_READ_WANTED] = s.tick;
}

/** Where the snippet read the clock once asked in this stall, and its CPU time and count of reads then. */
function readSite(s: Stall): { where: Where; reading: { cpu: number | undefined; clocks: number } } | undefined {
  if (probe[PROBE_READ_TICK] !== s.tick) return undefined;
  const line = probe[PROBE_READ_LINE]!;
  const n = siteLength[0]!;
  if (!(line > 0) || n <= 0 || n > siteBytes.length) return undefined;
  const cpu = probe[PROBE_READ_CPU]!;
  return {
    where: { file: toFile(Buffer.from(data.channel.site, 4, n).toString('utf8')), line, column: probe[PROBE_READ_COLUMN] || 1, parentId: probe[PROBE_READ_PARENT]! },
    reading: { cpu: cpu >= 0 && cpuSource === run.cpu ? cpu : undefined, clocks: probe[PROBE_READ_CLOCKS]! },
  };
}

/**
 * A block whose only evidence is the snippet's wait on the wall clock (`clocked`) lasts from its
 * first read of the clock in the stall to its last: a short wait the machine stretched (a 10 ms
 * slice of a spin, the processor taken away after it returned) is not held for the whole stall.
 * Undefined when the reads cannot be placed: under a time warp (its clocks are not real time), or
 * when the snippet has read the clock since the stall ended.
 */
function clockWindow(s: Stall, clocksEnd: number): { first: number; last: number } | undefined {
  let first: number;
  let last: number;
  if (probe[PROBE_GAP_START] === s.tick) {
    // The main thread wrote them down with the tick that ended the stall (see PROBE_GAP_END).
    first = probe[PROBE_GAP_FIRST_READ_AT]!;
    last = probe[PROBE_GAP_LAST_READ_AT]!;
    if (probe[PROBE_GAP_START] !== s.tick) return undefined;
  } else {
    if (!readsOfStallKnown(s, clocksEnd)) return undefined;
    first = probe[PROBE_FIRST_READ_AT]!;
    last = probe[PROBE_LAST_READ_AT]!;
  }
  return Number.isFinite(first) && Number.isFinite(last) && last >= first ? { first, last } : undefined;
}

/** Adds a sample that found the snippet's code to the run of samples at one line. */
function noteRun(s: Stall, where: Where, cpu: number | undefined, clocks: number | undefined, before: { cpu: number | undefined; clocks: number | undefined }): void {
  const r = s.run;
  if (r && sameWhere(r.where, where)) {
    r.n++;
    r.lastCpu = cpu;
    r.lastClocks = clocks;
    r.other ||= !!where.viaOther;
  } else {
    s.run = { where, n: 1, lastCpu: cpu, lastClocks: clocks, beforeCpu: before.cpu, beforeClocks: before.clocks, other: !!where.viaOther };
  }
}

function takeSample(s: Stall): void {
  if (s.sampling) return;
  s.sampledAt = absNow();
  const asked = s.sampledAt;
  const answer = TEST_ASK_LAG_MS > 0 ? new Promise((r) => setTimeout(r, TEST_ASK_LAG_MS)).then(() => sampleMain(s.tick)) : sampleMain(s.tick);
  s.sampling = answer.then((sample) => {
    s.sampling = null;
    debug(`sample ${sample?.kind} ${sample?.kind === 'user' ? `${sample.where.line} cpu ${sample.cpu?.toFixed(1)} clocks ${sample.clocks}` : ''}`);
    // The moment it describes is when the main thread answered: on a busy machine that can be
    // long after this thread asked (a spin asked about may be over by the time it answers).
    if (sample) onSample(s, sample, sample.kind !== 'late' && sample.at !== undefined ? sample.at : asked);
  });
}

function onSample(s: Stall, sample: Sample, at: number): void {
  if (sample.kind === 'late') return; // answered after the stall: says nothing about it
  // A look: the CPU and clock reads before it are where a run of looks that begins with it counts from (see `clocked`).
  const before = { cpu: s.lookCpu, clocks: s.lookClocks };
  s.looks++;
  s.lookCpu = sample.cpu;
  s.lookClocks = sample.clocks;
  if (sample.kind === 'tool') s.tool = sample.what;
  if (sample.kind !== 'user') {
    s.run = undefined;
    return;
  }
  const where = sample.where;
  if (where.fromAwait && !s.block) {
    // Only awaits that went on while the loop stood still say the snippet holds it.
    const awaitsBefore = s.awaits;
    s.awaits = sample.awaits;
    if (awaitsBefore === undefined || sample.awaits === undefined || sample.awaits <= awaitsBefore) {
      if (stall === s) takeSample(s);
      return;
    }
  }
  s.userSamples++;
  if (!s.block) {
    noteRun(s, where, sample.cpu, sample.clocks, before);
    s.where = where;
    if (stall !== s) return;
    if (evidence(s)) confirm(s);
    else if (s.cpuStart === undefined) takeSample(s); // the second look, right away
    return;
  }
  const b = s.block;
  const current = s.where!;
  // The line of the block still on the stack (a helper it calls was running): the same block.
  // The sample in an outer frame of the block's line (the loop that calls that helper): the same
  // block, named by the outer line, which is what holds the loop.
  // A sample inside the runtime's bookkeeping names its caller's line, not what holds the loop.
  if (where.viaRuntime) return;
  const key = (w: Where) => `${w.file}:${w.line}`;
  const depth = where.stack?.indexOf(key(current)) ?? -1;
  if (where.parentId === current.parentId && (depth === 1 || depth === 2)) {
    s.pendingWhere = undefined;
    return;
  }
  if (where.parentId === current.parentId && current.stack?.indexOf(key(where)) === 1) {
    s.pendingWhere = undefined;
    s.where = where;
    describe(b.span, where);
    if (stall === s) send(b.span);
    return;
  }
  if (sameWhere(where, current)) {
    s.pendingWhere = undefined;
    return;
  }
  // Another line or another span: the block ends, once two samples in a row agree (one sample can
  // land on a neighbouring line, or see the span of a promise reaction that just ran). What follows
  // is a block of its own only with its own evidence: a spin on the clock is followed by the few
  // statements before the loop turns, which a busy machine can keep waiting long after the spin.
  if (s.pendingWhere === undefined || !sameWhere(where, s.pendingWhere)) {
    s.pendingWhere = where;
    s.pendingAt = at;
    s.pendingBefore = before;
    return;
  }
  s.pendingWhere = undefined;
  s.where = where;
  if (stall !== s) return;
  // The new line was running when the first of those looks was answered: the block ended by
  // then. A wait on the clock ended at its last read of it (a later read, by the new line, moves
  // nothing past that answer).
  let splitAt = s.pendingAt;
  const lastRead = probe[PROBE_LAST_READ_AT]!;
  if (s.byClock && probe[PROBE_LAST_TICK] === s.tick && lastRead >= s.start && lastRead < splitAt) splitAt = lastRead;
  b.span.endMs = rel(splitAt);
  b.span.outcome = 'fulfilled';
  send(b.span);
  s.block = null;
  s.byClock = false;
  s.continues = b.id;
  s.start = splitAt;
  s.cpuStart = s.pendingBefore.cpu;
  s.run = { where, n: 2, lastCpu: sample.cpu, lastClocks: sample.clocks, beforeCpu: s.pendingBefore.cpu, beforeClocks: s.pendingBefore.clocks, other: !!where.viaOther };
  askReadSite(s, true); // the rest needs evidence of its own: a read of the block's cannot be it
  if (evidence(s)) confirm(s);
}

function confirm(s: Stall): void {
  if (s.block || !s.where) return;
  send(newBlock(s, s.start, s.where, s.continues).span);
}

function newStall(last: { at: number; cpu: number | undefined; clocks: number }): Stall {
  const cpuStart = cpuAt(last);
  // Its gap, once over, is this stall's: not one this thread missed (see missedStall).
  seenGap = Math.max(seenGap, last.at);
  return {
    tick: last.at, tickCpu: cpuStart, tickClocks: last.clocks, start: last.at, cpuStart, cpuEnd: undefined, run: undefined, looks: 0, lookCpu: cpuStart, lookClocks: last.clocks,
    where: undefined, userSamples: 0, awaits: undefined,
    pendingWhere: undefined, pendingAt: 0, pendingBefore: { cpu: undefined, clocks: undefined }, continues: undefined, byClock: false,
    tool: '', sampledAt: 0, block: null, sampling: null,
  };
}

function startStall(last: { at: number; cpu: number | undefined; clocks: number }): void {
  const s = stall = newStall(last);
  probe[PROBE_GAP_SEEN] = Math.max(probe[PROBE_GAP_SEEN]!, last.at);
  askReadSite(s);
  takeSample(s);
}

/** The tick that began the last gap this thread watched as a stall, or looked at afterwards. */
let seenGap = 0;

/**
 * A stall that began and ended while a busy machine kept this thread off a CPU: no sample could
 * look at it, but the main thread wrote down the gap between its ticks (its CPU time and clock
 * reads over it, PROBE_GAP_*) and, reading the clock a threshold after its last tick, where it
 * read it (the read site). A wait on the clock there is a block, judged as a stall this thread
 * watched whose samples all came too late; anything else is not known to be the snippet's.
 */
function missedStall(): void {
  const start = probe[PROBE_GAP_START]!;
  if (!(start > seenGap)) return;
  const end = { at: probe[PROBE_GAP_END]!, cpu: probe[PROBE_GAP_END_CPU]!, clocks: probe[PROBE_GAP_END_CLOCKS]! };
  const gap = { cpu: probe[PROBE_GAP_CPU]!, clocks: probe[PROBE_GAP_CLOCKS]! };
  // Written again meanwhile (it is NaN while written, and each gap starts later): the next check.
  if (probe[PROBE_GAP_START] !== start) return;
  seenGap = start;
  const dealt = () => { probe[PROBE_GAP_SEEN] = Math.max(probe[PROBE_GAP_SEEN]!, start); };
  if (cpuSource !== run.cpu) return dealt();
  const s = newStall({ at: start, cpu: end.cpu - gap.cpu, clocks: end.clocks - gap.clocks });
  s.missed = true;
  debug(`missed stall ${rel(start).toFixed(0)}-${rel(end.at).toFixed(0)}`);
  void endStall(s, end).then(written).then(dealt, dealt);
}

/** Once every frame made so far is written (relayed or here). */
async function written(): Promise<void> {
  while (outbox.length > 0 || delivering) await new Promise((r) => setTimeout(r, 1));
}

/**
 * The main thread's CPU time at the tick that ended the stall: start plus what it counted for the
 * gap (see PROBE_GAP_START), else with the tick the watchdog saw (a later one when this thread was
 * kept off a CPU), else now.
 */
function cpuAtEnd(s: Stall, tick: { at: number; cpu: number | undefined }): number | undefined {
  if (s.tickCpu === undefined) return undefined;
  const gapCpu = probe[PROBE_GAP_CPU]!;
  if (probe[PROBE_GAP_START] === s.tick && cpuSource === run.cpu) return s.tickCpu + gapCpu;
  return tick.cpu ?? mainCpuMs();
}

/** The loop ticked again at `tick`: the stall is over. */
async function endStall(s: Stall, last: { at: number; cpu: number | undefined; clocks: number }): Promise<void> {
  const tick = last.at;
  stall = null;
  s.cpuEnd = cpuAtEnd(s, last);
  if (!s.block && s.sampling) {
    // A sample still on its way may be the evidence (it says whether it was taken in time).
    await withTimeout(s.sampling, 500);
  }
  // The reads to the tick that ended the stall (a later tick's would count reads after it).
  const clocksEnd = probe[PROBE_GAP_START] === s.tick ? s.tickClocks + probe[PROBE_GAP_CLOCKS]! : last.clocks;
  if (!s.block && evidence(s, { cpu: s.cpuEnd, clocks: clocksEnd })) confirm(s);
  const r = s.run;
  debug(`stall ${rel(s.start).toFixed(0)}-${rel(tick).toFixed(0)} cpu ${stallCpu(s)?.toFixed(1)} (${s.cpuStart?.toFixed(1)}-${s.cpuEnd?.toFixed(1)}) looks ${s.userSamples}/${s.looks} run ${r ? `${r.n} reads ${(r.lastClocks ?? NaN) - (r.beforeClocks ?? NaN)} cpu ${((r.lastCpu ?? NaN) - (r.beforeCpu ?? NaN)).toFixed(1)}` : '-'} ${s.block ? 'block' : 'delay'}`);
  const delay = (from: number, to: number) => {
    if (to - from < run.thresholdMs) return;
    send({
      type: 'delay', kind: 'delayed', label: s.tool ? `event loop delayed: ${s.tool}` : 'event loop delayed: not your code',
      startMs: rel(from), endMs: rel(to),
    });
  };
  if (s.block) {
    const span = s.block.span;
    const cpu = stallCpu(s);
    const reads = s.byClock && !(cpu !== undefined && cpu >= run.thresholdMs) && probe[PROBE_NATIVE_LINE] === 0 ? clockWindow(s, clocksEnd) : undefined;
    const from = reads ? Math.max(s.start, reads.first) : s.start;
    const to = reads ? Math.min(tick, Math.max(from, reads.last)) : tick;
    span.outcome = 'fulfilled';
    if (to - from < run.thresholdMs) {
      // The wait on the clock was shorter than a block: none (a block under the threshold never appears).
      span.endMs = span.startMs;
      send(span);
      delay(s.start, tick);
    } else {
      span.startMs = rel(from);
      span.endMs = rel(to);
      send(span);
      delay(s.start, from);
      delay(to, tick);
    }
  } else if (!s.missed) delay(s.start, tick);
  if (!stall && !delivering) release();
}

function check(): void {
  // The main thread is exiting and waits for the session to go (else node prints "Waiting for
  // the debugger to disconnect..." after the program's last output).
  if (Atomics.load(flags, PROBE_EXITING_I32) === 1) {
    if (session) release();
    return;
  }
  if (probe[PROBE_MAIN_ALIVE] !== 1) return;
  const tick = lastTick();
  const last = tick.at;
  const s = stall;
  if (s) {
    if (last > s.tick) {
      void endStall(s, tick);
      return;
    }
    if (!s.block && evidence(s)) confirm(s);
    // Until the evidence is in, a look every quarter threshold; then one per SAMPLE_MS.
    if (!pausing && !s.sampling && absNow() - s.sampledAt >= (s.block ? SAMPLE_MS : run.thresholdMs / 4)) takeSample(s);
    return;
  }
  noteCpu();
  missedStall();
  if (TEST_STARVE_MS > 0 && absNow() - last >= run.thresholdMs / 2 && !starved) {
    starved = true;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, TEST_STARVE_MS);
    return;
  }
  if (!pausing && absNow() - last >= run.thresholdMs) startStall(tick);
}

/** How often the stop report is asked for when the interrupt lands in the runtime's own code. */
const STOP_REPORT_TRIES = 8;

async function onStop(): Promise<void> {
  // A stall whose evidence is not in yet (the first look is slow on a loaded machine): a few more
  // looks, so a stopped or timed-out endless loop still says where it was stuck.
  // Stopped while a sample found the snippet's code holding the loop: that is the evidence.
  const deadline = absNow() + 300;
  for (let s = stall; s && s === stall && !s.block && absNow() < deadline; s = stall) {
    if (s.where) confirm(s);
    else if (!s.sampling) takeSample(s);
    await new Promise((r) => setTimeout(r, 10));
  }
  // Ask the main thread what is still waiting, and to flush (works while it is idle or running
  // JavaScript); if it is inside a synchronous native call it cannot answer, and then its buffers
  // are not being touched. An idle thread answers in a millisecond, a loaded machine's in tens:
  // the report is what a stopped run is for, so it gets a quarter of the engine's grace.
  // An interrupt that lands inside the runtime's own bookkeeping does nothing and says so (see
  // Recorder.stopReport): asked again, the next one lands elsewhere; the last try sends anyway.
  const until = absNow() + 250;
  let answered: any;
  for (let tries = 1; ; tries++) {
    const last = tries === STOP_REPORT_TRIES || absNow() >= until - 25;
    answered = await withTimeout(
      post<any>('Runtime.evaluate', {
        expression: `(r => r ? r.stopReport(${last}) : true)(globalThis[Symbol.for(${JSON.stringify(RUNTIME_KEY)})])`,
        silent: true,
        returnByValue: true,
      }),
      Math.max(1, until - absNow()),
    );
    if (answered === undefined || answered?.result?.value !== false || last) break;
  }
  if (answered === undefined) flushMainBuffers();
  if (!stall && !delivering) release();
  // The program's clock now (virtual in a warped run): what the stopped run's wall reads.
  send({ type: 'flushed', atMs: rel(absNow()) });
}

/** Starts watching once the run request has come: until then a warm child's thread sleeps. */
function start(): void {
  mainCpuMs(); // adopts the main thread's CPU-time file, which its ticks read too
  setInterval(check, Math.max(2, Math.min(10, run.thresholdMs / 4)));
  listenForControl();
}

/** [pid, start time] of processes of the run the engine found (see processTree.ts). */
const tracked: Array<[number, number]> = [];

/**
 * The module loader thread's line to the engine: its questions (InstrumentMessage, an import by a
 * computed name) go out on this thread's channel, the answers (negative ids) come back here.
 */
let loaderAnswers: MessagePort | undefined;
parentPort?.on('message', (msg: { type?: string; port?: MessagePort }) => {
  if (msg?.type !== 'loader' || !msg.port) return;
  loaderAnswers = msg.port;
  loaderAnswers.on('message', (question: InstrumentMessage) => {
    if (question?.type === 'instrument' && Number.isInteger(question.id) && question.id < 0) send(question);
  });
  loaderAnswers.unref();
});

// Control messages after the run request arrive here, on this thread's own event loop. Only
// opened once the main thread has read the request from the same fd.
function listenForControl(): void {
  try {
    const control = new net.Socket({ fd: data.controlFd, readable: true, writable: false });
    let buffered = '';
    control.setEncoding('utf8');
    control.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          const message = JSON.parse(line);
          if (message?.type === 'stop') void onStop();
          else if (message?.type === 'instrumented' && Number.isInteger(message.id)) {
            if (message.id < 0) loaderAnswers?.postMessage(message);
            else if (run.answers) {
              // The main thread waits for it (see askEngine in bootstrap): handed on, then counted.
              run.answers.postMessage(message);
              Atomics.add(flags, PROBE_ANSWERS_I32, 1);
              Atomics.notify(flags, PROBE_ANSWERS_I32);
            }
          }
          else if (message?.type === 'track' && Array.isArray(message.pids)) {
            for (const p of message.pids) if (Array.isArray(p) && Number.isInteger(p[0]) && Number.isInteger(p[1])) tracked.push([p[0], p[1]]);
          }
        } catch {
          // not ours to judge: ignore malformed control lines
        }
      }
    });
    control.on('error', () => undefined);
    // The engine holds the other end for the whole run: end of file means it is gone (the editor or
    // the CLI was killed). Nobody can see this run any more, and an endless loop would spin on as an
    // orphan: end it and whatever it spawned (the runtime leads its own process group).
    const parentGone = () => {
      // What left the process group: those the engine saw, and what this process can still find.
      try {
        const tree = new ProcessTree(process.pid, [markerFdOf(NODE_CHANNEL_FDS)]);
        for (const [pid, start] of tracked) tree.members.set(pid, start);
        tree.look(true);
        signalAll(tree.descendants(), 'SIGKILL');
      } catch {
        // best effort: the group goes below in any case
      }
      try {
        process.kill(-process.pid, 'SIGKILL');
      } catch {
        process.kill(process.pid, 'SIGKILL');
      }
    };
    control.on('end', parentGone);
  } catch {
    // no control channel: the engine kills without asking
  }
}

/**
 * A test's stand-in for this thread held back by a busy machine, where that matters: before it
 * takes the run and before its loop polls again after, and between the check that its channel is
 * intact and its own write (see the hostile-channel tests). Nothing unless AWAIT_TIMELINE_TEST_WATCHDOG_LAG_MS is set.
 */
const TEST_LAG_MS = Number(process.env.AWAIT_TIMELINE_TEST_WATCHDOG_LAG_MS) || 0;
function testLag(): void {
  if (TEST_LAG_MS > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, TEST_LAG_MS);
}
/**
 * A test's stand-in for this thread kept off a CPU for as long as a stall lasts (a saturated
 * machine): the first time the main thread has not ticked for half the threshold, it sleeps this
 * long. Nothing unless AWAIT_TIMELINE_TEST_WATCHDOG_STARVE_MS is set.
 */
const TEST_STARVE_MS = Number(process.env.AWAIT_TIMELINE_TEST_WATCHDOG_STARVE_MS) || 0;
/**
 * A test's stand-in for a main thread that answers a look long after it was asked (a busy
 * machine): each look is asked this much later than it is counted as asked. Nothing unless
 * AWAIT_TIMELINE_TEST_WATCHDOG_ASK_LAG_MS is set.
 */
const TEST_ASK_LAG_MS = Number(process.env.AWAIT_TIMELINE_TEST_WATCHDOG_ASK_LAG_MS) || 0;
let starved = false;

// Running: the main thread may start the snippet.
const ready = new Int32Array(data.probe);
Atomics.store(ready, PROBE_READY_I32, 1);
Atomics.notify(ready, PROBE_READY_I32);

parentPort?.once('message', (msg: WatchdogRun) => {
  run = msg;
  eventsOut = new StreamWriter(data.events, 0, msg.seal, state, ST_SEQ);
  watchdogOut = new StreamWriter(data.watchdog, 1, msg.seal, new Int32Array(1), 0, undefined, testLag);
  if (msg.channel) {
    // The writers hold these ends: they write to the new descriptors from now on.
    data.events.fd = msg.channel.events;
    data.watchdog.fd = msg.channel.watchdog;
    data.controlFd = msg.channel.control;
  }
  SAMPLE_MS = Math.max(50, run.thresholdMs);
  testLag();
  try {
    start();
  } finally {
    testLag();
    // Watching: the snippet may start (it waits for this; see PROBE_READY_I32). Once this
    // thread's loop has polled again: libuv adds the control socket's descriptor to its poll set
    // then, and aborts the process (SIGABRT) when that descriptor is closed by then, as a program
    // that closes the channel at its first line does (CI run 53).
    setImmediate(() => setImmediate(() => {
      Atomics.store(ready, PROBE_READY_I32, WATCHDOG_WATCHING);
      Atomics.notify(ready, PROBE_READY_I32);
    }));
  }
});
