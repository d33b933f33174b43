// Child of timewarp.test.ts: the warp alone (no recorder, no holds taken out), so the loop's
// millisecond and the program's fractions of it are the test's to set. In each trial two 300 ms
// timers are armed a loop millisecond apart, the second late in its millisecond, and the program
// goes idle early in the next one: under plain node the second can then fire up to 1 ms before
// its delay has passed on performance.now. Prints each timer's delay as the program read it.
import { installTimeWarp } from '../../../src/runtime/timeWarp';

if (process.argv[2] === 'warp') installTimeWarp(() => undefined);
const trials = Number(process.argv[3] ?? 20);
const delay = 300;
const probe = setTimeout(() => {}, 1e9);
probe.unref();
// The loop's clock in whole ms: node's timers keep it as _idleStart when armed or refreshed.
const loopMs = () => (probe.refresh() as unknown as { _idleStart: number })._idleStart;
const took: string[] = [];

function trial(n: number): void {
  let fired = 0;
  const arm = (name: string) => {
    const start = performance.now();
    setTimeout(() => {
      took.push(`${name}${n}:${(performance.now() - start).toFixed(3)}`);
      if (++fired < 2) return;
      if (n + 1 < trials) trial(n + 1);
      else {
        clearTimeout(probe);
        console.log(took.join(' '));
      }
    }, delay);
  };
  arm('a');
  const l0 = loopMs();
  while (loopMs() === l0);
  const tick = performance.now();
  const l1 = loopMs();
  while (performance.now() - tick < 0.8 && loopMs() === l1);
  arm('b');
  while (loopMs() === l1);
}

// Once the loader is done: its reads are real I/O, during which the clock stays real.
setTimeout(() => trial(0), 20);
