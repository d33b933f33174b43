// The child's side of the event channel: records and JSON frames are appended to shared buffers
// and written to fd 3 in one write per flush. The buffers are SharedArrayBuffers so that the
// watchdog thread can flush them while the main thread is stuck or paused.
import * as fs from 'node:fs';

import { JSONStringify } from './primordials';

import {
  FRAME_EVENTS, FRAME_HEADER_BYTES, FRAME_JSON, RECORD_WORDS, type ChildMessage,
} from '../shared/runtimeProtocol';

export const RECORD_CAPACITY = 4096;
const JSON_CAPACITY = 1 << 20;

/** Indexes into the shared Int32 state. */
export const ST_RECORDS = 0; // records in the buffer
export const ST_JSON = 1; // bytes of JSON frames in the buffer
export const ST_LOCK = 2; // 1 while a thread is flushing or appending a JSON frame

export interface SharedChannel {
  state: SharedArrayBuffer;
  records: SharedArrayBuffer;
  json: SharedArrayBuffer;
}

export function createSharedChannel(): SharedChannel {
  return {
    state: new SharedArrayBuffer(16),
    records: new SharedArrayBuffer(RECORD_CAPACITY * RECORD_WORDS * 8),
    json: new SharedArrayBuffer(JSON_CAPACITY),
  };
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Writes all of `bytes`, waiting out a full pipe instead of dropping data. Returns false if the reader is gone. */
export function writeFully(fd: number, bytes: Uint8Array): boolean {
  let off = 0;
  while (off < bytes.length) {
    try {
      off += fs.writeSync(fd, bytes, off, bytes.length - off);
    } catch (err: any) {
      if (err?.code === 'EAGAIN') {
        Atomics.wait(sleepCell, 0, 0, 1);
        continue;
      }
      return false; // EPIPE/EBADF: the engine is gone; the user's program goes on regardless
    }
  }
  return true;
}

export class ChildTransport {
  readonly state: Int32Array;
  readonly records: Float64Array;
  readonly json: Uint8Array;
  private readonly encoder = new TextEncoder();
  private readonly header = new Uint8Array(FRAME_HEADER_BYTES);
  private alive = true;

  constructor(readonly fd: number, readonly channel: SharedChannel) {
    this.state = new Int32Array(channel.state);
    this.records = new Float64Array(channel.records);
    this.json = new Uint8Array(channel.json);
  }

  /**
   * True while this thread is appending or flushing. The watchdog's inspector interrupt can land
   * anywhere in the main thread's JavaScript, including here: it must then leave the buffers be.
   */
  get busy(): boolean {
    return this.state[ST_LOCK] !== 0;
  }

  record(op: number, a: number, b: number, c: number, t: number): void {
    const st = this.state;
    st[ST_LOCK] = 1;
    let n = st[ST_RECORDS];
    if (n === RECORD_CAPACITY) {
      this.flushLocked();
      n = 0;
    }
    const i = n * RECORD_WORDS;
    const r = this.records;
    r[i] = op;
    r[i + 1] = a;
    r[i + 2] = b;
    r[i + 3] = c;
    r[i + 4] = t;
    st[ST_RECORDS] = n + 1;
    st[ST_LOCK] = 0;
  }

  send(message: ChildMessage): void {
    const body = this.encoder.encode(JSONStringify(message));
    const need = FRAME_HEADER_BYTES + body.length;
    this.state[ST_LOCK] = 1;
    try {
      let at = this.state[ST_JSON];
      if (at + need > this.json.length) {
        this.flushLocked();
        at = 0;
        if (need > this.json.length) {
          // Larger than the whole buffer: write it straight through, after what came before.
          this.writeFrame(FRAME_JSON, body);
          return;
        }
      }
      const view = new DataView(this.json.buffer, this.json.byteOffset);
      view.setUint32(at, body.length, true);
      this.json[at + 4] = FRAME_JSON;
      this.json.set(body, at + FRAME_HEADER_BYTES);
      this.state[ST_JSON] = at + need;
    } finally {
      this.state[ST_LOCK] = 0;
    }
  }

  private flushLocked(): void {
    flushChannel(this.fd, this.state, this.records, this.json, this.header);
  }

  /** JSON frames first (site tables must precede the events that use them), then the records. */
  flush(): void {
    // A flush can be interrupted by the watchdog's evaluate of flushNow(): never nest two.
    if (this.state[ST_LOCK]) return;
    this.state[ST_LOCK] = 1;
    try {
      flushChannel(this.fd, this.state, this.records, this.json, this.header);
    } finally {
      this.state[ST_LOCK] = 0;
    }
  }

  private writeFrame(type: number, body: Uint8Array): void {
    if (!this.alive) return;
    const head = new Uint8Array(FRAME_HEADER_BYTES);
    new DataView(head.buffer).setUint32(0, body.length, true);
    head[4] = type;
    this.alive = writeFully(this.fd, head) && writeFully(this.fd, body);
  }
}

/**
 * Shared by the main thread and the watchdog: the caller must know the other thread is not
 * appending (paused, or inside a native call). A flush the main thread was in the middle of is
 * left to it (ST_LOCK).
 */
export function flushChannel(fd: number, state: Int32Array, records: Float64Array, json: Uint8Array, header: Uint8Array): void {
  const jsonBytes = state[ST_JSON];
  if (jsonBytes > 0) {
    // Copy out of shared memory: fs.writeSync needs a non-shared view.
    writeFully(fd, json.slice(0, jsonBytes));
    state[ST_JSON] = 0;
  }
  const n = state[ST_RECORDS];
  if (n > 0) {
    const bytes = n * RECORD_WORDS * 8;
    new DataView(header.buffer, header.byteOffset).setUint32(0, bytes, true);
    header[4] = FRAME_EVENTS;
    const out = new Uint8Array(FRAME_HEADER_BYTES + bytes);
    out.set(header, 0);
    out.set(new Uint8Array(records.buffer, records.byteOffset, bytes), FRAME_HEADER_BYTES);
    writeFully(fd, out);
    state[ST_RECORDS] = 0;
  }
}
