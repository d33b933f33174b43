// Stack traces as plain node prints them, with the user's line:column for instrumented files.
// The instrumented code keeps every line where it was; only columns move on lines that got
// instrumentation. Node's --enable-source-maps would map them but also changes how errors print
// (an extra blank line after the source arrow, '<anonymous>' and 'async <anonymous>' frames), so
// the runtime formats stacks the way node's default formatter does (V8's own text of each call
// site) and only maps the positions in instrumented files, through their inline source maps.
import {
  ArrayPrototypePush, ErrorCtor, MathMax, ReflectApply, WeakMapCtor, WeakMapPrototypeGet, WeakMapPrototypeSet, JSONParse, RegExpPrototypeExec, ObjectDefineProperty, ReflectOwnKeys, StringCtor, StringPrototypeSlice,
  StringPrototypeStartsWith, uncurryThis,
} from './primordials';
import { mapOfCode } from './moduleFormat';

const ErrorPrototypeToString = uncurryThis(Error.prototype.toString);
const StringPrototypeLastIndexOf = uncurryThis(String.prototype.lastIndexOf);
const BufferFrom = Buffer.from.bind(Buffer);
const MapCtor = Map;
const MapPrototypeGet = uncurryThis(Map.prototype.get);
const MapPrototypeSet = uncurryThis(Map.prototype.set);
const MapPrototypeDelete = uncurryThis(Map.prototype.delete);

/** Per generated line: [generatedColumn, originalLine, originalColumn] triples, 0-based. */
type DecodedMap = Array<number[] | undefined>;

/** Instrumented files (as V8 names them: a path or a file: URL) and their source maps, base64. */
const encoded = new MapCtor<string, string>();
const decoded = new MapCtor<string, DecodedMap>();
/** Asked for maps of files this thread has not seen (ES modules instrumented on the loader thread). */
let fetchMaps: (() => void) | undefined;

/** Remembers the source map at the end of an instrumented file's code. */
export function registerCode(file: string, code: string): void {
  const map = mapOfCode(code);
  if (map !== undefined) registerMap(file, map);
}

export function registerMap(file: string, base64: string): void {
  MapPrototypeSet(encoded, file, base64);
  MapPrototypeDelete(decoded, file);
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < BASE64.length; i++) VALUE[BASE64.charCodeAt(i)] = i;

/** Decodes a source map's VLQ mappings into per-line segments. */
export function decodeMappings(mappings: string): DecodedMap {
  const lines: DecodedMap = [];
  let line: number[] = [];
  let genCol = 0;
  let srcLine = 0;
  let srcCol = 0;
  let field = 0;
  let segment = [0, 0, 0, 0];
  let value = 0;
  let shift = 0;
  const endSegment = () => {
    if (field >= 4) {
      genCol += segment[0];
      srcLine += segment[2];
      srcCol += segment[3];
      line.push(genCol, srcLine, srcCol);
    } else if (field >= 1) {
      genCol += segment[0];
    }
    field = 0;
    segment = [0, 0, 0, 0];
  };
  for (let i = 0; i <= mappings.length; i++) {
    const c = i < mappings.length ? mappings.charCodeAt(i) : 59;
    if (c === 44 || c === 59) { // ',' ';'
      endSegment();
      if (c === 59) {
        lines.push(line.length ? line : undefined);
        line = [];
        genCol = 0;
      }
      continue;
    }
    const digit = VALUE[c] ?? -1;
    if (digit < 0) continue;
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
      continue;
    }
    const v = value & 1 ? -(value >>> 1) : value >>> 1;
    if (field < 4) segment[field] = v;
    field++;
    value = 0;
    shift = 0;
  }
  return lines;
}

function decodedMap(file: string): DecodedMap | undefined {
  let map = MapPrototypeGet(decoded, file) as DecodedMap | undefined;
  if (map) return map;
  let text = MapPrototypeGet(encoded, file) as string | undefined;
  if (text === undefined && fetchMaps) {
    fetchMaps();
    text = MapPrototypeGet(encoded, file) as string | undefined;
  }
  if (text === undefined) return undefined;
  try {
    map = decodeMappings(JSONParse(BufferFrom(text, 'base64').toString('utf8')).mappings);
  } catch {
    map = [];
  }
  MapPrototypeSet(decoded, file, map);
  return map;
}

/** The user's line and column (1-based) of a position (1-based) in an instrumented file. */
export function originalPosition(file: string, line: number, column: number): [number, number] | undefined {
  const map = decodedMap(file);
  const segs = map?.[line - 1];
  if (!segs) return undefined;
  const col = column - 1;
  // The last segment at or before the column.
  let lo = 0;
  let hi = segs.length / 3 - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (segs[mid * 3] <= col) {
      best = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  if (best < 0) return undefined;
  return [segs[best * 3 + 1] + 1, segs[best * 3 + 2] + 1 + (col - segs[best * 3])];
}

/** Whether a line of an instrumented file has text inserted in it (its columns moved). */
function lineIsInstrumented(file: string, line: number): boolean {
  const segs = decodedMap(file)?.[line - 1];
  if (!segs) return false;
  for (let i = 0; i < segs.length; i += 3) {
    if (segs[i + 1] !== line - 1 || segs[i + 2] !== segs[i]) return true;
  }
  return false;
}

const FIRST_FRAME = /\n {4}at (?:[^\n]*? \()?((?:file:\/\/)?[^\s()]+):(\d+):\d+\)?(?:\n|$)/;

/**
 * Node prints an uncaught error with the line it was thrown at. Without source maps that line
 * is the instrumented code's: right where nothing was inserted, the tool's code where something
 * was. With them node prints the user's line, but one blank line more. So: source maps only for
 * an error whose first frame is on an instrumented line (node caches maps only for code compiled
 * while they are on, hence on from the start and turned off here).
 */
export function sourceMapsForUncaught(err: unknown): boolean {
  try {
    if (!(err instanceof ErrorCtor)) return false;
    const m = FIRST_FRAME.exec(StringCtor(err.stack));
    return m !== null && lineIsInstrumented(m[1], Number(m[2]));
  } catch {
    return false;
  }
}

/** V8's text of a call site, with its position mapped when it is in an instrumented file. */
function frameText(site: NodeJS.CallSite): string {
  const text = StringCtor(site);
  const file = site.getFileName();
  if (!file || StringPrototypeStartsWith(file, 'node:')) return text;
  if (MapPrototypeGet(encoded, file) === undefined && !fetchMaps) return text;
  const line = site.getLineNumber();
  const column = site.getColumnNumber();
  if (line === null || column === null) return text;
  const mapped = originalPosition(file, line, column);
  if (!mapped) return text;
  const suffix = `${file}:${line}:${column}`;
  const at = StringPrototypeLastIndexOf(text, suffix);
  if (at < 0) return text;
  return `${StringPrototypeSlice(text, 0, at)}${file}:${mapped[0]}:${mapped[1]}${StringPrototypeSlice(text, at + suffix.length)}`;
}

let kIsNodeError: symbol | undefined;
/** Where this bundle and the rest of the runtime live. */
const RUNTIME_DIR = __dirname + require('node:path').sep;

/**
 * The frames under the runtime's own: node's loading of bootstrap.js, the main module, which are
 * the frames node shows under the user's code when the user's file is the main module
 * (`Module._compile`, `Module._extensions..js`, `Module.load`, `Module._load`,
 * `executeUserEntryPoint`, `run_main_module`), each as V8 prints it.
 */
let mainChain: string[] = [];
const COMPILE_FRAME = /^Module\._compile \(node:internal\/modules\/cjs\/loader:\d+:\d+\)$/;
const LOAD_FRAME = /^Module\.load \(node:internal\/modules\/cjs\/loader:\d+:\d+\)$/;

function captureMainChain(): void {
  const savedPrepare = Error.prepareStackTrace;
  const savedLimit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = 50;
    Error.prepareStackTrace = (_e, sites) => sites;
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder);
    const sites = holder.stack as unknown as NodeJS.CallSite[];
    const chain: string[] = [];
    for (let i = 0; i < sites.length; i++) {
      const f = sites[i].getFileName();
      if (f && StringPrototypeStartsWith(f, RUNTIME_DIR)) continue;
      ArrayPrototypePush(chain, StringCtor(sites[i]));
    }
    if (chain.length > 1 && RegExpPrototypeExec(COMPILE_FRAME, chain[0]) !== null) mainChain = chain;
  } catch {
    mainChain = [];
  } finally {
    Error.prepareStackTrace = savedPrepare;
    Error.stackTraceLimit = savedLimit;
  }
}

/** Node's default formatter (lib/internal/errors.js), position-mapped. */
function prepareStackTrace(error: any, trace: NodeJS.CallSite[]): string {
  let errorString: string;
  if (kIsNodeError !== undefined && error !== null && typeof error === 'object' && kIsNodeError in error) {
    errorString = `${error.name} [${error.code}]: ${error.message}`;
  } else {
    errorString = ErrorPrototypeToString(error);
  }
  if (trace.length === 0) return errorString;
  let out = errorString;
  const limit = typeof Error.stackTraceLimit === 'number' ? Error.stackTraceLimit : trace.length;
  let shown = 0;
  let last = '';
  let i = 0;
  for (; i < trace.length && shown < limit; i++) {
    const f = trace[i].getFileName();
    if (!(f && StringPrototypeStartsWith(f, RUNTIME_DIR))) {
      last = frameText(trace[i]);
      out += `\n    at ${last}`;
      shown++;
      continue;
    }
    // The runtime's own frames (the require hook that instruments a module, the code that starts
    // the snippet) are the tool's: node would not have them, but has its own there.
    let j = i;
    while (j + 1 < trace.length && isRuntimeFrame(trace[j + 1])) j++;
    if (RegExpPrototypeExec(COMPILE_FRAME, last) !== null && mainChain.length > 1) {
      const next = j + 1 < trace.length ? StringCtor(trace[j + 1]) : '';
      if (RegExpPrototypeExec(LOAD_FRAME, next) !== null) {
        // A local module the require hook loaded: node's own loader of .js files was there.
        out += `\n    at ${mainChain[1]}`;
        shown++;
      } else if (next === '' || next === mainChain[0]) {
        // The main module, which the runtime runs from its own: node's loading of a main module.
        for (let k = 1; k < mainChain.length && shown < limit; k++, shown++) out += `\n    at ${mainChain[k]}`;
        return out;
      }
    }
    i = j;
  }
  // V8 stopped at the limit inside the main module's loading, the runtime's frames having taken
  // room node's frames had: the main module's top level called by Module._compile.
  if (i === trace.length && shown < limit && i >= 2 && mainChain.length > 1 &&
      RegExpPrototypeExec(COMPILE_FRAME, last) !== null && trace[i - 2].getFileName() === entryFile && entryFile !== '') {
    for (let k = 1; k < mainChain.length && shown < limit; k++, shown++) out += `\n    at ${mainChain[k]}`;
  }
  return out;
}

let entryFile = '';
/** The main module's file: its top level is what node's main-module loading calls. */
export function setEntryFile(file: string): void {
  entryFile = file;
}

function isRuntimeFrame(site: NodeJS.CallSite): boolean {
  const f = site.getFileName();
  return !!f && StringPrototypeStartsWith(f, RUNTIME_DIR);
}

/**
 * Installs the formatter as Error.prepareStackTrace, behind an accessor: a program that sets its
 * own (source-map-support, callsites) gets it called, and setting it back to what it read (or to
 * undefined) restores node's formatting, mapped.
 */
export function installStackTraces(maps?: () => void): void {
  fetchMaps = maps;
  captureMainChain();
  try {
    require('node:fs').readFileSync({});
  } catch (err: any) {
    for (let p = Object.getPrototypeOf(err); p && kIsNodeError === undefined; p = Object.getPrototypeOf(p)) {
      const keys = ReflectOwnKeys(p);
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i];
        if (typeof k === 'symbol' && k.description === 'kIsNodeError') kIsNodeError = k;
      }
    }
  }
  let userValue: unknown;
  ObjectDefineProperty(ErrorCtor, 'prepareStackTrace', {
    get() {
      return userValue === undefined ? prepareStackTrace : userValue;
    },
    set(v: unknown) {
      userValue = v === prepareStackTrace ? undefined : v;
    },
    enumerable: false,
    configurable: true,
  });
}

// What node prints for an uncaught error, captured at start-up (the program may replace them).
const NODE_VERSION = process.version;
const ARGV0_NAME = require('node:path').basename(process.execPath, '.exe') as string;
const reallyExit = (process as any).reallyExit as (code: number) => never;
const writeSync = require('node:fs').writeSync as (fd: number, bytes: Uint8Array) => number;
const util = require('node:util') as typeof import('node:util');
const { inspect, types } = util;

/**
 * Node prints an uncaught error with the line V8 says it was thrown at (a position JavaScript
 * cannot read). Without source maps that line is the instrumented code's: the user's where nothing
 * was inserted, the tool's code where something was. With them node prints the user's line but
 * with a blank line more, and maps files that have their own source maps, which plain node does
 * not. So, once the program's last code has run (after its 'exit' listeners, just before node
 * prints): source maps on, and node's lookup of a position asked of the runtime first. A file
 * with its own map and a line where nothing was inserted: no mapped line, node prints V8's (as
 * plain node). A line with inserted code: the runtime prints what node prints from V8's line and
 * column, here the user's, and exits as node would, with the exit code node would use.
 * Anything unusual (options that change the report, an error node enhances itself): node prints.
 */
export function reportUncaughtAsNode(err: unknown): boolean {
  try {
    const M = require('node:module') as any;
    const SourceMap = M.SourceMap as { prototype: { findEntry: (line: number, column: number) => any } } | undefined;
    if (typeof M.findSourceMap !== 'function' || typeof SourceMap?.prototype?.findEntry !== 'function') return false;
    const options = `${process.env.NODE_OPTIONS ?? ''} ${process.execArgv.join(' ')}`;
    if (RegExpPrototypeExec(/--trace-uncaught|--report-/, options) !== null) return false;
    const ours = new WeakMapCtor<object, string>();
    encoded.forEach((_map, file) => {
      const sm = M.findSourceMap(file);
      if (sm) WeakMapPrototypeSet(ours, sm, file);
    });
    const realFindEntry = SourceMap.prototype.findEntry;
    let reported = false;
    ObjectDefineProperty(SourceMap.prototype, 'findEntry', {
      value: function findEntry(this: object, line: number, column: number) {
        const entry = ReflectApply(realFindEntry, this, [line, column]);
        if (reported) return entry;
        reported = true;
        // Node's lookup returns nothing for a line it cannot show: it then prints V8's line.
        const raw = { ...entry, originalLine: -1 };
        const file = WeakMapPrototypeGet(ours, this) as string | undefined;
        if (file === undefined || !lineIsInstrumented(file, line + 1)) return raw;
        const at = originalPosition(file, line + 1, column + 1);
        const text = at ? userLine(file, at[0]) : undefined;
        const report = at && text !== undefined ? fatalReport(err, file, at[0], at[1] - 1, text) : undefined;
        // Node prints the user's line and a caret at the column found: the exact one (the map
        // has a segment where each run of the user's text starts, not one per character).
        if (report === undefined) return at ? { ...entry, originalLine: at[0] - 1, originalColumn: at[1] - 1 } : entry;
        writeAll(report);
        reallyExit(typeof process.exitCode === 'number' ? process.exitCode : 1);
      },
      writable: true,
      configurable: true,
    });
    process.setSourceMapsEnabled(true);
    return true;
  } catch {
    return false;
  }
}

/** A line (1-based) of the user's source of an instrumented file, from its source map. */
function userLine(file: string, line: number): string | undefined {
  const text = MapPrototypeGet(encoded, file) as string | undefined;
  if (text === undefined) return undefined;
  const source = JSONParse(BufferFrom(text, 'base64').toString('utf8'))?.sourcesContent?.[0];
  if (typeof source !== 'string') return undefined;
  return StringCtor(source).split(/\r\n|[\n\r\u2028\u2029]/)[line - 1];
}

/**
 * Node's report of an uncaught value (src/node_errors.cc: GetErrorSource, AppendExceptionLine,
 * ReportFatalException) thrown at `line`:`column` (0-based) of `file`, whose text is `text`.
 */
function fatalReport(err: unknown, file: string, line: number, column: number, text: string): string | undefined {
  let arrow = `${file}:${line}\n${text}\n`;
  // The underline: V8's column used as an index into the line's UTF-8 bytes, as node does.
  const bytes = BufferFrom(text, 'utf8');
  if (column >= 0 && column + 1 <= bytes.length) {
    let under = '';
    for (let i = 0; i < column && bytes[i] !== 0; i++) under += bytes[i] === 9 ? '\t' : ' ';
    arrow += `${under}^\n`;
  }
  const trailer = `\nNode.js ${NODE_VERSION}\n`;
  if (err !== null && (typeof err === 'object' || typeof err === 'function')) {
    // Errors node enhances before printing (its own kEnhanceStackBeforeInspector): node prints.
    const keys = ReflectOwnKeys(err);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (typeof k === 'symbol' && k.description === 'kEnhanceStackBeforeInspector') return undefined;
    }
    let trace: unknown;
    try {
      trace = inspect(err, { colors: stderrColors(), customInspect: false, depth: MathMax(Number(inspect.defaultOptions.depth) || 0, 5) });
    } catch {
      trace = (err as { stack?: unknown }).stack;
    }
    if (typeof trace !== 'string' || trace.length === 0) return undefined;
    // A native error carries the arrow; anything else has it printed first, after a newline.
    return types.isNativeError(err) ? `${arrow}\n${trace}\n${trailer}` : `\n${arrow}${trace}\n${trailer}`;
  }
  // A symbol has no string node can print (its ToString throws): an empty line where it would be.
  return `\n${arrow}${typeof err === 'symbol' ? '' : StringCtor(err)}\n(Use \`${ARGV0_NAME} --trace-uncaught ...\` to show where the exception was thrown)\n${trailer}`;
}

/** Whether node colours the fatal report (its shouldColorize(process.stderr)). */
function stderrColors(): boolean {
  try {
    const tty = require('node:tty') as typeof import('node:tty');
    const depth = () => (tty.WriteStream.prototype.getColorDepth as (env?: object) => number).call(process.stderr, process.env);
    const stream = process.stderr as any;
    const colorize = process.env.FORCE_COLOR !== undefined ? depth() > 2
      : !!stream?.isTTY && (typeof stream.getColorDepth === 'function' ? stream.getColorDepth() > 2 : true);
    return colorize || !!inspect.defaultOptions.colors;
  } catch {
    return false;
  }
}

function writeAll(text: string): void {
  let rest = BufferFrom(text, 'utf8');
  while (rest.length > 0) {
    try {
      const n = writeSync(2, rest);
      rest = rest.subarray(n);
    } catch (e: any) {
      if (e?.code !== 'EAGAIN') return;
    }
  }
}
