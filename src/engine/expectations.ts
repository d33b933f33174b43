// `@expect` comments: what a snippet's timeline must show (workshop exercises, `--check`). Parsing
// and checking are pure functions of the source text and the finished timeline.
import { visibleLine } from '../shared/safeText';
import type { ExpectationResult, Language, Outcome, Span, Timeline } from '../shared/timeline';

export type Comparison = '<' | '<=' | '>' | '>=' | '==';

/** A run total that `@expect <metric> <op> <value>` compares. */
export type Metric = 'wall' | 'blocked' | 'awaited' | 'maxConcurrency' | 'pending';

export type Expectation =
  /** `@expect wall < 2200ms`: a total of the run (times in ms; maxConcurrency and pending are counts). */
  | { kind: 'metric'; metric: Metric; op: Comparison; value: number }
  /** `@expect overlap "A" "B"`: some span matching A runs at the same time as some span matching B. */
  | { kind: 'overlap'; a: string; b: string }
  /** `@expect before "A" "B"`: every span matching A ends before any span matching B starts. */
  | { kind: 'before'; a: string; b: string }
  /** `@expect span "A" < 350ms`: every span matching A lasts that long (the longest, or the shortest for > and >=). */
  | { kind: 'span'; text: string; op: Comparison; value: number }
  /** `@expect outcome "A" rejected`: every span matching A ended that way. */
  | { kind: 'outcome'; text: string; outcome: Outcome };

export interface ParsedExpectation {
  /** 1-based line of the comment. */
  line: number;
  /** 1-based column of `@expect`. */
  column: number;
  /** The text after `@expect`, trimmed. */
  text: string;
  expectation: Expectation;
}

export interface ExpectationParseError {
  /** 1-based line of the comment. */
  line: number;
  /** 1-based column where the line goes wrong. */
  column: number;
  /** The text after `@expect`, trimmed. */
  text: string;
  message: string;
}

/**
 * Two spans closer than this are not counted as overlapping, and an end this much after a start
 * still counts as "before": bookkeeping of one await handing over to the next takes a little time.
 */
export const TOUCH_MS = 1;

const METRICS: readonly Metric[] = ['wall', 'blocked', 'awaited', 'maxConcurrency', 'pending'];
const OUTCOMES: readonly Outcome[] = ['fulfilled', 'rejected', 'pending'];
const KINDS = ['wall', 'blocked', 'awaited', 'maxConcurrency', 'pending', 'overlap', 'before', 'span', 'outcome'];

const COMMENT: Record<'hash' | 'slashes', RegExp> = {
  slashes: /^(\s*\/\/+\s*)(@expect\w*)(.*)$/i,
  hash: /^(\s*#+\s*)(@expect\w*)(.*)$/i,
};
/** An `@expect` comment after code on the same line: reported, since only whole comment lines count. */
const TRAILING: Record<'hash' | 'slashes', RegExp> = {
  slashes: /^(\s*\S.*?\/\/+\s*)@expect\b/i,
  hash: /^(\s*[^\s#].*?#+\s*)@expect\b/i,
};

class ParseError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
  }
}

type Token =
  | { t: 'word'; value: string; at: number }
  | { t: 'op'; value: Comparison; at: number }
  | { t: 'number'; value: number; unit: string | undefined; at: number; raw: string }
  | { t: 'string'; value: string; at: number };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const rest = text.slice(i);
    let m: RegExpMatchArray | null;
    if ((m = rest.match(/^(<=|>=|==|<|>|=)/))) {
      if (m[1] === '=') throw new ParseError("'=' is not a comparison: use == (or <, <=, >, >=)", i);
      tokens.push({ t: 'op', value: m[1] as Comparison, at: i });
      i += m[1].length;
    } else if ((m = rest.match(/^(\d+(?:\.\d+)?|\.\d+)([A-Za-z_µ]\w*)?/))) {
      tokens.push({ t: 'number', value: Number(m[1]), unit: m[2], at: i, raw: m[0] });
      i += m[0].length;
    } else if ((m = rest.match(/^[A-Za-z_]\w*/))) {
      tokens.push({ t: 'word', value: m[0], at: i });
      i += m[0].length;
    } else if (c === '"' || c === "'") {
      let value = '';
      let j = i + 1;
      for (; j < text.length && text[j] !== c; j++) {
        if (text[j] === '\\' && j + 1 < text.length) j++;
        value += text[j];
      }
      if (j >= text.length) throw new ParseError(`unterminated string: add the closing ${c}`, i);
      if (!value) throw new ParseError('empty text: it would match every span', i);
      tokens.push({ t: 'string', value, at: i });
      i = j + 1;
    } else {
      throw new ParseError(`unexpected '${c}'`, i);
    }
  }
  return tokens;
}

/** Reads one expectation (the text after `@expect`); offsets in errors are into `text`. */
export function parseExpectation(text: string): Expectation {
  const tokens = tokenize(text);
  let k = 0;
  const end = text.length;
  const next = (what: string): Token => {
    const tok = tokens[k++];
    if (!tok) throw new ParseError(`expected ${what} at the end`, end);
    return tok;
  };
  const quoted = (what: string): string => {
    const tok = next(what);
    if (tok.t !== 'string') throw new ParseError(`expected ${what} in quotes, e.g. "fetchData"`, tok.at);
    return tok.value;
  };
  const op = (): Comparison => {
    const tok = next('a comparison (<, <=, >, >=)');
    if (tok.t !== 'op') throw new ParseError('expected a comparison: <, <=, >, >=', tok.at);
    return tok.value;
  };
  /** A time with its unit, in ms. */
  const duration = (): number => {
    const tok = next('a time such as 300ms or 1.5s');
    if (tok.t !== 'number') throw new ParseError('expected a time such as 300ms or 1.5s', tok.at);
    let unit = tok.unit;
    const after = tokens[k];
    if (unit === undefined && after?.t === 'word') {
      unit = after.value; // `300 ms`, with a space
      k++;
    }
    if (unit === undefined) throw new ParseError(`'${tok.raw}' needs a unit: ${tok.raw}ms or ${tok.raw}s`, tok.at);
    if (unit !== 'ms' && unit !== 's') throw new ParseError(`unknown unit '${unit}': use ms or s`, tok.at);
    return unit === 's' ? tok.value * 1000 : tok.value;
  };
  const noEquals = (o: Comparison, at: number) => {
    if (o === '==') throw new ParseError('times are never exact: use <, <=, > or >=', at);
  };

  const head = next('what to check: ' + KINDS.join(', '));
  if (head.t !== 'word' || !KINDS.includes(head.value)) {
    const got = head.t === 'word' ? `'${head.value}'` : 'this';
    throw new ParseError(`unknown expectation ${got}: use one of ${KINDS.join(', ')}`, head.at);
  }
  let result: Expectation;
  switch (head.value) {
    case 'overlap':
    case 'before': {
      const a = quoted('the first span text');
      const b = quoted('the second span text');
      result = { kind: head.value, a, b };
      break;
    }
    case 'span': {
      const spanText = quoted('the span text');
      const at = tokens[k]?.at ?? end;
      const o = op();
      noEquals(o, at);
      result = { kind: 'span', text: spanText, op: o, value: duration() };
      break;
    }
    case 'outcome': {
      const spanText = quoted('the span text');
      const tok = next('fulfilled, rejected or pending');
      if (tok.t !== 'word' || !OUTCOMES.includes(tok.value as Outcome)) {
        throw new ParseError('expected fulfilled, rejected or pending', tok.at);
      }
      result = { kind: 'outcome', text: spanText, outcome: tok.value as Outcome };
      break;
    }
    default: {
      const metric = head.value as Metric;
      const at = tokens[k]?.at ?? end;
      const o = op();
      if (metric === 'maxConcurrency' || metric === 'pending') {
        const tok = next('a count');
        if (tok.t !== 'number') throw new ParseError(`expected a count, e.g. ${metric === 'pending' ? 0 : 2}`, tok.at);
        if (tok.unit !== undefined) throw new ParseError(`${metric} is a count: no unit`, tok.at);
        result = { kind: 'metric', metric, op: o, value: tok.value };
      } else {
        noEquals(o, at);
        result = { kind: 'metric', metric, op: o, value: duration() };
      }
    }
  }
  if (k < tokens.length) throw new ParseError('unexpected text after the expectation', tokens[k].at);
  return result;
}

/** Finds the `@expect` comment lines (`//` in TS/JS, `#` in Python) and reads each one. */
export function parseExpectations(source: string, language: Language): { expectations: ParsedExpectation[]; errors: ExpectationParseError[] } {
  const style = language === 'python' ? 'hash' : 'slashes';
  const pattern = COMMENT[style];
  const expectations: ParsedExpectation[] = [];
  const errors: ExpectationParseError[] = [];
  const lines = source.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    const m = pattern.exec(lines[i]);
    if (!m) {
      const after = TRAILING[style].exec(lines[i]);
      if (after) {
        const text = lines[i].slice(after[1].length).replace(/^@expect\w*/i, '').trim();
        errors.push({ line: i + 1, column: after[1].length + 1, text, message: 'an @expect comment must be on a line of its own' });
      }
      continue;
    }
    const [, lead, word, rest] = m;
    const line = i + 1;
    const column = lead.length + 1;
    const text = rest.trim();
    const restStart = lead.length + word.length + (rest.length - rest.trimStart().length);
    if (word !== '@expect') {
      const hint = word.toLowerCase() === '@expect' ? 'write it in lower case' : 'did you mean @expect?';
      errors.push({ line, column, text, message: `unknown directive ${word}: ${hint}` });
      continue;
    }
    try {
      expectations.push({ line, column, text, expectation: parseExpectation(text) });
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      errors.push({ line, column: restStart + err.offset + 1, text, message: err.message });
    }
  }
  return { expectations, errors };
}

// ---------------------------------------------------------------- checking

/** Whether the run got far enough to be graded; the reason when it did not. */
function unfinished(t: Timeline): string | undefined {
  const e = t.error;
  if (e?.kind === 'compile') return `the snippet did not compile: ${e.message}`;
  if (t.status === 'timeout') return `the run did not finish: ${e?.message ?? 'timed out'}`;
  if (t.status === 'cancelled') return 'the run was stopped before it finished';
  if (e?.kind === 'spawn' || e?.kind === 'stream') return `the run did not finish: ${e.message}`;
  if (t.status === 'running') return 'the run has not finished';
  return undefined;
}

export function formatTime(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function compare(actual: number, op: Comparison, value: number): boolean {
  switch (op) {
    case '<': return actual < value;
    case '<=': return actual <= value;
    case '>': return actual > value;
    case '>=': return actual >= value;
    case '==': return actual === value;
  }
}

const MAX_LABEL = 48;
function name(s: Span): string {
  const label = s.label.length > MAX_LABEL ? s.label.slice(0, MAX_LABEL - 1) + '…' : s.label;
  return `${label} (line ${s.line})`;
}

/**
 * The spans an expectation text refers to: the label contains the text, and no span inside it
 * does, so `await fetchData()` and `Promise.all([fetchData(…)])` stand back for the `fetchData()`
 * call they wrap.
 */
export function matchingSpans(t: Timeline, text: string): Span[] {
  const matches = t.spans.filter((s) => s.label.includes(text));
  const ids = new Set(matches.map((s) => s.id));
  const byId = new Map(t.spans.map((s) => [s.id, s]));
  const wrappers = new Set<number>();
  for (const s of matches) {
    for (let p = s.parentId === null ? undefined : byId.get(s.parentId); p; p = p.parentId === null ? undefined : byId.get(p.parentId)) {
      if (ids.has(p.id)) {
        if (wrappers.has(p.id)) break;
        wrappers.add(p.id);
      }
    }
  }
  return matches.filter((s) => !wrappers.has(s.id));
}

function isAncestor(a: Span, b: Span, byId: Map<number, Span>): boolean {
  for (let p = b.parentId === null ? undefined : byId.get(b.parentId); p; p = p.parentId === null ? undefined : byId.get(p.parentId)) {
    if (p.id === a.id) return true;
  }
  return false;
}

type Verdict = { passed: boolean; actual: string };

const noMatch = (text: string): Verdict => ({ passed: false, actual: `no span matches "${text}"` });

function checkOverlap(t: Timeline, a: string, b: string): Verdict {
  const as = matchingSpans(t, a);
  const bs = matchingSpans(t, b);
  if (!as.length) return noMatch(a);
  if (!bs.length) return noMatch(b);
  const byId = new Map(t.spans.map((s) => [s.id, s]));
  const endOf = (s: Span) => s.endMs ?? t.wallMs;
  let best: { x: Span; y: Span; common: number } | undefined;
  for (const x of as) {
    for (const y of bs) {
      if (x.id === y.id || isAncestor(x, y, byId) || isAncestor(y, x, byId)) continue;
      const common = Math.min(endOf(x), endOf(y)) - Math.max(x.startMs, y.startMs);
      if (!best || common > best.common) best = { x, y, common };
    }
  }
  if (!best) return { passed: false, actual: `"${a}" and "${b}" only match spans that run inside one another` };
  const { x, y, common } = best;
  if (common > TOUCH_MS) return { passed: true, actual: `${name(x)} and ${name(y)} ran together for ${formatTime(common)}` };
  const [first, second] = endOf(x) <= endOf(y) ? [x, y] : [y, x];
  return {
    passed: false,
    actual: `no overlap: ${name(first)} ended at ${formatTime(endOf(first))}, ${name(second)} started at ${formatTime(second.startMs)}`,
  };
}

function checkBefore(t: Timeline, a: string, b: string): Verdict {
  const as = matchingSpans(t, a);
  const bs = matchingSpans(t, b);
  if (!as.length) return noMatch(a);
  if (!bs.length) return noMatch(b);
  const pending = as.find((s) => s.endMs === null);
  const firstB = bs.reduce((m, s) => (s.startMs < m.startMs ? s : m));
  if (pending) return { passed: false, actual: `${name(pending)} never ended; ${name(firstB)} started at ${formatTime(firstB.startMs)}` };
  const lastA = as.reduce((m, s) => ((s.endMs as number) > (m.endMs as number) ? s : m));
  const lastEnd = lastA.endMs as number;
  const passed = lastEnd <= firstB.startMs + TOUCH_MS;
  return {
    passed,
    actual: `${name(lastA)} ended at ${formatTime(lastEnd)}, ${passed ? 'then' : 'after'} ${name(firstB)} started at ${formatTime(firstB.startMs)}`,
  };
}

function checkSpan(t: Timeline, text: string, op: Comparison, value: number): Verdict {
  const spans = matchingSpans(t, text);
  if (!spans.length) return noMatch(text);
  const atMost = op === '<' || op === '<=';
  if (atMost) {
    const pending = spans.find((s) => s.endMs === null);
    if (pending) return { passed: false, actual: `${name(pending)} never ended (run ended at ${formatTime(t.wallMs)})` };
  }
  // Pending spans count until the end of the run: they lasted at least that long.
  const lasted = (s: Span) => (s.endMs ?? t.wallMs) - s.startMs;
  const pick = spans.reduce((m, s) => ((atMost ? lasted(s) > lasted(m) : lasted(s) < lasted(m)) ? s : m));
  const d = lasted(pick);
  const which = spans.length === 1 ? '' : `${atMost ? 'longest' : 'shortest'} of ${spans.length}: `;
  return { passed: compare(d, op, value), actual: `${which}${name(pick)} took ${formatTime(d)}${pick.endMs === null ? ' and never ended' : ''}` };
}

function checkOutcome(t: Timeline, text: string, outcome: Outcome): Verdict {
  const spans = matchingSpans(t, text);
  if (!spans.length) return noMatch(text);
  const other = spans.find((s) => s.outcome !== outcome);
  if (other) {
    const how = other.outcome === 'pending' ? 'was still pending when the run ended' : other.outcome;
    return { passed: false, actual: `${name(other)} ${how}` };
  }
  return { passed: true, actual: spans.length === 1 ? `${name(spans[0])} ${outcome}` : `all ${spans.length} matching spans ${outcome}` };
}

const METRIC_NAMES: Record<Metric, string> = { wall: 'wall', blocked: 'blocked', awaited: 'awaited', maxConcurrency: 'max concurrency', pending: 'still waiting' };

/** Checks one expectation against a finished timeline. */
export function evaluateExpectation(e: Expectation, t: Timeline): Verdict {
  switch (e.kind) {
    case 'metric': {
      const actual = e.metric === 'wall' ? t.wallMs
        : e.metric === 'blocked' ? t.stats.blockedMs
          : e.metric === 'awaited' ? t.stats.awaitedMs
            : e.metric === 'pending' ? (t.stillWaiting?.length ?? 0)
              : t.stats.maxConcurrency;
      const shown = e.metric === 'maxConcurrency' || e.metric === 'pending' ? String(actual) : formatTime(actual);
      // What is still waiting, in a few words: the grade then says why.
      const why = e.metric === 'pending' && t.stillWaiting?.length ? `: ${t.stillWaiting[0].cause.message}${t.stillWaiting.length > 1 ? ' …' : ''}` : '';
      return { passed: compare(actual, e.op, e.value), actual: `${METRIC_NAMES[e.metric]} ${shown}${why}` };
    }
    case 'overlap':
      return checkOverlap(t, e.a, e.b);
    case 'before':
      return checkBefore(t, e.a, e.b);
    case 'span':
      return checkSpan(t, e.text, e.op, e.value);
    case 'outcome':
      return checkOutcome(t, e.text, e.outcome);
  }
}

/**
 * The snippet's `@expect` comments checked against its run, in line order (malformed lines
 * included, never passed); undefined when the snippet has none.
 */
export function checkExpectations(source: string, language: Language, t: Timeline): ExpectationResult[] | undefined {
  const { expectations, errors } = parseExpectations(source, language);
  if (!expectations.length && !errors.length) return undefined;
  const notGraded = unfinished(t);
  const results: ExpectationResult[] = [
    ...expectations.map(({ line, column, text, expectation }) => ({
      line, column, text, ...(notGraded ? { passed: false, actual: notGraded } : evaluateExpectation(expectation, t)),
    })),
    ...errors.map(({ line, column, text, message }) => ({ line, column, text, passed: false, actual: `malformed @expect: ${message}`, error: message })),
  ];
  return results.sort((x, y) => x.line - y.line);
}

/**
 * The report the CLI prints: one ✓/✗ line per expectation with what the run showed, malformed
 * lines as `file:line:col: malformed @expect: …`, and a summary.
 */
export function formatExpectationReport(results: readonly ExpectationResult[], file: string, options: { color?: boolean } = {}): string {
  const paint = (code: string, text: string) => (options.color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const mark = (passed: boolean) => (passed ? paint('32', '✓') : paint('31', '✗'));
  const lines = results.map((r) =>
    r.error !== undefined
      ? `${mark(false)} ${file}:${r.line}:${r.column}: malformed @expect: ${visibleLine(r.error)}`
      : `${mark(r.passed)} ${visibleLine(r.text)}  — ${visibleLine(r.actual)}  ${paint('2', `(line ${r.line})`)}`,
  );
  const passed = results.filter((r) => r.passed).length;
  lines.push(passed === results.length
    ? paint('32', `expectations: all ${results.length} hold`)
    : paint('31', `expectations: ${results.length - passed} of ${results.length} failed`));
  return lines.join('\n') + '\n';
}
