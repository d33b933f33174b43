// Parity with plain node (and tsx for TypeScript): each snippet in test/fixtures/parity runs under
// the real runtime and under Await Timeline, and the program's stdout, stderr and exit code must
// be the same bytes. The snippets do what real programs and hostile ones do: change built-ins,
// look at themselves, fail in every way node reports, use TypeScript features tsc runs.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

import { WarmPool } from '../../src/engine/run';
import { byLabel, cli, duration, FIXTURES, REPO, runFixture, warmChildOf } from './helpers';

const TSX = path.join(REPO, 'node_modules', '.bin', 'tsx');

interface Case {
  file: string;
  /** What the snippet checks, in the user's words. */
  what: string;
  /** The reference runtime: plain node, or tsx for what node cannot run by itself. */
  ref?: 'node' | 'tsx';
  /**
   * Node's own frames under the user's (node:internal/…) are left out of the comparison: the
   * runtime starts the snippet from its own module, so the frames that loaded it differ, and its
   * lag-probe timer, when due in the same batch as the snippet's timer, makes node drain the
   * microtasks from runNextTicks (two more node frames under a continuation).
   */
  internalFrames?: 'ignore';
}

const CASES: Case[] = [
  // issue 10 item 1: the runtime uses only built-ins it captured before the snippet ran
  { file: 'array-iterator-deleted.js', what: 'async functions, generators, timers and nextTick after delete Array.prototype[Symbol.iterator]' },
  { file: 'async-gen-destructured.js', what: 'async generators and functions with destructured parameters, and the TypeError a bad argument gives' },
  { file: 'typed-arrays-replaced.js', what: "typed arrays' set/subarray, constructors and globals replaced: the runtime's columns and channel keep their own" },
  // item 2: microtask order and iterator protocol exactly as the language defines them
  { file: 'async-gen-order.js', what: 'async generators that return, yield and yield* settle on the same tick as under node' },
  { file: 'async-from-sync.js', what: 'for await passes next()/return() no argument, and reads return only when it closes the loop' },
  // item 3: a file nothing declares a format for is parsed the way node parses it
  { file: 'await-identifier.js', what: 'a sloppy CommonJS script uses await as an identifier' },
  { file: 'detect/tla.js', what: 'a typeless .js with top-level await still runs as a module' },
  // item 4: what the runtime replaces looks like node's own
  { file: 'native-shape.js', what: 'patched built-ins keep name, length, properties, constructibility and [native code] text' },
  { file: 'warp-shape.js', what: 'the clocks, counted for the watchdog, keep where node defines them, their shape and their checks' },
  // item 5: what the program sees of itself
  { file: 'self-view.js', what: 'toString() of functions, globals, execArgv, argv, env, listeners and console.trace as under node' },
  { file: 'own-resources.js', what: "no stdout handle before the program's first use of it; timers carry node's own symbols only" },
  { file: 'own-stdio-listeners.mjs', what: "an ES module's stdout and stderr carry no listeners of the module loader's thread" },
  // item 6: errors print as node prints them
  { file: 'uncaught.js', what: "an uncaught error in a script: no blank line, no runtime frames, node's own frames under the user's" },
  { file: 'uncaught-async.js', what: 'an error escaping async functions: frames named as node names them (no <anonymous>)', internalFrames: 'ignore' },
  { file: 'uncaught.mjs', what: "an ES module's uncaught error points at the user's line, not the runtime's", internalFrames: 'ignore' },
  { file: 'rejects.mjs', what: 'a rejected top-level await in an ES module' },
  { file: 'entry-throws.mjs', what: "an ES module entry's error ends with node's entry-point frame; node's entry listens for 'exit'" },
  { file: 'throws-string.mjs', what: 'an ES module that throws a string after a top-level await: reported from node\'s entry point' },
  { file: 'tla-never.mjs', what: 'a top-level await that never settles: exit 13 and nothing on stderr, as node 20' },
  { file: 'require-bad.js', what: "a syntax error in a required local module is a SyntaxError at bad.js:2, with node's frames" },
  { file: 'require-throws.js', what: "a required local module that throws while it loads: node's loader frames between it and its caller" },
  { file: 'timer-throws.js', what: 'an error in a timeout\'s callback: its frame is `Timeout.tick [as _onTimeout]`, as under node' },
  { file: 'timer-in-context-throws.js', what: 'an error in a timeout armed in a call\'s context, with no span of its own: node\'s frames as under node' },
  { file: 'immediate-throws.js', what: 'an error in an immediate armed in a call\'s context: node\'s frames, and no `_argv` of the tool\'s' },
  { file: 'exit-during-block.js', what: 'process.exit during a long block: no "Waiting for the debugger to disconnect..."' },
  { file: 'throw-during-block.js', what: 'an error thrown at the end of a long block prints as under node, and only that' },
  { file: 'uncaught-instrumented-line.js', what: "an error on a line the tool instruments: the user's line and caret, no blank line more" },
  { file: 'instrumented-throw-string.js', what: "a string thrown on an instrumented line: the user's line (tab kept) and caret, not the tool's code" },
  { file: 'instrumented-throw-rethrow.js', what: "an error thrown on an instrumented line, made elsewhere: the caret at the throw; the exit listener's code" },
  { file: 'instrumented-throw-object.js', what: 'a plain object thrown on an instrumented line: the line first, then the object' },
  { file: 'instrumented-throw-symbol.js', what: 'a symbol thrown on an instrumented line: the caret at the throw, an empty line for the symbol' },
  { file: 'bom/entry.mjs', what: 'a byte order mark before ES modules: columns on line 1 as node counts them, without it' },
  { file: 'bom/script.cjs', what: 'a byte order mark before a CommonJS script: node counts it on line 1' },
  { file: 'instrumented-type-error.js', what: "a TypeError from the engine on an instrumented line, node's frames under it" },
  // item 7: TypeScript and JSX as tsx runs them
  { file: 'ts/enums.ts', what: 'enums, const enums and a types-only namespace', ref: 'tsx' },
  { file: 'ts-legacy/view.tsx', what: ".tsx with the JSX factory and fragment factory of the tsconfig beside it", ref: 'tsx' },
  { file: 'jsx/view.jsx', what: '.jsx with no tsconfig: React.createElement, as tsx compiles it', ref: 'tsx' },
];

function reference(file: string, ref: 'node' | 'tsx'): { stdout: string; stderr: string; status: number | null } {
  const abs = path.join(FIXTURES, 'parity', file);
  const [cmd, args] = ref === 'tsx' ? [TSX, [abs]] : [process.execPath, [abs]];
  const r = spawnSync(cmd, args, { cwd: path.dirname(abs), encoding: 'utf8', timeout: 30000 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

describe('parity: a snippet behaves exactly as under plain node', () => {
  for (const c of CASES) {
    it(`${c.file}: ${c.what}`, async () => {
      const want = reference(c.file, c.ref ?? 'node');
      const got = await runFixture(path.join('parity', c.file));
      // Warnings name the process: (node:PID).
      const pidless = (text: string) => text.replace(/^\(node:\d+\)/gm, '(node:PID)');
      const frames = (text: string) => c.internalFrames ? text.replace(/^ {4}at (?:.*\(node:internal\/.*\)|node:internal\/.*)\n/gm, '') : text;
      assert.equal(got.stdout, want.stdout, 'stdout');
      assert.equal(frames(pidless(got.stderr)), frames(pidless(want.stderr)), 'stderr');
      assert.equal(got.timeline.exitCode, want.status, 'exit code');
    });
  }
});

describe('parity: a recursion that overflows the stack prints what node prints', () => {
  // A stack of 100 KB (node's own --stack-size, given to both) keeps the recursion short, so that
  // V8 runs it in the same tiers each time: which call finds the stack full depends on frame sizes.
  const STACK = '--stack-size=100';
  const plain = (file: string) => {
    const abs = path.join(FIXTURES, 'parity', file);
    const r = spawnSync(process.execPath, [STACK, abs], { cwd: path.dirname(abs), encoding: 'utf8', timeout: 30000 });
    return { stdout: r.stdout, stderr: r.stderr, status: r.status };
  };
  const BLOCK = 'Exception in PromiseRejectCallback:';
  const blocks = (text: string) => text.split(BLOCK).length - 1;

  for (const [file, what] of [
    ['overflow-dropped.js', 'dive(n + 1) dropped at every level'],
    ['overflow-warm-call.js', 'id(dive(n + 1)), id called once before'],
  ] as const) {
    it(`${what}: node's stderr to the byte (one PromiseRejectCallback block at the user's '}'), exit code, a whole timeline`, async () => {
      const want = plain(file);
      assert.equal(blocks(want.stderr), 1, want.stderr);
      const got = await runFixture(path.join('parity', file), { runtimeArgs: [STACK] });
      assert.equal(got.stderr, want.stderr, `${blocks(got.stderr)} blocks:\n${got.stderr.slice(0, 2000)}`);
      assert.equal(got.stdout, want.stdout);
      assert.equal(got.timeline.exitCode, want.status);
      assert.equal(got.timeline.incomplete, undefined);
      assert.equal(got.timeline.spans.filter((s) => s.endMs === null).length, 0, 'spans left open');
    });
  }

  it("await dive(n + 1): node's two blocks and its RangeError at the user's frames; the second block's line is the tool's", async () => {
    const want = plain('overflow-await.js');
    const got = await runFixture('parity/overflow-await.js', { runtimeArgs: [STACK] });
    assert.equal(blocks(want.stderr), 2, want.stderr);
    assert.equal(blocks(got.stderr), 2, got.stderr.slice(0, 3000));
    assert.equal(got.timeline.exitCode, want.status);
    assert.equal(got.timeline.incomplete, undefined);
    // The second block is at the await, a line the tool instruments: node prints V8's text of that
    // line (its C++ reads the script's source, with or without source maps), the instrumented one.
    // Everything else is node's: the first block at the user's '}', and the whole fatal report.
    const parts = (text: string) => text.split(BLOCK);
    const [, first, second] = parts(got.stderr);
    const [, wantFirst, wantSecond] = parts(want.stderr);
    assert.equal(first, wantFirst);
    const lines = (block: string) => block.split('\n');
    // '', 'file:line', the line, the caret, then the rest
    const [, gotHead, , , ...gotRest] = lines(second);
    const [, wantHead, , , ...wantRest] = lines(wantSecond);
    assert.equal(gotHead, wantHead, 'the second block names the user\'s file and line');
    assert.equal(gotRest.join('\n'), wantRest.join('\n'), 'the fatal report after it');
  });
});

describe('parity: TypeScript errors at the columns of the .ts file', () => {
  it("an error on the lines after removed types: node's output for the same program with its types blanked out", async () => {
    const want = reference('ts-columns/check-blanked.js', 'node');
    const got = await runFixture('parity/ts-columns/check.ts');
    assert.equal(got.timeline.exitCode, want.status);
    assert.equal(got.stderr, want.stderr.split('check-blanked.js').join('check.ts'));
  });
});

describe('parity: past the span budget too', () => {
  it("typed arrays replaced: the aggregates' columns grow with the runtime's own built-ins", async () => {
    const want = reference('typed-arrays-replaced.js', 'node');
    const got = await runFixture('parity/typed-arrays-replaced.js', { maxSpans: 50 });
    assert.equal(got.stdout, want.stdout);
    assert.equal(got.stderr, want.stderr);
    assert.equal(got.timeline.exitCode, want.status);
    assert.equal(got.timeline.status, 'completed');
    // 150 workers x 40 awaits: what is not listed is counted, under more than 64 (site, parent) pairs.
    const counted = (got.timeline.aggregates ?? []).reduce((n, a) => n + a.count, 0);
    assert.ok(counted > 6000, `counted ${counted}`);
  });
});

describe('parity: the runtime keeps its own clock', () => {
  it('a snippet that replaces performance.now, Date.now and process.hrtime (fake timers) gets true times', async () => {
    const want = reference('fake-clock.js', 'node');
    const { timeline: t, stdout } = await runFixture('parity/fake-clock.js');
    assert.equal(stdout, want.stdout);
    assert.equal(t.status, 'completed');
    const waits = byLabel(t, 'await', 'waitReal(');
    assert.equal(waits.length, 2, t.spans.map((s) => `${s.kind}:${s.label}`).join(' | '));
    for (const s of t.spans) {
      assert.ok(s.startMs >= 0 && s.startMs <= t.wallMs, `${s.label} starts at ${s.startMs} ms of ${t.wallMs}`);
      if (s.endMs !== null) assert.ok(s.endMs >= s.startMs && s.endMs <= t.wallMs + 1, `${s.label} ends at ${s.endMs}`);
    }
    assert.ok(duration(waits[0]) >= 110, `first wait ${duration(waits[0])} ms`);
    assert.ok(duration(waits[1]) >= 70, `second wait ${duration(waits[1])} ms`);
    assert.ok(waits[1].startMs >= waits[0].endMs!, 'one after the other');
    assert.ok(t.wallMs >= 190 && t.wallMs < 60_000, `wall ${t.wallMs}`);
    assert.equal(t.droppedSpans, 0);
  });
});

describe('parity: TypeScript the runtime cannot run says so, and where', () => {
  const cases: Array<[string, RegExp]> = [
    ['ts/namespace.ts', /^namespace\.ts:2:1: The namespace NS is not supported: .*Use an ES module or a plain object/m],
    ['ts/decorators.ts', /^decorators\.ts:15:1: The decorator @tagged is not supported: /m],
    // experimentalDecorators from the tsconfig beside it: parsed as legacy decorators (parameter
    // decorators included), then reported the same way.
    ['ts-legacy/decorators.ts', /^decorators\.ts:15:1: The decorator @sealed is not supported: /m],
    // Was Babel's "requires enabling the parser plugin" message, which the user cannot act on.
    ['ts/accessor.ts', /^accessor\.ts:3:3: The auto-accessor `accessor count` is not supported: .*Declare a plain field/m],
  ];
  for (const [file, message] of cases) {
    it(`${file}: exit 2 and a message that names the feature and its line`, () => {
      const abs = path.join(FIXTURES, 'parity', file);
      const r = cli(['run', abs, '--no-color'], { cwd: path.dirname(abs) });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /parser plugin|internal error/);
    });
  }
});

describe('parity: under --time warp too (the warp replaces the clocks, Date, timers/promises and AbortSignal.timeout)', () => {
  const shape = "what the warp replaces keeps node's name, length, properties, constructibility and [native code] text";
  for (const [file, what] of [
    ['native-shape.js', shape],
    ['warp-shape.js', shape],
    ['warp-reflect.js', "the warp's timers and clocks work when the program has replaced Reflect's methods"],
  ]) {
    it(`${file}: ${what}`, async () => {
      const want = reference(file, 'node');
      const got = await runFixture(path.join('parity', file), { time: 'warp' });
      assert.equal(got.stdout, want.stdout, 'stdout');
      assert.equal(got.stderr, want.stderr, 'stderr');
      assert.equal(got.timeline.exitCode, want.status, 'exit code');
      assert.equal(got.timeline.time, 'warp');
    });
  }
});

describe('parity: in a warm child too (the extension runs there; its module loader started while it waited)', () => {
  const pool = new WarmPool();
  after(() => pool.dispose());
  for (const c of CASES.filter((c) => ['self-view.js', 'own-resources.js', 'own-stdio-listeners.mjs', 'entry-throws.mjs', 'timer-throws.js'].includes(c.file))) {
    it(`${c.file}: ${c.what}`, async () => {
      const want = reference(c.file, c.ref ?? 'node');
      pool.fill();
      const warm = await warmChildOf(pool);
      const got = await runFixture(path.join('parity', c.file), { warm });
      const pidless = (text: string) => text.replace(/^\(node:\d+\)/gm, '(node:PID)');
      assert.equal(got.stdout, want.stdout, 'stdout');
      assert.equal(pidless(got.stderr), pidless(want.stderr), 'stderr');
      assert.equal(got.timeline.exitCode, want.status, 'exit code');
    });
  }
});
