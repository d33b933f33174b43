// What tells the snippet's code holding the event loop from the machine keeping it waiting, as
// pure functions of what the watchdog read (watchdog.ts gathers the readings; tests beside this).

/** The main thread's CPU time (ms) and the snippet's count of clock reads at one moment; undefined where unknown. */
export interface Reading {
  cpu: number | undefined;
  clocks: number | undefined;
}

/** Reads of the wall clock a loop that waits on it makes, at the least (see readsTheClock). */
export const CLOCK_SPIN_READS = 1000;
/**
 * Reads of the wall clock per ms of the main thread's CPU, at the least, that say the snippet spent
 * its CPU reading the clock (see readsTheClock). `while (Date.now() < end) {}` reads it 5,000-20,000
 * times a ms of CPU on a CPU of its own. On a saturated machine the CPU it gets is mostly the
 * watchdog's looks (each costs the main thread 1-2 ms there) and the start of the spin's callback:
 * 150-470 reads a ms of the main thread's CPU were seen over spins looked at one to four times.
 * Finite work reads the clock now and then: a log line with its time costs 10-50 µs.
 */
export const CLOCK_SPIN_RATE = 100;

/**
 * The snippet read the wall clock between `from` and `to` as only a loop that waits on it does: at
 * least CLOCK_SPIN_READS times, at CLOCK_SPIN_RATE reads or more for each ms of the main thread's
 * CPU. Such a loop holds the event loop for as long as the clock says, whatever share of a CPU the
 * machine gives it; finite work (a callback the machine kept waiting, node loading a module) has
 * used a few ms of CPU when it is looked at, reading the clock seldom or not at all.
 */
export function readsTheClock(from: Reading, to: Reading): boolean {
  if (from.cpu === undefined || from.clocks === undefined || to.cpu === undefined || to.clocks === undefined) return false;
  const reads = to.clocks - from.clocks;
  return reads >= CLOCK_SPIN_READS && reads >= CLOCK_SPIN_RATE * (to.cpu - from.cpu);
}
