// The tool's own cost is never the user's: local modules are instrumented by the engine before the
// run where it can know them, and what the child must instrument itself is reported as the tool's
// time, apart from the snippet's blocks.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { isTransformCached, prepareLocalModules, transformCached, transformCacheLimits, transformCacheSize, transformInWorker, transformModule, WORKER_SOURCE_CHARS } from '../../src/engine/instrument';
import { findOverlapCandidates } from '../../src/engine/overlap';
import { declaredFormat } from '../../src/runtime/moduleFormat';
import { startRun } from '../../src/engine/run';
import { Worker } from 'node:worker_threads';

import { FIXTURES, REPO } from './helpers';

function tempCopy(dir: string): string {
  const to = fs.mkdtempSync(path.join(os.tmpdir(), 'awt-local-'));
  for (const f of fs.readdirSync(dir)) fs.copyFileSync(path.join(dir, f), path.join(to, f));
  return to;
}

/**
 * A scratch folder: an ES module with a top-level await, imported by `ahead.cjs` (a literal
 * import()) and by `late.cjs`, which `computed.cjs` requires by a computed name.
 */
function loaderFixtures(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awt-loader-'));
  fs.writeFileSync(path.join(dir, 'mod.mjs'), 'export const x = await Promise.resolve(42);\n');
  fs.writeFileSync(path.join(dir, 'ahead.cjs'), "import('./mod.mjs').then((m) => console.log(m.x));\n");
  fs.writeFileSync(path.join(dir, 'late.cjs'), "import('./mod.mjs').then((m) => console.log(m.x));\n");
  fs.writeFileSync(path.join(dir, 'computed.cjs'), "const name = './la' + 'te.cjs';\nrequire(name);\n");
  return dir;
}

describe('engine: local modules instrumented ahead of the run', () => {
  it('finds the modules the entry loads by literal specifier, transitively, in both loading forms', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awt-prep-'));
    try {
      fs.writeFileSync(path.join(dir, 'main.ts'), "import { a } from './a.js';\nconst b = require('./lib');\nconst c = await import('./c.mjs');\nimport type { T } from './types';\n");
      fs.writeFileSync(path.join(dir, 'a.ts'), "export const a = async () => { await null; };\nexport * from './deep';\n");
      fs.writeFileSync(path.join(dir, 'deep.ts'), 'export const d = 1;\n');
      fs.mkdirSync(path.join(dir, 'lib'));
      fs.writeFileSync(path.join(dir, 'lib', 'index.js'), 'module.exports = 1;\n');
      fs.writeFileSync(path.join(dir, 'c.mjs'), 'export default 2;\n');
      fs.writeFileSync(path.join(dir, 'types.ts'), 'export type T = number;\n');
      const entry = path.join(dir, 'main.ts');
      const mods = prepareLocalModules(entry, transformCached(fs.readFileSync(entry, 'utf8'), entry, declaredFormat(entry)));
      const got = mods.map((m) => `${path.relative(dir, m.file)} ${m.as}`).sort();
      assert.deepEqual(got, [
        // a.ts is ES module syntax: as CommonJS it does not compile, and the child would say so itself
        'a.ts import', 'c.mjs import', 'deep.ts import', 'lib/index.js import', 'lib/index.js require',
      ]);
      const a = mods.find((m) => m.file.endsWith('a.ts') && m.as === 'import')!;
      assert.match(a.code, /__awt\$/, 'instrumented');
      assert.equal(a.format, 'esm');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a computed require whose module imports an ES module: the channel stays whole, every run (node starting its module loader waits in a blocking call)', async () => {
    // Node's own blocking wait while its loader thread starts went through the runtime's watch on
    // blocking calls; the watchdog then wrote the main thread's buffers while node could return
    // and record: a garbled frame, the run 'incomplete' and its spans lost (1-5 runs in 20).
    const dir = loaderFixtures();
    try {
      const broken: string[] = [];
      for (let i = 0; i < 12; i++) {
        const run = startRun({ file: path.join(dir, 'computed.cjs'), stdout: 'pipe', stderr: 'pipe' });
        run.stdout?.resume();
        run.stderr?.resume();
        const t = await run.done;
        if (t.incomplete !== undefined || !t.spans.some((s) => s.kind === 'await' && s.label === 'Promise.resolve(42)')) {
          broken.push(`run ${i}: ${t.incomplete ?? 'whole'}, ${t.spans.length} spans`);
        }
      }
      assert.deepEqual(broken, []);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('CommonJS that imports an ES module: its awaits are spans; the module loader starts before the run when known ahead, else as the tool\'s time', async () => {
    const dir = loaderFixtures();
    try {
      for (const [entry, late] of [['ahead.cjs', false], ['computed.cjs', true]] as const) {
        const run = startRun({ file: path.join(dir, entry), stdout: 'pipe', stderr: 'pipe' });
        let stdout = '';
        run.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        const timeline = await run.done;
        assert.equal(stdout, '42\n', `${entry}: the program behaves as under node`);
        assert.equal(timeline.status, 'completed');
        assert.ok(timeline.spans.some((s) => s.kind === 'await' && s.label === 'Promise.resolve(42)'), `${entry}: the imported module is instrumented`);
        const loader = (timeline.delays ?? []).filter((d) => d.kind === 'instrumenting' && d.label === 'starting the module loader');
        // Known ahead (the entry says import): started before time 0, nothing of it in the run.
        // Found during the run (a computed require): the tool's time, at the line that loaded it.
        assert.deepEqual(loader.map((d) => d.line), late ? [2] : [], entry);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('require of a local module: no block, no tool time when known ahead; a computed one is the tool\'s time, apart', async () => {
    const dir = tempCopy(path.join(FIXTURES, 'node', 'local-modules'));
    try {
      const run = startRun({ file: path.join(dir, 'requires.js'), stdout: 'pipe', stderr: 'pipe' });
      let stdout = '';
      run.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      const timeline = await run.done;
      assert.equal(stdout.trim(), '3 x 42', 'the program behaves as under node');
      assert.equal(timeline.status, 'completed');
      // Both modules are instrumented: their awaits are spans.
      assert.ok(timeline.spans.some((s) => s.kind === 'await' && s.label.includes('new Promise')), 'tiny_mod\'s await is a span');
      assert.ok(timeline.spans.some((s) => s.kind === 'await' && s.label === 'null'), 'the generated module\'s await is a span');
      const tool = (timeline.delays ?? []).filter((d) => d.kind === 'instrumenting');
      assert.deepEqual(tool.map((d) => [d.label, d.line]), [['instrumenting ./gen_erated.js', 6]], 'only the computed module is instrumented during the run');
      // By the engine, whose transform is warm, at the child's request: the child would have
      // loaded its own first (40-220 ms of the program's wall; the engine's answer took 8-20 ms).
      const generated = fs.readFileSync(path.join(dir, 'gen_erated.js'), 'utf8');
      assert.ok(isTransformCached(generated, path.join(dir, 'gen_erated.js'), 'cjs'), 'the engine instrumented the computed module');
      assert.ok(tool[0]!.endMs >= tool[0]!.startMs);
      assert.deepEqual(timeline.spans.filter((s) => s.kind === 'block' && s.line === 3), [], 'a require known ahead is never a block');
      // The tool's time is never in a block (nor in blockedMs).
      const inTool = timeline.spans.filter((s) => s.kind === 'block' && s.endMs !== null && s.startMs < tool[0]!.endMs && s.endMs > tool[0]!.startMs);
      assert.deepEqual(inTool, [], 'no block covers the instrumenting');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('engine: a local module whose name is computed, instrumented by the engine during the run', () => {
  // The child would load its own transform first (1.4 MB of parser and compiler): tens to
  // hundreds of ms of the program's wall. The engine's is warm.
  it('an ES module imported by a computed name: its awaits are spans, its instrumenting the tool\'s time, done by the engine', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awt-import-'));
    try {
      const mod = path.join(dir, 'tiny_mod.mjs');
      const source = "export const add = (a, b) => a + b;\nexport async function later(x) { await new Promise((r) => setTimeout(r, 5)); return x; }\n";
      fs.writeFileSync(mod, source);
      fs.writeFileSync(path.join(dir, 'main.mjs'), "const m = await import(['./tiny', 'mod.mjs'].join('_'));\nconsole.log(m.add(1, 2), await m.later('x'));\n");
      const run = startRun({ file: path.join(dir, 'main.mjs'), stdout: 'pipe', stderr: 'pipe' });
      let stdout = '';
      run.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      const timeline = await run.done;
      assert.equal(stdout, '3 x\n', 'the program behaves as under node');
      assert.equal(timeline.status, 'completed');
      assert.ok(timeline.spans.some((s) => s.kind === 'await' && s.label === 'new Promise((r) => setTimeout(r, 5))'), 'the imported module is instrumented');
      assert.deepEqual((timeline.delays ?? []).filter((d) => d.kind === 'instrumenting').map((d) => d.label), ['instrumenting tiny_mod.mjs']);
      assert.ok(isTransformCached(source, mod, 'esm'), 'the engine instrumented the computed module');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('engine: the memory the transform keeps', () => {
  /** A module of `n` awaits, distinct by `tag`. */
  const awaits = (n: number, tag: string) => `// ${tag}\n${Array.from({ length: n }, (_, i) => `await ${i};`).join('\n')}\n`;

  it('the cache keeps a bounded amount of instrumented code, however many modules an engine has run', () => {
    // The bounds lowered (16 M characters by default), the rule the same.
    const saved = { ...transformCacheLimits };
    transformCacheLimits.chars = 400_000;
    try {
      const sizes: number[] = [];
      for (let i = 0; i < 8; i++) {
        const out = transformCached(awaits(300, `module ${i}`), `/tmp/awt-big-${i}.mjs`, 'esm');
        sizes.push(out.code.length);
        assert.ok(transformCacheSize().chars <= 400_000, `${transformCacheSize().chars} characters kept after ${i + 1} modules`);
      }
      assert.ok(sizes.reduce((a, b) => a + b) > 400_000 && sizes.every((n) => n < 100_000), `the modules together are bigger than that, each under a quarter: ${sizes.join(', ')}`);
      // The newest is still there: a second run of it is not instrumented again.
      const again = awaits(300, 'module 7');
      assert.equal(transformCached(again, '/tmp/awt-big-7.mjs', 'esm'), transformCached(again, '/tmp/awt-big-7.mjs', 'esm'));
      // One bigger than a quarter of the bound is not kept at all.
      const big = awaits(1000, 'too big');
      assert.notEqual(transformCached(big, '/tmp/awt-too-big.mjs', 'esm'), transformCached(big, '/tmp/awt-too-big.mjs', 'esm'));
    } finally {
      Object.assign(transformCacheLimits, saved);
    }
  });

  it('a module of 20,000 await sites is instrumented within 34 MB of heap (the built transform, as the engine runs it)', async () => {
    // The memory the instrumenting thread needs grows with the sites: on 100,000 of them it set
    // the CLI's peak. Under a heap limit, V8 collects all it can before it gives up, so what is
    // bounded is what the transform keeps alive, not its garbage. Needs about 28 MB; 42 MB with
    // the whole syntax tree held until the code was put together (a finished statement's subtree
    // and location are let go now), 53 MB or more with magic-string's object per insertion and a
    // map segment per character.
    const source = `async function f() {\n${Array.from({ length: 20_000 }, (_, i) => `  await ${i};\n`).join('')}}\nawait f();\n`;
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
      const out = require(workerData.transform).transformSnippet(workerData.source, { file: '/tmp/awt-heap.mjs', format: 'esm' });
      parentPort.postMessage(out.sites.length);`,
      { eval: true, workerData: { transform: path.join(REPO, 'dist', 'runtime', 'transform.js'), source }, resourceLimits: { maxOldGenerationSizeMb: 34 } });
    const sites = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    assert.equal(sites, 20_002); // its awaits, the function f and `await f()`
  });

  it('a module instrumented in a worker thread (big ones are) reads as it would here, with its overlap candidates, and one that does not compile says where', async () => {
    const source = `const cook = async (d) => d;\nconst soup = await cook('soup');\nconst pasta = await cook('pasta');\n${awaits(500, 'in a worker')}`;
    const w = await transformInWorker(source, '/tmp/awt-worker.mjs', 'esm');
    assert.ok('result' in w);
    const here = transformModule().transformSnippet(source, { file: '/tmp/awt-worker.mjs', format: 'esm' });
    assert.equal(Buffer.from(w.result.code).toString('utf8'), here.code);
    assert.equal(w.result.format, here.format);
    assert.deepEqual(w.result.localImports, here.localImports);
    // What the insights need of the code, found in the worker as the engine would find it.
    assert.deepEqual(w.candidates, findOverlapCandidates(source, '/tmp/awt-worker.mjs'));
    assert.equal(w.candidates?.length, 1);
    const bad = await transformInWorker(`${source}const x = 1 +;\n`, '/tmp/awt-worker.mjs', 'esm');
    assert.deepEqual(bad, { compileError: { message: 'SyntaxError: Unexpected token', line: 505, column: 14 } });
  });

  it('a big module (instrumented in a worker) still gets its insights', async function () {
    this.timeout(60_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awt-bigins-'));
    try {
      const file = path.join(dir, 'big.mjs');
      // Past WORKER_SOURCE_CHARS with a comment, so that instrumenting it stays quick.
      fs.writeFileSync(file, `// ${'x'.repeat(WORKER_SOURCE_CHARS)}\nconst cook = (d, ms) => new Promise((r) => setTimeout(() => r(d), ms));\n` +
        "async function main() {\n  const soup = await cook('soup', 40);\n  const pasta = await cook('pasta', 40);\n  return [soup, pasta];\n}\nawait main();\n");
      const t = await startRun({ file }).done;
      assert.equal(t.status, 'completed');
      const pair = (t.insights ?? []).find((i) => i.kind === 'sequential-awaits');
      assert.ok(pair, JSON.stringify(t.insights));
      assert.deepEqual([pair.line, pair.endLine, pair.spanIds.length], [4, 5, 2]);
      assert.equal(pair.fix?.newText, "const [soup, pasta] = await Promise.all([cook('soup', 40), cook('pasta', 40)]);");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
