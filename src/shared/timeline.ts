// The timeline JSON (version 1): the contract the CLI writes, tests read and the panel shows.

/** What a span stands for. */
export type SpanKind = 'await' | 'call' | 'block' | 'timer' | 'combinator' | 'task';

/** How a span ended; `pending` while it has not. */
export type Outcome = 'fulfilled' | 'rejected' | 'pending';

export type RunStatus = 'running' | 'completed' | 'failed' | 'timeout' | 'cancelled';

export type Language = 'typescript' | 'javascript' | 'python';

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
  /** 1-based line in the original file. */
  line: number;
  /** 1-based column in the original file. */
  column: number;
  /** Milliseconds since the snippet started. */
  startMs: number;
  /** Milliseconds since the snippet started; null while still pending. */
  endMs: number | null;
  outcome: Outcome;
}

export interface Mark {
  kind: MarkKind;
  /** One line of output, or the error message. */
  text: string;
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
  /** Union of the time in which at least one await was pending. */
  awaitedMs: number;
  /** Union of the time covered by block spans. */
  blockedMs: number;
  /** Most innermost waits pending at one moment. */
  maxConcurrency: number;
}

export interface Timeline {
  version: 1;
  file: string;
  language: Language;
  status: RunStatus;
  exitCode: number | null;
  wallMs: number;
  error: RunError | null;
  spans: Span[];
  marks: Mark[];
  /** Spans counted but not listed (aggregated hot sites, caps). */
  droppedSpans: number;
  stats: TimelineStats;
}
