// Starts the watchdog thread first thing, as the runtime's bundle begins to run (bootstrap.ts
// imports this module before any other): the thread boots on its own (tens of ms, hundreds on a
// busy machine) while the rest of the runtime loads and the run request comes, and the snippet's
// time 0, which waits for it, comes that much sooner.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

import { NODE_CHANNEL_FDS } from '../shared/runtimeProtocol';
import { createSharedChannel, type ChannelEnd, type SharedChannel } from './channelShared';
import { RUNTIME_KEY } from './moduleFormat';
import { SHARED_PROBE_SLOTS } from './watchdogShared';

export interface ChannelEnds {
  events: ChannelEnd;
  watchdog: ChannelEnd;
  control: number;
}

/** The channel the engine gave this process, as it is at start-up. */
export function takeChannel(): ChannelEnds {
  const take = (fd: number): ChannelEnd => {
    const st = fs.fstatSync(fd);
    return { fd, dev: st.dev, ino: st.ino };
  };
  const [eventsFd, watchdogFd, controlFd] = NODE_CHANNEL_FDS;
  return { events: take(eventsFd), watchdog: take(watchdogFd), control: controlFd };
}

/**
 * The watchdog thread; it learns what runs (and the run's key) from a message, and sleeps until
 * then. Undefined when a thread cannot be started: blocks are then still seen by the engine.
 */
export function startWatchdog(channel: SharedChannel, probe: Float64Array, ends: ChannelEnds): Worker | undefined {
  try {
    const w = new Worker(path.join(__dirname, 'watchdog.js'), {
      workerData: { channel, probe: probe.buffer, events: ends.events, watchdog: ends.watchdog, controlFd: ends.control },
      // The watchdog prints nothing: not piped into process.stdout, which node would otherwise
      // make at once (the program would find a pipe's handle among its active resources).
      stdout: true,
      stderr: !process.env.AWAIT_TIMELINE_DEBUG,
      env: {
        ...(process.env.AWAIT_TIMELINE_DEBUG ? { AWAIT_TIMELINE_DEBUG: '1' } : {}),
        ...(process.env.AWAIT_TIMELINE_TEST_WATCHDOG_LAG_MS ? { AWAIT_TIMELINE_TEST_WATCHDOG_LAG_MS: process.env.AWAIT_TIMELINE_TEST_WATCHDOG_LAG_MS } : {}),
        ...(process.env.AWAIT_TIMELINE_TEST_WATCHDOG_STARVE_MS ? { AWAIT_TIMELINE_TEST_WATCHDOG_STARVE_MS: process.env.AWAIT_TIMELINE_TEST_WATCHDOG_STARVE_MS } : {}),
        ...(process.env.AWAIT_TIMELINE_TEST_WATCHDOG_ASK_LAG_MS ? { AWAIT_TIMELINE_TEST_WATCHDOG_ASK_LAG_MS: process.env.AWAIT_TIMELINE_TEST_WATCHDOG_ASK_LAG_MS } : {}),
      },
    });
    w.unref();
    w.on('error', (err) => { if (process.env.AWAIT_TIMELINE_DEBUG) process.stderr.write(`[watchdog] ${err?.stack ?? err}\n`); /* best effort: the program runs on */ });
    return w;
  } catch {
    // without a watchdog, blocks are still seen by the lag probe's gaps in the engine
    return undefined;
  }
}

/** What was started here, for bootstrap's main(); undefined if this process was not given a channel. */
export const early: { ends: ChannelEnds; channel: SharedChannel; probe: Float64Array; watchdog: Worker | undefined } | undefined = (() => {
  if ((globalThis as any)[Symbol.for(RUNTIME_KEY)]) return undefined; // loaded twice: main() stays out of the way
  try {
    const ends = takeChannel();
    const channel = createSharedChannel();
    const probe = new Float64Array(new SharedArrayBuffer(SHARED_PROBE_SLOTS * 8));
    return { ends, channel, probe, watchdog: startWatchdog(channel, probe, ends) };
  } catch {
    return undefined; // main() says why, as before
  }
})();
