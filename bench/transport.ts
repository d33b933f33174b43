// Child-to-parent throughput of the event channel: a child records N events through the real
// ChildTransport on fd 3; the parent decodes them with the real FrameDecoder. Prints events/s.
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

import { FrameDecoder } from '../src/engine/frameDecoder';
import { RECORD_WORDS } from '../src/shared/runtimeProtocol';

const N = Number(process.argv[3]) || 10_000_000;

if (process.argv[2] === 'child') {
  void (async () => {
    const { ChildTransport, createSharedChannel } = await import('../src/runtime/transport');
    const t = new ChildTransport(3, createSharedChannel());
    for (let i = 0; i < N; i++) t.record(1, i + 1, 0, 0, i);
    t.flush();
  })();
} else {
  const child = spawn(process.execPath, ['--import', 'tsx', __filename, 'child', String(N)], { stdio: ['ignore', 'inherit', 'inherit', 'pipe'] });
  const decoder = new FrameDecoder();
  let events = 0;
  let t0 = 0;
  (child.stdio[3] as Readable).on('data', (chunk: Buffer) => {
    if (!t0) t0 = performance.now();
    decoder.push(chunk, (f) => {
      if (f.type === 'events') events += f.records.length / RECORD_WORDS;
    });
  });
  child.on('close', () => {
    const s = (performance.now() - t0) / 1000;
    console.log(`${'child to parent, first byte to last'.padEnd(46)} ${events} events in ${(s * 1000).toFixed(0)} ms: ${(events / s / 1e6).toFixed(1)} M events/s (goal ≥ 10)`);
  });
}
