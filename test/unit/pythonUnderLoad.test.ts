// Python blocks are the snippet's own work, proven by evidence (the watchdog's looks at the main
// thread and its CPU time from the kernel, see Evidence in _awtl_hooks.py): time the process spent
// off a CPU is a delay ("event loop delayed: not your code"), never a block, while a real block —
// a spin, a blocking call — keeps its line, its wall time and its task, also under load.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';

import { startRun, type RunOptions } from '../../src/engine/run';
import type { Span, Timeline } from '../../src/shared/timeline';
import { startLoad, type Load } from '../load';
import { concurrently, copyPythonRuntime, FIXTURES, PYTHON, REPO } from './helpers';

interface Ran {
  t: Timeline;
  stdout: string;
}

async function run(file: string, options: Partial<RunOptions> = {}): Promise<Ran> {
  const r = startRun({ file, pythonPath: PYTHON, stdout: 'pipe', stderr: 'pipe', timeoutMs: 60_000, ...options });
  let stdout = '';
  r.stdout?.on('data', (d) => (stdout += d));
  r.stderr?.resume();
  return { t: await r.done, stdout };
}

/** `n` runs, `width` at a time. */
const runs = concurrently;

const blocks = (t: Timeline) => t.spans.filter((s) => s.kind === 'block').sort((a, b) => a.startMs - b.startMs);
const length = (s: Span) => (s.endMs ?? NaN) - s.startMs;
const show = (t: Timeline) =>
  `blocks: ${blocks(t).map((b) => `${b.line}:${b.label} ${b.endMs === null ? 'open' : `${Math.round(length(b))} ms`}`).join(' | ') || 'none'}; ` +
  `delays: ${(t.delays ?? []).map((d) => `${d.label} ${Math.round(d.endMs - d.startMs)} ms`).join(', ') || 'none'}`;
const py = (name: string) => path.join(FIXTURES, 'python', name);

describe('Python: a block is the snippet\'s own work', function () {
  this.timeout(60_000);
  before(() => copyPythonRuntime());

  it('a process kept off a CPU while a callback ran (SIGSTOP, 150 ms, SIGCONT) is a delay, never a block', async () => {
    const { t, stdout } = await run(py('stopped_process.py'));
    assert.equal(t.status, 'completed', t.error?.message);
    // The stop came inside the callback's few ms of work, as a busy machine's does (the snippet checks).
    assert.equal(stdout, 'stopped inside a callback: True\n');
    assert.deepEqual(blocks(t).map((b) => `${b.line}:${b.label}`), [], show(t));
    assert.equal(t.stats.blockedMs, 0);
    // At least the stop inside the spin; the rounds' stops that came after their spin, but while
    // the loop was still running the callback, are delays too.
    const delays = (t.delays ?? []).filter((d) => d.endMs - d.startMs >= 100);
    assert.ok(delays.length >= 1, show(t));
    for (const d of delays) assert.deepEqual([d.kind, d.label], ['delayed', 'event loop delayed: not your code']);
    assert.ok((t.stats.delayedMs ?? 0) >= 100, `delayedMs ${t.stats.delayedMs}`);
  });

  it('a blocking call that uses no CPU (Event().wait(0.3)) is still a block on its line, as long as the call', async () => {
    const { t } = await run(py('blocking_call.py'));
    assert.equal(t.status, 'completed', t.error?.message);
    const [b, ...more] = blocks(t);
    assert.ok(b && more.length === 0, show(t));
    assert.deepEqual([b.line, b.label], [7, 'threading.Event().wait(0.3)']);
    assert.ok(length(b) >= 295, show(t));
    assert.ok(t.stats.blockedMs >= 295);
  });
});

describe('Python under load: no invented blocks, real ones exact', function () {
  this.timeout(240_000);
  let load: Load | undefined;
  before(() => {
    copyPythonRuntime();
    load = startLoad({ seconds: 180 });
  });
  after(async () => {
    await load?.stop();
  });

  const nonBlocking = [
    py('chefs_gather.py'),
    py('sleep_loop.py'),
    path.join(REPO, 'examples', 'workshop', '09-python-two-chefs', 'solution.py'),
  ];
  for (const file of nonBlocking) {
    it(`${path.relative(REPO, file)}: no block in 20 runs`, async () => {
      const all = await runs(20, 4, () => run(file));
      for (const { t } of all) assert.equal(t.status, 'completed', t.error?.message);
      const invented = all.filter(({ t }) => blocks(t).length > 0 || t.stats.blockedMs > 0);
      assert.deepEqual(invented.map(({ t }) => show(t)), [], 'a block in a snippet with no blocking code');
      for (const { t } of all) {
        for (const d of t.delays ?? []) assert.deepEqual([d.kind, d.label], ['delayed', 'event loop delayed: not your code']);
      }
    });
  }

  it('gathered_spin.py: the two busy-waits are two blocks on the while line, each its spin\'s wall time, each under its task', async () => {
    const all = await runs(3, 3, () => run(py('gathered_spin.py')));
    for (const { t } of all) {
      assert.equal(t.status, 'completed', t.error?.message);
      const found = blocks(t);
      assert.equal(found.length, 2, show(t));
      const tasks = ['cook("soup")', 'cook("pasta")'];
      found.forEach((b, i) => {
        assert.deepEqual([b.line, b.column, b.label], [8, 5, 'while time.perf_counter() < end: pass'], show(t));
        assert.ok(length(b) >= 475, `the spin's 500 ms: ${show(t)}`);
        const task = t.spans.find((s) => s.id === b.parentId);
        assert.equal(task?.label, tasks[i], show(t));
      });
      assert.ok(found[1]!.startMs >= found[0]!.endMs! - 1, 'one after the other');
    }
  });
});
