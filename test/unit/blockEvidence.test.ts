// The evidence that a stall is the snippet's own loop waiting on the wall clock (blockEvidence.ts),
// on readings the watchdog took under 16 busy sessions on 2 cores, and on the finite work that CI
// once drew as a block.
import * as assert from 'node:assert/strict';

import { readsTheClock } from '../../src/runtime/blockEvidence';

describe('block evidence: a loop waiting on the wall clock', () => {
  it('is told by a single look into a spin on a saturated machine, though most of the CPU before it was not the spin', () => {
    // spin-wall.js, its only look: 2,122 reads in 4.5 ms of CPU since the tick before the stall
    // (the tick, the callback, the spin's compile and the look itself), and 2,561 in 9.0 ms.
    assert.equal(readsTheClock({ cpu: 189.6, clocks: 0 }, { cpu: 194.1, clocks: 2122 }), true);
    assert.equal(readsTheClock({ cpu: 186.6, clocks: 0 }, { cpu: 195.6, clocks: 2561 }), true);
    // Later looks into the same spin: thousands of reads a ms.
    assert.equal(readsTheClock({ cpu: 194.1, clocks: 2122 }, { cpu: 202.6, clocks: 60884 }), true);
    // Four looks into one spin, which cost the main thread more CPU than the spin got: 2,208 reads
    // in 14.7 ms (between two of the looks, 1.8 ms of CPU and no read at all).
    assert.equal(readsTheClock({ cpu: 249.8, clocks: 0 }, { cpu: 264.4, clocks: 2208 }), true);
  });

  it('is not finite work the machine kept waiting, however much CPU it used at one line', () => {
    // Work at a line that starts four calls and awaits them (CI's false 185 ms block at
    // `await Promise.all(cities.map(...))`): CPU, no clock read.
    assert.equal(readsTheClock({ cpu: 100, clocks: 0 }, { cpu: 106, clocks: 0 }), false);
    // A few reads (a log line's time stamp).
    assert.equal(readsTheClock({ cpu: 100, clocks: 40 }, { cpu: 130, clocks: 52 }), false);
    // 1,500 lines logged with their time: many reads, but tens of µs of work each.
    assert.equal(readsTheClock({ cpu: 100, clocks: 0 }, { cpu: 130, clocks: 1500 }), false);
    // A burst of reads too short to be a wait.
    assert.equal(readsTheClock({ cpu: 100, clocks: 0 }, { cpu: 100.1, clocks: 900 }), false);
  });

  it('says nothing without both readings', () => {
    assert.equal(readsTheClock({ cpu: undefined, clocks: 0 }, { cpu: 194.1, clocks: 2122 }), false);
    assert.equal(readsTheClock({ cpu: 189.6, clocks: 0 }, { cpu: 194.1, clocks: undefined }), false);
  });
});
