// What the main thread and the watchdog thread share: the slots of the Float64 probe, and the
// message that tells a watchdog started ahead of the request what runs.
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
// Slots 6 and 7 are free.
/**
 * Int32 index into the same buffer (the first half of slot 8): the watchdog thread sets it to 1
 * once it runs. The snippet does not start before that (or a bounded wait): a loop that never
 * yields, started before anyone watches, could never be named.
 */
export const PROBE_READY_I32 = 16;
/**
 * Int32 index (the first half of slot 9): 1 from just before the watchdog connects its inspector
 * session with the main thread until it has disconnected it. With PROBE_EXITING_I32 a handshake
 * (Atomics, sequentially consistent): no session is connected once the main thread exits, or node
 * prints "Waiting for the debugger to disconnect..." after the program's last output.
 */
export const PROBE_SESSION_I32 = 18;
/** Int32 index (the second half of slot 9): set to 1 by the main thread as it exits. */
export const PROBE_EXITING_I32 = 19;
/**
 * The main thread's own CPU time (ms, as cpuMsOf reads it) at the snippet's time 0, and from which
 * /proc file (1 schedstat, 2 stat; 0 none): the start of a stall that begins with the snippet,
 * before the watchdog has taken a reading of its own.
 */
export const PROBE_CPU_T0 = 10;
export const PROBE_CPU_T0_KIND = 11;
export const SHARED_PROBE_SLOTS = 12;

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
}
