// What the main thread and the watchdog thread share: the slots of the Float64 probe, and the
// message that tells a watchdog started ahead of the request what runs.

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
/** 1 while the watchdog's inspector session with the main thread is connected. */
export const PROBE_SESSION = 6;
/** Set to 1 by the main thread as it exits: the watchdog disconnects its session. */
export const PROBE_EXITING = 7;
/**
 * Int32 index into the same buffer (the first half of slot 8): the watchdog thread sets it to 1
 * once it runs. The snippet does not start before that (or a bounded wait): a loop that never
 * yields, started before anyone watches, could never be named.
 */
export const PROBE_READY_I32 = 16;
export const SHARED_PROBE_SLOTS = 10;

/** Posted by the main thread once the run request has arrived. */
export interface WatchdogRun {
  type: 'run';
  thresholdMs: number;
  /** The snippet's path, for the line text of its blocks. */
  file: string;
  /** Its text when it is not the file's (unsaved editors). */
  source?: string;
}
