// The child's side of the event channel: records and JSON frames are appended to shared buffers
// and written to the events pipe in one sealed write per flush. The buffers are SharedArrayBuffers
// so that the watchdog thread can flush them while the main thread is stuck or paused.
//
// The channel is the engine's, not the program's: every write is sealed with the run's key (see
// runtimeProtocol.ts) and goes only to the pipe the runtime took at start-up: a descriptor the
// program closed, or closed and opened a file on, is never written to again.
import * as fs from 'node:fs';

import {
  AtomicsCompareExchange, AtomicsLoad, AtomicsNotify, AtomicsStore, AtomicsWait, DataViewCtor, DataViewPrototypeSetUint32, JSONStringify, performanceNow, ReflectApply, TypedArrayPrototypeSet, Uint8ArrayCtor,
  Uint8ArrayView, utf8,
} from './primordials';

import {
  FRAME_EVENTS, FRAME_HEADER_BYTES, FRAME_JSON, FRAME_SEALED, RECORD_WORDS, SEAL_MAC_BYTES, type ChildMessage, type SealMac,
} from '../shared/runtimeProtocol';
import { sealTag } from './seal';
import { RECORD_CAPACITY, type ChannelEnd, type SharedChannel } from './channelShared';

// Taken at start-up: a program that stubs fs (tests do) must not change what the runtime does.
const fstatSync = fs.fstatSync;
const writeSync = fs.writeSync;
const openSync = fs.openSync;
const closeSync = fs.closeSync;
const { O_RDONLY, O_WRONLY, O_NONBLOCK } = fs.constants;
const ErrorCtor = Error;
const RangeErrorCtor = RangeError;
const NumberCtor = Number;
const BIGINT = { bigint: true } as const;

/** Indexes into the shared Int32 state. */
export const ST_RECORDS = 0; // records in the buffer
export const ST_JSON = 1; // bytes of JSON frames in the buffer
export const ST_LOCK = 2; // 1 while a thread is flushing or appending a JSON frame
export const ST_SEQ = 3; // the next sealed frame's number on the events stream (both threads write it)
export const ST_BACKLOG = 4; // 1 while the main thread holds frames back for a full channel (they go first)
// The watchdog's frames that the main thread writes for it (see ChildTransport.relayWatchdog): the
// batch's id while it waits in the relay area, its negative while the main thread writes it, then
// 0 once written or RELAY_GONE when the channel was found gone; and its length in bytes.
export const ST_RELAY = 5;
export const ST_RELAY_BYTES = 6;
export const RELAY_GONE = -0x80000000;
// 1 while the main thread is inside one of the snippet's blocking native calls, and 1 while the
// watchdog writes during one: the main thread does not return to JavaScript before that write is
// done (see whileMainWaits in watchdog.ts and patchBlockingCalls).
export const ST_IN_NATIVE = 7;
export const ST_WATCHDOG_WRITING = 8;

export { createSharedChannel, RECORD_CAPACITY, type ChannelEnd, type SharedChannel } from './channelShared';

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
/** How long a writer waits before it tries a full pipe again. */
const PIPE_FULL_WAIT_MS = 0.05;
/**
 * Frames the main thread holds back while the engine has not read the channel yet, before it
 * waits for the engine (the tool's time, never the snippet's: see ChildTransport). A pipe takes
 * 64 KB between two reads of a busy engine while a loop of awaits with every span kept records
 * 80 MB a second: below this much the snippet never waits, and its spans never carry the wait.
 * A million spans (80 MB) fit; the memory is the child's, outside its heap, and goes as it is sent
 * (beyond that a run waits rather than hold more: issue 9 keeps the child small).
 */
export const MAX_BACKLOG_BYTES = 128 * 1024 * 1024;

/**
 * A write is whole or not made. Near the end of a stack that a recursion filled, any call can
 * throw; one that threw between taking a frame's number, writing part of it or writing it and
 * noting so would leave a torn, repeated or missing frame on the channel (the engine: "timeline
 * incomplete"). So a writer first asks for more stack than writing needs: a call with 1024
 * arguments, which V8 refuses with a RangeError before pushing any when they do not fit (8 KB;
 * with 1 KB, sealing and writing a frame never threw at any depth tried). Then nothing has
 * happened yet, and the caller keeps what it was to write for the next flush. A few
 * microseconds, once per flush.
 */
const ROOM_ARGS: number[] = [];
for (let i = 0; i < 1024; i++) ROOM_ARGS[i] = 0;
function fits(): void {}
function ensureRoom(): void {
  ReflectApply(fits, undefined, ROOM_ARGS);
}

/** writeSome: the write could not be tried (node's code for it threw: a full stack), nothing more went. */
const NO_ROOM = -2;

/**
 * Writes what of `bytes` from `off` the channel takes now. Returns the new offset (bytes.length
 * when all went), or -1 if the reader is gone. A full non-blocking channel ends it early: a write
 * that took less than it was given filled it (asking again at once would only fail), and one
 * that took nothing failed (EAGAIN).
 * An error without an errno is no news of the channel: node could not make the error of a failed
 * write (EAGAIN on a full channel is the common one), the stack being nearly full. Returns
 * NO_ROOM then, as `off` would say nothing about what went.
 */
function writeSome(fd: number, bytes: Uint8Array, off: number): number {
  // A full channel throws: without a stack trace that costs microseconds, not tens of them.
  const limit = ErrorCtor.stackTraceLimit;
  ErrorCtor.stackTraceLimit = 0;
  const from = off;
  try {
    while (off < bytes.length) {
      const want = bytes.length - off;
      const wrote = writeSync(fd, bytes, off, want);
      off += wrote;
      if (wrote < want) break;
    }
    return off;
  } catch (err: any) {
    if (typeof err?.code !== 'string') return off === from ? NO_ROOM : off;
    if (err.code === 'EAGAIN') return off;
    return -1; // EPIPE/EBADF: the engine is gone; the user's program goes on regardless
  } finally {
    ErrorCtor.stackTraceLimit = limit;
  }
}

/** Writes all of `bytes`, waiting out a full pipe instead of dropping data. Returns false if the reader is gone. */
export function writeFully(fd: number, bytes: Uint8Array): boolean {
  let off = 0;
  for (;;) {
    const at = writeSome(fd, bytes, off);
    // Nothing went: the caller keeps the frame for later (a blocking channel writes a frame whole
    // or fails, so this comes before any of it went).
    if (at === NO_ROOM) throw new RangeErrorCtor('Maximum call stack size exceeded');
    off = at;
    if (off < 0) return false;
    if (off === bytes.length) return true;
    // A full non-blocking channel: the engine drains it within microseconds once it runs, so wait
    // briefly, not a whole ms. The runtime's own Atomics.wait: the snippet's is watched as a block.
    AtomicsWait(sleepCell, 0, 0, PIPE_FULL_WAIT_MS);
  }
}

/** Sockets kept open so that the descriptors they made non-blocking are never closed by a collection. */
const nonBlockingSockets: unknown[] = [];

/**
 * Makes a channel socket (the engine gave socket pairs, not pipes: ownCopy keeps those as they
 * are) non-blocking, so that a write the engine is not ready for returns at once (EAGAIN) instead
 * of holding the snippet until the engine runs. Node has no fcntl: wrapping the descriptor in a
 * net.Socket sets O_NONBLOCK (on the open socket, which only this process and its threads use);
 * the socket itself is never read from or written to, and the descriptor is never closed.
 */
export function makeNonBlocking(fd: number): boolean {
  try {
    const net = require('node:net') as typeof import('node:net');
    const socket = new net.Socket({ fd, readable: false, writable: true });
    socket.unref();
    nonBlockingSockets[nonBlockingSockets.length] = socket;
    return true;
  } catch {
    return false;
  }
}

/** One pipe of the channel as the runtime took it: its descriptor and which pipe that was. */
/** The run's key and how frames are sealed; absent when the engine did not ask for sealing. */
export interface SealKey {
  key: Uint8Array;
  mac: SealMac;
}

/**
 * Moves an inherited channel end to a close-on-exec descriptor of the runtime's own, so that the
 * program's children never get it: node has no fcntl, but every fs.openSync is O_CLOEXEC, and
 * /proc/self/fd/N opens the same pipe again. Returns the new descriptor (the inherited one is
 * closed), or `fd` itself where that cannot be done: a socket (an engine that could not make
 * pipes, see engine/channelPipes.ts) or no /proc.
 */
export function ownCopy(fd: number, direction: 'read' | 'write', nonBlocking = false): number {
  const proc = `/proc/self/fd/${fd}`;
  try {
    if (!fstatSync(fd).isFIFO()) return fd;
    let copy: number;
    if (direction === 'read') {
      copy = openSync(proc, O_RDONLY | O_NONBLOCK);
    } else {
      // Opening a pipe to write waits for a reader: try without waiting first (ENXIO: the engine
      // is gone), then open it blocking, as the inherited end was, unless `nonBlocking` (the
      // main thread's events: see ChildTransport).
      const probe = openSync(proc, O_WRONLY | O_NONBLOCK);
      if (nonBlocking) copy = probe;
      else {
        try {
          copy = openSync(proc, O_WRONLY);
        } finally {
          closeSync(probe);
        }
      }
    }
    closeSync(fd);
    return copy;
  } catch {
    return fd;
  }
}

/**
 * True while `end.fd` is still the pipe the runtime took (not closed, not reused for a file).
 * Through fstat's BigInt form: node fills one shared array per form and reads it back in a second
 * call, where an inspector interrupt can land; the watchdog's interrupts check descriptors too
 * (where(), relay()), and then only a program's own BigInt stat calls could read this one's numbers.
 */
export function intact(end: ChannelEnd): boolean {
  try {
    const st = fstatSync(end.fd, BIGINT);
    return NumberCtor(st.ino) === end.ino && NumberCtor(st.dev) === end.dev;
  } catch {
    return false;
  }
}

/**
 * Writes whole frames to one stream of the channel, sealed when there is a key. `seq[seqIndex]`
 * numbers the stream's frames (shared memory for the events stream, which two threads write).
 * Stops for good when the pipe is gone or is not ours any more.
 */
export class StreamWriter {
  private alive = true;
  readonly #seal: SealKey | undefined;
  /** Whole frames (the first maybe partly written) the channel did not take yet, in order. */
  private backlog: Uint8Array[] = [];
  private backlogHead = 0;
  private backlogOffset = 0;
  private backlogBytes = 0;

  /**
   * `backlogState`: a writer that holds frames back when the channel is full (the main thread's,
   * on a non-blocking channel) says so in its [ST_BACKLOG], so that the watchdog leaves the
   * shared buffers to it; without it, a full channel is waited out.
   */
  constructor(
    readonly end: ChannelEnd, readonly stream: number, seal: SealKey | undefined, private readonly seq: Int32Array, private readonly seqIndex: number,
    private readonly backlogState?: Int32Array,
    /** Between putFrame's check and its write: a test's stand-in for a thread a busy machine holds there. */
    private readonly afterCheck?: () => void,
  ) {
    this.#seal = seal;
  }

  /** Bytes held back for a full channel. */
  get pending(): number {
    return this.backlogBytes;
  }

  /** False once a write found the channel gone (closed, or its descriptor reused by the program). */
  get open(): boolean {
    return this.alive;
  }

  /**
   * When a write last found the channel full (performanceNow). A full channel refused again at
   * once costs a thrown error per attempt: drain(false) tries again only once the engine has had
   * PIPE_FULL_WAIT_MS to read, as drain(true) would wait.
   */
  private fullAt = -Infinity;

  /** Sends what was held back, as far as the channel takes it now; with `wait`, all of it. */
  drain(wait: boolean): void {
    if (!wait && this.backlogHead < this.backlog.length && performanceNow() - this.fullAt < PIPE_FULL_WAIT_MS) return;
    if (this.backlogHead < this.backlog.length) ensureRoom();
    while (this.backlogHead < this.backlog.length) {
      if (!this.alive) break;
      const bytes = this.backlog[this.backlogHead];
      const off = writeSome(this.end.fd, bytes, this.backlogOffset);
      if (off === NO_ROOM) return; // later, with a stack of its own
      if (off < 0) {
        this.alive = false;
        break;
      }
      this.backlogBytes -= off - this.backlogOffset;
      if (off < bytes.length) {
        this.backlogOffset = off;
        this.fullAt = performanceNow();
        if (!wait) return;
        AtomicsWait(sleepCell, 0, 0, PIPE_FULL_WAIT_MS);
        continue;
      }
      this.backlog[this.backlogHead++] = EMPTY;
      this.backlogOffset = 0;
    }
    this.backlog = [];
    this.backlogHead = this.backlogOffset = this.backlogBytes = 0;
    if (this.backlogState) this.backlogState[ST_BACKLOG] = 0;
  }

  /** `bytes` (a buffer nobody writes again) to the channel now, or after what is held back. */
  private put(bytes: Uint8Array): void {
    if (!this.backlogState) {
      this.alive = writeFully(this.end.fd, bytes);
      return;
    }
    if (this.backlogHead === this.backlog.length) {
      let off = writeSome(this.end.fd, bytes, 0);
      if (off === NO_ROOM) off = 0; // held back, whole, like a frame a full channel did not take
      if (off < 0) {
        this.alive = false;
        return;
      }
      if (off === bytes.length) return;
      this.backlogState[ST_BACKLOG] = 1;
      this.backlog[this.backlog.length] = bytes;
      this.backlogOffset = off;
      this.backlogBytes = bytes.length - off;
      this.fullAt = performanceNow(); // after the frame is held back: a call, which could throw
    } else {
      this.backlog[this.backlog.length] = bytes;
      this.backlogBytes += bytes.length;
      // The frame is held back now: it goes whatever happens next, so nothing may throw from here.
      try {
        this.drain(false);
      } catch {
        // a full stack: the next flush sends it
      }
    }
    // The engine has fallen this far behind: wait for it (the runtime's time, not the snippet's).
    if (this.backlogBytes > MAX_BACKLOG_BYTES) {
      try {
        this.drain(true);
      } catch {
        // a full stack: the next flush waits
      }
    }
  }

  /** A buffer for `n` bytes of frames at FRAME_HEADER_BYTES, with room for the seal around them. */
  static room(n: number): Uint8Array {
    return new Uint8ArrayCtor(FRAME_HEADER_BYTES + n + SEAL_MAC_BYTES);
  }

  /**
   * The frames in `buf` (laid out by room()) as they go on the stream: sealed, taking the
   * stream's next number (so they must go before any frame sealed later), or as they are.
   */
  private sealFrames(buf: Uint8Array): Uint8Array | undefined {
    const n = buf.length - FRAME_HEADER_BYTES - SEAL_MAC_BYTES;
    if (n <= 0) return undefined;
    const seal = this.#seal;
    if (!seal) return Uint8ArrayView(buf, FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + n);
    const seq = this.seq[this.seqIndex];
    DataViewPrototypeSetUint32(new DataViewCtor(buf.buffer, buf.byteOffset), 0, n + SEAL_MAC_BYTES, true);
    buf[4] = FRAME_SEALED;
    const tag = sealTag(seal.mac, seal.key, this.stream, seq, Uint8ArrayView(buf, FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + n));
    TypedArrayPrototypeSet(buf, tag, FRAME_HEADER_BYTES + n);
    this.seq[this.seqIndex] = seq + 1;
    return buf;
  }

  /** Writes the frames in `buf` (laid out by room()): sealed, or as they are. */
  write(buf: Uint8Array): void {
    if (!this.alive || buf.length <= FRAME_HEADER_BYTES + SEAL_MAC_BYTES) return;
    ensureRoom();
    if (!intact(this.end)) {
      this.alive = false;
      return;
    }
    // The number is taken as the frame goes: a put() that throws (nothing of it written) leaves it.
    const seq = this.seq[this.seqIndex];
    const bytes = this.sealFrames(buf)!;
    try {
      this.put(bytes);
    } catch (err) {
      this.seq[this.seqIndex] = seq;
      throw err;
    }
  }

  /**
   * `message` as one frame, ready to go, for a writer that sends it later or has another thread
   * send it (the watchdog's): sealed, it has taken its number, so frames go in the order made.
   */
  frame(message: ChildMessage): Uint8Array {
    return this.sealFrames(jsonFrame(message))!;
  }

  /**
   * A frame from frame(), written now (nothing, once the channel is gone). A throw (a full
   * stack) comes before any of it went: the caller keeps it and tries again.
   */
  putFrame(bytes: Uint8Array): void {
    if (!this.alive) return;
    ensureRoom();
    if (!intact(this.end)) {
      this.alive = false;
      return;
    }
    this.afterCheck?.();
    this.put(bytes);
  }

  /** Another thread found the channel gone (see ChildTransport.relayWatchdog). */
  close(): void {
    this.alive = false;
  }

  /** One JSON frame. */
  send(message: ChildMessage): void {
    this.write(jsonFrame(message));
  }
}

/** `message` as a JSON frame, laid out by room(). */
function jsonFrame(message: ChildMessage): Uint8Array {
  const body = utf8(JSONStringify(message));
  const buf = StreamWriter.room(FRAME_HEADER_BYTES + body.length);
  DataViewPrototypeSetUint32(new DataViewCtor(buf.buffer), FRAME_HEADER_BYTES, body.length, true);
  buf[FRAME_HEADER_BYTES + 4] = FRAME_JSON;
  TypedArrayPrototypeSet(buf, body, 2 * FRAME_HEADER_BYTES);
  return buf;
}

const EMPTY = new Uint8ArrayCtor(0);
// Read once: between taking the lock and letting it go, record() makes no call (an imported
// binding can be a getter, once compiled to CommonJS), so that a full stack cannot leave it taken.
const CAPACITY = RECORD_CAPACITY;
const WORDS = RECORD_WORDS;

/**
 * The main thread's channel. It never waits for the engine in normal operation: on a channel
 * made non-blocking (makeNonBlocking), frames the engine has not read yet are held back and sent
 * at the next flush (the lag probe flushes every 10 ms), all of them at exit or stop (flush(true)).
 * Only past MAX_BACKLOG_BYTES does it wait, and that wait is the runtime's own, in no snippet code.
 */
export class ChildTransport {
  readonly state: Int32Array;
  readonly records: Float64Array;
  readonly json: Uint8Array;
  readonly #out: StreamWriter;

  /**
   * `nonBlocking`: the channel's descriptor is or will be non-blocking (ownCopy's, makeNonBlocking):
   * hold frames back rather than wait. On a blocking descriptor every write completes, so nothing is.
   */
  constructor(end: ChannelEnd, seal: SealKey | undefined, readonly channel: SharedChannel, nonBlocking = false) {
    this.state = new Int32Array(channel.state);
    this.records = new Float64Array(channel.records);
    this.json = new Uint8Array(channel.json);
    this.#out = new StreamWriter(end, 0, seal, this.state, ST_SEQ, nonBlocking ? this.state : undefined);
  }

  /** Bytes held back for the engine (see the class comment). */
  get pending(): number {
    return this.#out.pending;
  }

  /** False once a write found the channel gone (closed, or its descriptor reused by the program). */
  get open(): boolean {
    return this.#out.open;
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
    if (n === CAPACITY) {
      try {
        this.flushLocked();
      } catch (err) {
        // A stack that a recursion filled can make the flush throw (the caller copes with it);
        // the records stay for the next flush, and the lock must not stay taken.
        st[ST_LOCK] = 0;
        throw err;
      }
      n = 0;
    }
    const i = n * WORDS;
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
    const body = utf8(JSONStringify(message));
    const need = FRAME_HEADER_BYTES + body.length;
    this.state[ST_LOCK] = 1;
    try {
      let at = this.state[ST_JSON];
      if (at + need > this.json.length) {
        this.flushLocked();
        at = 0;
        if (need > this.json.length) {
          // Larger than the whole buffer: write it straight through, after what came before.
          this.#out.send(message);
          return;
        }
      }
      DataViewPrototypeSetUint32(new DataViewCtor(this.json.buffer, this.json.byteOffset), at, body.length, true);
      this.json[at + 4] = FRAME_JSON;
      TypedArrayPrototypeSet(this.json, body, at + FRAME_HEADER_BYTES);
      this.state[ST_JSON] = at + need;
    } finally {
      this.state[ST_LOCK] = 0;
    }
  }

  private flushLocked(): void {
    flushChannel(this.#out, this.state, this.records, this.json);
  }

  /** The watchdog's own stream, which this thread writes for it (relayWatchdog). */
  watchdogEnd: ChannelEnd | undefined;

  /**
   * Writes the watchdog's frames that wait in the relay area as batch `id`. The watchdog asks
   * through an inspector interrupt, so no code of the program's runs between the check that the
   * descriptor is still the channel and the write: from the watchdog's own thread, a program that
   * closed the descriptor and opened a file at once could get the frame in its file (CI run 50).
   * Says in ST_RELAY what came of it (see there); 'late' when the batch was not, or no longer, there.
   */
  /** The watchdog's batch waiting in the relay area, if any, written now (the main thread waits for the watchdog). */
  serveRelay(): void {
    const id = AtomicsLoad(this.state, ST_RELAY);
    if (id > 0) this.relayWatchdog(id);
  }

  relayWatchdog(id: number): 'sent' | 'gone' | 'late' {
    const st = this.state;
    if (AtomicsCompareExchange(st, ST_RELAY, id, -id) !== id) return 'late';
    let sent = false;
    try {
      const end = this.watchdogEnd;
      if (end && intact(end)) {
        const n = st[ST_RELAY_BYTES];
        // Copied out of shared memory (fs.writeSync needs a non-shared view).
        const bytes = new Uint8ArrayCtor(n);
        TypedArrayPrototypeSet(bytes, new Uint8ArrayCtor(this.channel.relay, 0, n), 0);
        ensureRoom();
        sent = writeFully(end.fd, bytes);
      }
    } catch (err) {
      // A full stack, before any of it went: the watchdog writes them.
      AtomicsStore(st, ST_RELAY, id);
      AtomicsNotify(st, ST_RELAY);
      throw err;
    }
    AtomicsStore(st, ST_RELAY, sent ? 0 : RELAY_GONE);
    AtomicsNotify(st, ST_RELAY);
    return sent ? 'sent' : 'gone';
  }

  /**
   * JSON frames first (site tables must precede the events that use them), then the records.
   * `all`: at exit or stop, wait until the engine has taken everything held back too.
   */
  flush(all = false): void {
    // A flush can be interrupted by the watchdog's evaluate of flushNow(): never nest two.
    if (this.state[ST_LOCK]) return;
    this.state[ST_LOCK] = 1;
    try {
      // What was held back goes first: with the new frames when there are any (put() sends them
      // after it), else alone. One try of a full channel per flush, not two.
      if (!flushChannel(this.#out, this.state, this.records, this.json)) this.#out.drain(false);
      if (all) this.#out.drain(true);
    } finally {
      this.state[ST_LOCK] = 0;
    }
  }
}

/**
 * Shared by the main thread and the watchdog: the caller must know the other thread is not
 * appending (paused, or inside a native call). A flush the main thread was in the middle of is
 * left to it (ST_LOCK). The buffered JSON frames and the records go out as one write. False
 * when nothing was buffered.
 */
export function flushChannel(out: StreamWriter, state: Int32Array, records: Float64Array, json: Uint8Array): boolean {
  const jsonBytes = state[ST_JSON];
  const n = state[ST_RECORDS];
  if (jsonBytes === 0 && n === 0) return false;
  const recordBytes = n * RECORD_WORDS * 8;
  // Copied out of shared memory (fs.writeSync needs a non-shared view), into room for the seal.
  const buf = StreamWriter.room(jsonBytes + (n > 0 ? FRAME_HEADER_BYTES + recordBytes : 0));
  let at = FRAME_HEADER_BYTES;
  if (jsonBytes > 0) TypedArrayPrototypeSet(buf, Uint8ArrayView(json, 0, jsonBytes), at);
  at += jsonBytes;
  if (n > 0) {
    DataViewPrototypeSetUint32(new DataViewCtor(buf.buffer), at, recordBytes, true);
    buf[at + 4] = FRAME_EVENTS;
    TypedArrayPrototypeSet(buf, new Uint8ArrayCtor(records.buffer, records.byteOffset, recordBytes), at + FRAME_HEADER_BYTES);
  }
  out.write(buf);
  // After the write: should it throw (a full stack), what was buffered goes with the next flush.
  state[ST_JSON] = 0;
  state[ST_RECORDS] = 0;
  return true;
}
