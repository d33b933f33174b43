// The picture under load: on a machine kept busy (CPU, fsync'd writes, page-cache churn — see
// test/load.ts), a snippet with no blocking code shows no block, a real block keeps its line and
// its wall time, and a loop that starves the event loop is named when a timeout stops it.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { startRun, type RunOptions } from '../../src/engine/run';
import type { Timeline } from '../../src/shared/timeline';
import { startLoad, type Load } from '../load';
import { concurrently, copyPythonRuntime, FIXTURES, PYTHON, REPO } from './helpers';

async function run(file: string, options: Partial<RunOptions> = {}): Promise<Timeline> {
  const r = startRun({ file, stdout: 'pipe', stderr: 'pipe', ...options });
  r.stdout?.resume();
  r.stderr?.resume();
  return r.done;
}

/** `n` runs, `width` at a time. */
const runs = concurrently;

const blocks = (t: Timeline) => t.spans.filter((s) => s.kind === 'block');
const show = (t: Timeline) => blocks(t).map((b) => `${b.line}:${b.label} ${b.endMs === null ? 'open' : `${Math.round(b.endMs - b.startMs)} ms`}`);

describe('a watchdog kept off a CPU for as long as a stall lasts', function () {
  this.timeout(60_000);
  // The stand-in for a saturated machine (AWAIT_TIMELINE_TEST_WATCHDOG_STARVE_MS): the watchdog
  // sleeps 1 s from the moment the main thread stops ticking, so no sample of it can look at the
  // 300 ms spin. The main thread's own record of the gap and of where it read the clock is the
  // evidence. The first fixture ends 20 ms after its spin, long before the watchdog wakes: the
  // program waits for it as it exits, and that wait is the tool's, not the program's wall time.
  const env = { ...process.env, AWAIT_TIMELINE_TEST_WATCHDOG_STARVE_MS: '1000' };
  for (const [fixture, line] of [['spin-wall.js', 6], ['spin-wall-tail.js', 6]] as const) {
    it(`${fixture}: the spin it never saw is still one block on its line, as long as the spin`, async () => {
      const timelines = await runs(2, 1, () => run(path.join(FIXTURES, 'node', fixture), { env }));
      for (const t of timelines) {
        assert.equal(t.status, 'completed', t.error?.message);
        const [b, ...more] = blocks(t);
        assert.ok(b && more.length === 0, `one block: ${show(t).join(' | ')}`);
        assert.equal(b.line, line);
        assert.equal(b.label, 'while (Date.now() < end) {}');
        assert.ok(b.endMs! - b.startMs >= 295, `the spin's 300 ms: ${show(t).join(' | ')}`);
        if (fixture === 'spin-wall.js') assert.ok(t.wallMs - b.endMs! < 400, `the program ends with its 20 ms timer: wall ${t.wallMs} ms, block ends at ${b.endMs} ms`);
      }
    });
  }
  it('spin-wall-gaps.js: a later stretch with no clock read, also unseen, does not take the spin\'s place', async () => {
    // The main thread keeps one record of a gap between its ticks: the CPU work after the spin
    // (no clock read, so nothing to judge it by afterwards) replaced the spin's record before the
    // watchdog woke, and the spin was no block (a busy machine makes such gaps all the time).
    const timelines = await runs(3, 1, () => run(path.join(FIXTURES, 'node', 'spin-wall-gaps.js'), { env }));
    for (const t of timelines) {
      assert.equal(t.status, 'completed', t.error?.message);
      const spin = blocks(t).filter((b) => b.line === 6);
      assert.equal(spin.length, 1, `one block on the spin's line: ${show(t).join(' | ')}`);
      assert.equal(spin[0]!.label, 'while (Date.now() < end) {}');
      assert.ok(spin[0]!.endMs! - spin[0]!.startMs >= 295, `the spin's 300 ms: ${show(t).join(' | ')}`);
      assert.deepEqual(blocks(t).filter((b) => b.line !== 6 && b.line !== 8).map((b) => b.line), [], show(t).join(' | '));
    }
  });
});

describe('a main thread that answers the watchdog\'s looks late', function () {
  this.timeout(120_000);
  // The stand-in for a busy machine (AWAIT_TIMELINE_TEST_WATCHDOG_ASK_LAG_MS): each look is
  // answered 120 ms after it counts as asked. The spin on line 6 is followed by CPU work on line
  // 7; the look that first finds line 7 may have been asked while the spin still ran (CI run 57:
  // a 294 ms block for the 300 ms spin at load 28).
  const env = { ...process.env, AWAIT_TIMELINE_TEST_WATCHDOG_ASK_LAG_MS: '120' };
  it('spin-wall-then-work.js: the spin keeps its 300 ms, and the work after it is a block of its own', async () => {
    const timelines = await runs(3, 1, () => run(path.join(FIXTURES, 'node', 'spin-wall-then-work.js'), { env }));
    for (const t of timelines) {
      assert.equal(t.status, 'completed', t.error?.message);
      const [spin, work, ...more] = blocks(t).sort((a, b) => a.startMs - b.startMs);
      assert.ok(spin && work && more.length === 0, `two blocks: ${show(t).join(' | ')}`);
      assert.equal(spin.line, 6, show(t).join(' | '));
      assert.equal(work.line, 7, show(t).join(' | '));
      assert.ok(spin.endMs! - spin.startMs >= 295, `the spin's 300 ms: ${show(t).join(' | ')}`);
      assert.ok(work.startMs >= spin.endMs!, `the work after the spin: ${show(t).join(' | ')}`);
    }
  });
});

describe('under load: a block is the snippet\'s own work', function () {
  this.timeout(240_000);
  let load: Load | undefined;
  before(() => {
    load = startLoad({ seconds: 180 });
  });
  after(async () => {
    await load?.stop();
  });

  const nonBlocking = [
    path.join(FIXTURES, 'node', 'chefs-promise-all.ts'),
    path.join(REPO, 'examples', 'workshop', '02-breakfast', 'solution.ts'),
    path.join(REPO, 'examples', 'workshop', '03-weather-loop', 'solution.ts'),
  ];
  for (const file of nonBlocking) {
    it(`${path.relative(REPO, file)}: no block in 20 runs`, async () => {
      const timelines = await runs(20, 5, () => run(file));
      for (const t of timelines) assert.equal(t.status, 'completed', t.error?.message);
      const invented = timelines.filter((t) => blocks(t).length > 0 || t.stats.blockedMs > 0);
      assert.deepEqual(invented.map(show), [], 'a block in a snippet with no blocking code');
    });
  }

  it('the busy-wait: two blocks one after the other, on the spinning line, each its spin\'s wall time', async () => {
    const timelines = await runs(3, 3, () => run(path.join(FIXTURES, 'node', 'chefs-busy.ts')));
    for (const t of timelines) {
      const [a, b, ...more] = blocks(t).sort((x, y) => x.startMs - y.startMs);
      assert.equal(more.length, 0, `two blocks: ${show(t).join(' | ')}`);
      for (const x of [a!, b!]) {
        assert.equal(x.line, 4, `the while line: ${show(t).join(' | ')}`);
        assert.equal(x.label, 'for (let u = { user: 0, system: 0 }; u.user + u.system < ms * 1000; u = process.cpuUsage(start)) {}');
        const spin = t.spans.find((s) => s.id === x.parentId)!;
        assert.equal(spin.label, 'spin(300)');
        assert.ok(x.endMs! - x.startMs >= 0.95 * (spin.endMs! - spin.startMs), `the block lasts its spin's wall time: ${show(t).join(' | ')}`);
      }
      assert.ok(b!.startMs >= a!.endMs! - 1, 'one after the other');
    }
  });

  it('a loop of awaits that starves the event loop, stopped by a timeout, is named every time', async () => {
    const timelines = await runs(5, 5, () => run(path.join(FIXTURES, 'node', 'starve.js'), { timeoutMs: 4000 }));
    for (const t of timelines) {
      assert.equal(t.status, 'timeout');
      assert.equal(t.error?.line, 4, `${t.error?.message} | ${show(t).join(' | ')}`);
      assert.match(t.error?.message ?? '', /stuck at line 4: for \(;;\) await null/);
    }
  });

  it('a module with 160,000 await sites, each awaited once: every await accounted for, or the run says why', async function () {
    // Instrumenting and compiling 160,000 awaits: ~8 s on a quiet 2-core machine, minutes on one
    // kept at a load of 30.
    this.timeout(900_000);
    // Once, its site table overflowed the engine's stack: every event was lost and the run still
    // said 'completed', with no spans and a made-up wall time.
    const SITES = 160_000;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awt-sites-'));
    try {
      const file = path.join(dir, 'sites.mjs');
      let src = 'async function f() {\n';
      for (let i = 0; i < SITES; i++) src += `  await ${i};\n`;
      fs.writeFileSync(file, `${src}}\nawait f();\nconsole.log('done');\n`);
      const r = startRun({ file, stdout: 'pipe', stderr: 'pipe' });
      let out = '';
      r.stdout?.on('data', (d) => (out += d));
      r.stderr?.resume();
      const t = await r.done;
      assert.equal(t.status, 'completed', t.error?.message);
      assert.equal(out, 'done\n', 'the program ran to its end');
      const awaits = t.spans.filter((s) => s.kind === 'await');
      // Each site's await and the top level's `await f()`: listed, or counted where not listed.
      assert.equal(awaits.length + t.droppedSpans, SITES + 1, `${awaits.length} listed + ${t.droppedSpans} counted`);
      const lines = new Set(awaits.filter((s) => s.label !== 'f()').map((s) => s.line));
      if (t.droppedSpans === 0) assert.equal(lines.size, SITES, 'every site has its span, on its own line');
      assert.ok(awaits.every((s) => s.endMs !== null && s.endMs >= s.startMs && s.endMs <= t.wallMs), 'every span ended within the run');
      const top = awaits.find((s) => s.label === 'f()');
      assert.ok(top && top.line === SITES + 3, 'the top-level await of f() on its line');
      assert.ok(t.wallMs >= top.endMs!, 'the wall time covers the awaits');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

// A saturated machine: eight busy loops per core, each a program of its own (its own session: see
// LoadOptions.sessions), with the fsync'd writes and the page-cache churn, give the snippet's main thread a small share of a CPU. A loop that spins on the wall clock then
// uses less CPU than the threshold while it holds the loop for its whole time; a callback the
// machine keeps off a CPU for 100 ms still uses next to none.
describe('on a saturated machine: blocks are what the snippet holds, whatever CPU it gets', function () {
  this.timeout(240_000);
  let load: Load | undefined;
  before(() => {
    copyPythonRuntime();
    load = startLoad({ seconds: 120, cpus: 8 * Math.max(1, os.availableParallelism?.() ?? os.cpus().length), sessions: true });
  });
  after(async () => {
    await load?.stop();
  });

  const spins: Array<[string, number, string]> = [
    [path.join(FIXTURES, 'node', 'spin-wall.js'), 6, 'while (Date.now() < end) {}'],
    [path.join(FIXTURES, 'python', 'spin_wall.py'), 10, 'while time.time() < end:'],
  ];
  for (const [file, line, label] of spins) {
    it(`${path.basename(file)}: a busy-wait on the wall clock is one block on its line, as long as the spin`, async () => {
      const timelines = await runs(4, 2, () => run(file, { pythonPath: PYTHON, timeoutMs: 60_000 }));
      for (const t of timelines) {
        assert.equal(t.status, 'completed', t.error?.message);
        const [b, ...more] = blocks(t);
        assert.ok(b && more.length === 0, `one block: ${show(t).join(' | ')} (delays: ${(t.delays ?? []).map((d) => `${d.label} ${Math.round(d.endMs - d.startMs)} ms`).join(', ')})`);
        assert.equal(b.line, line, show(t).join(' | '));
        assert.equal(b.label, label);
        assert.ok(b.endMs! - b.startMs >= 295, `the spin's 300 ms: ${show(t).join(' | ')}`);
      }
    });
  }

  const quiet: string[] = [
    path.join(FIXTURES, 'node', 'local-modules', 'requires.js'),
    path.join(REPO, 'examples', 'workshop', '09-python-two-chefs', 'solution.py'),
  ];
  for (const fixture of quiet) {
    it(`${path.relative(REPO, fixture)}: no block in 8 runs`, async () => {
      const dirs: string[] = [];
      try {
        const timelines = await runs(8, 2, () => {
          // A scratch copy each: requires.js writes a module beside itself.
          const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awt-quiet-'));
          dirs.push(dir);
          for (const f of fs.readdirSync(path.dirname(fixture))) {
            const from = path.join(path.dirname(fixture), f);
            if (fs.statSync(from).isFile()) fs.copyFileSync(from, path.join(dir, f));
          }
          return run(path.join(dir, path.basename(fixture)), { pythonPath: PYTHON, timeoutMs: 60_000 });
        });
        for (const t of timelines) assert.equal(t.status, 'completed', t.error?.message);
        assert.deepEqual(timelines.filter((t) => blocks(t).length > 0 || t.stats.blockedMs > 0).map(show), [], 'a block in a snippet with no blocking code');
      } finally {
        for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

// One program given a sliver of a CPU, whatever the rest of the machine does: its main thread
// pinned to the first CPU beside two busy loops, its session (the kernel's autogroup) at nice 15.
// The watchdog thread may run on another CPU. The snippet's lines where node does work of its
// own (loading a module, setting up stdout for a first console.log: a few ms of CPU, stretched to
// a second) are not blocks: before, 2 runs in 8 drew one at `require('./tiny_mod')` (1,137 ms) or
// at the first console.log (880 ms), on two samples a second apart with 5.7 ms of CPU between.
describe('a program given a sliver of one CPU: node\'s own work at the snippet\'s line is no block', function () {
  this.timeout(300_000);
  const spin = 'const end = Date.now() + 240000; while (Date.now() < end) {}';
  let loops: ChildProcess[] = [];
  before(function () {
    if (process.platform !== 'linux') this.skip(); // taskset and the kernel's autogroup
    loops = [0, 1].map(() => spawn('taskset', ['-c', '0', process.execPath, '-e', spin], { stdio: 'ignore' }));
  });
  after(() => {
    for (const l of loops) l.kill('SIGKILL');
  });

  it('test/fixtures/node/local-modules/requires.js: no block in 8 runs', async () => {
    const fixture = path.join(FIXTURES, 'node', 'local-modules', 'requires.js');
    const seen: string[][] = [];
    for (let i = 0; i < 8; i++) {
      // A scratch copy each: requires.js writes a module beside itself.
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awt-sliver-'));
      try {
        for (const f of fs.readdirSync(path.dirname(fixture))) fs.copyFileSync(path.join(path.dirname(fixture), f), path.join(dir, f));
        const r = startRun({ file: path.join(dir, 'requires.js'), stdout: 'pipe', stderr: 'pipe', timeoutMs: 120_000 });
        r.stdout?.resume();
        r.stderr?.resume();
        const pid = r.child.pid!;
        // Before the run request is read (node takes tens of ms to start the runtime).
        assert.equal(spawnSync('taskset', ['-p', '-c', '0', String(pid)]).status, 0, 'taskset');
        fs.writeFileSync(`/proc/${pid}/autogroup`, '15');
        const t = await r.done;
        assert.equal(t.status, 'completed', t.error?.message);
        if (blocks(t).length > 0 || t.stats.blockedMs > 0) seen.push(show(t));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    assert.deepEqual(seen, [], 'a block in a snippet with no blocking code');
  });
});
