// The timeline JSON (version 1): the contract the CLI writes, tests read and the panel shows.

/**
 * What a span stands for. One model for every language: the same lesson written in TypeScript and
 * in Python gives the same spans (kind, parent, label modulo syntax, line), so one compaction and
 * one layout serve both (src/shared/chart/).
 *
 * - `await`: one wait of an `await` (or `async with`, `for await`) expression, from the moment
 *   the expression starts to when the code after it resumes (or it raised: `rejected`). Line and
 *   column: the `await` keyword (`async with` / `for`: the statement). Label: the awaited
 *   expression as written (`sleep(minutes * 1000)`), `async with …` for a scope. Parent: the call
 *   (or task) it runs in. Every await is one row of its own.
 * - `combinator`: a call of the language's own combinator — `Promise.all/allSettled/race/any`,
 *   asyncio's `gather`, `wait`, `wait_for`, `shield`, `as_completed`, an `async with` on
 *   `TaskGroup()` or `timeout()` — recognised by what the callee is at run time, never by its
 *   name alone (a user's own `wait()` is a call). Line and column: the combinator's call
 *   expression (`Promise.all(`, `asyncio.gather(`). Label: that call as written. When awaited, it
 *   is two spans: the `await` and, as its only child with the same extent, the combinator (the
 *   chart may fold the pair into one row; the JSON keeps both). An `async with` on a group is one
 *   span, of kind `combinator`. The things it waits on are its children.
 * - `call`: one execution of a function the snippet defines, from entry to return, raise, or (for
 *   an async function) the settling of what it returned. Line and column: the function's
 *   definition (`async function cook` / `async def cook`), not the call site: the call site is the
 *   line of the await or combinator above it, and every call of one function shares its row's
 *   source place. Label: `name(args)`, the arguments as they were on entry. A call awaited
 *   directly is a child of that await (`await cook()` → await → call).
 * - `task` (Python): an asyncio Task. A task whose coroutine is a call of a function the snippet
 *   defines stands for that call: one span, labelled, placed and nested as that `call` would be
 *   (`asyncio.run(main())` → task `main()` at `async def main`); there is no separate call span.
 *   Any other task (a library coroutine) points where it was created in the snippet. Parent: the
 *   span current where the task was created (`gather` → its combinator), or, when that span had
 *   already ended (a server's connection handler), its nearest open ancestor. A task ends when
 *   its coroutine finished, not when its done-callbacks ran.
 * - `timer` (JS): a `setTimeout/setInterval/setImmediate` callback's wait, from scheduling to the
 *   callback; line and column: the scheduling call.
 * - `block`: synchronous work of the snippet that held the event loop for at least the block
 *   threshold (`time.sleep`, a busy loop, a long computation). Line and column: the statement that
 *   was running when the block was seen (for `while cond: pass`, the `while` line); 0 when no line
 *   of the snippet was running. Parent: the call or task whose code ran it.
 *
 * Work started by an await and run elsewhere (a thread of `asyncio.to_thread` or
 * `run_in_executor`) is nested under that await: its calls and blocks are the await's children.
 */
export type SpanKind = 'await' | 'call' | 'block' | 'timer' | 'combinator' | 'task';

/** How a span ended; `pending` while it has not. */
export type Outcome = 'fulfilled' | 'rejected' | 'pending';

export type RunStatus = 'running' | 'completed' | 'failed' | 'timeout' | 'cancelled';

export type Language = 'typescript' | 'javascript' | 'python';

/** How a run's clock ran: `real`, or `warp` (waits for timers skipped; every time is virtual). */
export type TimeMode = 'real' | 'warp';

export type MarkKind =
  | 'log'
  | 'info'
  | 'warn'
  | 'error'
  | 'stdout'
  | 'stderr'
  | 'exception'
  | 'unhandledRejection';

export interface Span {
  /** Unique within the run; never 0. */
  id: number;
  /** The span that was current when this one began; null at the top level. */
  parentId: number | null;
  kind: SpanKind;
  /** Source text as the user wrote it (await argument, call preview, blocking line). */
  label: string;
  /** 1-based line in the original file; 0 when unknown (a block that could not be located). */
  line: number;
  /** 1-based column in the original file; 0 when unknown. */
  column: number;
  /** Milliseconds since the snippet started. */
  startMs: number;
  /** Milliseconds since the snippet started; null while still pending. */
  endMs: number | null;
  outcome: Outcome;
  /**
   * A call whose promise (Python: task or coroutine) nobody awaited, returned, chained or stored.
   * Charts draw it, with what ran under it, in a "Not awaited" lane apart from the awaited tree when
   * other code made the call (a top-level `main();` stays where it is). Absent for every other span.
   */
  floating?: true;
}

/** Spans of one site under one parent, counted but not listed, in one stretch of time. */
export interface SpanAggregate {
  /** What kind of spans they are. */
  kind: SpanKind;
  /** The site's label (an await's source text, a call's name). */
  label: string;
  /** 1-based line of the site; 0 when unknown. */
  line: number;
  /** 1-based column of the site; 0 when unknown. */
  column: number;
  /** The listed span they ran under (the `parentId` each of them would have had); null at the top level. */
  parentId: number | null;
  /** How many spans (at least 1). */
  count: number;
  /** When the first of them started, ms since the snippet started. */
  startMs: number;
  /**
   * When the last of them ended, ms since the snippet started, as far as the runtime saw (timers
   * and combinators past the budget give only their start); never before `startMs`.
   */
  endMs: number;
}

export interface Mark {
  kind: MarkKind;
  /** One line of output, or the error message; a long one cut to its first 1000 characters and '…'. */
  text: string;
  /** The whole line's length, present when `text` was cut (the output itself is whole): UTF-16 units of a string write, bytes of a byte write. */
  fullLength?: number;
  /** Milliseconds since the snippet started. */
  atMs: number;
  line?: number;
  column?: number;
  /** For exceptions: the stack mapped to the original file. */
  stack?: string;
}

export interface RunError {
  /** What went wrong: the snippet did not compile, threw, exited non-zero, ran out of time… */
  kind?: 'compile' | 'exception' | 'exit' | 'timeout' | 'cancelled' | 'stream' | 'spawn' | 'internal';
  message: string;
  line?: number;
  column?: number;
  stack?: string;
}

export interface TimelineStats {
  wallMs: number;
  /**
   * Union of the time in which at least one await was pending. A Python task without awaits of
   * its own (library code the snippet awaited: `asyncio.to_thread`, a gathered `asyncio.sleep`)
   * counts as a wait, here and in `maxConcurrency`.
   */
  awaitedMs: number;
  /** Union of the time covered by block spans. */
  blockedMs: number;
  /** Most innermost waits pending at one moment. */
  maxConcurrency: number;
  /** Union of the time covered by `delays` (never part of `blockedMs`); absent when there were none. */
  delayedMs?: number;
}

/**
 * A stretch in which the event loop was held or late but not by the snippet's code, shown apart
 * from blocks and never counted in `blockedMs` nor matched by `@expect blocked`.
 */
export interface LoopDelay {
  /**
   * `delayed`: the event loop ran late and no code of the snippet was running: the process waited
   * for a CPU (a busy machine), the garbage collector or the runtime's own bookkeeping ran
   * ("event loop delayed: not your code"). `instrumenting`: Await Timeline instrumented a module
   * the snippet loaded (`require`, `import`) — the tool's own time.
   */
  kind: 'delayed' | 'instrumenting';
  /** What it was, for people: "event loop delayed: not your code", "instrumenting ./tiny_mod". */
  label: string;
  /** Milliseconds since the snippet started. */
  startMs: number;
  /** Milliseconds since the snippet started. */
  endMs: number;
  /** For `instrumenting`: the 1-based line of the snippet's file that loaded the module, when known. */
  line?: number;
}

/** One await site of an insight: where its `await` keyword is. */
export interface InsightSite {
  /** 1-based line of the `await` keyword. */
  line: number;
  /** 1-based column of the `await` keyword. */
  column: number;
}

/** A rewrite of the user's code, as a text replacement (1-based lines and columns, end exclusive). */
export interface InsightFix {
  /** What the quick fix is called in the editor. */
  title: string;
  /** 1-based first line of the replaced text. */
  line: number;
  /** 1-based column where the replaced text starts. */
  column: number;
  /** 1-based last line of the replaced text. */
  endLine: number;
  /** 1-based column just after the replaced text. */
  endColumn: number;
  /** The replacement text. */
  newText: string;
}

/**
 * Awaits that ran one after another although the code does not need it (the later ones do not use
 * what the earlier ones produced), measured in this run.
 */
export interface Insight {
  /** Consecutive awaits in one block, or an await in a loop over independent items. */
  kind: 'sequential-awaits' | 'sequential-loop';
  /** 1-based first line of the statements involved. */
  line: number;
  /** 1-based last line of the statements involved. */
  endLine: number;
  /** The await sites involved, in source order. */
  sites: InsightSite[];
  /** Ids of the await spans that ran back to back, in the order they ran. */
  spanIds: number[];
  /** How long they took one after another, in ms. */
  sequentialMs: number;
  /** About how long they would take started together (the longest of them), in ms. */
  parallelMs: number;
  /** sequentialMs − parallelMs. */
  savesMs: number;
  /** One sentence for the user, e.g. "these 2 awaits ran back to back (4.00 s); …". */
  message: string;
  /** The Promise.all rewrite, when the analysis found it safe. */
  fix?: InsightFix;
}

/**
 * One `@expect` comment of the snippet and what the run showed (workshop exercises, `--check`).
 * A malformed `@expect` line is listed too, never passed, with `error` saying what is wrong.
 */
export interface ExpectationResult {
  /** 1-based line of the `@expect` comment. */
  line: number;
  /** 1-based column: where `@expect` starts, or where a malformed line goes wrong. */
  column: number;
  /** The expectation as written after `@expect`, e.g. `wall < 480ms`. */
  text: string;
  /** Whether the run's timeline shows it; false for a malformed line and for a run that did not finish. */
  passed: boolean;
  /** What the run showed, in words, e.g. `wall 612.4 ms`; for a malformed line, the error again. */
  actual: string;
  /** Present only for a malformed line: what is wrong with it. */
  error?: string;
}

export interface Timeline {
  version: 1;
  file: string;
  language: Language;
  status: RunStatus;
  /** The program's exit code as a shell reports it: 128 + the signal's number when a signal ended it (SIGTERM 143); null when the tool stopped it. */
  exitCode: number | null;
  /** The signal that ended the program (`'SIGTERM'`, `'SIGKILL'`, `'SIGABRT'`…); absent when it exited or the tool stopped it. */
  signal?: string;
  wallMs: number;
  error: RunError | null;
  /**
   * Present when the timeline holds only part of the run although the program ran on to its end:
   * why (e.g. "the program closed or wrote to the tool's channel"). What came before is kept.
   */
  incomplete?: string;
  spans: Span[];
  marks: Mark[];
  /** Spans counted but not listed (past the run's span budget or a site's cap); `aggregates` says where and when. */
  droppedSpans: number;
  /**
   * The spans past the run's span budget, counted per site and parent in stretches of time, so a
   * row keeps the shape of its whole activity; their counts are part of `droppedSpans`. Start
   * order; absent when the run stayed within its budget.
   */
  aggregates?: SpanAggregate[];
  stats: TimelineStats;
  /** Delays of the event loop that were not the snippet's code (see `LoopDelay`), in start order; absent when none. */
  delays?: LoopDelay[];
  /** Awaits that ran back to back but need not have (JS/TS only); absent when not analysed. */
  insights?: Insight[];
  /** Ids of the spans that set the wall time, outermost first; absent when not computed. */
  criticalPath?: number[];
  /** The snippet's `@expect` comments, checked against this run, in line order; absent when it has none. */
  expectations?: ExpectationResult[];
  /** Present when the run was compared with a baseline run (`--baseline`); see `Comparison`. */
  comparison?: Comparison;
  /**
   * `warp` when the run's clock jumped over waits for timers (`--time warp`, `@time warp`): every
   * time in this timeline is then the program's virtual time, which is what the program itself
   * read from Date.now / performance.now / loop.time(). Absent: real time.
   */
  time?: TimeMode;
  /**
   * Wall-clock time (ms since the Unix epoch) at the timeline's 0 ms, as the engine saw the run
   * start; exports that need real times (OTLP) add span offsets to it. Absent in older files.
   */
  startEpochMs?: number;
  /**
   * Awaits still pending when the run ended (exit, unsettled top-level await, Stop, timeout), one
   * entry per thing that would have settled them; absent when nothing was waiting. See `StillWaiting`.
   */
  stillWaiting?: StillWaiting[];
  /** Promises calls returned that nobody awaited, returned, chained or stored, and that were still
   * running at the end or rejected; absent when there were none. See `FloatingPromise`. */
  floating?: FloatingPromise[];
}

/** What one link of a still-waiting chain stands for. */
export type WaitLinkKind =
  /** An await still pending. */
  | 'await'
  /** A call still running (an async function that has not returned). */
  | 'call'
  /** `Promise.all/race/…` with a member still pending. */
  | 'combinator'
  /** A `new Promise(…)` whose resolve/reject was never called. */
  | 'promise'
  /** A timer that would have settled it: cleared, never scheduled, or not yet due. */
  | 'timer'
  /** An event that was never emitted (or emitted before anyone listened). */
  | 'event'
  /** Python: a task (its coroutine stack is the chain). */
  | 'task'
  /** Python: a future nobody set. */
  | 'future'
  /** Python: `asyncio.Event.wait()` on an Event nobody set. */
  | 'event-wait'
  /** Python: `Queue.get()` on an empty queue nobody fills. */
  | 'queue-get'
  /** Python: a lock (semaphore, condition) never released. */
  | 'lock'
  /** Python: asyncio.sleep still sleeping. */
  | 'sleep'
  /** Back to a link already in the chain: these wait on each other. */
  | 'cycle'
  /** Something outside the snippet (a library's promise, I/O). */
  | 'other';

/** One link of a still-waiting chain: a thing with a place in the source. */
export interface WaitLink {
  kind: WaitLinkKind;
  /** What it is and why it did not settle, in one line (`new Promise(…): resolve was never called`). */
  text: string;
  /** 1-based line; 0 when unknown. */
  line: number;
  /** 1-based column; 0 when unknown. */
  column: number;
  /** The span it stands for, when there is one. */
  spanId?: number;
}

/**
 * An await still pending at the end of a run, followed down to what would have settled it: the
 * chain starts at the outermost pending await and ends at the cause (its last link).
 */
export interface StillWaiting {
  /** The outermost pending await's span id (0 when it has none: a Python task not awaited by anyone). */
  id: number;
  /** 1-based line of that await. */
  line: number;
  /** 1-based column of that await. */
  column: number;
  /** Its source text, as the chart labels it. */
  label: string;
  /** From that await down to the cause; the last link is what would have settled it. */
  chain: WaitLink[];
  /** The chain comes back to one of its own links (awaits waiting on each other). */
  cycle: boolean;
  /** The whole answer in one sentence, e.g. `await gate.wait() (line 15) waits on new Promise(…) at line 4: resolve was never called`. */
  message: string;
  /** Where the editor shows a warning: the never-called resolver, the never-emitted event's listener, the never-set Event. */
  cause: { line: number; column: number; message: string };
}

/** A promise a call returned that nobody awaited, returned, chained or stored. */
export interface FloatingPromise {
  /** 1-based line of the call. */
  line: number;
  /** 1-based column of the call. */
  column: number;
  /** Source text of the call. */
  label: string;
  /** The call's span, when the callee is instrumented. */
  spanId?: number;
  /** `pending`: the run ended before it finished; `rejected`: it failed and nobody handled it. */
  state: 'pending' | 'rejected';
  /** For a rejected one: the reason. */
  reason?: string;
  /** Python: a coroutine nobody awaited, so it never ran at all (`state` is `pending`). Absent otherwise. */
  neverRan?: true;
  /** One sentence for the user ("not awaited: the run ended before flushLogs() finished"). */
  message: string;
}

/** One await site in one run, summed over its spans (see `Comparison`). */
export interface SiteSummary {
  /** 1-based line of the site in that run's file; 0 when unknown. */
  line: number;
  /** 1-based column of the site in that run's file; 0 when unknown. */
  column: number;
  /** Spans listed at the site (spans counted in `droppedSpans` are not attributed to sites). */
  count: number;
  /** Sum of the spans' durations in ms; a pending span counts up to the end of its run. */
  totalMs: number;
  /** `totalMs / count`. */
  meanMs: number;
  /** When the site's first span started, ms since the snippet started. */
  firstStartMs: number;
}

/** An await site of either run and how it changed from the baseline to this run. */
export interface SiteComparison {
  /** What kind of span the site produces. */
  kind: SpanKind;
  /** Source text of the site: this run's, or the baseline's when only the baseline has it. */
  label: string;
  /**
   * How the two sides were paired. `site`: same kind, label, line and column. `label`: same kind
   * and label at another place (lines moved, or the baseline is another file). `added`: only in
   * this run. `removed`: only in the baseline.
   */
  match: 'site' | 'label' | 'added' | 'removed';
  /** The site in this run; null when only the baseline has it. */
  current: SiteSummary | null;
  /** The site in the baseline; null when only this run has it. */
  baseline: SiteSummary | null;
  /** Change of the total time at the site, ms (this run − baseline; a missing side counts 0). */
  deltaTotalMs: number;
  /** Change of the mean duration, ms; null unless both runs have the site. */
  deltaMeanMs: number | null;
  /** Change of when the site first started, ms; null unless both runs have the site. */
  deltaFirstStartMs: number | null;
  /** Change of the number of spans at the site. */
  deltaCount: number;
}

/** This run compared with a baseline run, site by site (`await-timeline run --baseline`). */
export interface Comparison {
  /** The baseline's file, as its timeline records it. */
  baselineFile: string;
  /** Wall time of the baseline run, ms. */
  baselineWallMs: number;
  /** Wall time of this run, ms. */
  wallMs: number;
  /** `wallMs − baselineWallMs`. */
  deltaWallMs: number;
  /** Relative change of the wall time (−0.5: half as long); null when the baseline took 0 ms. */
  wallChange: number | null;
  /** The wall-time change as people read it: "4.01 s → 2.01 s, −50 %". */
  wallText: string;
  /** Every site of either run, the biggest change (of total time or of first start) first. */
  sites: SiteComparison[];
}
