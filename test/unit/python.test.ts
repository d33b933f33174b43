// The Python runtime through the engine: real python3 runs on the fixtures in test/fixtures/python.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { startRun, type RunOptions } from '../../src/engine/run';
import type { Span, Timeline } from '../../src/shared/timeline';

const REPO = path.resolve(__dirname, '..', '..');
const FIXTURES = path.join(REPO, 'test', 'fixtures', 'python');
const PYTHON = process.env.AWAIT_TIMELINE_PYTHON ?? 'python3';

interface Ran {
  timeline: Timeline;
  stdout: string;
  stderr: string;
}

function fixture(name: string): string {
  return path.join(FIXTURES, name);
}

async function run(name: string, options: Partial<RunOptions> = {}, whileRunning?: (r: ReturnType<typeof startRun>) => void): Promise<Ran> {
  const r = startRun({ file: fixture(name), stdout: 'pipe', stderr: 'pipe', pythonPath: PYTHON, timeoutMs: 20000, ...options });
  let stdout = '';
  let stderr = '';
  r.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  r.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  whileRunning?.(r);
  const timeline = await r.done;
  return { timeline, stdout, stderr };
}

function plainPython(name: string, args: string[] = []): { stdout: string; stderr: string; status: number | null; code: number | null; ms: number } {
  const file = fixture(name);
  const started = performance.now();
  const r = spawnSync(PYTHON, [file, ...args], { cwd: path.dirname(file), encoding: 'utf8', timeout: 20000 });
  // The exit code as a shell reports it: 128 + the signal's number for a death by signal.
  const code = r.status ?? (r.signal ? 128 + (os.constants.signals[r.signal] ?? 0) : null);
  return { stdout: r.stdout, stderr: r.stderr, status: r.status, code, ms: performance.now() - started };
}

function pythonAtLeast(major: number, minor: number): boolean {
  const r = spawnSync(PYTHON, ['-c', `import sys; print(sys.version_info >= (${major}, ${minor}))`], { encoding: 'utf8' });
  return r.stdout.trim() === 'True';
}

const spans = (t: Timeline, kind: Span['kind'], label: string): Span[] =>
  t.spans.filter((s) => s.kind === kind && s.label.startsWith(label));

function one(t: Timeline, kind: Span['kind'], label: string): Span {
  const found = spans(t, kind, label);
  assert.equal(found.length, 1, `one ${kind} "${label}" in: ${t.spans.map((s) => `${s.kind}:${s.label}`).join(' | ')}`);
  return found[0];
}

function end(s: Span): number {
  assert.notEqual(s.endMs, null, `${s.label} still pending`);
  return s.endMs as number;
}

const overlap = (a: Span, b: Span) => a.startMs < end(b) && b.startMs < end(a);
const length = (s: Span) => end(s) - s.startMs;

function isInside(t: Timeline, child: Span, ancestor: Span): boolean {
  const byId = new Map(t.spans.map((s) => [s.id, s]));
  for (let s: Span | undefined = child; s; s = s.parentId === null ? undefined : byId.get(s.parentId)) {
    if (s.parentId === ancestor.id) return true;
  }
  return false;
}

describe('Python runtime', function () {
  this.timeout(30000);

  before(function () {
    const probe = spawnSync(PYTHON, ['-c', 'import sys; print(sys.version_info >= (3, 9))'], { encoding: 'utf8' });
    if (probe.error || probe.stdout.trim() !== 'True') {
      throw new Error(`these tests need Python >= 3.9 as ${PYTHON} (set AWAIT_TIMELINE_PYTHON)`);
    }
    // The engine starts dist/runtime/python/runner.py; the build copies these files there. Copy
    // them the same way so the tests never run a stale runner.
    const dist = path.join(REPO, 'dist', 'runtime', 'python');
    const src = path.join(REPO, 'src', 'runtime', 'python');
    fs.mkdirSync(dist, { recursive: true });
    for (const name of fs.readdirSync(src)) {
      if (name.endsWith('.py')) fs.copyFileSync(path.join(src, name), path.join(dist, name));
    }
  });

  it('time.sleep chefs: two blocks one after the other, inside their calls, total about the sum', async () => {
    const { timeline: t } = await run('chefs_sleep.py');
    assert.equal(t.language, 'python');
    assert.equal(t.status, 'completed');
    assert.equal(t.exitCode, 0);
    const weather = one(t, 'call', 'fetch_data("Weather API")');
    const news = one(t, 'call', 'fetch_data("News API")');
    const blocks = spans(t, 'block', 'time.sleep(0.3)');
    assert.equal(blocks.length, 2);
    const [first, second] = blocks.sort((a, b) => a.startMs - b.startMs);
    assert.ok(!overlap(first, second), 'the sleeps do not overlap');
    assert.ok(second.startMs >= end(first) - 1);
    assert.equal(first.line, 7);
    assert.equal(first.parentId, weather.id);
    assert.equal(second.parentId, news.id);
    assert.ok(news.startMs >= end(weather) - 1, 'the second order starts after the first');
    assert.equal(one(t, 'call', 'main()').parentId, null);
    assert.ok(t.wallMs >= 550, `wall ${t.wallMs} is about the sum of both sleeps`);
    assert.ok(length(first) >= 250 && length(second) >= 250);
  });

  it('gather chefs: two overlapping awaits under the gather, total about one sleep', async () => {
    const { timeline: t } = await run('chefs_gather.py');
    assert.equal(t.status, 'completed');
    // The span model (src/shared/timeline.ts): an awaited combinator is the await and, under it,
    // the combinator; each task stands for a call of the snippet's function, at its definition.
    const waiting = one(t, 'await', 'asyncio.gather(fetch_data("Weather API"), fetch_data("News API"))');
    assert.deepEqual([waiting.line, waiting.column], [13, 15]);
    const gather = one(t, 'combinator', 'asyncio.gather(fetch_data("Weather API"), fetch_data("News API"))');
    assert.deepEqual([gather.line, gather.column], [13, 21]);
    assert.equal(gather.parentId, waiting.id);
    assert.equal(gather.startMs, waiting.startMs);
    assert.equal(gather.endMs, waiting.endMs);
    const weather = one(t, 'task', 'fetch_data("Weather API")');
    const news = one(t, 'task', 'fetch_data("News API")');
    assert.equal(weather.parentId, gather.id);
    assert.equal(news.parentId, gather.id);
    assert.deepEqual([weather.line, weather.column], [5, 1], 'at async def fetch_data');
    assert.equal(spans(t, 'call', 'fetch_data').length, 0, 'the task stands for the call');
    const sleeps = spans(t, 'await', 'asyncio.sleep(0.3)');
    assert.equal(sleeps.length, 2);
    assert.ok(overlap(sleeps[0], sleeps[1]), 'the two waits overlap');
    assert.ok(sleeps.every((s) => s.line === 7 && s.column === 5));
    assert.ok(isInside(t, sleeps[0], gather) && isInside(t, sleeps[1], gather));
    assert.equal(spans(t, 'block', '').length, 0);
    assert.ok(length(gather) < length(sleeps[0]) + length(sleeps[1]) - 100, 'the gather takes about one sleep, not two');
    assert.equal(t.stats.maxConcurrency, 2);
  });

  it('TaskGroup: the async with waits for both tasks, which run at the same time', async function () {
    if (!pythonAtLeast(3, 11)) this.skip(); // asyncio.TaskGroup is new in 3.11
    const { timeline: t, stdout } = await run('task_group.py');
    assert.equal(stdout, 'soup salad\n');
    const group = one(t, 'combinator', 'async with asyncio.TaskGroup() as tg');
    const soup = one(t, 'task', 'cook("soup", 0.2)');
    const salad = one(t, 'task', 'cook("salad", 0.1)');
    assert.equal(soup.parentId, group.id);
    assert.equal(salad.parentId, group.id);
    assert.ok(overlap(soup, salad));
    assert.ok(end(salad) < end(soup));
    assert.ok(end(group) >= end(soup) - 1, 'the group ends when its last task does');
    assert.equal(group.outcome, 'fulfilled');
  });

  it('wait_for timing out reads as rejected with the reason, and the inner task as cancelled', async () => {
    const { timeline: t, stdout } = await run('wait_for_timeout.py');
    assert.equal(stdout, 'timed out\n');
    assert.equal(t.exitCode, 0);
    const wait = one(t, 'combinator', 'asyncio.wait_for(slow_service(), timeout=0.2)');
    assert.equal(wait.outcome, 'rejected');
    assert.match(wait.label, /TimeoutError/);
    assert.ok(length(wait) >= 150 && length(wait) < 3000);
    // Up to 3.11 wait_for wraps the coroutine in a task; from 3.12 on it awaits it in place.
    const inner = [...spans(t, 'task', 'slow_service()'), ...spans(t, 'call', 'slow_service()')];
    assert.equal(inner.length, 1);
    assert.equal(inner[0].outcome, 'rejected');
    assert.match(inner[0].label, /cancelled/);
    assert.equal(one(t, 'await', 'asyncio.sleep(5)').outcome, 'rejected');
  });

  it('time.sleep inside a coroutine is a block labelled with its line, holding the other task back', async () => {
    const { timeline: t } = await run('sleep_in_coroutine.py');
    const block = one(t, 'block', 'time.sleep(0.3)');
    assert.equal(block.line, 12);
    assert.ok(length(block) >= 250);
    assert.ok(isInside(t, block, one(t, 'task', 'blocking_step()')));
    // The heartbeat's first 50 ms wait cannot end while the loop is blocked.
    const beats = spans(t, 'await', 'asyncio.sleep(0.05)').sort((a, b) => a.startMs - b.startMs);
    assert.equal(beats.length, 3);
    assert.ok(end(beats[0]) >= end(block) - 1, 'the first heartbeat ends only after the block');
    assert.ok(t.stats.blockedMs >= 250);
  });

  it('a CPU-bound stretch that holds the loop is a block on the line it was stuck on', async () => {
    const { timeline: t } = await run('cpu_block.py');
    const blocks = spans(t, 'block', '');
    assert.ok(blocks.length >= 1, 'one block at least');
    const longest = blocks.sort((a, b) => length(b) - length(a))[0];
    assert.ok(length(longest) >= 200);
    assert.ok([5, 6, 7, 8, 15, 16, 17].includes(longest.line), `stuck line ${longest.line}: ${longest.label}`);
    assert.ok(t.droppedSpans > 0, 'the hot crunch() site is capped and counted');
  });

  it('a loop of calls that holds the loop is a block on the lines that run, never on the called function\'s header', async () => {
    // Python hands its lock to the watchdog at a call's entry: a look often finds step() at its
    // `def` line, before any line of it runs (CI run 58 named cpu_block.py's `def crunch(n):`).
    for (let i = 0; i < 6; i++) {
      const { timeline: t } = await run('calls_block.py');
      const blocks = spans(t, 'block', '');
      assert.ok(blocks.length >= 1, 'one block at least');
      for (const b of blocks) assert.ok([7, 13, 14].includes(b.line), `run ${i}: block at line ${b.line}: ${b.label}`);
    }
  });

  it('an uncaught exception: exit code 1, the same traceback as python3, a mark with message and line', async () => {
    const { timeline: t, stdout, stderr } = await run('exception.py');
    const plain = plainPython('exception.py');
    assert.equal(t.status, 'failed');
    assert.equal(t.exitCode, 1);
    assert.equal(plain.status, 1);
    assert.equal(stdout, plain.stdout);
    assert.equal(stderr, plain.stderr);
    const mark = t.marks.find((m) => m.kind === 'exception');
    assert.ok(mark);
    assert.equal(mark.text, "ValueError: invalid literal for int() with base 10: 'not a number'");
    assert.equal(mark.line, 6);
    assert.match(mark.stack ?? '', /line 11, in main/);
    assert.equal(t.error?.line, 6);
    const call = one(t, 'call', 'parse("not a number")');
    assert.equal(call.outcome, 'rejected');
    assert.equal(one(t, 'await', 'parse("not a number")').outcome, 'rejected');
    assert.ok(t.marks.some((m) => m.kind === 'stderr' && m.text.startsWith('ValueError')));
  });

  it('behaves as plain python3: output, exit code, __main__, argv, sibling imports, atexit', async () => {
    const { timeline: t, stdout, stderr } = await run('parity.py');
    const plain = plainPython('parity.py');
    assert.equal(stdout, plain.stdout);
    assert.equal(stderr, plain.stderr);
    assert.equal(t.exitCode, 3);
    assert.equal(plain.status, 3);
    const lines = t.marks.filter((m) => m.kind === 'stdout');
    assert.deepEqual(lines.map((m) => m.text), plain.stdout.trimEnd().split('\n'));
    assert.equal(lines.find((m) => m.text === 'PARTIAL line')?.line, 34);
    assert.ok(lines.some((m) => m.text === "locals: ['text']"), 'no instrumentation locals');
    assert.equal(t.marks.find((m) => m.kind === 'stderr')?.text, 'to stderr');
    const cook = one(t, 'call', 'Kitchen.cook("soup", minutes=3)');
    assert.deepEqual([cook.line, cook.column], [16, 5], 'a call points at its definition, as in TS');
    assert.equal(t.spans.find((s) => s.id === cook.parentId)?.kind, 'await', 'awaited directly: under its await');
    assert.ok(isInside(t, one(t, 'await', 'asyncio.sleep(0.01)'), cook));
    assert.equal(one(t, 'combinator', 'asyncio.as_completed(').outcome, 'fulfilled');
  });

  it('a syntax error: python3 stderr and exit code, the engine reports file:line:col', async () => {
    const { timeline: t, stderr } = await run('syntax_error.py');
    const plain = plainPython('syntax_error.py');
    assert.equal(stderr, plain.stderr);
    assert.equal(t.status, 'failed');
    assert.equal(t.exitCode, 1);
    // The line python3 itself names (3.9's parser names a later line than 3.10+).
    const line = Number(/line (\d+)/.exec(plain.stderr)?.[1]);
    assert.equal(t.error?.line, line);
    assert.ok((t.error?.column ?? 0) >= 1);
    assert.match(t.error?.message ?? '', /^SyntaxError: /);
    assert.equal(t.spans.length, 0);
  });

  it('runs the editor buffer instead of the file when a source is given', async () => {
    const source = 'import asyncio\nasync def main():\n    await asyncio.sleep(0.01)\n    print("from the buffer")\nasyncio.run(main())\n';
    const { timeline: t, stdout } = await run('chefs_sleep.py', { source });
    assert.equal(stdout, 'from the buffer\n');
    assert.equal(one(t, 'await', 'asyncio.sleep(0.01)').line, 3);
  });

  it('a stop during time.sleep reports the block still going, with its line', async () => {
    // Stop 150 ms after the line printed just before the first sleep arrives. The sleep is 3 s, not
    // the fixture's 0.3 s: a busy machine can bring that line to the engine 300 ms late, and the
    // stop then came during the second sleep (two blocks, CI at load ~38): the test's timing, not
    // the product's.
    const source = fs.readFileSync(path.join(FIXTURES, 'chefs_sleep.py'), 'utf8').replace('time.sleep(0.3)', 'time.sleep(3)');
    let armed = false;
    const { timeline: t } = await run('chefs_sleep.py', { source }, (r) => r.on('update', (delta) => {
      if (!armed && delta.marks.some((m) => m.text.startsWith('Fetching'))) {
        armed = true;
        setTimeout(() => void r.cancel(), 150);
      }
    }));
    assert.equal(t.status, 'cancelled');
    const block = one(t, 'block', 'time.sleep(3)');
    assert.equal(block.endMs, null);
    assert.equal(block.line, 7);
    assert.match(t.error?.message ?? '', /time\.sleep\(3\)/);
  });

  it('caps spans per await site and counts the rest as dropped', async () => {
    const source = 'import asyncio\nasync def main():\n    for _ in range(50):\n        await asyncio.sleep(0)\nasyncio.run(main())\n';
    const { timeline: t } = await run('chefs_sleep.py', { source, maxSpansPerSite: 10 });
    assert.equal(spans(t, 'await', 'asyncio.sleep(0)').length, 10);
    assert.equal(t.droppedSpans, 40);
  });

  it('past the cap, calls and awaits still run exactly as written and are counted', async () => {
    // Past the cap the instrumented code takes a branch without the recorder (the hot path):
    // results, exceptions and the counts must be the same as on the recorded branch.
    const source = [
      'import asyncio',
      'async def step(i):',
      '    if i == 37:',
      '        raise ValueError(i)',
      '    return i * 2',
      'async def main():',
      '    total = 0',
      '    for i in range(60):',
      '        try:',
      '            total += await step(i)',
      '        except ValueError as e:',
      '            print("caught", e)',
      '    print(total)',
      'asyncio.run(main())',
      '',
    ].join('\n');
    const { timeline: t, stdout } = await run('chefs_sleep.py', { source, maxSpansPerSite: 10 });
    assert.equal(stdout, `caught 37\n${2 * (59 * 60 / 2 - 37)}\n`);
    assert.equal(spans(t, 'await', 'step(i)').length, 10);
    assert.equal(spans(t, 'call', 'step(').length, 10);
    assert.equal(t.droppedSpans, 50 + 50);
    assert.ok(t.spans.every((s) => s.endMs !== null), 'every recorded span ended');
  });

  it('an await that raises is rejected with its reason, also when its function is past the cap and not recorded', async () => {
    // An await in a function's direct flow has no `except` of its own: the function's `finally`
    // closes it. That `finally` calls the recorder only while something of its function is open,
    // so a recorded await must count as open even when its function's call was not recorded
    // (past the cap: here `guarded` from its 6th call on, while its `if` lets the await run in a
    // few calls only, all of them recorded).
    const source = [
      'import asyncio',
      'async def fail(i):',
      '    await asyncio.sleep(0)',
      '    raise ValueError(i)',
      'async def direct(i):',
      '    await fail(i)',
      'async def guarded(i):',
      '    if i % 7 == 0:',
      '        x = await fail(i)',
      '    return i',
      'async def caught(i):',
      '    try:',
      '        await fail(i)',
      '    except ValueError:',
      '        return -i',
      'async def main():',
      '    for i in range(30):',
      '        for f in (direct, guarded, caught):',
      '            try:',
      '                await f(i)',
      '            except ValueError:',
      '                pass',
      'asyncio.run(main())',
      '',
    ].join('\n');
    const { timeline: t } = await run('chefs_sleep.py', { source, maxSpansPerSite: 5 });
    assert.equal(t.status, 'completed');
    for (const line of [6, 9, 13]) {
      const awaits = t.spans.filter((s) => s.kind === 'await' && s.line === line);
      assert.equal(awaits.length, 5, `line ${line}: the cap's 5 awaits`);
      for (const s of awaits) {
        assert.equal(s.outcome, 'rejected', `line ${line}: ${s.label} rejected`);
        assert.equal(s.label, 'fail(i) \u2192 ValueError');
        assert.notEqual(s.endMs, null);
      }
    }
    // i = 0, 7, 14, 21, 28: only the first of them is in a recorded call of guarded().
    assert.equal(spans(t, 'call', 'guarded(').filter((s) => s.outcome === 'rejected').length, 1);
    assert.ok(t.spans.every((s) => s.endMs !== null), 'every recorded span ended');
  });

  it('a call span is rejected exactly when its function raises, not when it returns while an exception is handled', async () => {
    // The function's own `finally` tells a raise from a return (no `except` clause is emitted):
    // returning from an `except` block, or while the caller handles an exception, is a return.
    const source = [
      'import asyncio',
      'def sync_ok():',
      '    return 1',
      'async def ok(x):',
      '    await asyncio.sleep(0)',
      '    return x',
      'async def boom(x):',
      '    await asyncio.sleep(0)',
      '    raise ValueError(x)',
      'async def slow(x):',
      '    await asyncio.sleep(10)',
      'async def outer():',
      '    await slow(5)',
      'async def in_except():',
      '    try:',
      '        await boom(1)',
      '    except ValueError:',
      '        await ok(2)',
      '        sync_ok()',
      '        return await ok(3)',
      'def sync_boom():',
      '    try:',
      '        raise KeyError("k")',
      '    except KeyError:',
      '        return sync_ok()',
      'async def main():',
      '    await in_except()',
      '    sync_boom()',
      '    try:',
      '        await boom(4)',
      '    except ValueError:',
      '        pass',
      '    t = asyncio.create_task(outer())',
      '    await asyncio.sleep(0)',
      '    t.cancel()',
      '    try:',
      '        await t',
      '    except asyncio.CancelledError:',
      '        print("cancelled")',
      'asyncio.run(main())',
      '',
    ].join('\n');
    const { timeline: t, stdout } = await run('chefs_sleep.py', { source });
    assert.equal(stdout, 'cancelled\n');
    const calls = t.spans.filter((s) => s.kind === 'call').map((s) => `${s.label} ${s.outcome}`).sort();
    assert.deepEqual(calls, [
      'boom(1) \u2192 ValueError rejected',
      'boom(4) \u2192 ValueError rejected',
      'in_except() fulfilled',
      'ok(2) fulfilled',
      'ok(3) fulfilled',
      'slow(5) \u2192 cancelled rejected',
      'sync_boom() fulfilled',
      'sync_ok() fulfilled',
      'sync_ok() fulfilled',
    ]);
    assert.equal(one(t, 'task', 'outer()').outcome, 'rejected');
    assert.equal(one(t, 'task', 'main()').outcome, 'fulfilled');
  });

  it('two gathered coroutines that each spin: a block under each task, at the while line; each task ends when it finished', async () => {
    const { timeline: t, stdout } = await run('gathered_spin.py');
    assert.equal(stdout, plainPython('gathered_spin.py').stdout);
    const soup = one(t, 'task', 'cook("soup")');
    const pasta = one(t, 'task', 'cook("pasta")');
    const blocks = spans(t, 'block', '').sort((a, b) => a.startMs - b.startMs);
    assert.equal(blocks.length, 2, blocks.map((b) => `${b.label} ${b.startMs}-${b.endMs}`).join('; '));
    for (const b of blocks) {
      assert.equal(b.label, 'while time.perf_counter() < end: pass');
      assert.deepEqual([b.line, b.column], [8, 5]);
      assert.ok(length(b) >= 400, `block of ${length(b)} ms`);
    }
    assert.ok(isInside(t, blocks[0], soup), 'the first spin is soup\'s');
    assert.ok(isInside(t, blocks[1], pasta), 'the second spin is pasta\'s');
    assert.ok(!overlap(blocks[0], blocks[1]));
    // soup printed "done" after its own spin, while pasta's spin still held the loop: its bar ends
    // there, not when its done-callback ran after pasta's spin.
    const doneSoup = t.marks.find((m) => m.kind === 'stdout' && m.text === 'done soup');
    assert.ok(doneSoup);
    assert.ok(end(soup) >= doneSoup.atMs && end(soup) < doneSoup.atMs + 50, `soup ends at ${end(soup)}, printed at ${doneSoup.atMs}`);
    assert.ok(end(soup) < end(pasta) - 300);
  });

  it('threads and servers: executor work under its await, to_thread counted, a handler under an open span', async () => {
    const { timeline: t, stdout } = await run('threads_and_server.py');
    assert.equal(stdout, plainPython('threads_and_server.py').stdout);
    assert.equal(t.status, 'completed');
    const byId = new Map(t.spans.map((s) => [s.id, s]));
    const executor = one(t, 'call', 'blocking_io(2)');
    assert.equal(byId.get(executor.parentId ?? -1)?.label, 'loop.run_in_executor(None, blocking_io, 2)');
    const thread = one(t, 'call', 'blocking_io(1)');
    assert.equal(byId.get(thread.parentId ?? -1)?.label, 'asyncio.to_thread(blocking_io, 1)');
    // asyncio.to_thread's own task: its positional-only parameter once, then the *args.
    const toThread = one(t, 'task', 'to_thread(');
    assert.equal(toThread.label, 'to_thread(blocking_io, 3)');
    assert.ok(isInside(t, one(t, 'call', 'blocking_io(3)'), toThread));
    // The gathered thread and sleep wait at the same time: both count as waits.
    assert.equal(t.stats.maxConcurrency, 2);
    // The handler runs after `await asyncio.start_server(...)` ended: it goes under the nearest
    // span still open (main's task), never under the finished await.
    const handler = one(t, 'task', 'handle(');
    const parent = byId.get(handler.parentId ?? -1);
    assert.ok(parent, 'the handler has a parent');
    assert.ok(parent.endMs === null || parent.endMs >= end(handler), `parent ${parent.kind} ${parent.label} ended at ${parent.endMs}, before the handler (${end(handler)})`);
    assert.equal(spans(t, 'task', '_accept_connection').length, 0, 'asyncio\'s own plumbing is not a row');
  });

  it('asyncio\'s combinators are recognised by what they are, not by their names', async () => {
    const { timeline: t, stdout, stderr } = await run('names_not_guesses.py');
    const plain = plainPython('names_not_guesses.py');
    assert.equal(stderr, plain.stderr);
    assert.equal(stdout, plain.stdout);
    assert.equal(t.exitCode, 0);
    // A user's own as_completed() is a plain call; Event.wait() is an await like any other.
    assert.equal(spans(t, 'combinator', 'Batch(').length, 0);
    assert.equal(one(t, 'await', 'event.wait()').line, 22);
    assert.equal(spans(t, 'combinator', 'event.wait()').length, 0);
    // asyncio.gather under another name is still asyncio.gather; asyncio.as_completed still is.
    const gathered = one(t, 'combinator', 'together(');
    assert.equal(t.spans.find((s) => s.id === gathered.parentId)?.kind, 'await');
    assert.equal(one(t, 'combinator', 'asyncio.as_completed(').outcome, 'fulfilled');
  });

  it('instrumenting is linear: a 3,300-line file starts as fast as a short one would', async function () {
    const lines = ['import asyncio', ''];
    for (let i = 0; i < 830; i++) {
      lines.push(`async def f${i}(x, y=1):`, `    z = await asyncio.sleep(0, result=x + ${i})`, `    return {'a': z, 'b': [y, ${i}]}`, '');
    }
    lines.push('async def main():', '    print(await f829(1))', 'asyncio.run(main())');
    const source = lines.join('\n') + '\n';
    assert.ok(source.split('\n').length > 3300);
    // Quadratic instrumenting took 61-93 s on such a file; linear takes well under a second.
    // The bound is ten times what a loaded machine needs, and the run must not hit it.
    const { timeline: t, stdout } = await run('chefs_sleep.py', { source, timeoutMs: 15000 });
    assert.equal(t.status, 'completed', t.error?.message);
    assert.equal(stdout, "{'a': 830, 'b': [1, 829]}\n");
    assert.equal(one(t, 'call', 'f829(').line, 3319);
  });

  it('a forked child that runs a coroutine and exits normally leaves the parent\'s run alone', async () => {
    const { timeline: t, stdout, stderr } = await run('fork_child.py');
    const plain = plainPython('fork_child.py');
    assert.equal(stdout, plain.stdout);
    assert.equal(stderr, plain.stderr);
    assert.equal(t.error, null, t.error?.message);
    assert.equal(t.status, 'completed');
    assert.equal(t.exitCode, 0);
    // Only the parent's spans: the child's copy of the recorder stays quiet.
    assert.equal(spans(t, 'await', 'work("before")').length, 1);
    assert.equal(spans(t, 'await', 'work("after")').length, 1);
    assert.equal(spans(t, 'task', 'work("child")').length, 0);
  });

  it('a child forked while the recorder writes does not hang in its exit on the lock it copied', async () => {
    // The project CI saw fork_child.py's child hang at exit (the parent then waited in waitpid
    // until the timeout): the fork came while the watchdog thread held the events lock. The
    // fixture takes that lock on purpose across the fork, so the moment comes every time.
    const { timeline: t, stdout, stderr } = await run('fork_while_flushing.py', { timeoutMs: 10000 });
    const plain = plainPython('fork_while_flushing.py');
    assert.equal(stdout, plain.stdout);
    assert.equal(stderr, plain.stderr);
    assert.equal(t.status, 'completed', t.error?.message);
    assert.equal(t.exitCode, 0);
    assert.equal(spans(t, 'await', 'work("after")').length, 1);
  });

  it('a daemon that outlives the program does not keep the CLI waiting', async () => {
    const pidFile = path.join(os.tmpdir(), `awtl-daemon-${process.pid}.pid`);
    const endDaemon = () => {
      try {
        process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGKILL');
      } catch {
        // not started, or gone
      }
      fs.rmSync(pidFile, { force: true });
    };
    try {
      // The daemon sleeps 20 s with its stdio on /dev/null; python3 itself returns at once.
      const plain = plainPython('daemon.py', [pidFile]);
      endDaemon();
      assert.ok(plain.ms < 10000);
      const started = performance.now();
      const r = spawnSync(process.execPath, [path.join(REPO, 'dist', 'cli.js'), 'run', fixture('daemon.py'), '--no-color', '--python', PYTHON, '--', pidFile],
        { encoding: 'utf8', timeout: 30000 });
      const ms = performance.now() - started;
      assert.equal(r.status, 0, r.stderr);
      assert.ok(r.stdout.startsWith(plain.stdout));
      assert.ok(ms < 10000, `the CLI took ${Math.round(ms)} ms (it waited for the daemon)`);
    } finally {
      endDaemon();
    }
  });

  it('os.closerange(3, 256) is not a stop request: the program runs on as under python3', async () => {
    const { timeline: t, stdout, stderr } = await run('closerange.py');
    const plain = plainPython('closerange.py');
    assert.equal(stdout, plain.stdout);
    assert.equal(stderr, plain.stderr);
    assert.equal(t.exitCode, 0);
    assert.equal(t.status, 'completed');
  });

  it('a raised KeyboardInterrupt exits 130 and SIGTERM to itself 143, as python3 in a shell', async () => {
    for (const [how, code] of [['interrupt', 130], ['terminate', 143]] as const) {
      const plain = plainPython('signals.py', [how]);
      assert.equal(plain.code, code, `python3 ${how}`);
      const { timeline: t, stdout, stderr } = await run('signals.py', { args: [how] });
      assert.equal(t.exitCode, code, how);
      assert.equal(stdout, plain.stdout);
      assert.equal(stderr, plain.stderr);
    }
  });

  it('the tracer stays out of the program\'s sight: factory, debug origin, tracers, selectors, modules, tracebacks, task reprs', async () => {
    // hidden/observe.py prints what it can see of itself; python3 is the reference, line for line.
    const { timeline: t, stdout, stderr } = await run('hidden/observe.py');
    const plain = plainPython('hidden/observe.py');
    assert.equal(plain.code, 0);
    assert.equal(stdout, plain.stdout);
    assert.equal(stderr, plain.stderr); // "Task was destroyed but it is pending!" with the task's repr
    assert.equal(t.exitCode, 0);
    assert.doesNotMatch(stdout + stderr, /_awtl_hooks|runtime\/python|runner\.py/);
  });

  it('our modules load from bytecode kept in the user\'s cache folder; the program\'s imports see python3\'s settings', async () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'awtl-pycache-'));
    // Not the fixture's folder: nothing the program imports may be written beside it.
    const bytecode = path.join(FIXTURES, 'bytecode', '__pycache__');
    fs.rmSync(bytecode, { recursive: true, force: true });
    try {
      const env = { ...process.env, XDG_CACHE_HOME: cache, PYTHONDONTWRITEBYTECODE: '1' };
      const plain = spawnSync(PYTHON, [fixture('bytecode/main.py')], { cwd: path.dirname(fixture('bytecode/main.py')), encoding: 'utf8', env });
      assert.equal(plain.status, 0, plain.stderr);
      for (let i = 0; i < 2; i++) {
        const { timeline: t, stdout } = await run('bytecode/main.py', { env });
        assert.equal(t.exitCode, 0);
        assert.equal(stdout, plain.stdout); // pycache_prefix None, dont_write_bytecode True: as python3
      }
      const kept: string[] = [];
      const walk = (dir: string) => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
          if (e.isDirectory()) walk(path.join(dir, e.name));
          else kept.push(e.name);
        }
      };
      walk(path.join(cache, 'await-timeline', 'python'));
      const ours = kept.filter((n) => /^_awtl_\w+\.cpython-\d+\.pyc$/.test(n)).map((n) => n.split('.')[0]).sort();
      assert.deepEqual(ours, ['_awtl_hooks', '_awtl_pending', '_awtl_recorder', '_awtl_runner', '_awtl_transform', '_awtl_warp']);
      assert.deepEqual(kept.filter((n) => !n.startsWith('_awtl_')), [], 'nothing of the program or the standard library is cached there');
      assert.equal(fs.statSync(path.join(cache, 'await-timeline', 'python')).mode & 0o777, 0o700);
      assert.ok(!fs.existsSync(bytecode), 'the program\'s own imports wrote no bytecode (PYTHONDONTWRITEBYTECODE=1, as python3)');
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
      fs.rmSync(bytecode, { recursive: true, force: true });
    }
  });

  it('a RecursionError in the snippet reads as under python3: one exception, the program\'s frames only', async () => {
    const { timeline: t, stdout } = await run('recursion.py');
    const plain = plainPython('recursion.py');
    assert.equal(stdout, plain.stdout);
    assert.equal(t.exitCode, 0);
    // The recursion's spans that could not close at the limit are closed as it unwinds.
    const dives = spans(t, 'call', 'dive(');
    assert.ok(dives.length > 100);
    assert.ok(dives.every((s) => s.endMs !== null && s.outcome === 'rejected'), 'every dive() ended, rejected');
  });

  it('span and label messages go out as json.dumps writes them, byte for byte (the recorder formats the common ones itself)', () => {
    // Labels with quotes, backslashes, control characters, non-ASCII text; null parents and ends;
    // floats of every shape; and messages the template must leave to json.dumps (a bool or int
    // time, another field, a NaN that json.dumps refuses).
    const script = `
import json, math, sys
sys.path.insert(0, ${JSON.stringify(path.join(REPO, 'src', 'runtime', 'python'))})
import _awtl_recorder as r
def span(**kw):
    m = {'type': 'span', 'id': 7, 'parentId': 3, 'kind': 'call', 'label': 'f(1)', 'line': 2, 'column': 5,
         'startMs': 12.5, 'endMs': None, 'outcome': 'pending'}
    m.update(kw)
    return m
cases = [span(), span(parentId=None), span(endMs=40.25, outcome='fulfilled'), span(id=2**60, line=0, column=0),
         span(label='say("hi") \\\\ \\t\\n\\x00\\x1f\\x7f \\u00e9\\u2192\\U0001f600 \\u2028'),
         span(startMs=0.1 + 0.2, endMs=1e-7), span(startMs=1e22, endMs=-0.0), span(startMs=153.28473900000002),
         span(kind='task', label='Task-1 main()'), span(startMs=3), span(endMs=True), span(id=True), span(parentId=0.0),
         span(floating=True), dict(span(), continues=4), {'type': 'label', 'id': 7, 'label': 'x \\u2192 y'},
         {'type': 'label', 'id': 2**53 + 1, 'label': 'f("a\\\\b", \\t\\x01)'}, {'type': 'label', 'id': True, 'label': 'f()'},
         {'type': 'label', 'id': 7, 'label': None}]
for m in cases:
    want = json.dumps(m, ensure_ascii=False, separators=(',', ':'), allow_nan=False).encode('utf-8')
    got = r._json_frame(m)
    assert got[5:] == want and got[4] == r.FRAME_JSON and int.from_bytes(got[:4], 'little') == len(want), (m, got, want)
for bad in (span(startMs=math.nan), span(endMs=math.inf)):
    try:
        r._json_frame(bad)
    except ValueError:
        pass
    else:
        raise AssertionError('accepted %r' % bad)
print('ok', len(cases))
`;
    const r = spawnSync(PYTHON, ['-c', script], { encoding: 'utf8' });
    assert.equal(r.stderr, '');
    assert.equal(r.stdout.trim(), 'ok 19');
  });

  it('the channel is sealed: frames a Python program forges or garbles are not believed, what came before is kept, it runs on as under python3', async () => {
    for (const what of ['span', 'exit', 'garbage']) {
      const plain = plainPython('hostile/forge.py', [what]);
      const { timeline: t, stdout, stderr } = await run('hostile/forge.py', { args: [what] });
      assert.equal(stdout, plain.stdout, what);
      assert.equal(stderr, plain.stderr, what);
      assert.equal(t.exitCode, plain.code, what);
      assert.equal(t.status, 'completed', `${what}: ${t.error?.message}`);
      assert.ok(!t.spans.some((s) => s.label.includes('FORGED')), `${what}: no forged span`);
      assert.equal(t.incomplete, "the program closed or wrote to the tool's channel", what);
      // The first wait was sent before the forgery: it is kept, whole.
      assert.ok(end(one(t, 'await', 'asyncio.sleep(0.05)')) >= 45, what);
      assert.ok(t.wallMs >= 500, `${what}: a forged exit does not set the wall time (${t.wallMs} ms)`);
    }
  });

  it('children started any way hold none of the channel, and the program\'s first file is fd 3, as under python3', async () => {
    // Plain python3 started as the engine starts it: descriptors 3-59 closed, so that both list
    // only what this test's own process passes on.
    const file = fixture('hostile/children.py');
    const plain = spawnSync(PYTHON, [file], { cwd: path.dirname(file), encoding: 'utf8', timeout: 20000, stdio: ['ignore', 'pipe', 'pipe', ...Array<'ignore'>(57).fill('ignore')] });
    const { timeline: t, stdout } = await run('hostile/children.py');
    const children = (out: string) => out.split('\n').filter((l) => / fds /.test(l)).map((l) => {
      const [, who, fds, writes] = /^(\S+) fds (\S*) writes (.*)$/.exec(l)!;
      return { who, fds: fds.split(',').filter(Boolean).map(Number), writes };
    });
    const got = children(stdout);
    assert.equal(got.length, 3, stdout);
    // Fd 60 is the run's marker (a pipe's read end without a writer): the process tree finds them by it.
    assert.deepEqual(got.map((c) => ({ ...c, fds: c.fds.filter((fd) => fd !== 60) })), children(plain.stdout));
    assert.ok(got.every((c) => c.writes === Array(4).fill('Bad file descriptor').join(',')), stdout);
    assert.equal(stdout.split('\n')[0], 'first file fd 3');
    assert.equal(stdout.split('\n')[0], plain.stdout.split('\n')[0]);
    assert.equal(t.status, 'completed', t.error?.message);
    assert.equal(t.incomplete, undefined);
    assert.ok(t.spans.some((s) => s.label.includes('proc.wait()')), 'the awaits after the children are recorded');
  });

  it('a missing interpreter ends the run with a clear message', async () => {
    const { timeline: t } = await run('chefs_gather.py', { pythonPath: 'no-such-python3' });
    assert.equal(t.status, 'failed');
    assert.match(t.error?.message ?? '', /Python interpreter 'no-such-python3' not found/);
  });
});
