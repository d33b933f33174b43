// Splits a child's byte stream into validated frames. Anything that does not decode is a
// malformed stream: the decoder stops there and says why, keeping what came before.
//
// Linear in the stream's size: chunks wait in a list and each byte is copied at most once, into
// the frame it belongs to, when that frame is whole (a 40 MB frame arriving in 64 KB pipe reads
// used to be re-concatenated at every read).
//
// A sealed stream (a `ChannelKey` given) accepts only FRAME_SEALED envelopes whose MAC checks out
// with the run's key and the stream's next sequence number; the frames inside are then decoded
// as usual. A program that writes to the channel, reads from it or replays a frame breaks the
// chain, and nothing after that point is believed.
import { timingSafeEqual } from 'node:crypto';

import {
  checkChildMessage, FRAME_EVENTS, FRAME_HEADER_BYTES, FRAME_JSON, FRAME_SEALED, MAX_FRAME_BYTES, RECORD_WORDS,
  SEAL_MAC_BYTES, type ChildMessage, type SealMac,
} from '../shared/runtimeProtocol';
import { sealTag } from '../runtime/seal';

export type Frame =
  | { type: 'events'; records: Float64Array }
  | { type: 'json'; message: ChildMessage };

export class MalformedStreamError extends Error {
  constructor(reason: string) {
    super(`malformed event stream from the child: ${reason}`);
    this.name = 'MalformedStreamError';
  }
}

/** The run's secret, how it seals, and which of the child's streams this is (0: events, 1: watchdog). */
export interface ChannelKey {
  key: Buffer;
  mac: SealMac;
  stream: number;
}

export class FrameDecoder {
  private chunks: Buffer[] = [];
  /** Bytes of chunks[0] already consumed. */
  private head = 0;
  private pendingBytes = 0;
  private failed = false;
  private seq = 0;
  private taken = 0;

  /** Bytes of whole frames decoded so far. */
  get bytesTaken(): number {
    return this.taken;
  }

  constructor(private readonly seal?: ChannelKey) {}

  /** Decodes every whole frame in `chunk` and what was left before it. Throws MalformedStreamError once. */
  push(chunk: Buffer, onFrame: (frame: Frame) => void): void {
    if (this.failed || chunk.length === 0) return;
    this.chunks.push(chunk);
    this.pendingBytes += chunk.length;
    try {
      while (this.pendingBytes >= FRAME_HEADER_BYTES) {
        const header = this.peekHeader();
        const len = header.readUInt32LE(0);
        const type = header[4];
        if (this.seal) {
          if (type !== FRAME_SEALED) throw new MalformedStreamError(`an unsealed frame (type ${type}) on a sealed channel`);
          if (len < SEAL_MAC_BYTES || len > MAX_FRAME_BYTES + SEAL_MAC_BYTES) throw new MalformedStreamError(`sealed frame of ${len} bytes`);
        } else {
          if (len > MAX_FRAME_BYTES) throw new MalformedStreamError(`frame of ${len} bytes`);
          if (type !== FRAME_EVENTS && type !== FRAME_JSON) throw new MalformedStreamError(`unknown frame type ${type}`);
        }
        if (this.pendingBytes - FRAME_HEADER_BYTES < len) break;
        const frame = this.take(FRAME_HEADER_BYTES + len);
        if (this.seal) this.openSealed(frame, onFrame);
        else decodeFrame(type, frame.subarray(FRAME_HEADER_BYTES), onFrame);
      }
    } catch (err) {
      this.failed = true;
      this.chunks = [];
      this.head = 0;
      this.pendingBytes = 0;
      throw err;
    }
  }

  /** Bytes of a frame that never completed (the stream ended mid-frame). */
  get leftover(): number {
    return this.pendingBytes;
  }

  private openSealed(frame: Buffer, onFrame: (frame: Frame) => void): void {
    const { key, mac, stream } = this.seal!;
    const end = frame.length - SEAL_MAC_BYTES;
    const inner = frame.subarray(FRAME_HEADER_BYTES, end);
    const tag = sealTag(mac, key, stream, this.seq, inner);
    if (!timingSafeEqual(tag, frame.subarray(end))) throw new MalformedStreamError(`frame ${this.seq} (${frame.length} bytes) is not sealed with the run's key${this.sealedAs(inner, frame.subarray(end))}`);
    this.seq++;
    let off = 0;
    while (off < inner.length) {
      if (inner.length - off < FRAME_HEADER_BYTES) throw new MalformedStreamError('a sealed frame ends mid-header');
      const len = inner.readUInt32LE(off);
      const type = inner[off + 4];
      if (type !== FRAME_EVENTS && type !== FRAME_JSON) throw new MalformedStreamError(`unknown frame type ${type}`);
      if (inner.length - off - FRAME_HEADER_BYTES < len) throw new MalformedStreamError('a sealed frame ends mid-frame');
      decodeFrame(type, inner.subarray(off + FRAME_HEADER_BYTES, off + FRAME_HEADER_BYTES + len), onFrame);
      off += FRAME_HEADER_BYTES + len;
    }
  }

  /**
   * For the error only: a frame sealed with the key at a nearby place in the stream (out of
   * order: a fault of the runtime's, not a forgery) says so.
   */
  private sealedAs(inner: Buffer, got: Buffer): string {
    const { key, mac, stream } = this.seal!;
    for (const seq of [this.seq - 2, this.seq - 1, this.seq + 1, this.seq + 2, this.seq + 3]) {
      if (seq >= 0 && timingSafeEqual(sealTag(mac, key, stream, seq, inner), got)) return ` (it is sealed as frame ${seq})`;
    }
    return '';
  }

  /** The next frame's header, possibly spread over several chunks. */
  private peekHeader(): Buffer {
    const first = this.chunks[0];
    if (first.length - this.head >= FRAME_HEADER_BYTES) return first.subarray(this.head, this.head + FRAME_HEADER_BYTES);
    const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
    let got = 0;
    for (let i = 0; got < FRAME_HEADER_BYTES; i++) {
      const c = this.chunks[i];
      const from = i === 0 ? this.head : 0;
      got += c.copy(out, got, from, Math.min(c.length, from + FRAME_HEADER_BYTES - got));
    }
    return out;
  }

  /** Removes the next `n` bytes; copies them only when they span chunks. */
  private take(n: number): Buffer {
    const first = this.chunks[0];
    let out: Buffer;
    if (first.length - this.head >= n) {
      out = first.subarray(this.head, this.head + n);
      this.head += n;
      if (this.head === first.length) {
        this.chunks.shift();
        this.head = 0;
      }
    } else {
      out = Buffer.allocUnsafe(n);
      let got = 0;
      while (got < n) {
        const c = this.chunks[0];
        const k = Math.min(c.length - this.head, n - got);
        c.copy(out, got, this.head, this.head + k);
        got += k;
        this.head += k;
        if (this.head === c.length) {
          this.chunks.shift();
          this.head = 0;
        }
      }
    }
    this.pendingBytes -= n;
    this.taken += n;
    return out;
  }
}

function decodeFrame(type: number, body: Buffer, onFrame: (frame: Frame) => void): void {
  if (type === FRAME_EVENTS) {
    if (body.length % (RECORD_WORDS * 8) !== 0) throw new MalformedStreamError(`event frame of ${body.length} bytes`);
    // Copy to an aligned buffer: the body may start at any offset.
    const records = new Float64Array(body.length / 8);
    new Uint8Array(records.buffer).set(body);
    onFrame({ type: 'events', records });
    return;
  }
  let message: unknown;
  try {
    message = JSON.parse(body.toString('utf8'));
  } catch {
    throw new MalformedStreamError('a message that is not JSON');
  }
  const why = checkChildMessage(message);
  if (why) throw new MalformedStreamError(why);
  onFrame({ type: 'json', message: message as ChildMessage });
}
