// Finds awaits that the code runs one after another although none needs another's result, and
// writes the Promise.all rewrite for them. Pure: source text in, candidates out; the run's
// measurements are joined in insights.ts.
//
// Conservative by design: a missed suggestion costs little, a wrong "safe" breaks the user's code.
// - Data flow is by name: two different names are two different variables, and any reuse of a
//   name (shadowing included) counts as a dependency.
// - Calls may talk through shared state, so the awaited expressions of a group (or a loop's
//   iterations) may only share names used as a callee (`cook(…)`, `fetch(…)`) or names that hold a
//   primitive that never changes (a `const` with a literal, a parameter typed string/number/boolean).
//   An awaited expression that reads a name assigned or mutated anywhere in the file (`x = …`, `x++`,
//   `x.y = …`, `x.push(…)`), uses `this`, `arguments` or `eval`, assigns anything, or holds another
//   await or yield, joins no group.
// - The await's argument must be a call (or `new`): `await promise` and `await null` are left alone.
// - Statements of a group are consecutive in one block, nothing between them. An await whose
//   result is unused (`await heatPan();`) is there for its effect: it may end a group, never start
//   or continue one, since what follows may rely on that effect.
// - Inside a `try` block the insight is reported, but no fix is offered: with Promise.all the later
//   calls start even when an earlier one throws, and the catch would run with them in flight.
// - Loops: `for (const x of xs)` or `for (let i = 0; i < n; i++)` whose body is only
//   `await f(x);`, `const r = await f(x);`, `arr.push(await f(x));` or `const r = await f(x); arr.push(r);`.
//   `for await`, labelled loops and anything else in the body are left alone.
import type { ParserPlugin } from '@babel/parser';
import { transformModule } from './instrument';

import type { Insight, InsightFix, InsightSite } from '../shared/timeline';

/** A place in the code where awaits could overlap, found from the code alone. */
export interface OverlapCandidate {
  kind: Insight['kind'];
  /** 1-based first line of the statements involved. */
  line: number;
  /** 1-based last line of the statements involved. */
  endLine: number;
  /** The `await` keywords involved, in source order (1-based, as the transform records them). */
  sites: InsightSite[];
  /** The Promise.all rewrite, when it is safe. */
  fix?: OverlapFix;
  /** Why no fix is offered, when there is none. */
  noFix?: string;
}

/** A fix, with source offsets as well as lines and columns. */
export interface OverlapFix extends InsightFix {
  /** Offset of the first replaced character. */
  start: number;
  /** Offset just after the last replaced character. */
  end: number;
}

interface Node {
  type: string;
  start: number;
  end: number;
  loc: { start: { line: number; column: number }; end: { line: number; column: number } };
  extra?: { parenthesized?: boolean };
  [key: string]: any;
}

const FUNCTION_TYPES = new Set([
  'FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression',
  'ObjectMethod', 'ClassMethod', 'ClassPrivateMethod',
]);
const SKIP_KEYS = new Set(['loc', 'start', 'end', 'extra', 'leadingComments', 'trailingComments', 'innerComments',
  'typeAnnotation', 'returnType', 'typeParameters', 'superTypeParameters', 'implements', 'predicate', 'typeArguments']);
/** Methods that change the object they are called on. */
const MUTATORS = new Set(['push', 'pop', 'shift', 'unshift', 'splice', 'sort', 'reverse', 'fill', 'copyWithin',
  'set', 'add', 'delete', 'clear', 'assign', 'defineProperty', 'setPrototypeOf']);
const PRIMITIVE_TS_TYPES = new Set(['TSStringKeyword', 'TSNumberKeyword', 'TSBooleanKeyword', 'TSBigIntKeyword']);
/** Longest single line the rewrite is kept on. */
const MAX_LINE = 100;

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && typeof (v as Node).type === 'string' && typeof (v as Node).start === 'number';
}

function forEachChild(n: Node, fn: (child: Node, key: string) => void): void {
  for (const key of Object.keys(n)) {
    if (SKIP_KEYS.has(key)) continue;
    const v = n[key];
    if (Array.isArray(v)) {
      for (const c of v) if (isNode(c)) fn(c, key);
    } else if (isNode(v)) fn(v, key);
  }
}

/** Parses like the transform does; .tsx/.jsx get JSX too (the editor's quick fix sees them). */
export function parseForOverlap(source: string, file: string): Node | undefined {
  const ts = /\.(c|m)?tsx?$/i.test(file);
  const plugins: ParserPlugin[] = ts ? ['typescript'] : [];
  if (/\.(t|j)sx$/i.test(file)) plugins.push('jsx');
  try {
    return transformModule().parse(source, {
      sourceType: 'unambiguous',
      allowAwaitOutsideFunction: true,
      allowReturnOutsideFunction: true,
      errorRecovery: false,
      plugins,
    }) as unknown as Node;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- what an expression reads

interface Refs {
  /** Every name referenced, in any position. */
  all: Set<string>;
  /** Names referenced other than as the callee of a call. */
  values: Set<string>;
  /** Uses this, super, arguments or eval; assigns or updates anything; awaits or yields. */
  unsafe: boolean;
}

function collectRefs(root: Node): Refs {
  const refs: Refs = { all: new Set(), values: new Set(), unsafe: false };
  const walk = (n: Node, parent: Node | undefined, key: string, inFunction: boolean) => {
    switch (n.type) {
      case 'Identifier':
      case 'JSXIdentifier': {
        if (parent && isNonReference(parent, key, n)) break;
        if (n.name === 'arguments' || n.name === 'eval') refs.unsafe = true;
        refs.all.add(n.name);
        const callee = key === 'callee' || key === 'tag';
        if (!callee) refs.values.add(n.name);
        break;
      }
      case 'ThisExpression':
      case 'Super':
      case 'AssignmentExpression':
      case 'UpdateExpression':
        refs.unsafe = true;
        break;
      case 'UnaryExpression':
        if (n.operator === 'delete') refs.unsafe = true;
        break;
      case 'AwaitExpression':
      case 'YieldExpression':
        if (!inFunction) refs.unsafe = true;
        break;
    }
    const inner = inFunction || FUNCTION_TYPES.has(n.type);
    forEachChild(n, (c, k) => {
      if (isTypeOnly(c)) return;
      walk(c, n, k, inner);
    });
  };
  walk(root, undefined, '', false);
  return refs;
}

/** Identifiers that name a property, a label or a key rather than a variable. */
function isNonReference(parent: Node, key: string, n: Node): boolean {
  switch (parent.type) {
    case 'MemberExpression':
    case 'OptionalMemberExpression':
    case 'JSXMemberExpression':
      return key === 'property' && !parent.computed;
    case 'ObjectProperty':
      // A shorthand `{ a }` has the same name as key and value: the value is the read.
      return key === 'key' && !parent.computed;
    case 'ObjectMethod':
    case 'ClassMethod':
    case 'ClassProperty':
    case 'ClassPrivateProperty':
    case 'ClassAccessorProperty':
      return key === 'key' && !parent.computed;
    case 'LabeledStatement':
    case 'BreakStatement':
    case 'ContinueStatement':
      return key === 'label';
    case 'JSXAttribute':
      return key === 'name';
    default:
      return n.type === 'JSXIdentifier' && /^[a-z]/.test(n.name) && parent.type === 'JSXOpeningElement'; // <div>: a tag, not a variable
  }
}

function isTypeOnly(n: Node): boolean {
  if (!n.type.startsWith('TS')) return false;
  return !(n.type === 'TSAsExpression' || n.type === 'TSSatisfiesExpression' || n.type === 'TSNonNullExpression' ||
    n.type === 'TSTypeAssertion' || n.type === 'TSInstantiationExpression' || n.type === 'TSParameterProperty');
}

/** Strips TypeScript's expression wrappers (`as`, `!`, `satisfies`). */
function unwrap(n: Node): Node {
  while (n.type === 'TSAsExpression' || n.type === 'TSSatisfiesExpression' || n.type === 'TSNonNullExpression' || n.type === 'TSTypeAssertion') n = n.expression;
  return n;
}

const isCall = (n: Node) => {
  const u = unwrap(n);
  return u.type === 'CallExpression' || u.type === 'OptionalCallExpression' || u.type === 'NewExpression';
};

// ---------------------------------------------------------------- facts about the whole file

interface FileFacts {
  /** Names assigned after their declaration, updated, or whose object is changed, anywhere. */
  mutable: Set<string>;
  /** Names whose every declaration holds a primitive that never changes. */
  primitive: Set<string>;
  /** Names whose every declaration is a `const` array literal or a parameter typed as an array. */
  arrays: Set<string>;
  /** What calling these names may read and change outside the called functions, for functions defined in this file. */
  effects: (names: Iterable<string>) => Effects;
}

/** Names outside a function that calling it may read or change (its own locals left out). */
interface Effects {
  reads: Set<string>;
  writes: Set<string>;
}

function rootName(n: Node): string | undefined {
  let cur = unwrap(n);
  while (cur.type === 'MemberExpression' || cur.type === 'OptionalMemberExpression') cur = unwrap(cur.object);
  return cur.type === 'Identifier' ? cur.name : undefined;
}

function patternNames(p: Node | null | undefined, out: Set<string>, reads?: Node[]): boolean {
  if (!p) return true;
  switch (p.type) {
    case 'Identifier':
      out.add(p.name);
      return true;
    case 'AssignmentPattern':
      reads?.push(p.right);
      return patternNames(p.left, out, reads);
    case 'RestElement':
      return patternNames(p.argument, out, reads);
    case 'ArrayPattern':
      return (p.elements as (Node | null)[]).every((e) => patternNames(e, out, reads));
    case 'ObjectPattern':
      return (p.properties as Node[]).every((q) => {
        if (q.type === 'RestElement') return patternNames(q, out, reads);
        if (q.computed) reads?.push(q.key);
        return patternNames(q.value, out, reads);
      });
    default:
      return false; // member expressions and the like: not a plain binding
  }
}

/** Names a node assigns, updates, deletes from or calls a mutating method on (the root of `a.b.c = …`). */
function writtenNames(root: Node): Set<string> {
  const out = new Set<string>();
  const target = (t: Node) => {
    if (!patternNames(t, out)) {
      const r = rootName(t);
      if (r) out.add(r);
      collectRefs(t).all.forEach((n) => out.add(n));
    }
  };
  const walk = (n: Node) => {
    if (n.type === 'AssignmentExpression') target(n.left);
    else if (n.type === 'UpdateExpression') target(n.argument);
    else if (n.type === 'UnaryExpression' && n.operator === 'delete') {
      const r = rootName(n.argument);
      if (r) out.add(r);
    } else if ((n.type === 'ForInStatement' || n.type === 'ForOfStatement') && n.left.type !== 'VariableDeclaration') target(n.left);
    else if (n.type === 'CallExpression' || n.type === 'OptionalCallExpression') {
      const callee = unwrap(n.callee);
      if ((callee.type === 'MemberExpression' || callee.type === 'OptionalMemberExpression') && !callee.computed &&
        callee.property.type === 'Identifier' && MUTATORS.has(callee.property.name)) {
        const r = rootName(callee.object);
        if (r) out.add(r);
        const first = n.arguments[0];
        const fr = first ? rootName(first) : undefined;
        if (fr) out.add(fr);
      }
    }
    forEachChild(n, walk);
  };
  walk(root);
  return out;
}

/**
 * For each function this file defines by name (`function f`, `const f = (…) => …`): the names
 * outside it that it reads and changes, following the calls it makes to other such functions.
 * A name counts as the function's own only when every declaration of it is inside the function.
 */
function functionEffects(program: Node): (names: Iterable<string>) => Effects {
  const functions = new Map<string, Node[]>();
  const declaredIn = new Map<string, Array<Node | null>>();
  const parentFn = new Map<Node, Node | null>();
  const declare = (name: string, fn: Node | null) => {
    let list = declaredIn.get(name);
    if (!list) declaredIn.set(name, (list = []));
    list.push(fn);
  };
  const declarePattern = (p: Node | null | undefined, fn: Node | null) => {
    const names = new Set<string>();
    patternNames(p, names);
    names.forEach((n) => declare(n, fn));
  };
  const addFunction = (name: string, fn: Node) => {
    let list = functions.get(name);
    if (!list) functions.set(name, (list = []));
    list.push(fn);
  };
  const walk = (n: Node, fn: Node | null) => {
    if (FUNCTION_TYPES.has(n.type)) {
      parentFn.set(n, fn);
      if (n.type === 'FunctionDeclaration' && n.id) {
        declare(n.id.name, fn);
        addFunction(n.id.name, n);
      }
      if (n.type === 'FunctionExpression' && n.id) declare(n.id.name, n);
      for (const raw of n.params as Node[]) declarePattern(raw.type === 'TSParameterProperty' ? raw.parameter : raw, n);
      forEachChild(n, (c) => walk(c, n));
      return;
    }
    switch (n.type) {
      case 'VariableDeclarator': {
        declarePattern(n.id, fn);
        const init = n.init ? unwrap(n.init) : undefined;
        if (n.id.type === 'Identifier' && init && (init.type === 'ArrowFunctionExpression' || init.type === 'FunctionExpression')) addFunction(n.id.name, init);
        break;
      }
      case 'ClassDeclaration':
        if (n.id) declare(n.id.name, fn);
        break;
      case 'CatchClause':
        declarePattern(n.param, fn);
        break;
      case 'ImportSpecifier':
      case 'ImportDefaultSpecifier':
      case 'ImportNamespaceSpecifier':
        declare(n.local.name, null);
        break;
    }
    forEachChild(n, (c) => walk(c, fn));
  };
  walk(program, null);

  const inside = (inner: Node | null, outer: Node) => {
    for (let f = inner; f; f = parentFn.get(f) ?? null) if (f === outer) return true;
    return false;
  };
  const own = (name: string, fn: Node) => {
    const list = declaredIn.get(name);
    return !!list && list.every((d) => inside(d, fn));
  };
  // Each function's own effects, then what its calls add, until nothing grows (calls may cycle).
  const effectsOf = new Map<Node, Effects>();
  for (const list of functions.values()) {
    for (const fn of list) {
      const effects: Effects = { reads: new Set(), writes: new Set() };
      for (const name of collectRefs(fn).all) if (!own(name, fn)) effects.reads.add(name);
      for (const name of writtenNames(fn)) if (!own(name, fn)) effects.writes.add(name);
      effectsOf.set(fn, effects);
    }
  }
  for (let changed = true; changed;) {
    changed = false;
    for (const [fn, effects] of effectsOf) {
      const before = effects.reads.size + effects.writes.size;
      for (const name of [...effects.reads]) {
        for (const callee of functions.get(name) ?? []) {
          if (callee === fn) continue;
          const e = effectsOf.get(callee)!;
          e.reads.forEach((r) => effects.reads.add(r));
          e.writes.forEach((w) => effects.writes.add(w));
        }
      }
      if (effects.reads.size + effects.writes.size !== before) changed = true;
    }
  }
  const ofFunction = (fn: Node): Effects => effectsOf.get(fn)!;
  return (names) => {
    const out: Effects = { reads: new Set(), writes: new Set() };
    for (const name of names) {
      for (const fn of functions.get(name) ?? []) {
        const e = ofFunction(fn);
        e.reads.forEach((r) => out.reads.add(r));
        e.writes.forEach((w) => out.writes.add(w));
      }
    }
    return out;
  };
}

function collectFacts(program: Node): FileFacts {
  const mutable = new Set<string>();
  const decls = new Map<string, Array<'primitive' | 'array' | 'other'>>();
  const declare = (name: string, what: 'primitive' | 'array' | 'other') => {
    let list = decls.get(name);
    if (!list) decls.set(name, (list = []));
    list.push(what);
  };
  const declarePattern = (p: Node | null | undefined, what: 'primitive' | 'array' | 'other') => {
    const names = new Set<string>();
    patternNames(p, names);
    for (const n of names) declare(n, p?.type === 'Identifier' ? what : 'other');
  };
  const markTarget = (t: Node) => {
    const names = new Set<string>();
    if (patternNames(t, names)) for (const n of names) mutable.add(n);
    else {
      const root = rootName(t);
      if (root) mutable.add(root);
      // A pattern with member targets inside: every name in it.
      collectRefs(t).all.forEach((n) => mutable.add(n));
    }
  };
  const walk = (n: Node) => {
    switch (n.type) {
      case 'AssignmentExpression':
        markTarget(n.left);
        break;
      case 'UpdateExpression':
        markTarget(n.argument);
        break;
      case 'UnaryExpression':
        if (n.operator === 'delete') {
          const root = rootName(n.argument);
          if (root) mutable.add(root);
        }
        break;
      case 'CallExpression':
      case 'OptionalCallExpression': {
        const callee = unwrap(n.callee);
        if ((callee.type === 'MemberExpression' || callee.type === 'OptionalMemberExpression') && !callee.computed &&
          callee.property.type === 'Identifier' && MUTATORS.has(callee.property.name)) {
          const root = rootName(callee.object);
          if (root) mutable.add(root);
          // Object.assign(x, …), Object.defineProperty(x, …), Reflect.set(x, …): the first argument changes.
          const first = n.arguments[0];
          if (first) {
            const r = rootName(first);
            if (r) mutable.add(r);
          }
        }
        break;
      }
      case 'ForInStatement':
      case 'ForOfStatement':
        if (n.left.type !== 'VariableDeclaration') markTarget(n.left);
        break;
      case 'VariableDeclaration':
        for (const d of n.declarations as Node[]) {
          const init = d.init ? unwrap(d.init) : undefined;
          const literal = !!init && (['StringLiteral', 'NumericLiteral', 'BooleanLiteral', 'BigIntLiteral', 'NullLiteral'].includes(init.type) ||
            (init.type === 'TemplateLiteral' && init.expressions.length === 0));
          const konst = n.kind === 'const';
          declarePattern(d.id, konst && literal ? 'primitive' : konst && init?.type === 'ArrayExpression' ? 'array' : 'other');
        }
        break;
      case 'FunctionDeclaration':
      case 'ClassDeclaration':
        if (n.id) declare(n.id.name, 'other');
        break;
      case 'CatchClause':
        declarePattern(n.param, 'other');
        break;
      case 'ImportSpecifier':
      case 'ImportDefaultSpecifier':
      case 'ImportNamespaceSpecifier':
        declare(n.local.name, 'other');
        break;
    }
    if (FUNCTION_TYPES.has(n.type)) {
      for (const raw of n.params as Node[]) {
        const p = raw.type === 'TSParameterProperty' ? raw.parameter : raw;
        const type = p.type === 'Identifier' ? p.typeAnnotation?.typeAnnotation : undefined;
        const isArray = type?.type === 'TSArrayType' || (type?.type === 'TSTypeReference' && type.typeName?.name === 'Array');
        declarePattern(p, PRIMITIVE_TS_TYPES.has(type?.type) ? 'primitive' : isArray ? 'array' : 'other');
      }
    }
    forEachChild(n, (c) => walk(c));
  };
  walk(program);
  const primitive = new Set<string>();
  const arrays = new Set<string>();
  for (const [name, list] of decls) {
    if (mutable.has(name)) continue;
    if (list.every((w) => w === 'primitive')) primitive.add(name);
    if (list.every((w) => w === 'array')) arrays.add(name);
  }
  return { mutable, primitive, arrays, effects: functionEffects(program) };
}

// ---------------------------------------------------------------- groups of consecutive awaits

interface GroupItem {
  stmt: Node;
  await: Node;
  arg: Node;
  form: 'bare' | 'decl' | 'assign';
  /** For decl: const, let or var. */
  declKind?: string;
  /** The binding pattern or assignment target. */
  target?: Node;
  writes: Set<string>;
  /** Names read by the awaited expression and by the pattern's defaults and computed keys. */
  reads: Set<string>;
  values: Set<string>;
  /** The pattern has a type annotation: the rewrite would lose it. */
  typed: boolean;
  /** What the functions it calls (those defined in this file) read and change elsewhere. */
  effects: Effects;
}

function asGroupItem(stmt: Node, facts: FileFacts): GroupItem | undefined {
  let form: GroupItem['form'];
  let aw: Node | undefined;
  let target: Node | undefined;
  let declKind: string | undefined;
  if (stmt.type === 'ExpressionStatement') {
    const e = stmt.expression as Node;
    if (e.type === 'AwaitExpression') {
      form = 'bare';
      aw = e;
    } else if (e.type === 'AssignmentExpression' && e.operator === '=' && e.right.type === 'AwaitExpression' && !e.right.extra?.parenthesized) {
      form = 'assign';
      aw = e.right;
      target = e.left;
    } else return undefined;
  } else if (stmt.type === 'VariableDeclaration' && ['const', 'let', 'var'].includes(stmt.kind) && !stmt.declare && stmt.declarations.length === 1) {
    const d = stmt.declarations[0] as Node;
    if (!d.init || d.init.type !== 'AwaitExpression' || d.definite) return undefined;
    form = 'decl';
    aw = d.init;
    target = d.id;
    declKind = stmt.kind;
  } else return undefined;
  const a = aw as Node;
  if (!a.argument || !isCall(a.argument)) return undefined;
  const writes = new Set<string>();
  const defaults: Node[] = [];
  if (target && !patternNames(target, writes, defaults)) return undefined;
  const refs = collectRefs(a.argument);
  if (refs.unsafe) return undefined;
  const reads = new Set(refs.all);
  const values = new Set(refs.values);
  for (const d of defaults) {
    const r = collectRefs(d);
    if (r.unsafe) return undefined;
    r.all.forEach((x) => reads.add(x));
    r.values.forEach((x) => values.add(x));
  }
  for (const name of reads) if (facts.mutable.has(name) && !writes.has(name)) return undefined;
  const typed = !!target?.typeAnnotation;
  return { stmt, await: a, arg: a.argument, form, declKind, target, writes, reads, values, typed, effects: facts.effects(reads) };
}

/** An awaited `Promise.all([...])` / `allSettled` whose pattern leaves some element's result unused. */
function dropsAResult(item: GroupItem): boolean {
  const call = unwrap(item.arg);
  const callee = call.type === 'CallExpression' ? unwrap(call.callee as Node) : undefined;
  if (!callee || callee.type !== 'MemberExpression' || callee.computed || callee.object.type !== 'Identifier' || callee.object.name !== 'Promise') return false;
  if (callee.property.name !== 'all' && callee.property.name !== 'allSettled') return false;
  const list = call.arguments[0] as Node | undefined;
  if (!list || list.type !== 'ArrayExpression' || list.elements.some((e: Node | null) => !e || e.type === 'SpreadElement')) return false;
  const target = item.target;
  if (!target || target.type !== 'ArrayPattern') return false;
  const elems = target.elements as (Node | null)[];
  if (elems.some((e) => e?.type === 'RestElement')) return false;
  return list.elements.some((_: Node, i: number) => !elems[i]);
}

/** May `later` run alongside `earlier` (which comes first in the code)? */
function independent(earlier: GroupItem, later: GroupItem, facts: FileFacts): boolean {
  for (const w of earlier.writes) {
    if (later.reads.has(w) || later.writes.has(w) || later.effects.reads.has(w)) return false;
  }
  // The called functions run interleaved under Promise.all: what one changes, the other must not touch.
  const touches = (item: GroupItem, name: string) => item.reads.has(name) || item.effects.reads.has(name) || item.effects.writes.has(name) || item.writes.has(name);
  for (const w of earlier.effects.writes) if (touches(later, w)) return false;
  for (const w of later.effects.writes) if (touches(earlier, w)) return false;
  // Writes of the later statement that the earlier one reads are fine: with Promise.all every
  // expression is evaluated before any result is assigned, as before.
  for (const v of earlier.reads) {
    if (!later.reads.has(v)) continue;
    const bothCallee = !earlier.values.has(v) && !later.values.has(v);
    if (!bothCallee && !facts.primitive.has(v)) return false;
  }
  return true;
}

function compatible(group: GroupItem[], item: GroupItem): boolean {
  const kinds = new Set<string>();
  for (const g of [...group, item]) if (g.form !== 'bare') kinds.add(g.form === 'decl' ? `decl:${g.declKind}` : 'assign');
  return kinds.size <= 1;
}

// ---------------------------------------------------------------- the walk

interface Context {
  source: string;
  facts: FileFacts;
  comments: Node[];
  out: OverlapCandidate[];
}

/** Candidates in source order. */
export function findOverlapCandidates(source: string, file: string): OverlapCandidate[] {
  const ast = parseForOverlap(source, file);
  if (!ast) return [];
  const program = ast.program as Node;
  const ctx: Context = { source, facts: collectFacts(program), comments: (ast.comments as Node[]) ?? [], out: [] };
  const walk = (n: Node, fn: { async: boolean }, inTry: boolean) => {
    if (n.type === 'BlockStatement' || n.type === 'Program') {
      if (fn.async) scanBlock(n.body as Node[], ctx, inTry);
    }
    forEachChild(n, (c, key) => {
      if (isTypeOnly(c)) return;
      if (FUNCTION_TYPES.has(c.type)) walk(c, { async: !!c.async }, false);
      else if (c.type === 'StaticBlock' || c.type === 'ClassProperty' || c.type === 'ClassPrivateProperty') walk(c, { async: false }, false);
      else walk(c, fn, inTry || (n.type === 'TryStatement' && key === 'block'));
    });
  };
  // Top-level await is only valid where the file is a module; the parse already said so.
  walk(program, { async: true }, false);
  return ctx.out.sort((a, b) => a.line - b.line);
}

function scanBlock(body: Node[], ctx: Context, inTry: boolean): void {
  let group: GroupItem[] = [];
  const flush = () => {
    if (group.length >= 2) ctx.out.push(groupCandidate(group, ctx, inTry));
    group = [];
  };
  for (let i = 0; i < body.length; i++) {
    const stmt = body[i];
    const item = asGroupItem(stmt, ctx.facts);
    if (!item) {
      flush();
      const loop = loopCandidate(stmt, body[i - 1], ctx, inTry);
      if (loop) ctx.out.push(loop);
      continue;
    }
    // A statement that needs an earlier one's result closes the group: it starts the next one.
    if (group.length && (!compatible(group, item) || !group.every((g) => independent(g, item, ctx.facts)))) flush();
    group.push(item);
    // An await whose result is not used is there for what it does (heat the pan, create the
    // folder): what follows may rely on it having happened, so nothing after it joins the group.
    // The same for a Promise.all that drops a result (`const [toast] = await Promise.all([makeToast(),
    // heatPan()])`, the fix's own output): otherwise a second fix nests it and fries the eggs
    // before the pan is hot.
    if (item.form === 'bare' || dropsAResult(item)) flush();
  }
  flush();
}

const pos = (n: Node): InsightSite => ({ line: n.loc.start.line, column: n.loc.start.column + 1 });

function lineIndent(source: string, offset: number): string {
  const lineStart = source.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(source.slice(lineStart, offset))![0];
}

function indentUnit(indent: string): string {
  return indent.includes('\t') ? '\t' : '  ';
}

function hasCommentsOutside(ctx: Context, start: number, end: number, keep: Array<[number, number]>): boolean {
  return ctx.comments.some((c) => c.start >= start && c.end <= end && !keep.some(([s, e]) => c.start >= s && c.end <= e));
}

function offsetToPos(source: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = source.indexOf('\n'); i !== -1 && i < offset; i = source.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

function makeFix(ctx: Context, title: string, start: number, end: number, newText: string): OverlapFix {
  const a = offsetToPos(ctx.source, start);
  const b = offsetToPos(ctx.source, end);
  return { title, line: a.line, column: a.column, endLine: b.line, endColumn: b.column, newText, start, end };
}

/** `[a, b]` on one line when it fits, else one element a line. */
function listText(items: string[], open: string, close: string, indent: string, prefixLen: number): string {
  const flat = `${open}${items.join(', ')}${close}`;
  if (prefixLen + flat.length <= MAX_LINE && !items.some((t) => t.includes('\n'))) return flat;
  const inner = indent + indentUnit(indent);
  return `${open}\n${items.map((t) => `${inner}${t},\n`).join('')}${indent}${close}`;
}

/** Needs a `;` in front: a statement starting with `[` would continue the previous line without one. */
function needsLeadingSemicolon(source: string, at: number): boolean {
  let i = at - 1;
  while (i >= 0 && /\s/.test(source[i])) i--;
  return i >= 0 && !';{}'.includes(source[i]);
}

function groupCandidate(group: GroupItem[], ctx: Context, inTry: boolean): OverlapCandidate {
  const { source } = ctx;
  const first = group[0].stmt;
  const last = group[group.length - 1].stmt;
  const candidate: OverlapCandidate = {
    kind: 'sequential-awaits',
    line: first.loc.start.line,
    endLine: last.loc.end.line,
    sites: group.map((g) => pos(g.await)),
  };
  const keep: Array<[number, number]> = group.flatMap((g) => [[g.arg.start, g.arg.end], ...(g.target ? [[g.target.start, g.target.end] as [number, number]] : [])]);
  if (inTry) candidate.noFix = 'inside a try block: with Promise.all the later calls would start even when an earlier one throws';
  else if (group.some((g) => g.typed)) candidate.noFix = 'a type annotation on a result would be lost';
  else if (hasCommentsOutside(ctx, first.start, last.end, keep)) candidate.noFix = 'comments between the statements would be lost';
  if (candidate.noFix) return candidate;

  const indent = lineIndent(source, first.start);
  const exprs = group.map((g) => source.slice(g.arg.start, g.arg.end));
  const named = group.filter((g) => g.form !== 'bare');
  let head: string;
  if (!named.length) head = 'await Promise.all(';
  else {
    const elems = group.map((g) => (g.target ? source.slice(g.target.start, g.target.end) : ''));
    while (elems.length && elems[elems.length - 1] === '') elems.pop();
    const form = named[0].form;
    if (form === 'decl') head = `${named[0].declKind} ${tidyHoles(elems)} = await Promise.all(`;
    else head = `${needsLeadingSemicolon(source, first.start) ? ';' : ''}${tidyHoles(elems)} = await Promise.all(`;
  }
  const text = `${head}${listText(exprs, '[', ']', indent, indent.length + head.length + 2)});`;
  candidate.fix = makeFix(ctx, `Run these ${group.length} awaits together with Promise.all`, first.start, last.end, text);
  return candidate;
}

/** `['a', '', 'c']` → `[a, , c]`; a leading hole → `[, b]`. */
function tidyHoles(elems: string[]): string {
  return `[${elems.map((e, i) => (e === '' ? (i === 0 ? '' : ' ') : i === 0 ? e : ` ${e}`)).join(',')}]`;
}

// ---------------------------------------------------------------- loops

interface LoopBody {
  await: Node;
  arg: Node;
  /** The array the results are pushed into, if any. */
  pushInto?: Node;
  /** A name the body declares (the result). */
  declared?: string;
}

function loopBody(body: Node): LoopBody | undefined {
  const stmts: Node[] = body.type === 'BlockStatement' ? body.body : [body];
  if (body.type === 'BlockStatement' && body.directives?.length) return undefined;
  const pushOf = (s: Node | undefined): { arr: Node; arg: Node } | undefined => {
    if (!s || s.type !== 'ExpressionStatement') return undefined;
    const e = s.expression as Node;
    if (e.type !== 'CallExpression' || e.arguments.length !== 1) return undefined;
    const c = e.callee as Node;
    if (c.type !== 'MemberExpression' || c.computed || c.object.type !== 'Identifier' || c.property.name !== 'push') return undefined;
    if (e.arguments[0].type === 'SpreadElement') return undefined;
    return { arr: c.object, arg: e.arguments[0] };
  };
  if (stmts.length === 1) {
    const s = stmts[0];
    if (s.type === 'ExpressionStatement' && s.expression.type === 'AwaitExpression') {
      return { await: s.expression, arg: s.expression.argument };
    }
    if (s.type === 'VariableDeclaration' && s.kind !== 'var' && s.declarations.length === 1 && s.declarations[0].init?.type === 'AwaitExpression') {
      const d = s.declarations[0];
      const names = new Set<string>();
      if (!patternNames(d.id, names, [])) return undefined;
      return { await: d.init, arg: d.init.argument, declared: [...names].join(',') };
    }
    const p = pushOf(s);
    if (p && p.arg.type === 'AwaitExpression') return { await: p.arg, arg: p.arg.argument, pushInto: p.arr };
    return undefined;
  }
  if (stmts.length === 2) {
    const [s, t] = stmts;
    if (s.type !== 'VariableDeclaration' || s.kind === 'var' || s.declarations.length !== 1) return undefined;
    const d = s.declarations[0];
    if (d.id.type !== 'Identifier' || d.id.typeAnnotation || d.init?.type !== 'AwaitExpression') return undefined;
    const p = pushOf(t);
    if (!p || p.arg.type !== 'Identifier' || p.arg.name !== d.id.name) return undefined;
    return { await: d.init, arg: d.init.argument, pushInto: p.arr, declared: d.id.name };
  }
  return undefined;
}

function loopCandidate(stmt: Node, before: Node | undefined, ctx: Context, inTry: boolean): OverlapCandidate | undefined {
  const { source, facts } = ctx;
  let item: string; // the loop variable as the callback's parameter
  let iterable: string;
  let body: LoopBody | undefined;
  let index: string | undefined;
  if (stmt.type === 'ForOfStatement') {
    if (stmt.await) return undefined;
    const left = stmt.left as Node;
    if (left.type !== 'VariableDeclaration' || left.kind === 'var' || left.declarations.length !== 1) return undefined;
    const id = left.declarations[0].id as Node;
    if (!patternNames(id, new Set(), [])) return undefined;
    body = loopBody(stmt.body);
    if (!body) return undefined;
    const right = stmt.right as Node;
    const rr = collectRefs(right);
    if (rr.unsafe) return undefined;
    const rightText = source.slice(right.start, right.end);
    const simple = ['Identifier', 'MemberExpression', 'CallExpression', 'ArrayExpression'].includes(right.type);
    const loopVars = new Set<string>();
    patternNames(id, loopVars);
    item = id.type === 'Identifier' ? `(${id.name})` : `(${source.slice(id.start, id.end)})`;
    iterable = knownArray(right, ctx) ? `${simple ? rightText : `(${rightText})`}.map(${item} => ` : `Array.from(${rightText}, ${item} => `;
    if (!checkLoopExpr(body, loopVars, facts)) return undefined;
  } else if (stmt.type === 'ForStatement') {
    const init = stmt.init as Node | null;
    if (!init || init.type !== 'VariableDeclaration' || init.kind !== 'let' || init.declarations.length !== 1) return undefined;
    const d = init.declarations[0];
    if (d.id.type !== 'Identifier' || d.init?.type !== 'NumericLiteral' || d.init.value !== 0) return undefined;
    const i = d.id.name as string;
    const test = stmt.test as Node | null;
    if (!test || test.type !== 'BinaryExpression' || (test.operator !== '<' && test.operator !== '<=')) return undefined;
    if (test.left.type !== 'Identifier' || test.left.name !== i) return undefined;
    const bound = test.right as Node;
    const br = collectRefs(bound);
    if (br.unsafe || br.all.has(i) || [...br.all].some((n) => facts.mutable.has(n)) || /Call|New/.test(bound.type)) return undefined;
    const u = stmt.update as Node | null;
    const step = !!u && ((u.type === 'UpdateExpression' && u.operator === '++' && u.argument.type === 'Identifier' && u.argument.name === i) ||
      (u.type === 'AssignmentExpression' && u.operator === '+=' && u.left.type === 'Identifier' && u.left.name === i &&
        u.right.type === 'NumericLiteral' && u.right.value === 1));
    if (!step) return undefined;
    body = loopBody(stmt.body);
    if (!body) return undefined;
    const boundText = source.slice(bound.start, bound.end);
    const simple = ['Identifier', 'MemberExpression', 'NumericLiteral'].includes(bound.type);
    const length = test.operator === '<' ? boundText : `${simple ? boundText : `(${boundText})`} + 1`;
    index = i;
    item = `(_, ${i})`;
    iterable = `Array.from({ length: ${length} }, ${item} => `;
    // The index is updated by the loop itself, nowhere else: the check below allows it.
    const loopVars = new Set([i]);
    if (!checkLoopExpr(body, loopVars, facts, i, stmt)) return undefined;
  } else return undefined;
  void index;

  const candidate: OverlapCandidate = {
    kind: 'sequential-loop',
    line: stmt.loc.start.line,
    endLine: stmt.loc.end.line,
    sites: [pos(body.await)],
  };
  const keep: Array<[number, number]> = [[body.arg.start, body.arg.end]];
  if (inTry) candidate.noFix = 'inside a try block: with Promise.all the later calls would start even when an earlier one throws';
  else if (hasCommentsOutside(ctx, stmt.body.start, stmt.body.end, keep)) candidate.noFix = 'comments in the loop would be lost';
  if (candidate.noFix) return candidate;

  const expr = source.slice(body.arg.start, body.arg.end);
  const all = `await Promise.all(${iterable}${expr}))`;
  const title = 'Run the loop\'s awaits together with Promise.all';
  if (!body.pushInto) {
    candidate.fix = makeFix(ctx, title, stmt.start, stmt.end, `${all};`);
    return candidate;
  }
  const arr = body.pushInto.name as string;
  // `const arr = [];` right before the loop: the array is the result.
  if (before?.type === 'VariableDeclaration' && before.kind !== 'var' && before.declarations.length === 1) {
    const d = before.declarations[0];
    if (d.id.type === 'Identifier' && d.id.name === arr && d.init?.type === 'ArrayExpression' && d.init.elements.length === 0 &&
      !hasCommentsOutside(ctx, before.start, stmt.start, [])) {
      candidate.line = before.loc.start.line;
      // The name with its type annotation, if any (`results: string[]`): Promise.all's result fits it.
      candidate.fix = makeFix(ctx, title, before.start, stmt.end, `${before.kind} ${source.slice(d.id.start, d.id.end)} = ${all};`);
      return candidate;
    }
  }
  candidate.fix = makeFix(ctx, title, stmt.start, stmt.end, `${arr}.push(...(${all}));`);
  return candidate;
}

/** The loop's awaited expression: a call, reading nothing that changes, sharing only primitives and callees. */
function checkLoopExpr(body: LoopBody, loopVars: Set<string>, facts: FileFacts, index?: string, loop?: Node): boolean {
  if (!body.arg || !isCall(body.arg)) return false;
  const refs = collectRefs(body.arg);
  if (refs.unsafe) return false;
  if (body.pushInto && refs.all.has(body.pushInto.name)) return false;
  if (body.declared && body.declared.split(',').some((n) => refs.all.has(n))) return false;
  // Iterations run interleaved under Promise.all: a called function that changes anything outside
  // itself (a counter, a shared array, a connection) may depend on running one at a time.
  const effects = facts.effects(refs.all);
  if (effects.writes.size) return false;
  // A called function that looks at the array would see it fill up differently.
  if (body.pushInto && effects.reads.has(body.pushInto.name)) return false;
  for (const name of refs.all) {
    if (loopVars.has(name)) {
      // A for (let i…) index: changed by the loop's update only.
      if (name === index && loop && countWrites(loop, name) > 1) return false;
      continue;
    }
    if (facts.mutable.has(name)) return false;
    if (refs.values.has(name) && !facts.primitive.has(name)) return false;
  }
  return true;
}

function countWrites(root: Node, name: string): number {
  let count = 0;
  const walk = (n: Node) => {
    if ((n.type === 'UpdateExpression' && n.argument.type === 'Identifier' && n.argument.name === name) ||
      (n.type === 'AssignmentExpression' && n.left.type === 'Identifier' && n.left.name === name)) count++;
    forEachChild(n, walk);
  };
  walk(root);
  return count;
}

/** Is it surely an array (so `.map` exists)? A literal, or a name only ever bound to one. */
function knownArray(n: Node, ctx: Context): boolean {
  if (n.type === 'ArrayExpression') return true;
  return n.type === 'Identifier' && ctx.facts.arrays.has(n.name);
}

/** Applies a fix to the text it was computed from. */
export function applyOverlapFix(source: string, fix: OverlapFix): string {
  return source.slice(0, fix.start) + fix.newText + source.slice(fix.end);
}
