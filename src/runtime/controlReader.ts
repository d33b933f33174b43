// The runtime's control pipe, read a line at a time, synchronously (before the event loop runs):
// the run's key, then the run request, which carries the instrumented code of the entry and its
// local modules and so can be megabytes long.
import * as fs from 'node:fs';

import { AtomicsWait } from './primordials';

export class ControlReader {
  /** What was read after the last line ended, in the chunks it came in (joined once a line ends). */
  private chunks: Buffer[] = [];
  private readonly buf = Buffer.alloc(64 * 1024);
  private readonly sleep = new Int32Array(new SharedArrayBuffer(4));
  private readonly since = performance.now();

  /** `onIdle(ms)`: called while nothing is there to read, with the time since the reader began. */
  constructor(readonly fd: number, private readonly onIdle: (idleMs: number) => void = () => undefined) {}

  /** The next line, without its newline; undefined at end of file or on a read error. */
  line(): string | undefined {
    // Each chunk is searched once and the line joined once: a request of megabytes comes in
    // thousands of pipe-sized pieces, and joining or searching all that was read at every piece
    // made a 160,000-line module wait a minute before it began.
    for (let i = 0; ; ) {
      if (i < this.chunks.length) {
        const chunk = this.chunks[i]!;
        const nl = chunk.indexOf(10);
        if (nl < 0) {
          i++;
          continue;
        }
        const text = Buffer.concat([...this.chunks.slice(0, i), chunk.subarray(0, nl)]).toString('utf8');
        this.chunks = nl + 1 < chunk.length ? [chunk.subarray(nl + 1)] : [];
        return text;
      }
      let n: number;
      try {
        n = fs.readSync(this.fd, this.buf, 0, this.buf.length, null);
      } catch (err: any) {
        if (err?.code !== 'EAGAIN') return undefined;
        this.onIdle(performance.now() - this.since);
        AtomicsWait(this.sleep, 0, 0, 2);
        continue;
      }
      if (n === 0) return undefined;
      this.chunks.push(Buffer.from(this.buf.subarray(0, n)));
    }
  }

  /**
   * The next `n` bytes (a body its line announced), read straight into one buffer of their
   * size; undefined at end of file or on a read error. Lines after them are read as before.
   */
  bytes(n: number): Buffer | undefined {
    const out = Buffer.allocUnsafeSlow(n);
    let have = 0;
    let used = 0;
    for (; used < this.chunks.length && have < n; used++) {
      const chunk = this.chunks[used]!;
      const take = Math.min(chunk.length, n - have);
      chunk.copy(out, have, 0, take);
      have += take;
      if (take < chunk.length) {
        this.chunks[used] = chunk.subarray(take);
        break;
      }
    }
    this.chunks = this.chunks.slice(used);
    while (have < n) {
      let read: number;
      try {
        read = fs.readSync(this.fd, out, have, n - have, null);
      } catch (err: any) {
        if (err?.code !== 'EAGAIN') return undefined;
        this.onIdle(performance.now() - this.since);
        AtomicsWait(this.sleep, 0, 0, 2);
        continue;
      }
      if (read === 0) return undefined;
      have += read;
    }
    return out;
  }
}
