// The event stream from an instrumented child (Node or Python) to the engine, and the control
// messages the engine sends back. Pure types and pure helpers: shared by runtime and engine.
//
// Transport: three pipes, placed by the engine at the fds in LaunchSpec.channelFds (NODE_CHANNEL_FDS
// for a Node child: high numbers, so the program's own descriptors 3, 4, 5… are where plain node
// has them). The child writes frames to the events pipe (the
// watchdog thread of a Node child writes to its own, so two writers never interleave inside one
// pipe). The engine writes control messages, one JSON object per line, to the control pipe.
// Nothing goes over the user's stdout/stderr.
//
// Frame = u32 LE payload length | u8 frame type | payload
//   FRAME_EVENTS: payload is a run of little-endian float64 records, RECORD_WORDS doubles each.
//   FRAME_JSON:   payload is one UTF-8 JSON object, a ChildMessage.
//   FRAME_SEALED: payload is a run of the two frames above, then a SEAL_MAC_BYTES tag over them:
//                 mac 'poly1305': the tag of ChaCha20-Poly1305 with the frames as additional
//                   data and nothing to encrypt, nonce sealNonce(stream, seq) (fast: ~1.5 ns/byte);
//                 mac 'hmac-sha256': HMAC-SHA256(key, sealNonce(stream, seq) | frames), first
//                   16 bytes (for runtimes whose standard library has no Poly1305, e.g. Python).
//
// Sealed channel (a runtime started with `sealed`): the engine sends
// `{"type":"key","key":hex,"mac":…}` as the first control line, before anything else; the runtime
// reads it before the program runs, keeps the key where the program cannot reach it, and from
// then on writes only FRAME_SEALED frames, numbered 0, 1, 2… per stream (stream 0: events,
// 1: watchdog). The engine believes nothing on a sealed stream after a frame that is not sealed,
// not in sequence or does not check out: the program wrote to, read from or closed the channel.

import type { MarkKind, Outcome, Span, SpanKind, TimeMode } from './timeline';

export const PROTOCOL_VERSION = 1;

export const FRAME_HEADER_BYTES = 5;
export const FRAME_EVENTS = 1;
export const FRAME_JSON = 2;
export const FRAME_SEALED = 3;
/** Bytes of the truncated HMAC-SHA256 that ends a FRAME_SEALED payload. */
export const SEAL_MAC_BYTES = 16;
/** Bytes of the per-run key. */
export const SEAL_KEY_BYTES = 32;

/** Where the engine puts [events, watchdog events, control] in a Node child. */
export const NODE_CHANNEL_FDS: readonly [number, number, number] = [61, 62, 63];
/**
 * Where the engine puts them in a Python child (runner.py reads these numbers): high, as Node's,
 * so that the program's first file is fd 3 as under python3. Sealed with 'hmac-sha256' (Python's
 * standard library has no Poly1305): runner.py reads the KeyMessage as its first control line,
 * before its hello, and every write is one FRAME_SEALED frame (stream 0, seq 0, 1, 2…).
 */
export const PYTHON_CHANNEL_FDS: readonly [number, number, number] = [61, 62, 63];

/**
 * Where the engine puts the run's marker in the child: just below the channel. An inert
 * descriptor (the read end of a pipe without a writer) that the program's children inherit, so
 * that the engine finds them even after they left the run's session (engine/channelPipes.ts).
 */
export function markerFdOf(channelFds: readonly [number, number, number]): number {
  return channelFds[0] - 1;
}

export type SealMac = 'poly1305' | 'hmac-sha256';

/** The 12-byte nonce of a FRAME_SEALED frame: u32 LE stream (0 events, 1 watchdog), u32 LE seq, 0. */
export function sealNonce(stream: number, seq: number): Uint8Array {
  const out = new Uint8ArrayCtor(12);
  const v = new DataViewCtor(out.buffer);
  ReflectApply(DataViewPrototypeSetUint32, v, [0, stream, true]);
  ReflectApply(DataViewPrototypeSetUint32, v, [4, seq >>> 0, true]);
  return out;
}
// Captured when the module loads: the runtime seals frames after the program may have replaced them.
const ReflectApply = Reflect.apply;
const Uint8ArrayCtor = Uint8Array;
const DataViewCtor = DataView;
const DataViewPrototypeSetUint32 = DataView.prototype.setUint32;
/** A mark holds at most this many characters of a line; the output itself is never cut. */
export const MAX_MARK_CHARS = 1000;
/** A frame larger than this is a corrupt stream, not data. */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** Doubles per binary record: [op, a, b, c, tMs]. */
export const RECORD_WORDS = 5;

/** [OP_OPEN, spanId, parentId (0 = top level), siteId, startMs] */
export const OP_OPEN = 1;
/**
 * [OP_CLOSE, spanId, outcomeCode, turn, endMs]. `turn`: the lag probe's tick count when it closed
 * (from 1; 0: not counted, as Python sends): two closes with one turn came with no tick of the
 * probe between them, in one macrotask and the microtasks after it however long the machine kept
 * the process off a CPU (see criticalPath).
 */
export const OP_CLOSE = 2;
/** [OP_DROPPED, count, 0, 0, 0]: spans counted but not listed. */
export const OP_DROPPED = 3;
/**
 * [OP_AGGREGATE, siteId, parentId (0 = top level), count, firstStartMs], always followed by
 * [OP_AGGREGATE_END, lastEndMs, 0, 0, 0]: `count` spans of one site under one parent, past the
 * run's span budget, counted (not listed) since the previous flush. Their count is part of
 * `droppedSpans`; their times keep the shape of what was not listed.
 */
export const OP_AGGREGATE = 4;
export const OP_AGGREGATE_END = 5;
/**
 * [OP_FLOATING, spanId, 0, 0, 0]: the promise the call span `spanId` returned was dropped (an
 * expression statement): nobody awaits, returns, chains or stores it. Follows that span's open.
 */
export const OP_FLOATING = 6;

export const OUTCOME_FULFILLED = 1;
export const OUTCOME_REJECTED = 2;

export function outcomeFromCode(code: number): Outcome | undefined {
  return code === OUTCOME_FULFILLED ? 'fulfilled' : code === OUTCOME_REJECTED ? 'rejected' : undefined;
}

/** A place in the source that produces spans; interned so events carry only its index. */
export interface Site {
  /** What kind of span this site produces. */
  kind: SpanKind;
  /** Source text of the awaited expression, or the function's name. */
  label: string;
  /** 1-based line in the original file. */
  line: number;
  /** 1-based column in the original file. */
  column: number;
  /**
   * A call site whose every call is labelled alike (no argument is previewed: `main()`, `f({…})`,
   * `get o.x`): that label, which its call spans then have without a `label` message each.
   * Absent: each call span's label comes in a `label` message, or is `label`.
   */
  callLabel?: string;
}

/** Sent once by a ready warm child. */
export interface HelloMessage {
  type: 'hello';
  /** PROTOCOL_VERSION of the child. */
  protocol: number;
  /** Which runtime answers. */
  runtime: 'node' | 'python';
  pid: number;
}

/** The snippet is about to run: time 0 of the timeline. */
export interface StartedMessage {
  type: 'started';
}

/** Defines sites [base, base + sites.length). Always precedes the events that use them. */
export interface SitesMessage {
  type: 'sites';
  /** Index of sites[0]. */
  base: number;
  /** Absolute path of the file the sites belong to. */
  file: string;
  sites: Site[];
}

/** Replaces a span's site label, e.g. a call preview with its arguments. */
export interface LabelMessage {
  type: 'label';
  id: number;
  label: string;
}

/** A whole span, or an update of one sent earlier with the same id (blocks, Python). */
export interface SpanMessage extends Span {
  type: 'span';
  /** A block split from block `continues` because the stuck line or span changed. */
  continues?: number;
}

export interface MarkMessage {
  type: 'mark';
  kind: MarkKind;
  /** The line, at most MAX_MARK_CHARS of it (then ending in '…'). */
  text: string;
  /** The whole line's length when `text` holds only its start: UTF-16 units of a string write, bytes of a byte write. */
  fullLength?: number;
  atMs: number;
  line?: number;
  column?: number;
  stack?: string;
}

/** The snippet could not run (compile) or the runtime failed (internal). */
export interface ErrorMessage {
  type: 'error';
  phase: 'compile' | 'internal';
  message: string;
  file?: string;
  line?: number;
  column?: number;
  stack?: string;
}

/**
 * A stretch in which the event loop was late or held but not by the snippet (the watchdog saw no
 * code of the snippet running, or the runtime was instrumenting a module): never a block.
 */
export interface DelayMessage {
  type: 'delay';
  kind: 'delayed' | 'instrumenting';
  label: string;
  startMs: number;
  endMs: number;
  line?: number;
}

/**
 * The child asks the engine to instrument a local module the snippet loads that the engine could
 * not know before the run (its name computed): the engine's transform is warm, the child's would
 * have to load first (tens to hundreds of ms). The engine answers on the control pipe
 * (InstrumentedMessage); only when the run request said it would (`RunRequest.instruments`).
 */
export interface InstrumentMessage {
  type: 'instrument';
  /**
   * The child's number for this question, given back in the answer: the main thread's count up
   * from 1 (a require), the module loader thread's down from -1 (an import).
   */
  id: number;
  /** Absolute path of the module. */
  file: string;
  /** How it is loaded; absent: as the file declares (an import). */
  format?: 'esm' | 'cjs';
  /** Its text, as the child read it. */
  source: string;
}

/**
 * How long a require or an import waits for the engine's InstrumentedMessage (it takes a few ms;
 * the engine may be busy on a loaded machine) before the child instruments the module itself.
 */
export const ENGINE_ANSWER_WAIT_MS = 5000;

/** Sent from the exit path: everything before it has been flushed. */
export interface ExitMessage {
  type: 'exit';
  code: number;
  atMs: number;
}

/**
 * A warped run reached its deadline (`RunRequest.deadlineMs`) on the program's clock: the program
 * waits for nothing that comes sooner (a timer past the deadline, or nothing at all that could
 * wake it: no timer, no I/O, no thread). Real time would have spent the timeout waiting; the
 * engine ends the run as timed out, at `atMs`, now.
 */
export interface DeadlineMessage {
  type: 'deadline';
  atMs: number;
}

/** Answer to a StopMessage: the child flushed what it had; it may now be killed. */
export interface FlushedMessage {
  type: 'flushed';
  /**
   * The program's clock when it flushed (ms from time 0; virtual in a warped run): a stopped run's
   * wall. Absent from older runtimes.
   */
  atMs?: number;
}

/** What a pending await (or a call's returned promise) waits on, as the runtime sees it at the end. */
export type WaitTarget =
  /** The promise of an instrumented call: follow that call span. */
  | { kind: 'call'; id: number }
  /** A `new Promise(…)` of the snippet, created at this place, never settled. */
  | { kind: 'promise'; line: number; column: number }
  /** `once(emitter, event)` at this place; `missedAtMs`: the event was emitted with no listener then. */
  | { kind: 'event'; event: string; line: number; column: number; missedAtMs?: number }
  /** Python: another task (by name). */
  | { kind: 'task'; task: string }
  /** Python: `asyncio.Event.wait()` on an Event nobody set. */
  | { kind: 'event-wait'; name?: string }
  /** Python: `Queue.get()` on an empty queue; `size` items in it. */
  | { kind: 'queue-get'; name?: string; size: number }
  /** Python: acquiring a lock (or semaphore, condition) someone holds. */
  | { kind: 'lock'; name?: string; holder?: string }
  /** Python: a future nobody set; `line` where it was created when known. */
  | { kind: 'future'; line?: number; name?: string }
  /** Python: a gather whose children (task names) are not all done. */
  | { kind: 'gather'; tasks: string[] }
  /** Python: asyncio.sleep with this many ms left. */
  | { kind: 'sleep'; leftMs: number }
  /** `Promise.all/allSettled/race/any` over these members (the ones still pending). */
  | { kind: 'members'; of: WaitTarget[] }
  /** Anything else (a promise or awaitable from outside the snippet). */
  | { kind: 'other'; text: string };

/** One await still pending when the report was taken. */
export interface PendingWaitReport {
  /** The await span (Node); 0 when the await has no span (Python: matched by line). */
  id: number;
  on: WaitTarget;
  /** Python: the task this await belongs to. */
  task?: string;
  /** Python: the task's coroutine stack, outermost first (task.get_stack()). */
  stack?: Array<{ line: number; label: string }>;
}

/** A promise a call returned and nobody awaited, returned, chained or stored. */
export interface FloatingReport {
  /** Where the call is. */
  line: number;
  column: number;
  /** Source text of the call. */
  label: string;
  /** The call span, when the callee is instrumented; 0 otherwise. */
  id: number;
  /** Its state when the report was taken. */
  state: 'pending' | 'fulfilled' | 'rejected';
  /** For a rejected one: the reason, as text. */
  reason?: string;
  /** Python: a coroutine nobody awaited, which never ran (state `pending`). */
  neverRan?: true;
}

/** Sent at the end of a run (exit or stop): what was still waiting, and on what. */
export interface PendingMessage {
  type: 'pending';
  /** Taken as the program exited, or when the engine stopped it (Stop, timeout). */
  at: 'exit' | 'stop';
  waits: PendingWaitReport[];
  /** Calls (span ids) whose async function returned a promise that is still pending. */
  returns: Array<{ id: number; on: WaitTarget }>;
  /** Timers the program cleared (span id) and where `clearTimeout`/`clearInterval` was called. */
  cleared: Array<{ id: number; line: number; column: number }>;
  floating: FloatingReport[];
}

export type ChildMessage =
  | HelloMessage
  | PendingMessage
  | StartedMessage
  | SitesMessage
  | LabelMessage
  | SpanMessage
  | MarkMessage
  | ErrorMessage
  | ExitMessage
  | FlushedMessage
  | DeadlineMessage
  | DelayMessage
  | InstrumentMessage;

/** Engine -> child: run this snippet (sent once to a warm child). */
export interface RunRequest {
  type: 'run';
  /** Absolute path; may not exist on disk when `source` is given (untitled buffers). */
  file: string;
  /** The text to run instead of the file's content on disk (unsaved editors). */
  source?: string;
  /** The entry already instrumented by the engine (JS/TS): the child runs this. */
  code?: string;
  /**
   * Set instead of `code` in the request's JSON: the code follows the request's line on the
   * control pipe as this many bytes of UTF-8 (megabytes of code are neither escaped into nor
   * parsed out of JSON).
   */
  codeBytes?: number;
  /** How `code` loads. */
  format?: 'esm' | 'cjs';
  /** The snippet's own arguments: process.argv.slice(2). */
  args: string[];
  /** The program's working directory (the CLI's own; the workspace folder in VS Code). */
  cwd: string;
  /**
   * The file as the user typed it, for Python's `sys.argv[0]` (`python3 sub/x.py` gives
   * `sub/x.py`); absent: the absolute path. Node resolves `process.argv[1]` itself, so JS ignores it.
   */
  argv0?: string;
  /** Synchronous stretches at least this long become block spans. */
  blockThresholdMs: number;
  /** After this many spans from one site, further ones are only counted. */
  maxSpansPerSite: number;
  /** `warp`: when the program waits only for timers, its clock jumps to the next one. Default real. */
  time?: TimeMode;
  /**
   * A warped run's timeout on the program's clock (ms from time 0): the clock never jumps past it;
   * when the program waits for nothing sooner, the child jumps to it and sends DeadlineMessage.
   * Absent: no timeout, or real time (the engine's timer is the timeout then).
   */
  deadlineMs?: number;
  /**
   * The run's span budget: after this many spans in all, further ones are counted per site and
   * parent (OP_AGGREGATE) instead of listed. Absent: no budget (older engines).
   */
  maxSpans?: number;
  /** Local modules the entry loads, instrumented by the engine before the run (absent: none). */
  modules?: PreparedModule[];
  /**
   * The engine answers InstrumentMessage during the run (absent: older engines, or none: the child
   * instruments what it loads itself).
   */
  instruments?: boolean;
}

/**
 * A local module instrumented ahead of the run. The child uses `code` only while the file still
 * holds `source`; otherwise it instruments the file itself.
 */
export interface PreparedModule {
  /** Absolute path. */
  file: string;
  /** Loaded through `require` (instrumented as CommonJS) or `import` (as the file declares). */
  as: 'require' | 'import';
  /** The text it was instrumented from. */
  source: string;
  code: string;
  /** How `code` loads. */
  format: 'esm' | 'cjs';
}

/** Engine -> child, the first control line of a sealed channel: the run's key, hex. */
export interface KeyMessage {
  type: 'key';
  /** SEAL_KEY_BYTES random bytes as hex. */
  key: string;
  /** How frames are sealed. */
  mac: SealMac;
}

/**
 * Engine -> child, before the run request: the run will likely import ES modules, so start the
 * module loader now (it takes tens of ms), while the engine instruments the entry. Only a hint:
 * the child starts the loader whenever the run needs it, with or without one.
 */
export interface LoaderMessage {
  type: 'loader';
}

/**
 * Engine -> child, the answer to InstrumentMessage `id`: the module's instrumented code; absent
 * when the engine did not instrument it (it does not compile, or is too big to instrument on the
 * engine's thread): the child instruments it itself, and says what node would say of it.
 */
export interface InstrumentedMessage {
  type: 'instrumented';
  id: number;
  code?: string;
  /** How `code` loads (with `code`). */
  format?: 'esm' | 'cjs';
}

/** Engine -> child: flush everything now, a kill follows. */
export interface StopMessage {
  type: 'stop';
}

/**
 * Engine -> child, while the run goes: processes of the run the engine found outside the
 * runtime's process group. If the engine goes away (killed), the runtime ends them with its group.
 */
export interface TrackMessage {
  type: 'track';
  /** [pid, start time in clock ticks after boot (field 22 of /proc/<pid>/stat)] */
  pids: Array<[number, number]>;
}

export type ControlMessage = KeyMessage | LoaderMessage | RunRequest | StopMessage | TrackMessage;

const SPAN_KINDS: ReadonlySet<string> = new Set(['await', 'call', 'block', 'timer', 'combinator', 'task']);
const OUTCOMES: ReadonlySet<string> = new Set(['fulfilled', 'rejected', 'pending']);
const MARK_KINDS: ReadonlySet<string> = new Set([
  'log', 'info', 'warn', 'error', 'stdout', 'stderr', 'exception', 'unhandledRejection',
]);

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isInt = (v: unknown): v is number => Number.isInteger(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const optNum = (v: unknown) => v === undefined || isNum(v);
const optStr = (v: unknown) => v === undefined || isStr(v);

export function isSite(v: unknown): v is Site {
  return isObj(v) && isStr(v.kind) && SPAN_KINDS.has(v.kind) && isStr(v.label) && isInt(v.line) && isInt(v.column) &&
    (v.callLabel === undefined || (v.kind === 'call' && isStr(v.callLabel)));
}

const WAIT_KINDS: ReadonlySet<string> = new Set([
  'call', 'promise', 'event', 'members', 'task', 'event-wait', 'queue-get', 'lock', 'future', 'gather', 'sleep', 'other',
]);

function isWaitTarget(v: unknown): v is WaitTarget {
  if (!isObj(v) || !isStr(v.kind) || !WAIT_KINDS.has(v.kind)) return false;
  switch (v.kind) {
    case 'call': return isInt(v.id);
    case 'promise': return isInt(v.line) && isInt(v.column);
    case 'event': return isStr(v.event) && isInt(v.line) && isInt(v.column) && optNum(v.missedAtMs);
    case 'task': return isStr(v.task);
    case 'members': return Array.isArray(v.of) && v.of.every(isWaitTarget);
    case 'queue-get': return isInt(v.size) && optStr(v.name);
    case 'lock': return optStr(v.name) && optStr(v.holder);
    case 'future': return (v.line === undefined || isInt(v.line)) && optStr(v.name);
    case 'gather': return Array.isArray(v.tasks) && v.tasks.every(isStr);
    case 'sleep': return isNum(v.leftMs);
    case 'other': return isStr(v.text);
    default: return optStr(v.name);
  }
}

function isWaitReport(v: unknown): v is PendingWaitReport {
  return isObj(v) && isInt(v.id) && isWaitTarget(v.on) && optStr(v.task) &&
    (v.stack === undefined || (Array.isArray(v.stack) && v.stack.every((f) => isObj(f) && isInt(f.line) && isStr(f.label))));
}

function isFloatingReport(v: unknown): v is FloatingReport {
  return isObj(v) && isInt(v.line) && isInt(v.column) && isStr(v.label) && isInt(v.id) &&
    (v.state === 'pending' || v.state === 'fulfilled' || v.state === 'rejected') && optStr(v.reason) &&
    (v.neverRan === undefined || v.neverRan === true);
}

/** Validates a decoded JSON frame; returns a reason when it is not a ChildMessage. */
export function checkChildMessage(v: unknown): string | undefined {
  if (!isObj(v) || !isStr(v.type)) return 'not an object with a type';
  switch (v.type) {
    case 'hello':
      return isInt(v.protocol) && (v.runtime === 'node' || v.runtime === 'python') && isInt(v.pid) ? undefined : 'bad hello';
    case 'started':
      return undefined;
    case 'flushed':
      return v.atMs === undefined || isNum(v.atMs) ? undefined : 'bad flushed';
    case 'deadline':
      return isNum(v.atMs) ? undefined : 'bad deadline';
    case 'sites':
      return isInt(v.base) && v.base >= 0 && isStr(v.file) && Array.isArray(v.sites) && v.sites.every(isSite)
        ? undefined
        : 'bad sites';
    case 'label':
      return isInt(v.id) && isStr(v.label) ? undefined : 'bad label';
    case 'span':
      return isInt(v.id) && v.id !== 0 && (v.parentId === null || isInt(v.parentId)) &&
        isStr(v.kind) && SPAN_KINDS.has(v.kind) && isStr(v.label) && isInt(v.line) && isInt(v.column) &&
        isNum(v.startMs) && (v.endMs === null || isNum(v.endMs)) && isStr(v.outcome) && OUTCOMES.has(v.outcome) &&
        (v.continues === undefined || isInt(v.continues)) && (v.floating === undefined || v.floating === true)
        ? undefined
        : 'bad span';
    case 'mark':
      return isStr(v.kind) && MARK_KINDS.has(v.kind) && isStr(v.text) && isNum(v.atMs) &&
        optNum(v.line) && optNum(v.column) && optStr(v.stack) && optNum(v.fullLength)
        ? undefined
        : 'bad mark';
    case 'error':
      return (v.phase === 'compile' || v.phase === 'internal') && isStr(v.message) && optStr(v.file) &&
        optNum(v.line) && optNum(v.column) && optStr(v.stack)
        ? undefined
        : 'bad error';
    case 'pending':
      return (v.at === 'exit' || v.at === 'stop') && Array.isArray(v.waits) && v.waits.every(isWaitReport) &&
        Array.isArray(v.returns) && v.returns.every((r) => isObj(r) && isInt(r.id) && isWaitTarget(r.on)) &&
        Array.isArray(v.cleared) && v.cleared.every((c) => isObj(c) && isInt(c.id) && isInt(c.line) && isInt(c.column)) &&
        Array.isArray(v.floating) && v.floating.every(isFloatingReport)
        ? undefined
        : 'bad pending';
    case 'exit':
      return isInt(v.code) && isNum(v.atMs) ? undefined : 'bad exit';
    case 'instrument':
      return isInt(v.id) && isStr(v.file) && (v.format === undefined || v.format === 'esm' || v.format === 'cjs') && isStr(v.source) ? undefined : 'bad instrument';
    case 'delay':
      return (v.kind === 'delayed' || v.kind === 'instrumenting') && isStr(v.label) && isNum(v.startMs) &&
        isNum(v.endMs) && v.endMs >= v.startMs && optNum(v.line)
        ? undefined
        : 'bad delay';
    default:
      return `unknown message type ${JSON.stringify(v.type).slice(0, 40)}`;
  }
}

/** Encodes one JSON frame (used by the Node runtime; Python builds the same bytes itself). */
export function encodeJsonFrame(message: ChildMessage): Uint8Array {
  const body = new TextEncoder().encode(JSON.stringify(message));
  const out = new Uint8Array(FRAME_HEADER_BYTES + body.length);
  new DataView(out.buffer).setUint32(0, body.length, true);
  out[4] = FRAME_JSON;
  out.set(body, FRAME_HEADER_BYTES);
  return out;
}
