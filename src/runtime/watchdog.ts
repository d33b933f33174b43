// The watchdog thread of an instrumented child. It notices the main thread stuck in synchronous
// work (the lag probe stops ticking), finds the line it is stuck on by pausing it for an instant
// through the inspector, and reports the block as a span on fd 4. It also answers the engine's
// stop request: everything recorded is flushed before the engine kills the process.
import * as fs from 'node:fs';
import * as net from 'node:net';
import { fileURLToPath } from 'node:url';
import { Session } from 'node:inspector';
import { parentPort, workerData } from 'node:worker_threads';

import type { ChildMessage, SpanMessage } from '../shared/runtimeProtocol';
import { RUNTIME_KEY } from './moduleFormat';
import { flushChannel, ST_LOCK, ST_SEQ, StreamWriter, type ChannelEnd, type SealKey, type SharedChannel } from './transport';
import { ProcessTree, signalAll } from './processTree';
import { PROBE_EXITING, PROBE_SESSION, PROBE_LAST_TICK, PROBE_MAIN_ALIVE, PROBE_NATIVE_COLUMN, PROBE_NATIVE_LINE, PROBE_NATIVE_PARENT, PROBE_T0, type WatchdogRun } from './watchdogShared';

/** Given when the thread starts: a warm child starts it before it knows what it will run. */
interface WatchdogData {
  channel: SharedChannel;
  probe: SharedArrayBuffer;
  /** The events pipe (stream 0, shared with the main thread) and this thread's own (stream 1). */
  events: ChannelEnd;
  watchdog: ChannelEnd;
  controlFd: number;
  /** The run's key: this thread seals its frames too. */
  seal: SealKey | undefined;
}

const data = workerData as WatchdogData;
let run: WatchdogRun = { type: 'run', thresholdMs: 50, file: '' };
const probe = new Float64Array(data.probe);
const state = new Int32Array(data.channel.state);
const records = new Float64Array(data.channel.records);
const json = new Uint8Array(data.channel.json);
const eventsOut = new StreamWriter(data.events, 0, data.seal, state, ST_SEQ);
const watchdogOut = new StreamWriter(data.watchdog, 1, data.seal, new Int32Array(1), 0);
const BLOCK_ID_BASE = 1_000_000_000;
const debug = (msg: string) => {
  if (process.env.AWAIT_TIMELINE_DEBUG) fs.writeSync(2, `[watchdog] ${msg}\n`);
};

/** Only while the main thread cannot touch its buffers (paused, or in a native call). */
function flushMainBuffers(): void {
  if (state[ST_LOCK]) return; // the main thread was paused inside its own flush: it finishes it
  flushChannel(eventsOut, state, records, json);
}

let blockCount = 0;
let block: { id: number; start: number; span: SpanMessage; where: Where | undefined; sampledAt: number } | null = null;
let pausing = false;
const sourceLines = new Map<string, string[]>();

function send(message: ChildMessage): void {
  watchdogOut.send(message);
}

const absNow = () => performance.timeOrigin + performance.now();
const rel = (abs: number) => Math.max(0, abs - probe[PROBE_T0]);

function lineText(file: string, line: number): string {
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
  return (lines[line - 1] ?? '').trim();
}

function shorten(text: string): string {
  const t = text.replace(/\s+/g, ' ');
  return t.length > 120 ? t.slice(0, 119) + '…' : t;
}

let session: Session | null = null;
function inspector(): Session {
  if (!session) {
    session = new Session();
    session.connectToMainThread();
    probe[PROBE_SESSION] = 1;
  }
  return session;
}

/** A connected session makes node print "Waiting for the debugger to disconnect" at exit. */
function release(): void {
  session?.disconnect();
  session = null;
  probe[PROBE_SESSION] = 0;
}

function post<T = any>(method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => {
    inspector().post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result as T)));
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([p, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms).unref?.())]);
}

/**
 * Asks the main thread, through an inspector interrupt, where it is and which span is current.
 * Runtime.evaluate runs on top of the interrupted JavaScript, so its stack is the user's; no
 * Debugger domain is enabled (that would cost the program its optimized code). The main
 * thread flushes its buffers in the same call.
 */
async function locateMain(): Promise<{ file: string; line: number; column: number; parentId: number } | undefined> {
  if (pausing) return undefined;
  pausing = true;
  try {
    const answer = await withTimeout(post<any>('Runtime.evaluate', {
      expression: `(r => r ? r.where() : "null")(globalThis[Symbol.for(${JSON.stringify(RUNTIME_KEY)})])`,
      silent: true,
      returnByValue: true,
    }), 1000);
    const value = answer?.result?.value;
    debug(`where: ${value}`);
    if (typeof value !== 'string') return undefined;
    const parsed = JSON.parse(value) as { id: number; frames: Array<[string, number, number]> } | null;
    if (!parsed) return undefined;
    for (const [url, line, column] of parsed.frames) {
      if (!url || url.includes('/node_modules/') || url.startsWith('node:') || url.includes('/dist/runtime/')) continue;
      const file = url.startsWith('file:') ? fileURLToPath(url) : url;
      return { file, line, column, parentId: parsed.id };
    }
    return { file: run.file, line: 0, column: 0, parentId: parsed.id };
  } catch (err) {
    debug(String(err));
    return undefined;
  } finally {
    pausing = false;
  }
}

type Where = { file: string; line: number; column: number; parentId: number };

/** How often a long block is looked at again: a new line or span splits it. */
let SAMPLE_MS = 50;

async function whereIsMain(): Promise<Where | undefined> {
  const nativeLine = probe[PROBE_NATIVE_LINE];
  if (nativeLine !== 0) {
    // In a native wait: it cannot answer, and it is not touching its buffers.
    flushMainBuffers();
    return { file: run.file, line: Math.max(0, nativeLine), column: probe[PROBE_NATIVE_COLUMN] || 1, parentId: probe[PROBE_NATIVE_PARENT] };
  }
  return locateMain();
}

function newBlock(startAbs: number, continues?: number): NonNullable<typeof block> {
  const id = BLOCK_ID_BASE + ++blockCount;
  const span: SpanMessage = {
    type: 'span', id, parentId: null, kind: 'block', label: 'synchronous work', line: 0, column: 0,
    startMs: rel(startAbs), endMs: null, outcome: 'pending', continues,
  };
  return { id, start: startAbs, span, where: undefined, sampledAt: absNow() };
}

function describe(span: SpanMessage, where: Where | undefined): void {
  if (!where || where.line === 0) {
    if (where) span.parentId = where.parentId || null;
    return;
  }
  span.line = where.line;
  span.column = where.column;
  span.parentId = where.parentId || null;
  span.label = shorten(lineText(where.file, where.line).replace(/;\s*$/, '')) || 'synchronous work';
}

async function onBlockStart(lastTick: number): Promise<void> {
  const b = (block = newBlock(lastTick));
  send(b.span); // seen as stuck right away, labelled as soon as we know where
  b.where = await whereIsMain();
  b.sampledAt = absNow();
  describe(b.span, b.where);
  send(b.span); // full upsert: if the block ended meanwhile, this carries its end too
}

/** Looks again at a long block; if the main thread moved to another line or span, splits it. */
async function resample(): Promise<void> {
  const b = block;
  if (!b) return;
  const at = absNow();
  b.sampledAt = at;
  const where = await whereIsMain();
  if (block !== b || !where) return;
  if (b.where && where.line === b.where.line && where.parentId === b.where.parentId && where.file === b.where.file) return;
  if (!b.where) {
    b.where = where;
    describe(b.span, where);
    send(b.span);
    return;
  }
  b.span.endMs = rel(at);
  b.span.outcome = 'fulfilled';
  send(b.span);
  const next = (block = newBlock(at, b.id));
  next.where = where;
  describe(next.span, where);
  send(next.span);
}

function onBlockEnd(tick: number): void {
  if (!block) return;
  block.span.endMs = rel(tick);
  block.span.outcome = 'fulfilled';
  send(block.span);
  block = null;
  release();
}

function check(): void {
  // The main thread is exiting and waits for the session to go (else node prints "Waiting for
  // the debugger to disconnect..." after the program's last output).
  if (probe[PROBE_EXITING] === 1) {
    if (session) release();
    return;
  }
  if (probe[PROBE_MAIN_ALIVE] !== 1) return;
  const last = probe[PROBE_LAST_TICK];
  if (block) {
    if (last > block.start) onBlockEnd(last);
    else if (!pausing && absNow() - block.sampledAt >= SAMPLE_MS) void resample();
    return;
  }
  if (!pausing && absNow() - last >= run.thresholdMs) void onBlockStart(last);
}

async function onStop(): Promise<void> {
  // A block whose line is not known yet (the first look is slow on a loaded machine): one more
  // look, so a stopped or timed-out endless loop still says where it was stuck.
  if (block && !block.where) {
    const deadline = absNow() + 250;
    while (pausing && absNow() < deadline) await new Promise((r) => setTimeout(r, 5));
    if (block && !block.where && !pausing) await withTimeout(resample(), Math.max(50, deadline - absNow()));
  }
  // Ask the main thread what is still waiting, and to flush (works while it is idle or running
  // JavaScript); if it is inside a synchronous native call it cannot answer, and then its buffers
  // are not being touched. An idle thread answers in a millisecond, a loaded machine's in tens:
  // the report is what a stopped run is for, so it gets a quarter of the engine's grace.
  const answered = await withTimeout(
    post('Runtime.evaluate', {
      expression: `(r => r && (r.reportPending('stop'), r.flushNow()))(globalThis[Symbol.for(${JSON.stringify(RUNTIME_KEY)})])`,
      silent: true,
    }),
    250,
  );
  if (answered === undefined) flushMainBuffers();
  if (!block) release();
  send({ type: 'flushed' });
}

/** Starts watching once the run request has come: until then a warm child's thread sleeps. */
function start(): void {
  setInterval(check, Math.max(2, Math.min(10, run.thresholdMs / 4)));
  listenForControl();
}

/** [pid, start time] of processes of the run the engine found (see processTree.ts). */
const tracked: Array<[number, number]> = [];

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
        const tree = new ProcessTree(process.pid);
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

parentPort?.once('message', (msg: WatchdogRun) => {
  run = msg;
  SAMPLE_MS = Math.max(50, run.thresholdMs);
  start();
});
