// After a runtime exits, the engine reads its pipes before it gives up on them. Under load (35–50
// on 2 cores, five runs at a time) runs ended "the runtime exited (code 0) before the snippet
// started, without a word on its channel": the runtime had run the snippet and written every
// frame, but the engine's drain deadline fired in a loop turn's timers phase, before that turn's
// poll read the pipes. Here with a real pipe: bytes wait in it while the engine's thread is busy
// past the deadline.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

import { drainAfterExit } from '../../src/engine/pipeDrain';

/** A FIFO's two ends: a socket reading it (counting bytes) and a descriptor to write it. */
function pipe(): { reader: net.Socket; writeFd: number; read: () => number; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awt-drain-'));
  const p = path.join(dir, 'p');
  assert.equal(spawnSync('mkfifo', [p]).status, 0);
  const readFd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const writeFd = fs.openSync(p, fs.constants.O_WRONLY);
  const reader = new net.Socket({ fd: readFd, readable: true, writable: false });
  let bytes = 0;
  reader.on('data', (b: Buffer) => (bytes += b.length));
  return { reader, writeFd, read: () => bytes, dir };
}

const busy = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

describe('reading a runtime\'s pipes after it exited', () => {
  it('what the pipe holds is read even when the engine was busy past the deadline', async () => {
    const p = pipe();
    try {
      await new Promise((r) => setImmediate(r)); // the socket reads from here on
      const never = new Promise<void>(() => undefined); // a grandchild keeps the pipe open
      const drained = drainAfterExit(never, p.read, 50);
      // The runtime's last frames arrive while the engine's thread works on something else for
      // longer than the deadline: the next loop turn runs its timers before its poll.
      fs.writeSync(p.writeFd, Buffer.alloc(3000, 1));
      busy(150);
      await drained;
      assert.equal(p.read(), 3000, 'the bytes waiting in the pipe were read before the engine stopped reading');
    } finally {
      p.reader.destroy();
      fs.closeSync(p.writeFd);
      fs.rmSync(p.dir, { recursive: true, force: true });
    }
  });

  it('a pipe that reaches its end ends the wait at once, and one held open ends it after the deadline', async () => {
    const p = pipe();
    try {
      await new Promise((r) => setImmediate(r));
      const t0 = performance.now();
      await drainAfterExit(Promise.resolve(), p.read, 5000);
      assert.ok(performance.now() - t0 < 1000, 'ended streams end the wait');
      const t1 = performance.now();
      await drainAfterExit(new Promise(() => undefined), p.read, 100);
      const waited = performance.now() - t1;
      assert.ok(waited >= 99, `held open: waited the deadline (${waited.toFixed(0)} ms)`);
    } finally {
      p.reader.destroy();
      fs.closeSync(p.writeFd);
      fs.rmSync(p.dir, { recursive: true, force: true });
    }
  });
});
