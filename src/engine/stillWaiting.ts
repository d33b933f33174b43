// "Why is it still waiting?": every await left pending when a run ended, followed down to what
// would have settled it. The runtime reports what each open await waited on (a call, a
// `new Promise` of the snippet, an `events.once`, a Python task, queue, Event or lock); the span
// tree links awaits to the calls they started; the source tells what became of a promise's
// resolve (stored, handed to a timer or a listener). Pure: a timeline, a report and a source in,
// the `stillWaiting` and `floating` lists out.
import type { ParserPlugin } from '@babel/parser';
import { transformModule } from './instrument';

import type { PendingMessage, WaitTarget } from '../shared/runtimeProtocol';
import type { FloatingPromise, Span, StillWaiting, Timeline, WaitLink } from '../shared/timeline';
import { formatMs } from './terminalGantt';
import { shownLinks } from '../shared/stillWaitingText';

/** More entries than this are summarised by the count (a loop of a thousand stuck awaits). */
const MAX_ENTRIES = 100;

interface Ctx {
  spans: Map<number, Span>;
  children: Map<number, Span[]>;
  waits: Map<number, WaitTarget>;
  returns: Map<number, WaitTarget>;
  cleared: Map<number, { line: number; column: number }>;
  executors: ExecutorIndex;
  wallMs: number;
}

/** Attaches `stillWaiting` and `floating` to a finished timeline. */
export function attachStillWaiting(timeline: Timeline, report: PendingMessage | undefined, source: string | undefined): void {
  const still = timeline.language === 'python'
    ? explainPython(timeline, report)
    : explainNode(timeline, report, source);
  if (still.length) timeline.stillWaiting = still;
  const floating = floatingPromises(timeline, report);
  if (floating.length) timeline.floating = floating;
}

// ---- Node ------------------------------------------------------------------------------------

export function explainNode(timeline: Timeline, report: PendingMessage | undefined, source: string | undefined): StillWaiting[] {
  const pending = timeline.spans.filter((s) => s.endMs === null && s.kind !== 'block');
  if (!pending.some((s) => s.kind === 'await')) return [];
  const ctx: Ctx = {
    spans: new Map(timeline.spans.map((s) => [s.id, s])),
    children: new Map(),
    waits: new Map((report?.waits ?? []).map((w) => [w.id, w.on])),
    returns: new Map((report?.returns ?? []).map((r) => [r.id, r.on])),
    cleared: new Map((report?.cleared ?? []).map((c) => [c.id, { line: c.line, column: c.column }])),
    executors: source === undefined ? new ExecutorIndex(undefined, timeline.file) : new ExecutorIndex(source, timeline.file),
    wallMs: timeline.wallMs,
  };
  for (const s of timeline.spans) {
    if (s.parentId === null) continue;
    let list = ctx.children.get(s.parentId);
    if (!list) ctx.children.set(s.parentId, (list = []));
    list.push(s);
  }

  // Paths from every pending await down to a cause; an await reached from another one is not a root.
  const awaits = pending.filter((s) => s.kind === 'await').sort((a, b) => a.startMs - b.startMs || a.id - b.id);
  const reached = new Set<number>();
  const pathsOf = new Map<number, Path[]>();
  for (const a of awaits) {
    const paths = walk(ctx, a, []);
    pathsOf.set(a.id, paths);
    for (const p of paths) for (const l of p.links.slice(1)) if (l.spanId !== undefined) reached.add(l.spanId);
  }
  let roots = awaits.filter((a) => !reached.has(a.id) && !hasPendingAwaitAncestor(ctx, a));
  // Awaits waiting on each other reach each other: each cycle gets its earliest await as root.
  const covered = new Set<number>();
  const cover = (a: Span) => {
    for (const p of pathsOf.get(a.id) ?? []) for (const l of p.links) if (l.spanId !== undefined) covered.add(l.spanId);
    covered.add(a.id);
  };
  roots.forEach(cover);
  for (const a of awaits) {
    if (covered.has(a.id) || hasPendingAwaitAncestor(ctx, a)) continue;
    roots.push(a);
    cover(a);
  }
  roots = roots.sort((a, b) => a.startMs - b.startMs || a.id - b.id);

  const out: StillWaiting[] = [];
  const cycles = new Set<string>();
  for (const root of roots) {
    for (const path of pathsOf.get(root.id) ?? []) {
      if (out.length >= MAX_ENTRIES) break;
      if (path.cycle) {
        // One entry per cycle, however many awaits lead into it.
        const last = path.links[path.links.length - 1];
        const from = path.links.findIndex((l) => l.spanId === last.spanId);
        const key = path.links.slice(from, -1).map((l) => l.spanId).sort().join(',');
        if (cycles.has(key)) continue;
        cycles.add(key);
      }
      out.push(entry(root, path));
    }
  }
  return out;
}

interface Path {
  links: WaitLink[];
  cycle: boolean;
  cause: { line: number; column: number; message: string };
}

function hasPendingAwaitAncestor(ctx: Ctx, s: Span): boolean {
  for (let p = s.parentId === null ? undefined : ctx.spans.get(s.parentId); p; p = p.parentId === null ? undefined : ctx.spans.get(p.parentId)) {
    if (p.kind === 'await' && p.endMs === null) return true;
  }
  return false;
}

const spanLink = (s: Span, text?: string): WaitLink => ({
  kind: s.kind === 'await' ? 'await' : s.kind === 'combinator' ? 'combinator' : s.kind === 'timer' ? 'timer' : 'call',
  text: text ?? (s.kind === 'await' ? `await ${s.label}` : s.label),
  line: s.line, column: s.column, spanId: s.id,
});

/** Every path from `s` down to something that would have settled it. */
function walk(ctx: Ctx, s: Span, above: WaitLink[]): Path[] {
  const here = spanLink(s);
  const back = above.find((l) => l.spanId === s.id);
  if (back) {
    const link: WaitLink = { kind: 'cycle', text: `back to ${back.text} (line ${back.line}): these wait on each other`, line: back.line, column: back.column, spanId: s.id };
    return [{ links: [...above, link], cycle: true, cause: { line: back.line, column: back.column, message: `${back.text} waits on itself through ${above.length} links: a cycle` } }];
  }
  if (above.length > 64) return [leafPath(above, { kind: 'other', text: 'a chain too deep to follow', line: s.line, column: s.column })];
  const links = [...above, here];
  const target = s.kind === 'await' ? ctx.waits.get(s.id) : s.kind === 'call' ? ctx.returns.get(s.id) : undefined;
  if (target && target.kind === 'call') {
    const next = ctx.spans.get(target.id);
    if (next && next.endMs === null) return walk(ctx, next, links);
  }
  if (target && (target.kind === 'promise' || target.kind === 'event')) return [leaf(ctx, links, target)];
  if (target && target.kind === 'members' && target.of.length) {
    // An awaited Promise.all/race/…: its combinator span (if any) and each member still pending.
    const comb = (ctx.children.get(s.id) ?? []).find((c) => c.kind === 'combinator' && c.endMs === null);
    const base = comb ? [...links, spanLink(comb)] : links;
    return target.of.flatMap((m) => followTarget(ctx, m, base, s));
  }

  // Follow the span tree: what this await started and is still running, what this call still awaits.
  const kids = (ctx.children.get(s.id) ?? []).filter((c) => c.endMs === null && c.kind !== 'block' && c.kind !== 'timer');
  const next = s.kind === 'call' ? kids.filter((c) => c.kind === 'await') : kids;
  const follow = next.length ? next : kids;
  if (follow.length) return follow.flatMap((c) => walk(ctx, c, links));
  if (target && target.kind === 'call') {
    // The call it waits on ended, yet the await is pending: should not happen; say what we know.
    return [leafPath(links, { kind: 'other', text: 'a call that has ended', line: s.line, column: s.column })];
  }
  if (s.kind === 'call') {
    return [leafPath(links, { kind: 'other', text: `${s.label} is still running, but awaits nothing the timeline shows`, line: s.line, column: s.column })];
  }
  const text = target && target.kind === 'other' ? target.text : 'a promise from outside the snippet';
  return [leafPath(links, { kind: 'other', text: `${text}, never settled`, line: s.line, column: s.column })];
}

/** A member of a combinator: a call to follow, a promise or event to explain, or something outside. */
function followTarget(ctx: Ctx, t: WaitTarget, links: WaitLink[], at: Span): Path[] {
  if (t.kind === 'call') {
    const next = ctx.spans.get(t.id);
    if (next && next.endMs === null) return walk(ctx, next, links);
    return [];
  }
  if (t.kind === 'promise' || t.kind === 'event') return [leaf(ctx, links, t)];
  if (t.kind === 'members') return t.of.flatMap((m) => followTarget(ctx, m, links, at));
  return [leafPath(links, { kind: 'other', text: `${t.kind === 'other' ? t.text : 'a member'}, never settled`, line: at.line, column: at.column })];
}

function leafPath(links: WaitLink[], cause: WaitLink): Path {
  return { links: [...links, cause], cycle: false, cause: { line: cause.line, column: cause.column, message: cause.text } };
}

/** The last link for a `new Promise` or an `events.once` the runtime named. */
function leaf(ctx: Ctx, links: WaitLink[], target: WaitTarget): Path {
  if (target.kind === 'event') {
    const why = target.missedAtMs !== undefined
      ? `it was emitted at ${formatMs(target.missedAtMs)}, before the listener was added`
      : 'it was never emitted';
    const text = `once(…, '${target.event}'): '${target.event}' never came (${why})`;
    return leafPath(links, { kind: 'event', text, line: target.line, column: target.column });
  }
  if (target.kind !== 'promise') return leafPath(links, { kind: 'other', text: 'never settled', line: 0, column: 0 });
  const exec = ctx.executors.at(target.line, target.column);
  const promise: WaitLink = { kind: 'promise', text: `new Promise(…): ${exec?.resolve ? `${exec.resolve}() was never called` : 'its resolve was never called'}`, line: target.line, column: target.column };
  if (!exec) return leafPath(links, promise);
  if (!exec.resolve) return leafPath(links, { ...promise, text: 'new Promise(…): the executor takes no resolve, so nothing can settle it' });
  const cause = resolverFate(ctx, exec, promise);
  const withPromise = [...links, promise];
  if (cause === promise) return { links: withPromise, cycle: false, cause: { line: promise.line, column: promise.column, message: promise.text } };
  return { links: [...withPromise, cause], cycle: false, cause: { line: cause.line, column: cause.column, message: cause.text } };
}

/** What became of the resolve function of an executor that never called it. */
function resolverFate(ctx: Ctx, exec: Executor, promise: WaitLink): WaitLink {
  const r = exec.resolve;
  if (!r) {
    return { ...promise, text: 'new Promise(…): the executor takes no resolve, so nothing can settle it' };
  }
  // The first use that tells the most: a timer, then a listener, then a store, then a call.
  const timer = exec.uses.find((u) => u.via === 'timer');
  if (timer) {
    const spans = [...ctx.spans.values()].filter((s) => s.kind === 'timer' && s.line === timer.line && s.column === timer.column);
    const clearedSpan = spans.find((s) => ctx.cleared.has(s.id) || s.outcome === 'rejected');
    if (clearedSpan) {
      const at = ctx.cleared.get(clearedSpan.id);
      const where = at ? ` at line ${at.line}` : '';
      return { kind: 'timer', text: `the timer at line ${timer.line} that calls ${r} was cleared${where}`, line: at?.line ?? timer.line, column: at?.column ?? timer.column, spanId: clearedSpan.id };
    }
    const waiting = spans.find((s) => s.endMs === null);
    if (waiting) {
      return { kind: 'timer', text: `the timer at line ${timer.line} that calls ${r} had not fired yet (the run ended after ${formatMs(ctx.wallMs)})`, line: timer.line, column: timer.column, spanId: waiting.id };
    }
    if (!spans.length) return { kind: 'timer', text: `the timer at line ${timer.line} that calls ${r} was never scheduled (that line never ran)`, line: timer.line, column: timer.column };
    if (timer.called) {
      return { kind: 'promise', text: `the timer at line ${timer.line} fired, but ${r}() at line ${timer.called.line} did not run`, line: timer.called.line, column: timer.called.column };
    }
    // It fired and called resolve itself: the promise was resolved with something that never settled.
    return { kind: 'timer', text: `the timer at line ${timer.line} fired and called ${r}, with a value that never settled`, line: timer.line, column: timer.column };
  }
  const listener = exec.uses.find((u) => u.via === 'listener');
  if (listener) {
    return { kind: 'event', text: `'${listener.event}' was never emitted after the listener at line ${listener.line} was added, so ${r} was never called`, line: listener.line, column: listener.column };
  }
  const stored = exec.uses.find((u) => u.via === 'stored');
  if (stored) {
    return { kind: 'promise', text: `${r} was stored in ${stored.target} at line ${stored.line}; nothing called it`, line: stored.line, column: stored.column };
  }
  const called = exec.uses.find((u) => u.via === 'call');
  if (called) return { kind: 'promise', text: `${r}() at line ${called.line} never ran`, line: called.line, column: called.column };
  const passed = exec.uses.find((u) => u.via === 'passed');
  if (passed) return { kind: 'promise', text: `${r} was passed to ${passed.target} at line ${passed.line}, which never called it`, line: passed.line, column: passed.column };
  return { ...promise, text: `new Promise(…): ${r} is never used, so nothing can settle it` };
}

function entry(root: Span, path: Path): StillWaiting {
  const last = path.links[path.links.length - 1];
  const message = path.cycle
    ? `${path.links[0].text} (line ${root.line}) never finishes: ${path.links.slice(1).map((l) => l.text).join(' → ')}`
    : `${path.links[0].text} (line ${root.line}) waits on ${last.text}`;
  return {
    id: root.id, line: root.line, column: root.column, label: root.label,
    chain: path.links, cycle: path.cycle, message, cause: path.cause,
  };
}

// ---- the source: what each `new Promise` executor does with its resolve -------------------------

interface ResolverUse {
  via: 'timer' | 'listener' | 'stored' | 'call' | 'passed';
  line: number;
  column: number;
  /** stored: where (`this.waiters`); passed: to what (`emitter.once`). */
  target?: string;
  /** listener: the event's name. */
  event?: string;
  /** timer: where its callback calls resolve, when it does not pass resolve itself. */
  called?: { line: number; column: number };
}

interface Executor {
  resolve?: string;
  uses: ResolverUse[];
}

const LISTEN = new Set(['on', 'once', 'addListener', 'prependListener', 'prependOnceListener', 'addEventListener']);
const STORE = new Set(['push', 'unshift', 'set', 'add']);
const TIMERS = new Set(['setTimeout', 'setInterval', 'setImmediate']);

/** The `new Promise(executor)` expressions of a source, by line and column. */
export class ExecutorIndex {
  private readonly byPos = new Map<string, Executor>();

  constructor(source: string | undefined, file: string) {
    if (source === undefined) return;
    let ast: any;
    const plugins: ParserPlugin[] = /\.(c|m)?ts$/i.test(file) ? ['typescript'] : [];
    try {
      ast = transformModule().parse(source, { sourceType: 'unambiguous', allowAwaitOutsideFunction: true, allowReturnOutsideFunction: true, errorRecovery: true, plugins });
    } catch {
      return;
    }
    const visit = (n: any, ancestors: any[]) => {
      if (!n || typeof n.type !== 'string') return;
      if (n.type === 'NewExpression' && n.callee?.type === 'Identifier' && n.callee.name === 'Promise') {
        this.byPos.set(`${n.loc.start.line}:${n.loc.start.column + 1}`, analyseExecutor(n.arguments?.[0], source));
      }
      ancestors.push(n);
      for (const key of Object.keys(n)) {
        if (key === 'loc' || key === 'extra' || key.endsWith('Comments')) continue;
        const v = n[key];
        if (Array.isArray(v)) for (const c of v) visit(c, ancestors);
        else if (v && typeof v === 'object' && typeof v.type === 'string') visit(v, ancestors);
      }
      ancestors.pop();
    };
    visit(ast.program, []);
  }

  at(line: number, column: number): Executor | undefined {
    return this.byPos.get(`${line}:${column}`);
  }
}

function analyseExecutor(fn: any, source: string): Executor {
  if (!fn || !/Function/.test(fn.type)) return { uses: [] };
  const p = fn.params?.[0];
  if (!p || p.type !== 'Identifier') return { uses: [] };
  const name: string = p.name;
  const uses: ResolverUse[] = [];
  const text = (n: any) => source.slice(n.start, n.end).replace(/\s+/g, ' ');
  const at = (n: any) => ({ line: n.loc.start.line, column: n.loc.start.column + 1 });
  const isName = (n: any) => n?.type === 'Identifier' && n.name === name;
  const eventOf = (call: any) => {
    const a = call.arguments?.[0];
    return a?.type === 'StringLiteral' ? a.value : a ? text(a) : '?';
  };
  /** The call (and argument) a function node is passed to, if any. */
  const visit = (n: any, ancestors: any[]) => {
    if (!n || typeof n.type !== 'string') return;
    if (isName(n)) {
      const parent = ancestors[ancestors.length - 1];
      if (parent?.type === 'CallExpression' && parent.callee === n) {
        // resolve(...) called: inside a listener or a timer callback?
        for (let i = ancestors.length - 1; i > 0; i--) {
          const a = ancestors[i];
          if (a === fn) break;
          if (/Function/.test(a.type)) {
            const holder = ancestors[i - 1];
            if (holder?.type === 'CallExpression' && holder.arguments.includes(a)) {
              const callee = holder.callee;
              const prop = callee.type === 'MemberExpression' && callee.property.type === 'Identifier' ? callee.property.name : undefined;
              if (callee.type === 'Identifier' && TIMERS.has(callee.name)) {
                uses.push({ via: 'timer', ...at(holder), called: at(parent) });
                return;
              }
              if (prop && LISTEN.has(prop)) {
                uses.push({ via: 'listener', event: eventOf(holder), ...at(holder) });
                return;
              }
            }
          }
        }
        uses.push({ via: 'call', ...at(parent) });
      } else if (parent?.type === 'CallExpression' && parent.arguments.includes(n)) {
        const callee = parent.callee;
        const prop = callee.type === 'MemberExpression' && callee.property.type === 'Identifier' ? callee.property.name : undefined;
        if (callee.type === 'Identifier' && TIMERS.has(callee.name)) uses.push({ via: 'timer', ...at(parent) });
        else if (prop && LISTEN.has(prop)) uses.push({ via: 'listener', event: eventOf(parent), ...at(parent) });
        else if (prop && STORE.has(prop)) uses.push({ via: 'stored', target: text(callee.object), ...at(parent) });
        else uses.push({ via: 'passed', target: text(callee), ...at(parent) });
      } else if (parent?.type === 'AssignmentExpression' && parent.right === n) {
        uses.push({ via: 'stored', target: text(parent.left), ...at(parent) });
      } else if ((parent?.type === 'ObjectProperty' && parent.value === n) || parent?.type === 'ArrayExpression') {
        uses.push({ via: 'stored', target: 'an object', ...at(parent) });
      }
    }
    ancestors.push(n);
    for (const key of Object.keys(n)) {
      if (key === 'loc' || key === 'extra' || key.endsWith('Comments')) continue;
      const v = n[key];
      if (Array.isArray(v)) for (const c of v) visit(c, ancestors);
      else if (v && typeof v === 'object' && typeof v.type === 'string') visit(v, ancestors);
    }
    ancestors.pop();
  };
  visit(fn.body, [fn]);
  return { resolve: name, uses };
}

// ---- Python ----------------------------------------------------------------------------------

export function explainPython(timeline: Timeline, report: PendingMessage | undefined): StillWaiting[] {
  if (!report?.waits.length) return [];
  const byTask = new Map(report.waits.filter((w) => w.task !== undefined).map((w) => [w.task!, w]));
  const pendingAwaits = timeline.spans.filter((s) => s.kind === 'await' && s.endMs === null);
  // Tasks another task waits on are reached from it; the others are where chains start.
  const reached = new Set<string>();
  for (const w of report.waits) {
    if (w.on.kind === 'task') reached.add(w.on.task);
    if (w.on.kind === 'gather') w.on.tasks.forEach((t) => reached.add(t));
  }
  const spanAt = (line: number) => pendingAwaits.filter((s) => s.line === line).sort((a, b) => b.startMs - a.startMs)[0];
  const taskLinks = (w: PendingMessage['waits'][number]): WaitLink[] =>
    (w.stack ?? []).map((f, i) => {
      const s = spanAt(f.line);
      return { kind: i === 0 ? 'task' : 'await', text: i === 0 ? `task ${w.task ?? ''}: ${f.label}` : f.label, line: f.line, column: s?.column ?? 1, ...(s ? { spanId: s.id } : {}) } as WaitLink;
    });
  const out: StillWaiting[] = [];
  const follow = (w: PendingMessage['waits'][number], links: WaitLink[], seen: string[]): Path[] => {
    const mine = taskLinks(w);
    const all = [...links, ...mine];
    const last = mine[mine.length - 1] ?? { line: 0, column: 0, text: '' };
    const on = w.on;
    const done = (cause: WaitLink): Path[] => [leafPath(all, cause)];
    switch (on.kind) {
      case 'task': {
        if (seen.includes(on.task)) {
          const link: WaitLink = { kind: 'cycle', text: `back to task ${on.task}: these tasks wait on each other`, line: last.line, column: last.column };
          return [{ links: [...all, link], cycle: true, cause: { line: last.line, column: last.column, message: link.text } }];
        }
        const next = byTask.get(on.task);
        if (!next) return done({ kind: 'task', text: `task ${on.task}, which is not running`, line: last.line, column: last.column });
        return follow(next, all, [...seen, on.task]);
      }
      case 'gather': {
        const stuck = on.tasks.map((t) => byTask.get(t)).filter((x): x is NonNullable<typeof x> => !!x);
        if (!stuck.length) return done({ kind: 'other', text: 'a gather whose children are not running', line: last.line, column: last.column });
        return stuck.flatMap((c) => (seen.includes(c.task!) ? [] : follow(c, all, [...seen, c.task!])));
      }
      case 'event-wait':
        return done({ kind: 'event-wait', text: on.name ? `Event ${on.name} is never set (nothing calls ${on.name}.set())` : 'the asyncio.Event is never set', line: last.line, column: last.column });
      case 'queue-get':
        return done({ kind: 'queue-get', text: on.name ? `queue ${on.name} is empty and nothing calls ${on.name}.put()` : 'the queue is empty and nothing puts into it', line: last.line, column: last.column });
      case 'lock':
        return done({ kind: 'lock', text: `${on.name ?? 'the lock'} is held${on.holder ? ` by task ${on.holder}` : ''} and never released${on.name ? ` (nothing calls ${on.name}.release())` : ''}`, line: last.line, column: last.column });
      case 'future':
        return done({ kind: 'future', text: `${on.name ? `future ${on.name}` : 'a future'}${on.line ? ` created at line ${on.line}` : ''} is never set (nothing calls ${on.name ?? 'its'}${on.name ? '.' : ' '}set_result())`, line: on.line ?? last.line, column: on.line ? 1 : last.column });
      case 'sleep':
        return done({ kind: 'sleep', text: `asyncio.sleep, ${formatMs(on.leftMs)} left when the run ended`, line: last.line, column: last.column });
      default:
        return done({ kind: 'other', text: on.kind === 'other' ? on.text : 'something that never finished', line: last.line, column: last.column });
    }
  };
  for (const w of report.waits) {
    if (w.task !== undefined && reached.has(w.task)) continue;
    for (const path of follow(w, [], w.task ? [w.task] : [])) {
      if (out.length >= MAX_ENTRIES) break;
      const first = path.links[0] ?? { text: w.task ?? 'task', line: 0, column: 0 };
      const s = path.links.find((l) => l.spanId !== undefined);
      const root = s ? timeline.spans.find((x) => x.id === s.spanId) : undefined;
      const lastLink = path.links[path.links.length - 1];
      out.push({
        id: root?.id ?? 0, line: root?.line ?? first.line, column: root?.column ?? first.column, label: root?.label ?? first.text,
        chain: path.links, cycle: path.cycle,
        message: path.cycle ? `${first.text} (line ${first.line}) never finishes: ${path.links.slice(1).map((l) => l.text).join(' → ')}` : `${first.text} (line ${first.line}) waits on ${lastLink.text}`,
        cause: path.cause,
      });
    }
  }
  // Cycles where every task is reached by another: start at the first.
  if (!out.length && report.waits.length) {
    const w = report.waits[0];
    for (const path of follow(w, [], w.task ? [w.task] : [])) {
      const first = path.links[0] ?? { text: w.task ?? 'task', line: 0, column: 0 };
      out.push({ id: 0, line: first.line, column: first.column, label: first.text, chain: path.links, cycle: path.cycle,
        message: `${first.text} (line ${first.line}) never finishes: ${path.links.slice(1).map((l) => l.text).join(' → ')}`, cause: path.cause });
    }
  }
  return out;
}

// ---- floating promises -----------------------------------------------------------------------

export function floatingPromises(timeline: Timeline, report: PendingMessage | undefined): FloatingPromise[] {
  const out: FloatingPromise[] = [];
  for (const f of report?.floating ?? []) {
    if (f.state === 'fulfilled') continue;
    const message = f.neverRan
      ? `not awaited: ${f.label} never ran (calling it only made a coroutine)`
      : f.state === 'pending'
        ? `not awaited: the run ended before ${f.label} finished`
        : `not awaited: ${f.label} rejected later${f.reason ? ` (${f.reason})` : ''} with no handler`;
    out.push({
      line: f.line, column: f.column, label: f.label, ...(f.id > 0 ? { spanId: f.id } : {}), state: f.state,
      ...(f.reason ? { reason: f.reason } : {}), ...(f.neverRan ? { neverRan: true as const } : {}), message,
    });
  }
  void timeline;
  return out;
}

// ---- the CLI's section -----------------------------------------------------------------------

/** "Still waiting (N)" and "Not awaited (N)", printed after the chart. */
export function renderStillWaiting(t: Timeline, options: { color?: boolean } = {}): string {
  const still = t.stillWaiting ?? [];
  const floating = t.floating ?? [];
  if (!still.length && !floating.length) return '';
  const ESC = '\u001b[';
  const paint = (code: string, text: string) => (options.color ? `${ESC}${code}m${text}${ESC}0m` : text);
  const lines: string[] = [];
  if (still.length) {
    const exit13 = t.language !== 'python' && t.exitCode === 13;
    lines.push(paint('1', `Still waiting (${still.length}):`));
    if (exit13) lines.push(paint('2', '  (exit code 13: node ends a program whose top-level await can never settle)'));
    if (t.language === 'python' && t.status === 'completed') lines.push(paint('2', '  (the program ended while these still waited: asyncio.run cancels what is left)'));
    for (const w of still) {
      const links = shownLinks(w);
      links.forEach((l, i) => {
        const where = l.line > 0 ? `line ${l.line}: ` : '';
        if (i === 0) lines.push(`  ${where}${l.text}`);
        else if (i === links.length - 1) lines.push(paint('33', `    ${w.cycle ? '↺' : '✗'} ${where}${l.text}`));
        else lines.push(paint('2', `    → ${where}${l.text}`));
      });
    }
  }
  if (floating.length) {
    lines.push(paint('1', `Not awaited (${floating.length}):`));
    for (const f of floating) lines.push(`  line ${f.line}: ${f.message}`);
  }
  return lines.join('\n') + '\n';
}
