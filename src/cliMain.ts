// The `await-timeline` command: run a snippet instrumented, print its Gantt chart, write exports.
// Loaded by the entry (cli.ts) once it has started the run's child where it could.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

import type { TimeMode, Timeline } from './shared/timeline';
import { DEFAULT_BLOCK_THRESHOLD_MS, SUPPORTED_EXTENSIONS, startRun } from './engine/run';
import { renderGantt, renderInsights } from './engine/terminalGantt';
import { renderStillWaiting } from './engine/stillWaiting';
import { exportText } from './engine/exports';
import { writeTimelineJson } from './engine/jsonWriter';
import { renderComparison } from './engine/compareReport';
import { compareRuns, parseTimelineJson } from './shared/compare';
import { formatExpectationReport, formatTime } from './engine/expectations';
import { visibleLine } from './shared/safeText';
import { toJUnitXml, toJUnitXmlMany } from './engine/junit';
import { defaultJobs, findGradable, gradeMany, type Graded } from './engine/gradeMany';
import type { Run } from './engine/run';
import { earlyChildFits, type EarlyChild } from './cliEarly';
import { killGroup } from './engine/spawnRuntime';
import { postOtlp } from './engine/exportOtlp';

const USAGE = `usage: await-timeline run <file> [--json <file|->] [--trace <file>] [--html <file>] [--svg <file>]
                          [--baseline <timeline.json>] [--timeout <ms>] [--block-threshold <ms>]
                          [--max-spans <n>] [--max-spans-per-site <n>] [--python <exe>] [--time <real|warp>]
                          [--no-color] [--check] [--junit <file>] [--all] [--otlp <file>]
                          [--otlp-endpoint <url>] [-- args…]
       await-timeline check <file|folder>… [--junit <file>] [--jobs <n>] [--time <real|warp>]
                          [--timeout <ms>] [--python <exe>] [--no-color]

  --max-spans  list at most this many spans (default 200000); past it, spans are counted per site
               and parent over time, and drawn as aggregates

  --all     chart every span on its own row (by default an await and the call it waits on, or a
            call and the timer it set, share one row, as in the panel); the JSON keeps every span
  --check   grade the snippet's @expect comments: exit 0 when all hold, 1 when any fails or is
            malformed, 2 when the file has none or does not compile (default --timeout 30000,
            default --time warp)
  --time    warp: when the program waits only for timers, its clock jumps to the next one (a 4 s
            lesson runs in milliseconds; busy loops and real I/O keep their real time). Default:
            the snippet's own \`@time warp\` or \`@time real\` comment, else real (warp with --check)
  --junit   also write the @expect grading as JUnit XML (one testcase per @expect) for CI
  --otlp    write the run as OTLP/JSON traces (Jaeger, Tempo, any OpenTelemetry viewer);
            --otlp-endpoint posts them to a collector, e.g. http://127.0.0.1:4318

  check     grade many snippets at once (a workshop pack, a course, a CI job): a folder gives
            every snippet below it with @expect comments. Each runs as \`run --check\` runs it,
            --jobs at a time (default: one per core); a line per file, the failed expectations
            under it. Exit 0 when every file's expectations hold, 1 when any fails, 2 when a file
            has none or does not compile`;

/** With --check and no --timeout: a starter that never ends still gets a grade. */
const CHECK_TIMEOUT_MS = 30_000;

/** After the first Ctrl-C, how long the program may take to end by itself before the run is stopped. */
const INTERRUPT_GRACE_MS = 3000;

class UsageError extends Error {}

interface CliOptions {
  file: string;
  /** The file as typed on the command line (Python's sys.argv[0]). */
  typed: string;
  args: string[];
  json?: string;
  trace?: string;
  /** Write OTLP/JSON traces here. */
  otlp?: string;
  /** POST the OTLP/JSON traces to this OTLP/HTTP collector. */
  otlpEndpoint?: string;
  timeoutMs?: number;
  blockThresholdMs: number;
  maxSpansPerSite?: number;
  maxSpans?: number;
  color: boolean;
  pythonPath?: string;
  html?: string;
  svg?: string;
  /** The run to compare with (a --json timeline), validated, and the name the user gave it. */
  baseline?: { timeline: Timeline; name: string };
  /** Grade the @expect comments: the exit code says whether they all hold. */
  check: boolean;
  /** --time as given; undefined: the snippet's `@time` line, else the default. */
  time?: TimeMode;
  /** Write the @expect grading as JUnit XML here. */
  junit?: string;
  /** Chart (and SVG) every span on its own row instead of the compacted rows. */
  all: boolean;
}

/** The longest delay a Node timer holds (2^31 - 1 ms, about 24.8 days); a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function positiveNumber(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} needs a positive number of milliseconds, got '${value}'`);
  if (n > MAX_TIMER_MS) {
    throw new UsageError(`--${name} ${value} is longer than the longest a timer can wait, ${MAX_TIMER_MS} ms (about 24.8 days)${name === 'timeout' ? '; leave --timeout out to run without one' : ''}`);
  }
  return n;
}

/** Options that take a value: `--timeout -1` passes -1 to --timeout (parseArgs would call it ambiguous). */
const VALUE_OPTIONS = new Set(['--json', '--jobs', '--junit', '--trace', '--timeout', '--block-threshold', '--max-spans-per-site', '--python', '--html', '--svg', '--baseline']);

function joinNegativeValues(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const next = args[i + 1];
    if (VALUE_OPTIONS.has(a) && next !== undefined && /^-[\d.]/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

/** parseArgs with the CLI's rules: negative values joined to their option, errors as one usage line. */
function parseOwn<O extends OptionSpec>(args: string[], options: O) {
  try {
    return parseArgs({ args: joinNegativeValues(args), allowPositionals: true, strict: true, options });
  } catch (err: any) {
    throw new UsageError(String(err?.message ?? err).split('\n')[0]);
  }
}

/** --time as given, checked. */
function timeOption(time: string | undefined): TimeMode | undefined {
  if (time !== undefined && time !== 'real' && time !== 'warp') throw new UsageError(`--time is real or warp, got '${time}'`);
  return time;
}

export function parseCli(argv: string[]): CliOptions {
  const dd = argv.indexOf('--');
  const own = dd >= 0 ? argv.slice(0, dd) : argv;
  const passthrough = dd >= 0 ? argv.slice(dd + 1) : [];
  const { values, positionals } = parseOwn(own, {
    json: { type: 'string' },
    trace: { type: 'string' },
    otlp: { type: 'string' },
    'otlp-endpoint': { type: 'string' },
    timeout: { type: 'string' },
    'block-threshold': { type: 'string' },
    'max-spans-per-site': { type: 'string' },
    'max-spans': { type: 'string' },
    'no-color': { type: 'boolean' },
    python: { type: 'string' },
    html: { type: 'string' },
    svg: { type: 'string' },
    baseline: { type: 'string' },
    check: { type: 'boolean' },
    time: { type: 'string' },
    junit: { type: 'string' },
    all: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) throw new UsageError('');
  if (positionals[0] !== 'run') throw new UsageError(positionals[0] ? `unknown command '${positionals[0]}'` : 'missing command');
  if (!positionals[1]) throw new UsageError('missing <file>');
  if (positionals.length > 2) throw new UsageError(`unexpected argument '${positionals[2]}' (put the snippet's own arguments after --)`);
  const file = path.resolve(positionals[1]);
  if (!SUPPORTED_EXTENSIONS.includes(path.extname(file).toLowerCase())) {
    throw new UsageError(`${positionals[1]}: not a file type await-timeline runs (${SUPPORTED_EXTENSIONS.join(', ')})`);
  }
  if (!fs.existsSync(file)) throw new UsageError(`${positionals[1]}: no such file`);
  const wholeNumber = (name: 'max-spans-per-site' | 'max-spans'): number | undefined => {
    const v = values[name];
    if (v !== undefined && !(Number.isInteger(Number(v)) && Number(v) > 0)) {
      throw new UsageError(`--${name} needs a positive whole number, got '${v}'`);
    }
    return v === undefined ? undefined : Number(v);
  };
  return {
    time: timeOption(values.time),
    baseline: values.baseline === undefined ? undefined : { timeline: readBaseline(values.baseline), name: values.baseline },
    file,
    typed: positionals[1],
    args: passthrough,
    json: values.json,
    trace: values.trace,
    otlp: values.otlp,
    otlpEndpoint: otlpEndpoint(values['otlp-endpoint']),
    timeoutMs: positiveNumber('timeout', values.timeout) ?? (values.check ? CHECK_TIMEOUT_MS : undefined),
    blockThresholdMs: positiveNumber('block-threshold', values['block-threshold']) ?? DEFAULT_BLOCK_THRESHOLD_MS,
    maxSpansPerSite: wholeNumber('max-spans-per-site'),
    maxSpans: wholeNumber('max-spans'),
    color: !values['no-color'] && !process.env.NO_COLOR,
    pythonPath: values.python ?? process.env.AWAIT_TIMELINE_PYTHON,
    html: values.html,
    svg: values.svg,
    check: !!values.check,
    junit: values.junit,
    all: !!values.all,
  };
}

/** An OTLP/HTTP collector's base URL (http or https), e.g. http://127.0.0.1:4318. */
function otlpEndpoint(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--otlp-endpoint needs a URL such as http://127.0.0.1:4318, got '${value}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--otlp-endpoint needs an http or https URL, got '${value}'`);
  return value;
}

/** A baseline is a timeline --json wrote; anything else is a usage error, said plainly. */
function readBaseline(name: string): Timeline {
  let text: string;
  try {
    text = fs.readFileSync(name, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`--baseline ${name}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message}`);
  }
  try {
    return parseTimelineJson(text);
  } catch (err) {
    throw new UsageError(`--baseline ${name}: ${(err as Error).message}`);
  }
}

/** Writes an export; a target that cannot be written is told in one line and the run goes on. Returns false then. */
function writeOut(option: string, target: string, text: (() => string) | ((write: (piece: string) => void) => void)): boolean {
  // A writer of pieces (the JSON) never holds the whole file in one string.
  const pieces = (write: (piece: string) => void) => {
    if (text.length === 1) (text as (write: (piece: string) => void) => void)(write);
    else write((text as () => string)());
  };
  if (target === '-') {
    pieces((p) => process.stdout.write(p));
    return true;
  }
  let fd: number | undefined;
  try {
    fd = fs.openSync(target, 'w');
    const out = fd;
    pieces((p) => fs.writeSync(out, p));
    fs.closeSync(fd);
    return true;
  } catch (err) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // already closed
      }
    }
    process.stderr.write(`await-timeline: --${option} ${target}: ${writeFailure(err as NodeJS.ErrnoException, target)}\n`);
    return false;
  }
}

function writeFailure(err: NodeJS.ErrnoException, target: string): string {
  switch (err.code) {
    case 'ENOENT':
      return `cannot write: no such directory ${path.dirname(path.resolve(target))}`;
    case 'EISDIR':
      return 'cannot write: is a directory';
    case 'EACCES':
    case 'EPERM':
      return 'cannot write: permission denied';
    case 'ENOTDIR':
      return 'cannot write: a part of the path is not a directory';
    case 'ENOSPC':
      return 'cannot write: no space left on the device';
    case 'EROFS':
      return 'cannot write: read-only file system';
    default:
      return `cannot write: ${err.code ?? err.message}`;
  }
}

/** The CLI's exit code: the snippet's, 2 when it did not compile, 124 on timeout, 130 when stopped. */
export function exitCodeFor(t: Timeline, compileFailed: boolean): number {
  if (t.status === 'timeout') return 124;
  if (t.status === 'cancelled') return 130;
  if (compileFailed) return 2;
  if (t.exitCode !== null) return t.exitCode;
  return 1;
}

/** The parsed options, or undefined after a bad command line was told in one line and the usage. */
function parsedOrUsage<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    if (err.message) process.stderr.write(`await-timeline: ${err.message}\n`);
    process.stderr.write(USAGE + '\n');
    return undefined;
  }
}

async function main(argv: string[], early: EarlyChild | undefined): Promise<number> {
  if (argv[0] === 'check') {
    discard(early);
    return mainCheck(argv.slice(1));
  }
  const options = parsedOrUsage(() => parseCli(argv));
  if (!options) {
    discard(early);
    return 2;
  }
  const jsonToStdout = options.json === '-';
  // With --json -, stdout carries the JSON: the snippet's output and the chart go to stderr.
  const report = jsonToStdout ? process.stderr : process.stdout;
  const stdout = jsonToStdout ? 2 : 'inherit';
  // The child the entry started, if it was started as this run starts one; else a fresh one.
  const warm = early && earlyChildFits(early, { file: options.file, stdout }) ? early.child : undefined;
  if (!warm) discard(early);
  const run = startRun({
    warm,
    file: options.file,
    // As under `node file` / `python3 file`: the caller's working directory, argv[0] as typed.
    cwd: process.cwd(),
    argv0: options.typed,
    args: options.args,
    timeoutMs: options.timeoutMs,
    blockThresholdMs: options.blockThresholdMs,
    maxSpansPerSite: options.maxSpansPerSite,
    maxSpans: options.maxSpans,
    pythonPath: options.pythonPath,
    time: options.time,
    // Grading is the workshop's: warped, the same verdict on any machine and in milliseconds.
    defaultTime: options.check ? 'warp' : 'real',
    stdin: 'inherit',
    stdout,
    stderr: 'inherit',
  });
  // The first Ctrl-C goes to the program, as in a terminal (it may catch it, clean up and exit);
  // the run is stopped if the program is still there after a grace period, or at a second Ctrl-C.
  let graceTimer: NodeJS.Timeout | undefined;
  const onSigint = () => {
    if (graceTimer || !run.interrupt()) {
      void run.cancel();
      return;
    }
    graceTimer = setTimeout(() => void run.cancel(), INTERRUPT_GRACE_MS);
  };
  const onSigterm = () => void run.cancel();
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  const timeline = await run.done;
  clearTimeout(graceTimer);
  process.off('SIGINT', onSigint);
  process.off('SIGTERM', onSigterm);

  const compileFailed = timeline.error?.kind === 'compile';
  const rel = path.relative(process.cwd(), timeline.file) || timeline.file;
  const err = timeline.error;
  if (err && compileFailed) {
    process.stderr.write(`${rel}:${err.line ?? 1}:${err.column ?? 1}: ${err.message}\n`);
  } else if (err && err.kind !== 'exception' && err.kind !== 'exit') {
    // Exceptions and exit codes were already told by the program itself, as node tells them.
    process.stderr.write(`await-timeline: ${rel}${err.line ? `:${err.line}` : ''}: ${err.message}\n`);
  }

  if (timeline.incomplete) process.stderr.write(`await-timeline: ${rel}: timeline incomplete: ${timeline.incomplete}\n`);

  if (options.baseline) timeline.comparison = compareRuns(options.baseline.timeline, timeline);
  // Files first: whatever happens to the chart, the exports are written; one that cannot be is
  // told in a line, the others and the chart still are, and the CLI exits 2.
  let exportsFailed = false;
  if (options.json && !writeOut('json', options.json, (write: (piece: string) => void) => writeTimelineJson(timeline, write))) exportsFailed = true;
  // The package root (dist/ and media/) holds the renderer the HTML report inlines.
  for (const kind of ['trace', 'svg', 'html', 'otlp'] as const) {
    const target = options[kind];
    if (target && !writeOut(kind, target, () => exportText(kind, timeline, path.resolve(__dirname, '..'), options.baseline?.timeline, { all: options.all }))) exportsFailed = true;
  }
  if (options.junit && !writeOut('junit', options.junit, () => toJUnitXml(timeline, rel))) exportsFailed = true;
  if (options.otlpEndpoint) {
    try {
      await postOtlp(options.otlpEndpoint, exportText('otlp', timeline, path.resolve(__dirname, '..')));
    } catch (err) {
      // fetch says only "fetch failed": the reason (ECONNREFUSED, a refused port…) is its cause.
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      process.stderr.write(`await-timeline: --otlp-endpoint ${options.otlpEndpoint}: could not send the trace: ${cause?.code ?? cause?.message ?? (err as Error).message}\n`);
      exportsFailed = true;
    }
  }
  const isTTY = !!(report as NodeJS.WriteStream).isTTY;
  if (!compileFailed && timeline.error?.kind !== 'spawn') {
    report.write('\n' + renderGantt(timeline, { width: (report as NodeJS.WriteStream).columns ?? 100, color: options.color && isTTY, all: options.all }));
    const waiting = renderStillWaiting(timeline, { color: options.color && isTTY });
    if (waiting) report.write('\n' + waiting);
    const insights = renderInsights(timeline, { color: options.color && isTTY });
    if (insights) report.write('\n' + insights);
  }
  if (timeline.comparison && timeline.error?.kind !== 'spawn') {
    report.write('\n' + renderComparison(timeline.comparison, {
      width: (report as NodeJS.WriteStream).columns ?? 100, color: options.color && isTTY, baselineName: options.baseline?.name,
    }));
  }
  const expectations = timeline.expectations;
  if (expectations) report.write('\n' + formatExpectationReport(expectations, rel, { color: options.color && isTTY }));
  if (exportsFailed) return 2;
  if (!options.check) return exitCodeFor(timeline, compileFailed);
  // With --check the exit code is the grade, whatever the snippet exited with.
  if (compileFailed) return 2;
  if (!expectations) {
    process.stderr.write(`await-timeline: ${rel} has no @expect comments to check\n`);
    return 2;
  }
  return expectations.every((e) => e.passed) ? 0 : 1;
}

interface CheckOptions {
  targets: string[];
  junit?: string;
  jobs: number;
  time?: TimeMode;
  timeoutMs: number;
  blockThresholdMs: number;
  pythonPath?: string;
  color: boolean;
}

export function parseCheckCli(argv: string[]): CheckOptions {
  const { values, positionals } = parseOwn(argv, {
    junit: { type: 'string' },
    jobs: { type: 'string' },
    time: { type: 'string' },
    timeout: { type: 'string' },
    'block-threshold': { type: 'string' },
    python: { type: 'string' },
    'no-color': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) throw new UsageError('');
  if (!positionals.length) throw new UsageError('check: missing <file|folder>');
  const jobs = values.jobs === undefined ? defaultJobs() : Number(values.jobs);
  if (!(Number.isInteger(jobs) && jobs > 0)) throw new UsageError(`--jobs needs a positive whole number, got '${values.jobs}'`);
  return {
    targets: positionals,
    junit: values.junit,
    jobs,
    time: timeOption(values.time),
    timeoutMs: positiveNumber('timeout', values.timeout) ?? CHECK_TIMEOUT_MS,
    blockThresholdMs: positiveNumber('block-threshold', values['block-threshold']) ?? DEFAULT_BLOCK_THRESHOLD_MS,
    pythonPath: values.python ?? process.env.AWAIT_TIMELINE_PYTHON,
    color: !values['no-color'] && !process.env.NO_COLOR,
  };
}

/** A file's line in `check`'s report, and under a failed one what failed and why. */
export function formatGraded(g: Graded, options: { color: boolean }): string {
  const paint = (code: string, text: string) => (options.color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const t = g.timeline;
  const results = t.expectations ?? [];
  const held = results.filter((r) => r.passed).length;
  const mark = g.verdict === 'pass' ? paint('32', '✓') : paint('31', '✗');
  const what = t.error?.kind === 'compile'
    ? `does not compile: ${g.rel}:${t.error.line ?? 1}:${t.error.column ?? 1}: ${visibleLine(t.error.message)}`
    : !results.length
      ? 'no @expect comments to check'
      : held === results.length ? `all ${results.length} hold` : `${results.length - held} of ${results.length} failed`;
  const wall = t.error?.kind === 'compile' ? '' : `  ${paint('2', `${formatTime(t.wallMs)}${t.time === 'warp' ? ' warped' : ''}`)}`;
  const lines = [`${mark} ${visibleLine(g.rel)}  ${what}${wall}`];
  if (g.verdict === 'fail') {
    if (t.error && t.error.kind !== 'exception' && t.error.kind !== 'exit') lines.push(`    ${t.status}: ${visibleLine(t.error.message)}`);
    for (const r of results) {
      if (r.passed) continue;
      lines.push(r.error !== undefined
        ? `    ${g.rel}:${r.line}:${r.column}: malformed @expect: ${visibleLine(r.error)}`
        : `    ${paint('31', '✗')} ${visibleLine(r.text)}  — ${visibleLine(r.actual)}  ${paint('2', `(line ${r.line})`)}`);
    }
  }
  return lines.join('\n') + '\n';
}

async function mainCheck(argv: string[]): Promise<number> {
  const options = parsedOrUsage(() => parseCheckCli(argv));
  if (!options) return 2;
  const cwd = process.cwd();
  const { files, problems } = findGradable(options.targets, cwd);
  for (const p of problems) process.stderr.write(`await-timeline: ${p}\n`);
  if (!files.length) return 2;
  const isTTY = !!process.stdout.isTTY;
  const color = options.color && isTTY;
  const runs = new Set<Run>();
  const stop = () => {
    for (const r of runs) void r.cancel();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const t0 = performance.now();
  const graded = await gradeMany(files, { ...options, cwd }, (g) => {
    process.stdout.write(formatGraded(g, { color }));
  }, runs);
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  const count = (v: Graded['verdict']) => graded.filter((g) => g.verdict === v).length;
  const [pass, fail, error] = [count('pass'), count('fail'), count('error')];
  const summary = `${graded.length} file${graded.length === 1 ? '' : 's'} graded in ${formatTime(performance.now() - t0)}: ` +
    `${pass} pass, ${fail} fail${error ? `, ${error} could not be graded` : ''}`;
  process.stdout.write('\n' + (color ? `\u001b[${fail || error ? '31' : '32'}m${summary}\u001b[0m` : summary) + '\n');
  let exportsFailed = false;
  if (options.junit && !writeOut('junit', options.junit, () => toJUnitXmlMany(graded.map((g) => ({ timeline: g.timeline, file: g.rel }))))) exportsFailed = true;
  if (error || problems.length || exportsFailed) return 2;
  return fail ? 1 : 0;
}

/** A child the entry started that this command does not use: it goes at once, with its group. */
function discard(early: EarlyChild | undefined): void {
  if (early) killGroup(early.child.child);
}

/**
 * Ends the CLI once the command is done and what it printed is written. Left to itself, node
 * would first free its heap (the transform, the timeline, the runtime's events): 10 to 15 ms
 * more, on a busy machine, that the user waits for after the chart is printed. Nothing else is
 * pending by then: the child has exited, its pipes are read, the exports are written (files
 * synchronously). Output still buffered (stdout or stderr on a pipe where writes are
 * asynchronous, as on Windows) is left to node's own way out, which writes it first.
 */
function exitOnceWritten(code: number): void {
  if (process.stdout.writableLength === 0 && process.stderr.writableLength === 0) process.exit(code);
}

/** Runs the command; the process's exit code is set when it is done. */
export function runCli(argv: string[], early?: EarlyChild): void {
  // A closed pipe (`… | head`) is the reader's choice, not an error of ours.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }

  main(argv, early).then(
    (code) => {
      process.exitCode = code;
      exitOnceWritten(code);
    },
    (err) => {
      discard(early);
      process.stderr.write(`await-timeline: internal error: ${err?.stack ?? err}\n`);
      process.exitCode = 70;
    },
  );
}
