// Splits a child's byte stream into validated frames. Anything that does not decode is a
// malformed stream: the decoder stops there and says why, keeping what came before.
import {
  checkChildMessage, FRAME_EVENTS, FRAME_HEADER_BYTES, FRAME_JSON, MAX_FRAME_BYTES, RECORD_WORDS,
  type ChildMessage,
} from '../shared/runtimeProtocol';

export type Frame =
  | { type: 'events'; records: Float64Array }
  | { type: 'json'; message: ChildMessage };

export class MalformedStreamError extends Error {
  constructor(reason: string) {
    super(`malformed event stream from the child: ${reason}`);
    this.name = 'MalformedStreamError';
  }
}

export class FrameDecoder {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private failed = false;

  /** Decodes every whole frame in `chunk` and what was left before it. Throws MalformedStreamError once. */
  push(chunk: Buffer, onFrame: (frame: Frame) => void): void {
    if (this.failed) return;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < FRAME_HEADER_BYTES) return;
    let buf = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    let off = 0;
    try {
      while (buf.length - off >= FRAME_HEADER_BYTES) {
        const len = buf.readUInt32LE(off);
        const type = buf[off + 4];
        if (len > MAX_FRAME_BYTES) throw new MalformedStreamError(`frame of ${len} bytes`);
        if (type !== FRAME_EVENTS && type !== FRAME_JSON) throw new MalformedStreamError(`unknown frame type ${type}`);
        if (buf.length - off - FRAME_HEADER_BYTES < len) break;
        const body = buf.subarray(off + FRAME_HEADER_BYTES, off + FRAME_HEADER_BYTES + len);
        off += FRAME_HEADER_BYTES + len;
        if (type === FRAME_EVENTS) {
          if (len % (RECORD_WORDS * 8) !== 0) throw new MalformedStreamError(`event frame of ${len} bytes`);
          // Copy to an aligned buffer: the body may start at any offset.
          const records = new Float64Array(len / 8);
          new Uint8Array(records.buffer).set(body);
          onFrame({ type: 'events', records });
        } else {
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
      }
    } catch (err) {
      this.failed = true;
      this.pending = [];
      this.pendingBytes = 0;
      throw err;
    }
    buf = buf.subarray(off);
    this.pending = buf.length ? [buf] : [];
    this.pendingBytes = buf.length;
  }

  /** Bytes of a frame that never completed (the stream ended mid-frame). */
  get leftover(): number {
    return this.pendingBytes;
  }
}
