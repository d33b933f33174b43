// What the main thread and the watchdog thread share: the slots of the Float64 probe, and the
// message that tells a watchdog started ahead of the request what runs.
import type { MessagePort } from 'node:worker_threads';

import type { SealKey } from './transport';

/** Absolute time (timeOrigin + now) of the main thread's last lag-probe tick. */
export const PROBE_LAST_TICK = 0;
/** Absolute time of the snippet's time 0. */
export const PROBE_T0 = 1;
/** Line of a synchronous native call in progress (execSync, Atomics.wait…), 0 when none. */
export const PROBE_NATIVE_LINE = 2;
/** 1 once the snippet runs. */
export const PROBE_MAIN_ALIVE = 3;
/** Column of that native call. */
export const PROBE_NATIVE_COLUMN = 4;
/** Span id current when that native call began. */
export const PROBE_NATIVE_PARENT = 5;
/**
 * The main thread's own CPU time (ms, as cpuMsOf reads it) when it wrote PROBE_LAST_TICK: written
 * first, with the tick, so a stall's CPU is counted from where the stall began (the watchdog's own
 * readings are late when the machine keeps it off a CPU). -1 when the main thread cannot read it.
 */
export const PROBE_TICK_CPU = 6;
/**
 * The last stall the main thread saw end (a gap of at least the threshold between two of its ticks):
 * the tick that began it, and the CPU the main thread used from that tick to the one that ended it
 * (PROBE_GAP_CPU). Written CPU first. The watchdog, late on a busy machine, would otherwise count
 * CPU the main thread used after the stall.
 */
export const PROBE_GAP_START = 7;
export const PROBE_GAP_CPU = 10;
/** The snippet's clock reads in that gap (see PROBE_CLOCK_READS), written with PROBE_GAP_CPU. */
export const PROBE_GAP_CLOCKS = 13;
/**
 * Int32 index into the same buffer (the first half of slot 8): the watchdog thread sets it to 1
 * once it runs, and to WATCHDOG_WATCHING once it has taken the run (its timers and its control
 * socket made). The snippet does not start before that (or a bounded wait): a loop that never
 * yields, started before anyone watches, could never be named; and a descriptor the thread opened
 * after the snippet began could take the number of one the program just closed (its loop's first
 * stream opens /dev/null for libuv's reserve), so the program's next file would not get it.
 */
export const PROBE_READY_I32 = 16;
/** PROBE_READY_I32 once the watchdog watches the run. */
export const WATCHDOG_WATCHING = 2;
/**
 * Int32 index (the first half of slot 9): 1 from just before the watchdog connects its inspector
 * session with the main thread until it has disconnected it. With PROBE_EXITING_I32 a handshake
 * (Atomics, sequentially consistent): no session is connected once the main thread exits, or node
 * prints "Waiting for the debugger to disconnect..." after the program's last output.
 */
export const PROBE_SESSION_I32 = 18;
/**
 * Int32 index (the second half of slot 8): how many of the engine's answers to InstrumentMessage
 * the watchdog has handed on (WatchdogRun.answers); the main thread waits on it for one.
 */
export const PROBE_ANSWERS_I32 = 17;
/** Int32 index (the second half of slot 9): set to 1 by the main thread as it exits. */
export const PROBE_EXITING_I32 = 19;
/**
 * How many times the snippet has read the wall clock (Date.now, performance.now, process.hrtime and
 * its bigint; see patchClockReads), counted by the main thread; and that count when it wrote
 * PROBE_LAST_TICK. A loop that spends its CPU reading the clock waits on the wall clock: it holds
 * the event loop for as long as the clock says, whatever share of a CPU the machine gives it.
 */
export const PROBE_CLOCK_READS = 11;
export const PROBE_TICK_CLOCKS = 12;
/**
 * When the snippet read the wall clock for the first time since the last tick, and for the last
 * time (absolute ms, as PROBE_LAST_TICK; NaN under a time warp, whose clocks are not real time): a
 * loop that waits on the clock holds the event loop from the one to the other.
 */
export const PROBE_FIRST_READ_AT = 14;
export const PROBE_LAST_READ_AT = 15;
/** The main thread's CPU time (ms, as PROBE_TICK_CPU; -1 when it cannot read it) at that first read. */
export const PROBE_FIRST_READ_CPU = 16;
/**
 * Where the snippet reads the clock: the watchdog sets PROBE_READ_WANTED to a stall's tick; the
 * snippet's next clock read, if the loop has not ticked since, writes where it was called from
 * (the first frame in one of the snippet's files: line, column, its file in the channel's `site`
 * area), the current span, the count of reads with it and the main thread's CPU time then (-1
 * when it cannot read it), and PROBE_READ_TICK (that tick) last. A stall's samples can all miss
 * a spin on a saturated machine (the only answer came after it: the next line was named); the
 * read itself is in it.
 */
export const PROBE_READ_WANTED = 17;
export const PROBE_READ_TICK = 18;
export const PROBE_READ_LINE = 19;
export const PROBE_READ_COLUMN = 20;
export const PROBE_READ_PARENT = 21;
export const PROBE_READ_CLOCKS = 22;
export const PROBE_READ_CPU = 23;
/**
 * The rest of the last gap's record (with PROBE_GAP_START, written last, and NaN while the rest is
 * written): the tick that ended it, the main thread's CPU time and count of clock reads then, and
 * its first and last clock reads in the gap (NaN when it read none). A stall this thread never
 * saw while it lasted (a busy machine kept it off a CPU all along) is judged from these and the
 * read site afterwards; and a stall it saw ends where its reads did, whatever it reads later.
 */
export const PROBE_GAP_END = 24;
export const PROBE_GAP_END_CPU = 25;
export const PROBE_GAP_END_CLOCKS = 26;
export const PROBE_GAP_FIRST_READ_AT = 27;
export const PROBE_GAP_LAST_READ_AT = 28;
/**
 * The start of the last gap the watchdog has dealt with: one it watched as a stall (from when it
 * began watching), or one it missed and has judged, its frames written (see missedStall). The main
 * thread, exiting right after a gap the watchdog may have missed, waits for it (bounded).
 */
export const PROBE_GAP_SEEN = 29;
export const SHARED_PROBE_SLOTS = 30;

/** /proc files that give a thread's CPU time, best first. */
export const CPU_FILES = ['schedstat', 'stat'] as const;
export type CpuFile = (typeof CPU_FILES)[number];

/** CPU time in ms from a thread's /proc schedstat (ns) or stat (utime + stime, 10 ms ticks). */
export function cpuMsOf(kind: CpuFile, text: string): number | undefined {
  if (kind === 'schedstat') {
    const ns = Number(text.split(' ')[0]);
    return Number.isFinite(ns) ? ns / 1e6 : undefined;
  }
  // After the command name in parentheses: field 3 is the state; utime and stime are 14 and 15.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]);
  return Number.isFinite(ticks) ? ticks * 10 : undefined;
}

/**
 * cpuMsOf from the bytes of the file, for the main thread: no method the program can replace
 * (String.prototype.split, Number) is called while its code runs.
 */
export function cpuMsOfBytes(kind: CpuFile, b: Uint8Array, n: number): number | undefined {
  let i = 0;
  if (kind === 'stat') {
    // utime and stime are fields 14 and 15; the command name (field 2) may hold spaces: count after its ')'.
    let close = -1;
    for (let j = 0; j < n; j++) if (b[j] === 41) close = j;
    if (close < 0) return undefined;
    i = close + 2;
    for (let field = 3; field < 14 && i < n; i++) if (b[i] === 32) field++;
  }
  let total = 0;
  for (let fieldsLeft = kind === 'stat' ? 2 : 1; fieldsLeft > 0; fieldsLeft--) {
    let v = 0;
    let digits = 0;
    for (; i < n && b[i]! >= 48 && b[i]! <= 57; i++, digits++) v = v * 10 + (b[i]! - 48);
    if (digits === 0) return undefined;
    total += v;
    i++;
  }
  return kind === 'stat' ? total * 10 : total / 1e6;
}

/**
 * A thread's run delay in ms (time spent runnable, waiting for a CPU) from the bytes of its
 * /proc schedstat: the second field, in ns. Read as cpuMsOfBytes is, with nothing the program can
 * replace.
 */
export function runDelayMsOfBytes(b: Uint8Array, n: number): number | undefined {
  let i = 0;
  while (i < n && b[i] !== 32) i++;
  i++;
  let v = 0;
  let digits = 0;
  for (; i < n && b[i]! >= 48 && b[i]! <= 57; i++, digits++) v = v * 10 + (b[i]! - 48);
  return digits === 0 ? undefined : v / 1e6;
}

/** Posted by the main thread once the run request has arrived. */
export interface WatchdogRun {
  type: 'run';
  thresholdMs: number;
  /** The snippet's path, for the line text of its blocks. */
  file: string;
  /** Its text when it is not the file's (unsaved editors). */
  source?: string;
  /** Where the channel is now: the main thread moved it to close-on-exec descriptors. */
  channel?: { events: number; watchdog: number; control: number };
  /** The run's key: this thread seals its frames too (the thread starts before the key is read). */
  seal?: SealKey;
  /**
   * The main thread's CPU-time file (/proc/<pid>/task/<pid>/…), opened by the main thread and read
   * by both: the main thread at each tick (PROBE_TICK_CPU), the watchdog while a stall lasts.
   */
  cpu?: { fd: number; kind: CpuFile };
  /**
   * Where this thread hands on the engine's answers to InstrumentMessage, which come on the
   * control pipe this thread reads (then it adds one to PROBE_ANSWERS_I32).
   */
  answers?: MessagePort;
}
