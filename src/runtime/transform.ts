// Instruments a snippet's source: every await, every function body, for-await loops, timers and
// awaited Promise combinators report to the in-process recorder (`__awt$`), with labels taken
// from the user's own text. No line is added or removed, so line numbers stay exact; columns are
// mapped back through a composed source map.
import { parse, type ParserPlugin } from '@babel/parser';
import type * as Sucrase from 'sucrase';
import { composeLineMaps } from './sourceMapCompose';
import { Insertions } from './insertions';
import { getTsconfig } from 'get-tsconfig';
import * as path from 'node:path';

import type { Site } from '../shared/runtimeProtocol';
import { INSERT_CLOSE, INSERT_OPEN, RUNTIME_KEY, RUNTIME_LOCAL, type ModuleFormat } from './moduleFormat';

/** Sucrase strips types and compiles JSX: loaded on the first .ts or .jsx file, not for plain JavaScript. */
let sucraseModule: typeof Sucrase | undefined;
const sucrase = (): typeof Sucrase => (sucraseModule ??= require('sucrase') as typeof Sucrase);

/** The parser, for the engine's analyses: they load it with the transform, from this one bundle. */
export { parse };

export type { ModuleFormat };

/** What the runtime needs to know about a site beyond what the engine shows. */
export interface RuntimeSite extends Site {
  /** For call sites: 0 sync, 1 async, 2 generator, 3 async generator. */
  fn?: number;
  /** For call sites: one entry per previewed parameter: '' plain, '…' rest, '{…}' / '[…]' pattern. */
  params?: string[];
}

export interface TransformResult {
  code: string;
  format: ModuleFormat;
  sites: RuntimeSite[];
  /**
   * Relative specifiers the module loads by literal (`import … from './x'`, `export … from`,
   * `import('./x')`, `require('./x')`): what the engine can instrument before the run.
   */
  localImports: string[];
}

export class CompileError extends Error {
  constructor(message: string, readonly file: string, readonly line: number, readonly column: number) {
    super(message);
    this.name = 'CompileError';
  }
}

const R = RUNTIME_LOCAL;
const BASE = '__awt$b';
const FRAME = '__awt$f';
const TOP = '__awt$t';

const MAX_LABEL = 120;
const TIMER_NAMES = new Set(['setTimeout', 'setInterval', 'setImmediate']);
const COMBINATORS = new Set(['all', 'allSettled', 'race', 'any']);
const FUNCTION_TYPES = new Set([
  'FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression',
  'ObjectMethod', 'ClassMethod', 'ClassPrivateMethod',
]);
// Keys of a babel node that never hold child nodes worth visiting.
const SKIP_KEYS = new Set(['loc', 'start', 'end', 'extra', 'leadingComments', 'trailingComments', 'innerComments',
  'typeAnnotation', 'returnType', 'typeParameters', 'superTypeParameters', 'implements', 'predicate']);

/** Collapses whitespace runs and shortens long text with an ellipsis. */
export function shortenLabel(text: string): string {
  const collapsed = text.replace(/\s+/g, ' ').trim();
  return collapsed.length > MAX_LABEL ? collapsed.slice(0, MAX_LABEL - 1) + '…' : collapsed;
}

export function isTypeScriptFile(file: string): boolean {
  return /\.(?:[cm]?ts|tsx)$/i.test(file);
}

/** .tsx and .jsx: JSX, compiled with the factory the nearest tsconfig.json names. */
export function isJsxFile(file: string): boolean {
  return /\.[jt]sx$/i.test(file);
}

/** What the nearest tsconfig.json (extends resolved, comments allowed) says about compiling. */
function compilerOptions(file: string): Record<string, any> {
  try {
    return getTsconfig(path.dirname(file))?.config.compilerOptions ?? {};
  } catch {
    return {};
  }
}

interface Node {
  type: string;
  start: number;
  end: number;
  loc: { start: { line: number; column: number } };
  extra?: { parenthesized?: boolean; parenStart?: number };
  [key: string]: any;
}

interface FnContext {
  node: Node;
  /** Variable holding this context's frame. */
  frame: string;
  async: boolean;
  generator: boolean;
}

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && typeof (v as Node).type === 'string' && typeof (v as Node).start === 'number';
}

export interface TransformOptions {
  /** Absolute path, for error messages and the source map. */
  file: string;
  /** Decided by extension or package.json; undefined: decide from syntax like Node does. */
  format?: ModuleFormat;
}

export function transformSnippet(source: string, options: TransformOptions): TransformResult {
  const result = transformModule(source, options);
  // Node's loader decodes an ES module with a decoder that drops a leading byte order mark, so
  // its columns on line 1 are counted without it; CommonJS compiles the text as read (with it).
  if (result.format === 'esm' && source.charCodeAt(0) === 0xfeff) return transformModule(source.slice(1), { ...options, format: 'esm' });
  return result;
}

function transformModule(source: string, options: TransformOptions): TransformResult {
  const { file } = options;
  const ts = isTypeScriptFile(file);
  const jsx = isJsxFile(file);
  const tsconfig = ts || jsx ? compilerOptions(file) : {};
  const plugins: ParserPlugin[] = ts ? ['typescript'] : [];
  if (jsx) plugins.push('jsx');
  // Parsed so that they can be reported where they are (see unsupported()), not as a parser hint.
  if (ts) plugins.push(tsconfig.experimentalDecorators ? 'decorators-legacy' : 'decorators');
  // `accessor x = 0` (the decorators proposal's auto-accessors) too: node 20 cannot run it either.
  if (ts) plugins.push('decoratorAutoAccessors');
  const parseAs = (goal: 'module' | 'script') => parse(source, {
    sourceType: goal,
    allowAwaitOutsideFunction: goal === 'module',
    allowReturnOutsideFunction: goal === 'script',
    allowImportExportEverywhere: false,
    errorRecovery: false,
    plugins,
    sourceFilename: file,
  });
  const compileError = (err: any) => {
    const loc = err?.loc ?? { line: 1, column: 0 };
    const message = String(err?.message ?? err).replace(/\s*\(\d+:\d+\)$/, '');
    return new CompileError(`SyntaxError: ${message}`, file, loc.line, loc.column + 1);
  };
  // Node's own rule for a file whose format nothing declares: CommonJS (a sloppy script, where
  // `await` is an identifier) unless it does not parse as one and does as a module.
  let ast: any;
  let format: ModuleFormat;
  if (options.format) {
    format = options.format;
    try {
      ast = parseAs(format === 'esm' ? 'module' : 'script');
    } catch (err) {
      throw compileError(err);
    }
  } else {
    try {
      ast = parseAs('script');
      format = 'cjs';
    } catch (scriptError) {
      try {
        ast = parseAs('module');
        format = 'esm';
      } catch (moduleError: any) {
        // Neither: the error of the goal that read further is the one that says what is wrong.
        const at = (e: any) => e?.pos ?? 0;
        throw compileError(at(moduleError) > at(scriptError) ? moduleError : scriptError);
      }
    }
  }
  const program: Node = ast.program;

  const declared = collectDeclaredNames(program);
  const timerBindings = collectTimerBindings(program, declared);
  const asyncNames = collectAsyncNames(program);
  const s = new Insertions(source);
  const sites: RuntimeSite[] = [];
  const addSite = (site: RuntimeSite) => sites.push(site) - 1;
  const siteRef = (i: number) => `${BASE}+${i}`;
  const pos = (n: Node) => ({ line: n.loc.start.line, column: n.loc.start.column + 1 });

  const top: FnContext = { node: program, frame: TOP, async: format === 'esm', generator: false };

  // Wraps a region as a statement list: opening text after `start`, closing text before `end`.
  // Every inserted text is bracketed by INSERT_OPEN/INSERT_CLOSE comments: the runtime removes
  // them from what Function.prototype.toString prints, which is then what the user wrote.
  /** Where text was inserted (unordered): which lines keep the user's text as written. */
  const inserted: number[] = [];
  const open = (at: number, text: string) => {
    inserted[inserted.length] = at;
    s.appendRight(at, INSERT_OPEN + text + INSERT_CLOSE);
  };
  const close = (at: number, text: string) => {
    inserted[inserted.length] = at;
    s.prependLeft(at, INSERT_OPEN + text + INSERT_CLOSE);
  };
  /**
   * Function bodies' closing texts, placed once every other text is (see closingLineEnd): at
   * `lineEnd` when that line has text inserted anyway, else before the `}` at `brace`.
   */
  const tails: Array<{ lineStart: number; lineEnd: number; brace: number; text: string }> = [];

  function outerRange(n: Node): [number, number] {
    if (!n.extra?.parenthesized || n.extra.parenStart === undefined) return [n.start, n.end];
    // Count the opening parens between parenStart and the node, then find as many closing ones.
    let depth = 0;
    for (let i = n.extra.parenStart; i < n.start; i++) if (source[i] === '(') depth++;
    let end = n.end;
    while (depth > 0 && end < source.length) {
      if (source[end] === ')') depth--;
      end++;
    }
    return [n.extra.parenStart, end];
  }

  function functionName(fn: Node, ancestors: Node[]): string {
    const parent = ancestors[ancestors.length - 1];
    const keyName = (key: Node, computed: boolean): string => {
      if (computed) return `[${shortenLabel(source.slice(key.start, key.end))}]`;
      if (key.type === 'Identifier') return key.name;
      if (key.type === 'PrivateName') return `#${key.id.name}`;
      if (key.type === 'StringLiteral' || key.type === 'NumericLiteral') return String(key.value);
      return shortenLabel(source.slice(key.start, key.end));
    };
    const ownerName = (container: Node | undefined, containerParent: Node | undefined): string | undefined => {
      if (!container) return undefined;
      if ((container.type === 'ClassBody') && containerParent) {
        if (containerParent.id) return containerParent.id.name;
        const gp = ancestors[ancestors.indexOf(containerParent) - 1];
        if (gp?.type === 'VariableDeclarator' && gp.id.type === 'Identifier') return gp.id.name;
        return undefined;
      }
      if (container.type === 'ObjectExpression') {
        const p = ancestors[ancestors.indexOf(container) - 1];
        if (p?.type === 'VariableDeclarator' && p.id.type === 'Identifier') return p.id.name;
        if (p?.type === 'AssignmentExpression') return shortenLabel(source.slice(p.left.start, p.left.end));
      }
      return undefined;
    };
    const qualify = (owner: string | undefined, name: string) => (owner ? `${owner}.${name}` : name);
    // A getter runs on `o.x`, a setter on `o.x = v`: 'get o.x' and 'set o.x' (as DevTools names
    // them), never a call `o.x()` the user did not write. The recorder knows them by the prefix.
    const accessor = (method: Node, name: string) => (method.kind === 'get' || method.kind === 'set' ? `${method.kind} ${name}` : name);

    if (fn.type === 'ClassMethod' || fn.type === 'ClassPrivateMethod') {
      const body = ancestors[ancestors.length - 1];
      const cls = ancestors[ancestors.length - 2];
      const owner = ownerName(body, cls);
      if (fn.kind === 'constructor') return `new ${owner ?? '(anonymous class)'}`;
      return accessor(fn, qualify(owner, keyName(fn.key, fn.computed)));
    }
    if (fn.type === 'ObjectMethod') {
      return accessor(fn, qualify(ownerName(parent, undefined), keyName(fn.key, fn.computed)));
    }
    if (fn.id?.name) return fn.id.name;
    if (!parent) return '(anonymous)';
    if (parent.type === 'VariableDeclarator' && parent.id.type === 'Identifier') return parent.id.name;
    if (parent.type === 'AssignmentExpression' && parent.right === fn) return shortenLabel(source.slice(parent.left.start, parent.left.end));
    if (parent.type === 'ObjectProperty' && parent.value === fn) {
      return qualify(ownerName(ancestors[ancestors.length - 2], undefined), keyName(parent.key, parent.computed));
    }
    if ((parent.type === 'ClassProperty' || parent.type === 'ClassPrivateProperty') && parent.value === fn) {
      const body = ancestors[ancestors.length - 2];
      const cls = ancestors[ancestors.length - 3];
      return qualify(ownerName(body, cls), keyName(parent.key, parent.computed));
    }
    if (parent.type === 'AssignmentPattern' && parent.left.type === 'Identifier') return parent.left.name;
    return '(anonymous)';
  }

  function paramPreview(fn: Node): { names: string[]; kinds: string[] } {
    const names: string[] = [];
    const kinds: string[] = [];
    for (const raw of fn.params as Node[]) {
      if (names.length === 4) break;
      let p = raw;
      if (p.type === 'TSParameterProperty') p = p.parameter;
      if (p.type === 'AssignmentPattern') p = p.left;
      if (p.type === 'Identifier') {
        if (p.name === 'this') continue; // TypeScript's `this` parameter is erased
        names.push(p.name);
        kinds.push('');
      } else if (p.type === 'RestElement' && p.argument.type === 'Identifier') {
        names.push(p.argument.name);
        kinds.push('…');
      } else {
        names.push('void 0');
        kinds.push(p.type === 'ArrayPattern' || p.argument?.type === 'ArrayPattern' ? '[…]' : '{…}');
      }
    }
    return { names, kinds };
  }

  /**
   * A function body's closing text goes before its `}`; but when the `}` stands on a line of its
   * own after the last statement, and that statement's line has text inserted anyway, at the end
   * of that line: the `}` line stays as the user wrote it. Node prints V8's text of the line of
   * the `}` when a call rejects there (the "Exception in PromiseRejectCallback" of a recursion
   * that overflows); a line with nothing inserted keeps printing as the user's for an error
   * thrown on it.
   */
  function closeBody(block: Node, prologueEnd: number, text: string): void {
    const stmts: Node[] = block.body ?? [];
    const last = stmts.length ? stmts[stmts.length - 1].end : prologueEnd;
    const brace = block.end - 1;
    const m = /^[ \t]*(?:\r\n?|\n|\u2028|\u2029)[\s]*$/.exec(source.slice(last, brace));
    if (!m) {
      close(brace, text);
      return;
    }
    const lineEnd = last + m[0].search(/[\r\n\u2028\u2029]/);
    let lineStart = last;
    while (lineStart > 0 && !/[\r\n\u2028\u2029]/.test(source[lineStart - 1])) lineStart--;
    tails[tails.length] = { lineStart, lineEnd, brace, text };
  }

  /** Inserts text after a block's opening brace and its directive prologue. */
  function afterPrologue(block: Node): number {
    const dirs: Node[] = block.directives ?? [];
    return dirs.length ? dirs[dirs.length - 1].end : block.start + 1;
  }

  function instrumentFunction(fn: Node, ctx: FnContext, ancestors: Node[]) {
    if (!fn.body) return; // overloads, abstract and declared methods
    const name = functionName(fn, ancestors);
    const { names, kinds } = paramPreview(fn);
    const kind = (fn.async ? 1 : 0) + (fn.generator ? 2 : 0);
    const site = addSite({ kind: 'call', label: name, ...pos(fn), fn: kind, params: kinds });
    // enter() itself can be the call that finds the stack full: then the call goes on unrecorded
    // (the recorder's L), and the recursion overflows where node's does, in the program's code.
    const enter = `let ${FRAME};try{${FRAME}=${R}.enter(${siteRef(site)}${names.map((n) => ',' + n).join('')})}catch{${FRAME}=${R}.L}try{`;
    // No catch: a catch-and-rethrow would move where node says an uncaught error was thrown.
    // A call that ends without passing ok() (every return and the body's end call it) threw.
    // What runs after the body's last call makes no call of its own, but leave(): near the end of
    // a stack that a recursion overflowed, any call throws (node's frames there do too), and a
    // throw there would turn the program's return into a rejection node never makes. So leave()
    // is caught: the recorder finishes that call at its next chance (see Recorder.leave).
    const exit = `}finally{try{${R}.leave(${FRAME})}catch{${FRAME}.late=1}}`;
    if (fn.body.type === 'BlockStatement') {
      const at = afterPrologue(fn.body);
      const tail = `;${FRAME}.failed=!1;${FRAME}.returned=void 0${exit}`;
      if (at === fn.body.end - 1) open(at, enter + tail); // empty body: one insertion keeps the order
      else {
        open(at, enter);
        closeBody(fn.body, at, tail);
      }
    } else {
      const [start, end] = outerRange(fn.body);
      open(start, `{${enter}return ${returnOpen(FRAME)}`);
      close(end, `${returnClose(FRAME, isKeptAsyncCall(fn.body, fn))}${exit}}`);
    }
    void ctx;
  }

  function instrumentAwait(n: Node, ctx: FnContext) {
    const label = shortenLabel(source.slice(n.start + 5, n.end));
    const site = addSite({ kind: 'await', label, ...pos(n) });
    // b() only when enter() had room (see Frame.room): not the call a full stack overflows in.
    open(n.start, `(${ctx.frame}.room&&${R}.b(${ctx.frame},${siteRef(site)}),${R}.r(${ctx.frame},`);
    open(n.start + 5, ` ${R}.s(${ctx.frame},`);
    close(n.end, ')))');
  }

  function instrumentForAwait(n: Node, ctx: FnContext, wrapTarget: Node) {
    // Outer wrapping first: closing texts inserted later land before earlier ones.
    open(wrapTarget.start, '{');
    close(wrapTarget.end, `;${R}.fr(${ctx.frame})}`);
    const label = shortenLabel(source.slice(n.right.start, n.right.end));
    const site = addSite({ kind: 'await', label: `for await (… of ${label})`, ...pos(n) });
    const [rs, re] = outerRange(n.right);
    open(rs, `${R}.fa(${ctx.frame},${siteRef(site)},`);
    close(re, ')');
    const body: Node = n.body;
    if (body.type === 'BlockStatement') {
      open(body.start + 1, `${R}.fr(${ctx.frame});`);
    } else {
      open(body.start, `{${R}.fr(${ctx.frame});`);
      close(body.end, '}');
    }
  }

  function instrumentYield(n: Node, ctx: FnContext) {
    open(n.start, `${R}.y(${ctx.frame},`);
    close(n.end, ')');
    if (n.argument) {
      const [as, ae] = outerRange(n.argument);
      open(as, `${R}.ys(${ctx.frame},`);
      close(ae, ')');
    } else {
      close(n.end, ` ${R}.ys(${ctx.frame},void 0)`);
    }
  }

  function instrumentTimer(n: Node) {
    const label = shortenLabel(source.slice(n.start, n.end));
    const site = addSite({ kind: 'timer', label, ...pos(n) });
    // A method call keeps its receiver: the announcement goes around the object (`timers`), not
    // the callee (`timers.setTimeout`).
    const [cs, ce] = outerRange(n.callee.type === 'MemberExpression' ? n.callee.object : n.callee);
    open(cs, `(${R}.ts(${siteRef(site)}),`);
    close(ce, ')');
  }

  function instrumentCombinator(n: Node) {
    const label = shortenLabel(source.slice(n.start, n.end));
    const site = addSite({ kind: 'combinator', label, ...pos(n) });
    open(n.start, `(${R}.co(${siteRef(site)}),${R}.cc(`);
    const args = n.arguments as Node[];
    if (args.length === 1 && args[0].type !== 'SpreadElement') {
      // The argument is evaluated: the combinator's own work gets no context (see Recorder.ca).
      const [as, ae] = outerRange(args[0]);
      open(as, `${R}.ca(`);
      close(ae, ')');
    }
    close(n.end, '))');
  }

  // Where promises come from, read only when a run ends with awaits still pending (pending.ts).
  function instrumentNewPromise(n: Node) {
    const site = addSite({ kind: 'call', label: 'new Promise(…)', ...pos(n) });
    const [ns, ne] = outerRange(n);
    open(ns, `${R}.np(${siteRef(site)},`);
    close(ne, ')');
  }

  /** A call of an async function or method the file declares (by name). */
  const isKnownAsyncCall = (n: Node) =>
    (n.callee.type === 'Identifier' && asyncNames.functions.has(n.callee.name)) ||
    (n.callee.type === 'MemberExpression' && !n.callee.computed && n.callee.property.type === 'Identifier' &&
      asyncNames.methods.has(n.callee.property.name));

  function instrumentDroppedCall(stmt: Node) {
    const n: Node = stmt.expression;
    const site = addSite({ kind: 'call', label: shortenLabel(source.slice(n.start, n.end)), ...pos(n) });
    const [cs, ce] = outerRange(n);
    open(cs, `${R}.fl(${siteRef(site)},`);
    close(ce, `,${isKnownAsyncCall(n) ? 1 : 0})`);
  }

  // `return x` (and an arrow's expression body) records x on the frame without calling the
  // recorder: the frame holds what ok(f, x) would have set, and rc says x is the promise of a
  // call just made (what pc() says of a kept call), which leave() then links to that call.
  const returnOpen = (frame: string) => `(${frame}.returned=(`;
  const returnClose = (frame: string, keptCall: boolean) => `),${frame}.failed=!1${keptCall ? `,${frame}.rc=1` : ''},${frame}.returned)`;
  const isReturned = (n: Node, parent: Node | undefined) =>
    parent !== undefined && ((parent.type === 'ReturnStatement' && parent.argument === n) ||
      (parent.type === 'ArrowFunctionExpression' && parent.body === n));

  function instrumentKeptCall(n: Node) {
    const [cs, ce] = outerRange(n);
    open(cs, `${R}.pc(`);
    close(ce, ')');
  }

  const isNewPromise = (n: Node) =>
    n.type === 'NewExpression' && n.callee.type === 'Identifier' && n.callee.name === 'Promise' && !declared.has('Promise');
  /** `p.catch(f)` or `p.then(f, g)`: the chain handles a rejection, so nothing floats there. */
  const isHandledChain = (call: Node) =>
    call.callee.type === 'MemberExpression' && !call.callee.computed && call.callee.property.type === 'Identifier' &&
    ((call.callee.property.name === 'catch' && call.arguments.length >= 1) ||
      (call.callee.property.name === 'then' && call.arguments.length >= 2));
  const isDroppedCall = (n: Node) =>
    n.type === 'ExpressionStatement' && n.expression.type === 'CallExpression' && n.expression.callee.type !== 'Super' &&
    n.expression.callee.type !== 'Import' && !isHandledChain(n.expression) &&
    !(n.expression.callee.type === 'MemberExpression' && n.expression.callee.object.type === 'Identifier' &&
      n.expression.callee.object.name === 'console');
  const isKeptAsyncCall = (n: Node, parent: Node | undefined) =>
    n.type === 'CallExpression' && isKnownAsyncCall(n) && parent !== undefined && parent.type !== 'AwaitExpression' &&
    parent.type !== 'ExpressionStatement' && !(parent.type === 'MemberExpression' && parent.object === n);

  /**
   * `setTimeout(…)` of the global, or of node:timers by a name the file imported or required it as
   * (`later(…)`, `timers.setTimeout(…)`, `require('timers').setTimeout(…)`): the same function.
   */
  const isTimerCall = (n: Node) => {
    if (n.type !== 'CallExpression') return false;
    const callee = n.callee;
    if (callee.type === 'Identifier') {
      return (TIMER_NAMES.has(callee.name) && !declared.has(callee.name)) || timerBindings.functions.has(callee.name);
    }
    return callee.type === 'MemberExpression' && !callee.computed && callee.property.type === 'Identifier' &&
      TIMER_NAMES.has(callee.property.name) &&
      ((callee.object.type === 'Identifier' && timerBindings.modules.has(callee.object.name)) || isRequireTimers(callee.object));
  };
  const isAwaitedCombinator = (n: Node, parent: Node | undefined) =>
    parent?.type === 'AwaitExpression' && n.type === 'CallExpression' && n.callee.type === 'MemberExpression' &&
    !n.callee.computed && n.callee.object.type === 'Identifier' && n.callee.object.name === 'Promise' &&
    !declared.has('Promise') && n.callee.property.type === 'Identifier' && COMBINATORS.has(n.callee.property.name);

  /** TypeScript that needs compiling, not only its types removed: said plainly, with where. */
  function unsupported(n: Node): void {
    const at = (what: string, advice: string) => new CompileError(
      `${what} is not supported: Await Timeline runs TypeScript by removing its types, and this needs compiling. ${advice}`,
      file, n.loc.start.line, n.loc.start.column + 1);
    if (n.type === 'Decorator') {
      throw at(`The decorator ${shortenLabel(source.slice(n.start, n.end))}`, 'Apply it as a plain call (e.g. `method = logged(method)`), or run the file with tsx.');
    }
    if (n.type === 'ClassAccessorProperty') {
      const key = n.computed ? `[${shortenLabel(source.slice(n.key.start, n.key.end))}]` : shortenLabel(source.slice(n.key.start, n.key.end));
      throw at(`The auto-accessor \`accessor ${key}\``, 'Declare a plain field, or a getter and a setter, or run the file with tsx.');
    }
    if (n.type === 'TSModuleDeclaration' && !n.declare && n.id?.type === 'Identifier' && n.body && hasValues(n.body)) {
      throw at(`The namespace ${n.id.name}`, 'Use an ES module or a plain object, or run the file with tsx.');
    }
  }

  function visit(n: Node, ancestors: Node[], ctx: FnContext) {
    const parent = ancestors[ancestors.length - 1];
    let inner = ctx;
    if (ts) unsupported(n);
    if (FUNCTION_TYPES.has(n.type) && isPromiseExecutor(n, parent)) {
      // `new Promise(r => …)`: always synchronous and short; its work belongs to the caller.
    } else if (FUNCTION_TYPES.has(n.type)) {
      instrumentFunction(n, ctx, ancestors);
      inner = { node: n, frame: FRAME, async: !!n.async, generator: !!n.generator };
    } else if (n.type === 'AwaitExpression') {
      instrumentAwait(n, ctx);
    } else if (n.type === 'ForOfStatement' && n.await) {
      let target: Node = n;
      for (let i = ancestors.length - 1; i >= 0 && ancestors[i].type === 'LabeledStatement'; i--) target = ancestors[i];
      instrumentForAwait(n, ctx, target);
    } else if (n.type === 'YieldExpression') {
      instrumentYield(n, ctx);
    } else if (n.type === 'CatchClause' && (ctx.async || ctx.generator)) {
      open(n.body.start + 1, `${R}.caught(${ctx.frame});`);
    } else if (n.type === 'TryStatement' && n.finalizer && (ctx.async || ctx.generator)) {
      open(n.finalizer.start + 1, `${R}.caught(${ctx.frame});`);
    } else if (n.type === 'ReturnStatement' && ctx !== top) {
      if (n.argument) {
        const [as, ae] = outerRange(n.argument);
        open(as, returnOpen(ctx.frame));
        close(ae, returnClose(ctx.frame, isKeptAsyncCall(n.argument, n)));
      } else {
        // A bare `return;` stays bare: in an async generator `return x` awaits x (one more tick).
        open(n.start, `{${ctx.frame}.failed=!1;${ctx.frame}.returned=void 0;`);
        close(n.end, '}');
      }
    } else if (isTimerCall(n)) {
      instrumentTimer(n);
    } else if (isAwaitedCombinator(n, parent)) {
      instrumentCombinator(n);
    } else if (isNewPromise(n)) {
      instrumentNewPromise(n);
    } else if (isDroppedCall(n)) {
      instrumentDroppedCall(n);
    } else if (isKeptAsyncCall(n, parent) && !isReturned(n, parent)) {
      instrumentKeptCall(n);
    }
    ancestors.push(n);
    for (const key of Object.keys(n)) {
      if (SKIP_KEYS.has(key)) continue;
      const v = n[key];
      if (Array.isArray(v)) {
        for (const c of v) if (isNode(c) && !isTypeOnly(c)) visit(c, ancestors, inner);
      } else if (isNode(v) && !isTypeOnly(v)) {
        visit(v, ancestors, inner);
      }
    }
    ancestors.pop();
    // A statement done is not read again (only its own visit and its ancestors' read a node's
    // children and place): its subtree and its location go, so that the tree need not be held
    // whole until the end.
    if (n.type.endsWith('Statement') && n.type !== 'BlockStatement') {
      for (const key of Object.keys(n)) if (n[key] !== null && typeof n[key] === 'object') n[key] = null;
    }
  }

  const imports = localImports(program);
  visit(program, [], top);

  // The closing texts closeBody() left for now, innermost first (each after what is already at
  // its place: the texts that close the body's last statement there come before it).
  if (tails.length) {
    const at = Float64Array.from(inserted).sort();
    const insertedIn = (from: number, to: number) => {
      let lo = 0;
      let hi = at.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (at[mid] < from) lo = mid + 1;
        else hi = mid;
      }
      return lo < at.length && at[lo] <= to;
    };
    for (let i = tails.length - 1; i >= 0; i--) {
      const t = tails[i];
      s.appendLeft(insertedIn(t.lineStart, t.lineEnd) ? t.lineEnd : t.brace, INSERT_OPEN + t.text + INSERT_CLOSE);
    }
  }

  // The prologue: the site table and the top-level frame, on the first line, after any
  // directive prologue ("use strict" must stay first) and hashbang.
  const first: Node | undefined = (program.body as Node[])[0];
  const dirs = program.directives as Node[];
  const prologueAt = dirs.length ? dirs[dirs.length - 1].end : first ? first.start : source.length;
  const table = JSON.stringify(sites.map(({ kind, label, line, column, fn, params }) => ({ kind, label, line, column, fn, params })));
  // The recorder is read from its registered symbol, by indirect eval (the global scope) when the
  // module declares its own `globalThis` or `Symbol`.
  const lookup = `globalThis[Symbol.for(${JSON.stringify(RUNTIME_KEY)})]`;
  const recorder = declared.has('globalThis') || declared.has('Symbol') ? `(0,eval)(${JSON.stringify(lookup)})` : lookup;
  const prologue = `const ${R}=${recorder},${BASE}=${R}.sites(${JSON.stringify(table)},${JSON.stringify(file)}),${TOP}=${R}.top();`;
  s.appendLeft(prologueAt, INSERT_OPEN + prologue + INSERT_CLOSE);

  // A segment where each run of the user's text starts (on each line), none per character: a
  // position maps as the last segment at or before it plus the distance from it (stackTraces.ts,
  // originalPosition), the same answer for every column, in a map a fraction of the size (a module
  // of 100,000 awaits: 0.4 M segments, not 1.4 M). TypeScript and JSX keep one per character: the
  // composition with sucrase's map aligns each one (composeLineMaps), then drops the redundant.
  const mapComment = (map: any) => {
    map.sources = [file];
    map.sourcesContent = [source];
    const encoded = Buffer.from(JSON.stringify(map)).toString('base64');
    return `\n//# sourceMappingURL=data:application/json;charset=utf-8;base64,${encoded}\n`;
  };
  // Plain JavaScript: the map's comment ends the code as it is put together (megabytes of code
  // are then one string, not a string and a comment joined again when they are read).
  const { code: instrumented, map: map1 } = s.generate({ file, hires: ts || jsx, ...(ts || jsx ? {} : { trailer: mapComment }) });
  let code = instrumented;
  if (ts || jsx) {
    let out;
    const transforms: Array<'typescript' | 'jsx'> = ts ? ['typescript'] : [];
    if (jsx) transforms.push('jsx');
    // JSX as tsc and tsx compile it: the classic factory unless the tsconfig asks for the
    // automatic runtime; no development-only __self/__source props.
    const automatic = /^react-jsx(dev)?$/i.test(String(tsconfig.jsx ?? ''));
    try {
      out = sucrase().transform(instrumented, {
        transforms,
        production: true,
        jsxRuntime: automatic ? 'automatic' : 'classic',
        jsxImportSource: tsconfig.jsxImportSource,
        jsxPragma: tsconfig.jsxFactory,
        jsxFragmentPragma: tsconfig.jsxFragmentFactory,
        disableESTransforms: true,
        injectCreateRequireForImportRequire: format === 'esm',
        filePath: `${file}#instrumented`,
        sourceMapOptions: { compiledFilename: file },
      });
    } catch (err: any) {
      throw new CompileError(`SyntaxError: ${String(err?.message ?? err)}`, file, 1, 1);
    }
    code = out.code;
    code += mapComment({ version: 3, file, names: [], mappings: composeLineMaps(code, instrumented, out.sourceMap!.mappings, map1.mappings) });
  }
  return { code, format, sites, localImports: imports };
}

/** A namespace body with anything but types in it (a types-only namespace is erased, as by tsc). */
function hasValues(body: Node): boolean {
  if (body.type === 'TSModuleDeclaration') return !body.declare && !!body.body && hasValues(body.body);
  return (body.body as Node[]).some((st) => {
    const d = st.type === 'ExportNamedDeclaration' && st.declaration ? st.declaration : st;
    if (d.declare) return false;
    if (d.type === 'TSModuleDeclaration') return hasValues(d.body ?? { body: [] });
    return !(d.type === 'TSInterfaceDeclaration' || d.type === 'TSTypeAliasDeclaration' || d.type === 'TSDeclareFunction' ||
      (d.type === 'ExportNamedDeclaration' && !d.declaration));
  });
}

function isPromiseExecutor(fn: Node, parent: Node | undefined): boolean {
  return parent?.type === 'NewExpression' && parent.arguments[0] === fn &&
    parent.callee.type === 'Identifier' && parent.callee.name === 'Promise';
}

function isTypeOnly(n: Node): boolean {
  if (!n.type.startsWith('TS')) return false;
  return !(n.type === 'TSAsExpression' || n.type === 'TSSatisfiesExpression' || n.type === 'TSNonNullExpression' ||
    n.type === 'TSTypeAssertion' || n.type === 'TSParameterProperty' || n.type === 'TSExportAssignment' ||
    n.type === 'TSEnumDeclaration' || n.type === 'TSEnumMember' || n.type === 'TSModuleDeclaration' ||
    n.type === 'TSModuleBlock' || n.type === 'TSImportEqualsDeclaration' || n.type === 'TSInstantiationExpression');
}

/** Calls `fn` on every child node of `n` worth visiting. */
function forEachChild(n: Node, fn: (child: Node) => void): void {
  for (const key of Object.keys(n)) {
    if (SKIP_KEYS.has(key)) continue;
    const v = n[key];
    if (Array.isArray(v)) {
      for (const c of v) if (isNode(c)) fn(c);
    } else if (isNode(v)) fn(v);
  }
}

/** Names of the async functions and async methods the file declares. */
function collectAsyncNames(program: Node): { functions: Set<string>; methods: Set<string> } {
  const functions = new Set<string>();
  const methods = new Set<string>();
  const walk = (n: Node, parent: Node | undefined) => {
    if (n.async && !n.generator) {
      if (n.type === 'FunctionDeclaration' && n.id) functions.add(n.id.name);
      else if ((n.type === 'FunctionExpression' || n.type === 'ArrowFunctionExpression') && parent?.type === 'VariableDeclarator' &&
        parent.id.type === 'Identifier') functions.add(parent.id.name);
      else if ((n.type === 'ClassMethod' || n.type === 'ObjectMethod') && !n.computed && n.key.type === 'Identifier') methods.add(n.key.name);
      else if ((n.type === 'FunctionExpression' || n.type === 'ArrowFunctionExpression') &&
        (parent?.type === 'ClassProperty' || parent?.type === 'ObjectProperty') && !parent.computed && parent.key.type === 'Identifier') {
        methods.add(parent.key.name);
      }
    }
    forEachChild(n, (c) => walk(c, n));
  };
  walk(program, undefined);
  return { functions, methods };
}

function localImports(program: Node): string[] {
  const found = new Set<string>();
  const literal = (n: Node | undefined) => {
    if (n && n.type === 'StringLiteral' && /^\.{1,2}\//.test(n.value)) found.add(n.value);
  };
  const walk = (n: Node) => {
    if (n.type === 'ImportDeclaration' || n.type === 'ExportAllDeclaration' || n.type === 'ExportNamedDeclaration') {
      if (n.importKind !== 'type' && n.exportKind !== 'type') literal(n.source);
    } else if (n.type === 'ImportExpression') literal(n.source);
    else if (n.type === 'CallExpression' && (n.callee.type === 'Import' || (n.callee.type === 'Identifier' && n.callee.name === 'require'))) {
      literal(n.arguments[0]);
    }
    forEachChild(n, walk);
  };
  walk(program);
  return [...found];
}

const TIMER_MODULES = new Set(['timers', 'node:timers']);

/** `require('timers')` / `require('node:timers')`. */
const isRequireTimers = (n: Node | null | undefined): boolean =>
  !!n && n.type === 'CallExpression' && n.callee.type === 'Identifier' && n.callee.name === 'require' &&
  n.arguments.length === 1 && n.arguments[0].type === 'StringLiteral' && TIMER_MODULES.has(n.arguments[0].value);

/**
 * The names that hold node:timers' own setTimeout/setInterval/setImmediate (`import { setTimeout as
 * later } from 'node:timers'`, `const { setInterval } = require('timers')`) and the names that
 * hold the module itself (`import * as timers`, `import timers`, `const timers = require('timers')`):
 * their calls are timers as the global ones are. Only names the file binds once (that binding).
 */
function collectTimerBindings(program: Node, declared: Map<string, number>): { functions: Set<string>; modules: Set<string> } {
  const functions = new Set<string>();
  const modules = new Set<string>();
  const once = (name: string) => declared.get(name) === 1;
  const walk = (n: Node) => {
    if (n.type === 'ImportDeclaration' && n.importKind !== 'type' && n.source.type === 'StringLiteral' && TIMER_MODULES.has(n.source.value)) {
      for (const sp of n.specifiers as Node[]) {
        if (sp.importKind === 'type' || !once(sp.local.name)) continue;
        if (sp.type === 'ImportSpecifier') {
          const imported = sp.imported.type === 'Identifier' ? sp.imported.name : sp.imported.value;
          if (TIMER_NAMES.has(imported)) functions.add(sp.local.name);
        } else {
          modules.add(sp.local.name);
        }
      }
    } else if (n.type === 'VariableDeclarator' && n.init) {
      const init = n.init;
      if (isRequireTimers(init) && n.id.type === 'Identifier' && once(n.id.name)) modules.add(n.id.name);
      else if (isRequireTimers(init) && n.id.type === 'ObjectPattern') {
        for (const q of n.id.properties as Node[]) {
          if (q.type !== 'ObjectProperty' || q.computed || q.value.type !== 'Identifier' || !once(q.value.name)) continue;
          const key = q.key.type === 'Identifier' ? q.key.name : q.key.type === 'StringLiteral' ? q.key.value : '';
          if (TIMER_NAMES.has(key)) functions.add(q.value.name);
        }
      } else if (init.type === 'MemberExpression' && !init.computed && init.property.type === 'Identifier' &&
        TIMER_NAMES.has(init.property.name) && isRequireTimers(init.object) && n.id.type === 'Identifier' && once(n.id.name)) {
        functions.add(n.id.name);
      }
    }
    forEachChild(n, walk);
  };
  walk(program);
  return { functions, modules };
}

/**
 * Every name the file binds anywhere, with how many times; a global we patch is only trusted when
 * the file never rebinds it.
 */
function collectDeclaredNames(program: Node): Map<string, number> {
  const names = new Map<string, number>();
  const add = (name: string) => names.set(name, (names.get(name) ?? 0) + 1);
  const addPattern = (p: Node | null | undefined) => {
    if (!p) return;
    switch (p.type) {
      case 'Identifier': add(p.name); break;
      case 'AssignmentPattern': addPattern(p.left); break;
      case 'RestElement': addPattern(p.argument); break;
      case 'ArrayPattern': p.elements.forEach((e: Node | null) => addPattern(e)); break;
      case 'ObjectPattern': p.properties.forEach((q: Node) => addPattern(q.type === 'RestElement' ? q : q.value)); break;
      case 'TSParameterProperty': addPattern(p.parameter); break;
    }
  };
  const walk = (n: Node) => {
    switch (n.type) {
      case 'VariableDeclarator': addPattern(n.id); break;
      case 'FunctionDeclaration': case 'ClassDeclaration': if (n.id) add(n.id.name); break;
      case 'ImportSpecifier': case 'ImportDefaultSpecifier': case 'ImportNamespaceSpecifier': add(n.local.name); break;
      case 'CatchClause': addPattern(n.param); break;
    }
    if (FUNCTION_TYPES.has(n.type)) (n.params as Node[]).forEach(addPattern);
    forEachChild(n, walk);
  };
  walk(program);
  return names;
}
