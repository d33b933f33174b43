// The trace engine on real child processes: the timeline's shape for the canonical lessons and
// for every kind of bad input, and the program behaving as it does under plain node.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { NODE_CHANNEL_FDS, PYTHON_CHANNEL_FDS } from '../../src/shared/runtimeProtocol';
import { startRun, WarmPool } from '../../src/engine/run';
import {
  ancestors, byLabel, cli, duration, endOf, FIXTURES, one, overlaps, plainNode, runFixture,
} from './helpers';

describe('engine: the two chefs', () => {
  it('Promise.all: two 300 ms waits overlap and the run takes about one of them', async () => {
    const { timeline: t, stdout } = await runFixture('node/chefs-promise-all.ts');
    assert.equal(t.status, 'completed');
    assert.equal(t.exitCode, 0);
    assert.equal(stdout, 'soup,pasta\n');
    const waits = byLabel(t, 'await', 'sleep(300)');
    assert.equal(waits.length, 2);
    for (const w of waits) {
      assert.equal(w.line, 4);
      assert.equal(w.column, 3);
      assert.equal(w.outcome, 'fulfilled');
      assert.ok(duration(w) >= 280 && duration(w) < 1500, `wait of ${duration(w)} ms`);
    }
    assert.ok(overlaps(waits[0], waits[1]), 'the two waits overlap');
    assert.ok(t.stats.maxConcurrency >= 2);
    assert.ok(t.wallMs < 580 + 1000, `wall ${t.wallMs}`);
    assert.equal(t.stats.blockedMs, 0);
    // The calls nest under the combinator, under the await, under main().
    const soup = one(t, 'call', 'cook("soup")');
    assert.deepEqual(ancestors(t, soup).map((s) => s.kind), ['combinator', 'await', 'call']);
    assert.equal(ancestors(t, soup)[2].label, 'main()');
  });

  it('busy-wait: two blocks one after the other, labelled with the line that spins', async () => {
    const { timeline: t } = await runFixture('node/chefs-busy.ts');
    assert.equal(t.status, 'completed');
    const blocks = t.spans.filter((s) => s.kind === 'block');
    assert.equal(blocks.length, 2, blocks.map((b) => `${b.label} ${b.startMs}-${b.endMs}`).join('; '));
    for (const b of blocks) {
      assert.equal(b.label, 'for (let u = { user: 0, system: 0 }; u.user + u.system < ms * 1000; u = process.cpuUsage(start)) {}');
      assert.equal(b.line, 4);
      assert.ok(duration(b) >= 250, `block of ${duration(b)} ms`);
      const parent = t.spans.find((s) => s.id === b.parentId);
      assert.equal(parent?.label, 'spin(300)');
    }
    assert.ok(endOf(blocks[0]) <= blocks[1].startMs + 1, 'one after the other');
    // The run lasts both blocks, one after the other. (Not a fixed 600 ms: each spin is 300 ms of
    // the process's CPU time, which the runtime's own threads add to on a second core.)
    assert.ok(t.wallMs >= duration(blocks[0]) + duration(blocks[1]), `wall ${t.wallMs} for blocks of ${blocks.map(duration).join(' and ')} ms`);
    assert.ok(t.stats.blockedMs >= 500);
    assert.ok(t.stats.maxConcurrency <= 1, 'nothing was awaited in parallel');
  });
});

describe('engine: awaits', () => {
  it('awaits in a loop run one after another, each labelled with its source', async () => {
    const { timeline: t, stdout } = await runFixture('node/sequential-loop.mjs');
    assert.equal(stdout, 'a\nb\nc\n');
    const waits = byLabel(t, 'await', 'delay(100)');
    assert.equal(waits.length, 3);
    for (let i = 1; i < 3; i++) assert.ok(waits[i].startMs >= endOf(waits[i - 1]), 'sequential');
    assert.ok(waits.every((w) => w.line === 4 && w.parentId === null));
    assert.equal(t.stats.maxConcurrency, 1);
  });

  it('Promise.race settles with the winner while the loser keeps running', async () => {
    const { timeline: t, stdout } = await runFixture('node/race.ts');
    assert.equal(stdout, 'fast\n');
    const race = one(t, 'await', 'Promise.race');
    const slow = one(t, 'call', 'slow()');
    assert.ok(duration(race) < 350, `race took ${duration(race)} ms`);
    assert.ok(endOf(slow) > endOf(race) + 150, 'slow() ends well after the race');
    assert.equal(slow.outcome, 'fulfilled');
  });

  it('nested calls keep their parents across awaits', async () => {
    const { timeline: t } = await runFixture('node/nested.js');
    const deepest = one(t, 'await', 'sleep(50)');
    assert.deepEqual(
      ancestors(t, deepest).map((s) => `${s.kind}:${s.label}`),
      ['call:inner()', 'await:inner()', 'call:middle()', 'await:middle()', 'call:outer()'],
    );
  });

  it('a caught rejection is a rejected await; an uncaught one fails the run at its line', async () => {
    const { timeline: t, stdout, stderr } = await runFixture('node/rejections.ts');
    const awaits = byLabel(t, 'await', 'flaky()');
    assert.equal(awaits.length, 2);
    assert.ok(awaits.every((a) => a.outcome === 'rejected'));
    assert.ok(byLabel(t, 'call', 'flaky()').every((c) => c.outcome === 'rejected'));
    assert.match(stdout, /caught flaky failed/);
    assert.equal(t.status, 'failed');
    assert.equal(t.exitCode, 1);
    assert.equal(t.error?.line, 5);
    assert.match(t.error?.message ?? '', /flaky failed/);
    assert.ok(t.marks.some((m) => m.kind === 'unhandledRejection' && m.line === 5), 'main()\'s promise rejected unhandled');
    assert.match(stderr, /rejections\.ts:5/);
  });

  it('a thenable that is not a promise is awaited like one', async () => {
    const { timeline: t, stdout } = await runFixture('node/thenable.js');
    assert.equal(stdout, 'got 42\n');
    const w = one(t, 'await', 'thenable');
    assert.ok(duration(w) >= 40);
    assert.equal(w.outcome, 'fulfilled');
  });

  it('each step of a for await loop is an await span, and the generator is a call', async () => {
    const { timeline: t, stdout } = await runFixture('node/async-gen.mjs');
    assert.equal(stdout, 'tick 0\ntick 1\ntick 2\n');
    const steps = byLabel(t, 'await', 'for await');
    assert.equal(steps.length, 4, 'three values and the final done');
    for (let i = 1; i < steps.length; i++) assert.ok(steps[i].startMs >= endOf(steps[i - 1]));
    const gen = one(t, 'call', 'ticks(3)');
    assert.equal(byLabel(t, 'await', 'sleep(50)').filter((s) => s.parentId === gen.id).length, 3);
  });

  it('timers are spans from scheduling to firing', async () => {
    const { timeline: t } = await runFixture('node/chefs-promise-all.ts');
    const timers = byLabel(t, 'timer', 'setTimeout(r, ms)');
    assert.equal(timers.length, 2);
    assert.ok(timers.every((x) => duration(x) >= 290));
  });
});

describe('engine: the program behaves as under plain node', () => {
  for (const name of ['node/ordering.js', 'node/garbage-stdout.js', 'node/nested.js', 'node/thenable.js', 'node/exit-midway.js', 'node/sequential-loop.mjs']) {
    it(`${name}: same stdout, stderr and exit code`, async () => {
      const plain = plainNode(name);
      const { timeline: t, stdout, stderr } = await runFixture(name);
      assert.equal(stdout, plain.stdout);
      assert.equal(stderr, plain.stderr);
      assert.equal(t.exitCode, plain.status);
    });
  }

  it('an uncaught throw is reported by node at the line of the throw, with its exit code', async () => {
    const plain = plainNode('node/uncaught.js');
    const { timeline: t, stderr } = await runFixture('node/uncaught.js');
    assert.equal(t.exitCode, plain.status);
    assert.equal(stderr.split('\n')[0], plain.stderr.split('\n')[0], 'same file:line heading');
    assert.equal(stderr.split('\n')[1], plain.stderr.split('\n')[1], 'same source excerpt');
    assert.equal(t.error?.line, 3);
  });

  it('argv has node\'s shape, cwd is the snippet\'s folder, local TS imports load, type errors do not stop it', async () => {
    const { timeline: t, stdout } = await runFixture('node/argv-and-imports.ts', { args: ['a', 'b c'] });
    assert.equal(t.status, 'completed', JSON.stringify(t.error));
    const first = JSON.parse(stdout.split('\n')[0]);
    assert.deepEqual(first.args, ['a', 'b c']);
    assert.equal(first.file, path.join(FIXTURES, 'node/argv-and-imports.ts'));
    assert.equal(first.cwd, path.join(FIXTURES, 'node'));
    assert.match(stdout, /double 42 string/);
    // The imported module is instrumented too.
    assert.equal(one(t, 'call', 'double(21)').line, 1);
  });

  it('output lines become marks with their time and line', async () => {
    const { timeline: t } = await runFixture('node/sequential-loop.mjs');
    const marks = t.marks.filter((m) => m.kind === 'log');
    assert.deepEqual(marks.map((m) => m.text), ['a', 'b', 'c']);
    assert.ok(marks.every((m) => m.line === 5));
    assert.ok(marks[2].atMs > marks[0].atMs + 150);
  });
});

describe('engine: bad input', () => {
  it('a syntax error fails with file:line:col and runs nothing', async () => {
    const { timeline: t } = await runFixture('node/syntax-error.ts');
    assert.equal(t.status, 'failed');
    assert.equal(t.error?.kind, 'compile');
    assert.equal(t.error?.line, 3);
    assert.equal(t.spans.length, 0);
    const r = cli(['run', 'test/fixtures/node/syntax-error.ts']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^test\/fixtures\/node\/syntax-error\.ts:3:\d+: SyntaxError: /m);
  });

  it('a busy-wait on the first line of a freshly started child is a block at that line, CommonJS or ES module', async () => {
    // The watchdog is up before the snippet's first line, whether the run starts the module loader or not.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awt-first-line-'));
    try {
      const spin = 'for (const s = process.cpuUsage(); process.cpuUsage(s).user + process.cpuUsage(s).system < 300_000;) {}\n';
      for (const name of ['spin.cjs', 'spin.mjs']) {
        const file = path.join(dir, name);
        fs.writeFileSync(file, spin);
        const t = await startRun({ file, stdout: 'pipe', stderr: 'pipe' }).done;
        assert.equal(t.status, 'completed');
        const blocks = t.spans.filter((s) => s.kind === 'block');
        assert.equal(blocks.length, 1, `${name}: ${blocks.map((b) => `${b.label} ${b.startMs}-${b.endMs}`).join('; ')}`);
        assert.equal(blocks[0]!.line, 1, name);
        assert.ok(duration(blocks[0]!) >= 250, `${name}: block of ${duration(blocks[0]!)} ms`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an endless loop under a timeout: status timeout, the stuck line named, output kept', async () => {
    const t0 = Date.now();
    const { timeline: t, stdout } = await runFixture('node/endless.js', { timeoutMs: 2000 });
    assert.ok(Date.now() - t0 < 10_000);
    assert.equal(t.status, 'timeout');
    assert.equal(stdout, 'before\n');
    const block = one(t, 'block', 'while (true)');
    assert.equal(block.endMs, null);
    assert.equal(block.line, 4);
    assert.match(t.error?.message ?? '', /line 4: while \(true\) \{ n\+\+; \}/);
    assert.ok(t.marks.some((m) => m.text === 'before'));
    const r = cli(['run', 'test/fixtures/node/endless.js', '--timeout', '500', '--json', '-']);
    assert.equal(r.status, 124);
    assert.equal(JSON.parse(r.stdout).status, 'timeout');
  });

  it('a slow start (a busy machine) does not eat the timeout: the program gets its whole time, the wall is its own', async () => {
    // A preload that holds the child's start for 3 s stands in for a cold start on a busy machine
    // (seen in CI at load ~38: a 2 s timeout ended endless.js before it printed its first line).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awt-slow-start-'));
    try {
      const slow = path.join(dir, 'slow-start.cjs');
      fs.writeFileSync(slow, 'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3000);\n');
      const { timeline: t, stdout } = await runFixture('node/endless.js', { timeoutMs: 1000, env: { ...process.env, NODE_OPTIONS: `--require ${slow}` } });
      assert.equal(t.status, 'timeout');
      assert.equal(stdout, 'before\n');
      const block = one(t, 'block', 'while (true)');
      assert.equal(block.endMs, null);
      assert.match(t.error?.message ?? '', /line 4: while \(true\) \{ n\+\+; \}/);
      assert.ok(t.wallMs >= 1000 && t.wallMs < 2500, `the program's own second, not the start's: wall ${t.wallMs} ms`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('process.exit in the middle keeps what was recorded', async () => {
    const { timeline: t } = await runFixture('node/exit-midway.js');
    assert.equal(t.exitCode, 3);
    assert.equal(t.status, 'failed');
    assert.equal(one(t, 'await', 'sleep(50)').outcome, 'fulfilled');
    assert.equal(one(t, 'call', 'work()').endMs, null, 'work() never finished');
    assert.ok(t.marks.some((m) => m.text === 'about to exit'));
  });

  it('a snippet that prints protocol-looking garbage cannot forge or corrupt events', async () => {
    const { timeline: t } = await runFixture('node/garbage-stdout.js');
    assert.equal(t.status, 'completed');
    assert.ok(t.spans.every((s) => s.label !== '' && s.id > 0));
    assert.equal(one(t, 'call', 'main()').outcome, 'fulfilled');
  });

  it('a malformed event stream ends the run with a clear error', async () => {
    // A "runtime" that writes a frame of an unknown type on the event channel (where the engine
    // puts it: NODE_CHANNEL_FDS; bash, as sh redirects only descriptors 0–9).
    const fake = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'awt-')), 'fake-runtime.sh');
    fs.writeFileSync(fake, `#!/bin/bash\nprintf "\\005\\000\\000\\000\\011hello" >&${NODE_CHANNEL_FDS[0]}\nsleep 5\n`, { mode: 0o755 });
    const run = startRun({ file: path.join(FIXTURES, 'node/nested.js'), nodePath: fake, stdout: 'pipe', stderr: 'pipe' });
    const t0 = Date.now();
    const t = await run.done;
    assert.ok(Date.now() - t0 < 3000, 'the child was stopped');
    assert.equal(t.status, 'failed');
    assert.match(t.error?.message ?? '', /malformed event stream.*unsealed frame \(type 9\)/);
  });

  /**
   * A "runtime" that writes `body` to the event channel: a node script started by a shell script
   * given as the Python interpreter (PYTHON_CHANNEL_FDS; it reads the run's key as Python's runner
   * does and seals each write with HMAC-SHA256, so what it writes is believed).
   */
  function fakeRuntime(body: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awt-'));
    const js = path.join(dir, 'fake.js');
    const [eventsFd, , controlFd] = PYTHON_CHANNEL_FDS;
    fs.writeFileSync(js, `const fs = require('fs');
const crypto = require('crypto');
let line = '';
for (const b = Buffer.alloc(1); !line.endsWith('\\n') && fs.readSync(${controlFd}, b) === 1;) line += b.toString('latin1');
const key = Buffer.from(JSON.parse(line).key, 'hex');
let seq = 0;
const frame = (type, body) => { const h = Buffer.alloc(5); h.writeUInt32LE(body.length, 0); h[4] = type; return Buffer.concat([h, body]); };
const json = (m) => frame(2, Buffer.from(JSON.stringify(m)));
const records = (...rs) => frame(1, Buffer.from(new Float64Array(rs.flat()).buffer));
const seal = (frames) => {
  const nonce = Buffer.alloc(12); nonce.writeUInt32LE(seq++, 4);
  const tag = crypto.createHmac('sha256', key).update(nonce).update(frames).digest().subarray(0, 16);
  return frame(3, Buffer.concat([frames, tag]));
};
const out = (b) => { b = seal(b); let off = 0; while (off < b.length) off += fs.writeSync(${eventsFd}, b, off); };
${body}`);
    const sh = path.join(dir, 'fake-runtime.sh');
    fs.writeFileSync(sh, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(js)}\n`, { mode: 0o755 });
    return sh;
  }

  it('a module with 200,000 await sites is read whole (its site table once overflowed the stack and every event was lost)', async () => {
    const fake = fakeRuntime(`
out(json({ type: 'started' }));
out(json({ type: 'sites', base: 0, file: '/x.mjs', sites: Array.from({ length: 200000 }, (_, i) => ({ kind: 'await', label: String(i), line: i + 1, column: 3 })) }));
out(records([1, 1, 0, 199999, 1], [2, 1, 1, 0, 2], [1, 2, 0, 5, 3], [2, 2, 1, 0, 4]));
out(json({ type: 'exit', code: 0, atMs: 5 }));
`);
    const t = await startRun({ file: path.join(FIXTURES, 'python/chefs_sleep.py'), pythonPath: fake, stdout: 'pipe', stderr: 'pipe' }).done;
    assert.equal(t.status, 'completed', JSON.stringify(t.error));
    assert.deepEqual(t.spans.map((s) => [s.label, s.line, s.endMs]), [['199999', 200000, 2], ['5', 6, 4]]);
  });

  it('a fault of the engine while reading the events ends the run as failed, with the reason and the spans read so far', async () => {
    const fake = fakeRuntime(`
out(json({ type: 'started' }));
out(json({ type: 'sites', base: 0, file: '/x.mjs', sites: [{ kind: 'await', label: 'first', line: 1, column: 1 }, { kind: 'await', label: 'second', line: 2, column: 1 }] }));
out(records([1, 1, 0, 0, 1], [2, 1, 1, 0, 2]));
setTimeout(() => { out(records([1, 2, 0, 1, 3])); setTimeout(() => {}, 5000); }, 300);
`);
    const run = startRun({ file: path.join(FIXTURES, 'python/chefs_sleep.py'), pythonPath: fake, stdout: 'pipe', stderr: 'pipe' });
    const apply = run.builder.apply.bind(run.builder);
    run.builder.apply = (frame) => {
      if (frame.type === 'events' && frame.records[3] === 1) throw new TypeError('an engine bug');
      apply(frame);
    };
    const t0 = Date.now();
    const t = await run.done;
    assert.ok(Date.now() - t0 < 3000, 'the child was stopped');
    assert.equal(t.status, 'failed');
    assert.equal(t.error?.kind, 'internal');
    assert.match(t.error?.message ?? '', /internal error while reading the run's events: TypeError: an engine bug/);
    assert.deepEqual(t.spans.map((s) => s.label), ['first']);
  });

  it('a flood of awaits and output completes in bounded memory: past the span budget every await is counted where it ran', async function () {
    this.timeout(60000);
    const { timeline: t } = await runFixture('node/flood.js', { maxSpans: 20_000 });
    assert.equal(t.status, 'completed');
    // The budget is for the spans the program's code makes; blocks (the watchdog's) are apart.
    const budgeted = t.spans.filter((s) => s.kind !== 'block').length;
    assert.ok(budgeted <= 20_000, `${budgeted} spans listed`);
    const listed = byLabel(t, 'await', 'i').filter((s) => s.label === 'i').length;
    const aggregated = (t.aggregates ?? []).filter((a) => a.label === 'i' && a.kind === 'await');
    const counted = aggregated.reduce((n, a) => n + a.count, 0);
    assert.equal(listed + counted, 1_000_000, 'every await of the hot site is listed or counted');
    assert.equal(t.droppedSpans, (t.aggregates ?? []).reduce((n, a) => n + a.count, 0));
    const main = one(t, 'call', 'main()');
    assert.ok(aggregated.every((a) => a.parentId === main.id && a.startMs <= a.endMs));
    // The counted awaits run from where the listed ones stop to the end of the loop.
    const lastListed = Math.max(...byLabel(t, 'await', 'i').map(endOf));
    assert.ok(Math.min(...aggregated.map((a) => a.startMs)) >= lastListed);
    assert.ok(t.marks.length <= 20_000);
  });

  it('50 workers past the span budget: each worker\'s awaits are listed or counted under it, up to its end', async function () {
    this.timeout(60000);
    // Each worker prints a line as it begins its last wait (a mark, stamped by the runtime's clock).
    const { timeline: t } = await runFixture('node/workers-last-wait.mjs', { maxSpans: 300 });
    assert.equal(t.status, 'completed');
    // A channel the engine stopped believing mid-run would leave the rest uncounted.
    assert.equal(t.incomplete, undefined, `the whole stream was read: ${t.incomplete}`);
    const workers = byLabel(t, 'call', 'worker(');
    assert.equal(workers.length, 50);
    // Where the counted awaits went, said when a worker misses some (seen once in CI at load ~30:
    // worker(0) had 8 of its 40).
    const elsewhere = (t.aggregates ?? []).filter((a) => !workers.some((w) => w.id === a.parentId)).map((a) => `${a.kind} ${a.label} under ${a.parentId} ×${a.count}`);
    const lastWait = new Map(t.marks.map((m) => [/^worker (\d+): last wait$/.exec(m.text)?.[1], m.atMs] as const));
    for (const w of workers) {
      const listed = t.spans.filter((s) => s.kind === 'await' && s.parentId === w.id);
      const aggregated = (t.aggregates ?? []).filter((a) => a.kind === 'await' && a.parentId === w.id);
      assert.equal(listed.length + aggregated.reduce((n, a) => n + a.count, 0), 40, `${w.label}: all 40 awaits (${listed.length} listed; counted elsewhere: ${elsewhere.join(', ') || 'none'}; dropped ${t.droppedSpans})`);
      // Its row covers its whole activity: its awaits end inside the worker, after its last wait began.
      const began = lastWait.get(/^worker\((\d+)\)$/.exec(w.label)?.[1]);
      assert.ok(began !== undefined, `${w.label} said when it began its last wait`);
      const lastEnd = Math.max(...listed.map(endOf), ...aggregated.map((a) => a.endMs));
      assert.ok(began < lastEnd && lastEnd <= endOf(w), `${w.label}: last wait began at ${began}, its awaits end at ${lastEnd}, the worker at ${endOf(w)}`);
    }
    assert.ok(t.droppedSpans > 0);
  });

  it('a stop ends the snippet and what it spawned, keeping the timeline', async () => {
    const run = startRun({ file: path.join(FIXTURES, 'node/spawns-child.js'), stdout: 'pipe', stderr: 'pipe' });
    let out = '';
    run.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
    while (!/grandchild (\d+)/.test(out)) await new Promise((r) => setTimeout(r, 20));
    const pid = Number(/grandchild (\d+)/.exec(out)![1]);
    const t0 = Date.now();
    const t = await run.cancel();
    assert.ok(Date.now() - t0 < 1000, `stopped in ${Date.now() - t0} ms`);
    assert.equal(t.status, 'cancelled');
    assert.ok(t.marks.some((m) => m.text.startsWith('grandchild')));
    await new Promise((r) => setTimeout(r, 200));
    // Gone, or a zombie waiting for a reaper (this container's init may not reap).
    const state = fs.existsSync(`/proc/${pid}/stat`) ? fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] : 'gone';
    assert.ok(state === 'gone' || state === 'Z', `the grandchild is ${state}`);
  });

  it('runs unsaved text for a file that does not exist on disk', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awt-'));
    const run = startRun({
      file: path.join(dir, 'Untitled-1.ts'),
      source: 'const x: number = 1;\nawait new Promise((r) => setTimeout(r, 30));\nconsole.log("unsaved", x);\n',
      stdout: 'pipe',
    });
    let out = '';
    run.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
    const t = await run.done;
    assert.equal(t.status, 'completed', JSON.stringify(t.error));
    assert.equal(out, 'unsaved 1\n');
    assert.equal(one(t, 'await', 'new Promise').line, 2);
  });
});

describe('engine: streaming', () => {
  it('spans arrive while the snippet runs, before it ends', async () => {
    const run = startRun({ file: path.join(FIXTURES, 'node/sequential-loop.mjs'), stdout: 'pipe' });
    const seen: number[] = [];
    let exitedAt = -1;
    run.child.once('exit', () => (exitedAt = run.elapsedMs()));
    run.on('update', (d) => {
      if (d.spans.some((s) => s.kind === 'await' && s.endMs !== null)) seen.push(run.elapsedMs());
    });
    await run.done;
    assert.ok(seen.length >= 2, 'several updates');
    assert.ok(seen[0] < exitedAt - 150, `first finished await seen at ${seen[0]} ms, exit at ${exitedAt} ms`);
  });

  it('a warm pool starts its child without waiting on this thread for a process (the extension host mid-run)', async () => {
    // The channel's FIFOs are made by `mkfifo`, a process: synchronously it held the extension
    // host ~120 ms on a busy machine each time the pool refilled, while a run was being drawn.
    const cp = require('node:child_process') as typeof import('node:child_process');
    const original = cp.spawnSync;
    const sync: string[] = [];
    (cp as any).spawnSync = (command: string, ...rest: unknown[]) => {
      sync.push(command);
      return (original as any).call(cp, command, ...rest);
    };
    const pool = new WarmPool();
    let warm: ReturnType<WarmPool['take']>;
    try {
      pool.fill();
      await new Promise((r) => setTimeout(r, 1500));
      warm = pool.take();
    } finally {
      (cp as any).spawnSync = original;
    }
    try {
      assert.deepEqual(sync, [], 'no process waited for on this thread');
      assert.ok(warm, 'a warm child was ready');
      const run = startRun({ file: path.join(FIXTURES, 'node/nested.js'), warm, stdout: 'pipe' });
      run.stdout?.resume();
      assert.equal((await run.done).status, 'completed');
    } finally {
      pool.dispose();
    }
  });

  it('a warm child answers a run quickly', async () => {
    const pool = new WarmPool();
    pool.fill();
    await new Promise((r) => setTimeout(r, 1500));
    const t0 = performance.now();
    let first = -1;
    const run = startRun({ file: path.join(FIXTURES, 'node/nested.js'), warm: pool.take(), stdout: 'pipe' });
    run.on('update', () => {
      if (first < 0) first = performance.now() - t0;
    });
    const t = await run.done;
    pool.dispose();
    assert.equal(t.status, 'completed');
    // The goal (20 ms) is measured in bench/; here only that it is not a cold start on a busy machine.
    assert.ok(first >= 0 && first < 1500, `first event after ${first} ms`);
  });
});

describe('CLI', () => {
  it('prints the snippet output, a Gantt chart and a stats line', () => {
    const r = cli(['run', 'test/fixtures/node/chefs-promise-all.ts', '--no-color']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^soup,pasta$/m);
    // Compact rows: each cook with its wait on one row (--all draws every span).
    assert.match(r.stdout, /^ +cook\("soup"\) +.*█/m);
    assert.match(r.stdout, /spans folded into the rows that call them \(--all shows every span\)/);
    assert.match(r.stdout, /█/);
    assert.match(r.stdout, /wall .* max concurrency 2 · completed \(exit 0\)/);
  });

  it('--json - writes the timeline to stdout and the snippet output to stderr', () => {
    const r = cli(['run', 'test/fixtures/node/nested.js', '--json', '-']);
    assert.equal(r.status, 0);
    const t = JSON.parse(r.stdout);
    assert.equal(t.version, 1);
    assert.equal(t.language, 'javascript');
    assert.match(r.stderr, /value 2/);
  });

  it('--trace writes Chrome trace events that pair up', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'awt-')), 'trace.json');
    const r = cli(['run', 'test/fixtures/node/chefs-promise-all.ts', '--trace', out]);
    assert.equal(r.status, 0);
    const trace = JSON.parse(fs.readFileSync(out, 'utf8'));
    const begins = trace.traceEvents.filter((e: any) => e.ph === 'b');
    const ends = trace.traceEvents.filter((e: any) => e.ph === 'e');
    assert.ok(begins.length > 5);
    assert.equal(begins.length, ends.length);
    assert.equal(new Set(begins.map((e: any) => e.id)).size, begins.length, 'unique ids');
  });

  it('--html writes an offline report with the timeline and no network references; --svg the chart as text', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awt-'));
    const r = cli(['run', 'test/fixtures/node/chefs-promise-all.ts', '--html', path.join(dir, 'r.html'), '--svg', path.join(dir, 'c.svg')]);
    assert.equal(r.status, 0);
    const html = fs.readFileSync(path.join(dir, 'r.html'), 'utf8');
    assert.match(html, /Content-Security-Policy/);
    assert.match(html, /sleep\(300\)/);
    assert.doesNotMatch(html, /(src|href)=["']https?:/);
    const svg = fs.readFileSync(path.join(dir, 'c.svg'), 'utf8');
    assert.match(svg, /^<svg|<\?xml/);
    assert.match(svg, /<text[^>]*>[^<]*cook\(&quot;soup&quot;\)/);
  });

  it('exits with the snippet\'s code and writes --json for a failing run too', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'awt-')), 't.json');
    const r = cli(['run', 'test/fixtures/node/exit-midway.js', '--json', out]);
    assert.equal(r.status, 3);
    assert.equal(JSON.parse(fs.readFileSync(out, 'utf8')).exitCode, 3);
  });

  it('bad usage gets one line and exit code 2', () => {
    for (const args of [['run', 'nope.ts'], ['run', 'test/fixtures/node/nested.js', '--frobnicate'], ['run', 'test/fixtures/node/nested.js', '--timeout', 'soon'], []]) {
      const r = cli(args);
      assert.equal(r.status, 2, args.join(' '));
      assert.match(r.stderr, /^await-timeline: .+/);
    }
  });
});

describe('engine: call labels', () => {
  // A function whose calls are all labelled alike sends its label once, with its site; the rest
  // send one per call. Either way every call span reads as it always did.
  it('labels each call by its name and previewed arguments, the same for every call of a site', async () => {
    const { timeline: t, stdout } = await runFixture('node/call-labels.mjs');
    assert.equal(t.status, 'completed');
    assert.equal(stdout, '1 2\n');
    assert.deepEqual(t.spans.filter((s) => s.kind === 'call').map((s) => s.label), [
      'none()', 'sleep(1)', 'patterns({…}, […])', 'sleep(1)', 'values(3, "four", {…})', 'sleep(1)', 'rest("a", "b", "c")', 'sleep(1)',
      'get o.x', 'get o.y', 'set o.x = 5', 'none()', 'sleep(1)',
    ]);
  });

  it('a call span past the budget is counted under its site\'s name, as before', async () => {
    const { timeline: t } = await runFixture('node/call-labels.mjs', { maxSpans: 3 });
    assert.equal(t.status, 'completed');
    const listed = t.spans.filter((s) => s.kind === 'call').map((s) => s.label);
    assert.deepEqual(listed, ['none()']);
    const counted = (t.aggregates ?? []).filter((a) => a.kind === 'call').map((a) => `${a.label} ×${a.count}`).sort();
    assert.deepEqual(counted, ['none ×1', 'patterns ×1', 'rest ×1', 'values ×1']);
  });
});
