// Child-to-parent throughput of the event channel: a child records N events through the real
// ChildTransport on fd 3; the parent decodes them with the real FrameDecoder. Prints events/s,
// sealed (as runs are: Poly1305 over every write, checked by the parent) and unsealed, side by
// side (A B A B…, medians).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import type { Readable } from 'node:stream';

import { FrameDecoder } from '../src/engine/frameDecoder';
import { RECORD_WORDS } from '../src/shared/runtimeProtocol';

const N = Number(process.argv[3]) || 10_000_000;

if (process.argv[2] === 'child') {
  void (async () => {
    const { ChildTransport, createSharedChannel } = await import('../src/runtime/transport');
    const st = fs.fstatSync(3);
    const key = process.argv[4] ? { key: Buffer.from(process.argv[4], 'hex'), mac: 'poly1305' as const } : undefined;
    const t = new ChildTransport({ fd: 3, dev: st.dev, ino: st.ino }, key, createSharedChannel());
    for (let i = 0; i < N; i++) t.record(1, i + 1, 0, 0, i);
    t.flush();
  })();
} else {
  const once = (sealed: boolean) => new Promise<number>((resolve) => {
    const key = sealed ? randomBytes(32) : undefined;
    const args = ['--import', 'tsx', __filename, 'child', String(N), ...(key ? [key.toString('hex')] : [])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit', 'pipe'] });
    const decoder = new FrameDecoder(key ? { key, mac: 'poly1305', stream: 0 } : undefined);
    let events = 0;
    let t0 = 0;
    (child.stdio[3] as Readable).on('data', (chunk: Buffer) => {
      if (!t0) t0 = performance.now();
      decoder.push(chunk, (f) => {
        if (f.type === 'events') events += f.records.length / RECORD_WORDS;
      });
    });
    child.on('close', () => resolve(events / ((performance.now() - t0) / 1000) / 1e6));
  });
  void (async () => {
    const rates: Record<'sealed' | 'unsealed', number[]> = { sealed: [], unsealed: [] };
    for (let i = 0; i < 3; i++) {
      rates.unsealed.push(await once(false));
      rates.sealed.push(await once(true));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    for (const k of ['unsealed', 'sealed'] as const) {
      const xs = rates[k];
      console.log(`${`child to parent, ${k}, first byte to last`.padEnd(46)} median ${median(xs).toFixed(1)} M events/s (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}, n=${xs.length}; goal ≥ 10)`);
    }
    console.log(`sealed / unsealed: ${(median(rates.sealed) / median(rates.unsealed)).toFixed(2)}`);
  })();
}
