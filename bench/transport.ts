// Child-to-parent throughput of the event channel: a child records N events through the real
// ChildTransport on fd 3; the parent decodes them with the real FrameDecoder. Prints events/s,
// sealed (as runs are: Poly1305 over every write, checked by the parent) and unsealed, and over
// the engine's pipes (FIFOs the child reopens close-on-exec, as runs are: engine/channelPipes.ts)
// against child_process's socket pairs (the channel before), side by side (A B A B…, medians).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import type { Readable } from 'node:stream';

import { makeChannelPipes } from '../src/engine/channelPipes';
import { FrameDecoder } from '../src/engine/frameDecoder';
import { RECORD_WORDS } from '../src/shared/runtimeProtocol';

const N = Number(process.argv[3]) || 10_000_000;

if (process.argv[2] === 'child') {
  void (async () => {
    const { ChildTransport, createSharedChannel } = await import('../src/runtime/transport');
    const { ownCopy } = await import('../src/runtime/transport');
    const fd = ownCopy(3, 'write'); // as the runtime does before the program runs (a socket stays)
    const st = fs.fstatSync(fd);
    const key = process.argv[4] && process.argv[4] !== '-' ? { key: Buffer.from(process.argv[4], 'hex'), mac: 'poly1305' as const } : undefined;
    const t = new ChildTransport({ fd, dev: st.dev, ino: st.ino }, key, createSharedChannel());
    for (let i = 0; i < N; i++) t.record(1, i + 1, 0, 0, i);
    t.flush();
  })();
} else {
  const once = (sealed: boolean, fifo = true) => new Promise<number>((resolve) => {
    const key = sealed ? randomBytes(32) : undefined;
    const args = ['--import', 'tsx', __filename, 'child', String(N), key ? key.toString('hex') : '-'];
    const pipes = fifo ? makeChannelPipes() : undefined;
    if (fifo && !pipes) throw new Error('no FIFOs here (mkfifo missing?)');
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit', pipes ? pipes.childFds[0] : 'pipe'] });
    pipes?.closeChildEnds();
    pipes?.streams[1].destroy();
    pipes?.streams[2].destroy();
    const decoder = new FrameDecoder(key ? { key, mac: 'poly1305', stream: 0 } : undefined);
    let events = 0;
    let t0 = 0;
    (pipes ? pipes.streams[0] : child.stdio[3] as Readable).on('data', (chunk: Buffer) => {
      if (!t0) t0 = performance.now();
      decoder.push(chunk, (f) => {
        if (f.type === 'events') events += f.records.length / RECORD_WORDS;
      });
    });
    child.on('close', () => resolve(events / ((performance.now() - t0) / 1000) / 1e6));
  });
  void (async () => {
    const rates: Record<'sealed' | 'unsealed' | 'sealed, socket pair', number[]> = { sealed: [], unsealed: [], 'sealed, socket pair': [] };
    for (let i = 0; i < 5; i++) {
      rates.unsealed.push(await once(false));
      rates.sealed.push(await once(true));
      rates['sealed, socket pair'].push(await once(true, false));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    for (const k of ['unsealed', 'sealed', 'sealed, socket pair'] as const) {
      const xs = rates[k];
      console.log(`${`child to parent, ${k}, first byte to last`.padEnd(46)} median ${median(xs).toFixed(1)} M events/s (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}, n=${xs.length}; goal ≥ 10)`);
    }
    console.log(`sealed / unsealed: ${(median(rates.sealed) / median(rates.unsealed)).toFixed(2)}`);
    const pairs = rates.sealed.map((x, i) => x / rates['sealed, socket pair'][i]);
    console.log(`pipes / socket pair (sealed): ${(median(rates.sealed) / median(rates['sealed, socket pair'])).toFixed(2)}` +
      ` (pairs ${Math.min(...pairs).toFixed(2)}–${Math.max(...pairs).toFixed(2)}, n=${pairs.length})`);
  })();
}
