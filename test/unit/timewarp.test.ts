// Time warp (`--time warp`): waits for timers are skipped, everything else is as in real time.
// Each fixture's log is compared with the same program under plain node / python3, where its
// delays are a thousand times shorter: the warped run must give the same log however long the
// virtual waits, and its clocks must agree that the whole virtual time passed.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { FIXTURES, byLabel, cli, duration, endOf, overlaps, plainNode, runFixture } from './helpers';
import { resolveTimeMode, timeDirective } from '../../src/engine/timeMode';
import { startRun } from '../../src/engine/run';

const PYTHON = process.env.AWAIT_TIMELINE_PYTHON ?? 'python3';
const env = (extra: Record<string, string>) => ({ ...process.env, ...extra });

describe('time warp', function () {
  this.timeout(60_000);

  it('node: timers, intervals, timers/promises, AbortSignal.timeout and every clock, in node\'s order, over 185 virtual seconds', async () => {
    const plain = spawnSync(process.execPath, [path.join(FIXTURES, 'node/warp-timers.js')], { encoding: 'utf8', env: env({ WARP_UNIT: '1' }) });
    assert.equal(plain.status, 0, plain.stderr);
    const { timeline: t, stdout, stderr } = await runFixture('node/warp-timers.js', { time: 'warp', env: env({ WARP_UNIT: '1000' }) });
    assert.equal(stderr, '');
    assert.equal(stdout, plain.stdout);
    assert.match(stdout, /clocks:true:true:true:true/);
    assert.equal(t.status, 'completed');
    assert.equal(t.time, 'warp');
    assert.ok(t.wallMs >= 185_000, `the timeline is in virtual time: wall ${t.wallMs}`);
  });

  it('node: without warp the same program waits in real time (and says nothing of a warp)', async () => {
    const { timeline: t, stdout } = await runFixture('node/warp-timers.js', { env: env({ WARP_UNIT: '1' }) });
    assert.match(stdout, /^t10 t20a t20b unref40 /);
    assert.equal(t.time, undefined);
  });

  // node:timers' functions as a module imports or requires them (by name, renamed, as a namespace
  // or default export) are the global ones; timers/promises' setTimeout, setInterval and
  // scheduler.wait are node's own. Before, such a setTimeout got no span (its name was the
  // file's own binding), and timers/promises' setInterval was not warped at all (30 s of real
  // time here) while the clock took the machine's holds out under it.
  const imported: Array<[string, string[], number]> = [
    ['node/warp-imported.mjs', ['setTimeout(r, ms(10))', 'later(r, ms(10))', 'timers.setTimeout(r, ms(10))', 'timersDefault.setTimeout(r, ms(10))'], 120],
    ['node/warp-required.js', ['later(r, ms(10))', 'timers.setTimeout(r, ms(10))', "require('timers').setTimeout(r, ms(10))"], 90],
  ];
  for (const [fixture, labels, units] of imported) {
    it(`node: ${fixture}: timers a module imports from node:timers and timers/promises get their spans and are warped, as the global ones`, async () => {
      const plain = spawnSync(process.execPath, [path.join(FIXTURES, fixture)], { encoding: 'utf8', env: env({ WARP_UNIT: '1' }) });
      assert.equal(plain.status, 0, plain.stderr);
      const t0 = performance.now();
      const { timeline: t, stdout, stderr } = await runFixture(fixture, { time: 'warp', env: env({ WARP_UNIT: '1000' }) });
      const realMs = performance.now() - t0;
      assert.equal(stderr, '');
      assert.equal(stdout, plain.stdout);
      assert.match(stdout, /clock:true:true/);
      assert.ok(t.wallMs >= units * 1000, `the timeline is in virtual time: wall ${t.wallMs}`);
      // The async iterator's three periods alone are 30 s: they are skipped as every other wait.
      assert.ok(realMs < 30_000, `${units} s of waits took ${realMs.toFixed(0)} ms of real time`);
      for (const label of labels) {
        const spans = t.spans.filter((s) => s.kind === 'timer' && s.label === label);
        assert.equal(spans.length, 1, `${label}: ${t.spans.filter((s) => s.kind === 'timer').map((s) => s.label).join(' | ')}`);
        assert.ok(duration(spans[0]) >= 10_000, `${label}: ${duration(spans[0])} ms`);
      }
      // The interval's three periods, each a span of its own, and the fourth that was cleared.
      const periods = t.spans.filter((s) => s.kind === 'timer' && s.label.startsWith('setInterval('));
      assert.deepEqual(periods.map((s) => s.outcome), ['fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
    });
  }

  it('node: without warp, timers a module imports from node:timers get their spans as the global ones', async () => {
    for (const [fixture, labels] of imported) {
      const { timeline: t, stdout } = await runFixture(fixture, { env: env({ WARP_UNIT: '1' }) });
      assert.match(stdout, /clock:true:true/);
      for (const label of labels) {
        assert.equal(t.spans.filter((s) => s.kind === 'timer' && s.label === label).length, 1, `${fixture}: ${label}: ${t.spans.map((s) => `${s.kind}:${s.label}`).join(' | ')}`);
      }
    }
  });

  it('node: two chefs with Promise.all still overlap, each timer a whole 2 s of virtual time', async () => {
    const { timeline: t } = await runFixture('../../examples/two-chefs/promise-all.ts', { time: 'warp' });
    const timers = byLabel(t, 'timer', 'setTimeout(resolve, ms)');
    assert.equal(timers.length, 2);
    for (const x of timers) assert.ok(endOf(x) - x.startMs >= 2000, `a 2 s timer took ${endOf(x) - x.startMs} ms`);
    assert.ok(overlaps(timers[0], timers[1]), 'the two waits overlap');
    assert.ok(t.wallMs >= 2000 && t.wallMs < 4000, `wall ${t.wallMs}: together, not one after the other`);
    assert.equal(t.stats.blockedMs, 0);
  });

  // Node's loop counts whole ms: a timer armed late in one fires when the loop's clock reaches
  // its due ms, which performance.now can read up to 1 ms short of its delay. A jump landed the
  // clock 1 ms past the first timer's due only, so a second one due in the next ms fired with it,
  // short of its delay (a 300 ms timer of two chefs read 299.8 ms on a busy machine).
  it('node: warped, no timer fires before its delay has passed on the program\'s clock, armed late in a loop millisecond or not', () => {
    const child = path.join(__dirname, 'children', 'warpFraction.ts');
    const r = spawnSync(process.execPath, ['--import', 'tsx', child, 'warp', '20'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const took = r.stdout.trim().split(' ');
    assert.equal(took.length, 40, r.stdout);
    assert.deepEqual(took.filter((x) => !(Number(x.split(':')[1]) >= 300)), [], 'every timer read its whole 300 ms');
  });

  it('node: a busy-wait is real work and is not warped: two blocks one after the other at its line', async () => {
    const { timeline: t } = await runFixture('node/chefs-busy.ts', { time: 'warp' });
    const blocks = t.spans.filter((s) => s.kind === 'block');
    assert.equal(blocks.length, 2, JSON.stringify(blocks));
    for (const b of blocks) {
      assert.equal(b.line, 4);
      // As the engine's busy-wait test: the block is its spin call's (300 ms of CPU) stretch.
      assert.equal(t.spans.find((s) => s.id === b.parentId)?.label, 'spin(300)');
      assert.ok(endOf(b) - b.startMs >= 250, `a 300 ms spin blocked ${endOf(b) - b.startMs} ms`);
    }
    assert.ok(!overlaps(blocks[0], blocks[1]));
  });

  for (const [language, fixture] of [['node', 'node/warp-then-spin.mjs'], ['python', 'python/warp_then_spin.py']] as const) {
    it(`${language}: a warped run that is stopped reads the program's clock as its wall, past its 100 s wait`, async () => {
      const run = startRun({ file: path.join(FIXTURES, fixture), time: 'warp', pythonPath: PYTHON, stdout: 'pipe', stderr: 'pipe' });
      let stdout = '';
      run.stderr?.resume();
      // Stopped once the wait is over and the loop after it has spun a while (however slow the machine).
      run.stdout?.setEncoding('utf8').on('data', (d: string) => {
        stdout += d;
        if (stdout.includes('waited')) setTimeout(() => void run.cancel(), 300);
      });
      const t = await run.done;
      assert.equal(stdout, 'waited\n');
      assert.equal(t.status, 'cancelled');
      const wait = t.spans.find((s) => s.kind === 'await' && s.endMs !== null && s.endMs - s.startMs >= 100_000);
      assert.ok(wait, `the 100 s wait, warped: ${JSON.stringify(t.spans.filter((s) => s.kind === 'await'))}`);
      // The wall covers the wait and the loop after it (which ran in real time until the stop).
      assert.ok(t.wallMs >= wait.endMs! + 250, `wall ${t.wallMs}: not past the wait's end (${wait.endMs}) and the loop's 300 ms`);
      assert.ok(t.wallMs < wait.endMs! + 60_000, `wall ${t.wallMs}: only the real time of the loop after the wait`);
    });
  }

  it('node: while a socket is open time is real: a local HTTP request and a timer race as under plain node', async () => {
    const plain = plainNode('node/warp-http.mjs');
    const { timeline: t, stdout } = await runFixture('node/warp-http.mjs', { time: 'warp' });
    assert.equal(stdout, 'fast server: response\nslow server: timeout\n');
    assert.equal(stdout, plain.stdout);
    assert.equal(t.exitCode, 0);
  });

  it('python: call_later, gather, wait_for, Event and every clock, in asyncio\'s order, over 95 virtual seconds', async () => {
    const file = path.join(FIXTURES, 'python/warp_timers.py');
    const plain = spawnSync(PYTHON, [file], { encoding: 'utf8', env: env({ WARP_UNIT: '0.001' }) });
    assert.equal(plain.status, 0, plain.stderr);
    const { timeline: t, stdout, stderr } = await runFixture('python/warp_timers.py', { time: 'warp', pythonPath: PYTHON, env: env({ WARP_UNIT: '1' }) });
    assert.equal(stderr, '');
    assert.equal(stdout, plain.stdout);
    assert.match(stdout, /clocks:True:True:True:True/);
    assert.equal(t.time, 'warp');
    assert.ok(t.wallMs >= 95_000, `wall ${t.wallMs}`);
    const soup = byLabel(t, 'await', 'asyncio.sleep(n * unit)');
    assert.ok(soup.length >= 2 && overlaps(soup[0], soup[1]), 'the gathered chefs overlap');
  });

  it('the clock: --time over the snippet\'s @time line over the default; --check grades warped', () => {
    assert.equal(timeDirective('// @time warp\nawait x;'), 'warp');
    assert.equal(timeDirective('x = 1\n  #  @time real\n'), 'real');
    assert.equal(timeDirective('const s = "// @time warp";'), undefined);
    assert.equal(resolveTimeMode(undefined, '// @time real', 'warp'), 'real');
    assert.equal(resolveTimeMode('warp', '// @time real', 'real'), 'warp');
    assert.equal(resolveTimeMode(undefined, 'no directive', 'warp'), 'warp');
    assert.equal(resolveTimeMode(undefined, undefined), 'real');

    const graded = cli(['run', 'test/fixtures/node/expect-exit.js', '--check', '--json', '-']);
    assert.equal(graded.status, 0, graded.stderr);
    assert.equal(JSON.parse(graded.stdout).time, 'warp');
    const real = cli(['run', 'test/fixtures/node/expect-exit.js', '--check', '--time', 'real', '--json', '-']);
    assert.equal(JSON.parse(real.stdout).time, undefined);
    const bad = cli(['run', 'test/fixtures/node/expect-exit.js', '--time', 'fast']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--time is real or warp, got 'fast'/);
  });
});

describe('time warp: the run\'s timeout is on the program\'s clock too', function () {
  this.timeout(60_000);
  // The timeout is long and the program's waits longer: a warped run must not spend it in real time.
  const TIMEOUT_MS = 20_000;

  for (const [fixture, options] of [
    ['node/warp-past-timeout.mjs', {}],
    ['python/warp-never-woken.py', { pythonPath: PYTHON }],
  ] as const) {
    it(`${fixture}: a wait past the timeout (or for nothing that can come) times out at the timeout, without waiting it out`, async () => {
      const t0 = performance.now();
      const { timeline: t, stdout } = await runFixture(fixture, { time: 'warp', timeoutMs: TIMEOUT_MS, ...options });
      const realMs = performance.now() - t0;
      assert.equal(t.status, 'timeout', `status ${t.status} after ${realMs.toFixed(0)} ms, wall ${t.wallMs}`);
      assert.match(t.error?.message ?? '', new RegExp(`^timed out after ${TIMEOUT_MS} ms`));
      assert.equal(stdout.includes('never printed'), false);
      // On the program's clock the run lasted its timeout (the stop itself adds a few real ms).
      assert.ok(t.wallMs >= TIMEOUT_MS, `wall ${t.wallMs}`);
      assert.ok(realMs < TIMEOUT_MS, `waited ${realMs.toFixed(0)} ms of real time for a warped timeout`);
      // What ran before the last wait is all there: the first wait took its whole virtual second.
      const first = t.spans.find((s) => s.kind === 'await' && /sleep\((1000|1)\)/.test(s.label));
      assert.ok(first && first.endMs !== null && first.endMs - first.startMs >= 1000, JSON.stringify(first));
    });
  }
});


describe('time warp: the machine\'s holds are not a Python program\'s time', function () {
  this.timeout(120_000);
  // The program's CPU is made scarce on purpose: its interpreter and six busy loops share one
  // CPU (taskset), so its own 50 ms of CPU work takes several times as long in real time.
  const loops: ChildProcess[] = [];
  let dir = '';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awt-holds-'));
    for (let i = 0; i < 6; i++) {
      loops.push(spawn('taskset', ['-c', '0', process.execPath, '-e', 'for (;;) {}'], { stdio: 'ignore' }));
    }
  });
  after(() => {
    for (const l of loops) l.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('warped, a sleep and CPU work read what the program did, though the machine kept it waiting', async () => {
    const pinned = path.join(dir, 'python-on-cpu0');
    fs.writeFileSync(pinned, `#!/bin/sh\nexec taskset -c 0 ${JSON.stringify(PYTHON)} "$@"\n`, { mode: 0o755 });
    for (let i = 0; i < 3; i++) {
      const { timeline: t } = await runFixture('python/warp_holds.py', { time: 'warp', pythonPath: pinned });
      assert.equal(t.status, 'completed', t.error?.message);
      // 300 ms asleep and 50 ms of its own CPU: never less; more only by the little else it does.
      // Before, the time it waited for the CPU counted too: 816-893 ms.
      assert.ok(t.wallMs >= 349 && t.wallMs < 420, `run ${i + 1}: wall ${t.wallMs.toFixed(1)} ms`);
    }
  });
});

/**
 * A program that read its clock in a loop through 150 ms of a stand-in run delay's waits printed
 * { real, warped, waited } (ms): the waits came out of what it read, but for the one the last read
 * may be in the middle of (30 ms); what else it read is its own real time (the machine running the
 * test may hold it: that stays, as the stand-in does not report it).
 */
function assertWaitsTakenOut(r: { status: number | null; stdout: string; stderr: string }): void {
  assert.equal(r.status, 0, r.stderr);
  const { real, warped, waited } = JSON.parse(r.stdout) as { real: number; warped: number; waited: number };
  assert.ok(waited >= 150, `only ${waited.toFixed(1)} ms of waits in ${real.toFixed(1)} ms`);
  assert.ok(warped <= real - waited + 32,
    `real ${real.toFixed(1)} ms, waits ${waited.toFixed(1)} ms: the program read ${warped.toFixed(1)} ms`);
  assert.ok(warped >= (real - waited) / 2, `real ${real.toFixed(1)} ms, waits ${waited.toFixed(1)} ms: the program read only ${warped.toFixed(1)} ms`);
}

describe('time warp: a hold the kernel reports while the clock looks at it', function () {
  this.timeout(60_000);
  // The clock looks at the main thread's run delay (a read of /proc, a system call) every half
  // millisecond, and that read is where a busy machine most often takes the CPU away. The kernel
  // adds the wait to the run delay once the thread has the CPU back: the read that was held may
  // already have it (the wait came before the value was made) or only the next one will (it came
  // after). Here the run delay is a stand-in that does exactly that, on a quiet machine: every
  // fourth look it spins 30 ms of real time, the wait, and says so in the value it returns then or
  // in the next. A program that reads the clock in a loop through 150 ms of such waits must read
  // its real time less the waits. Before, a wait that came before the value (the usual case on a busy
  // machine: CI run 24's 257 ms heartbeat) stayed on the clock.
  const program = (when: 'before' | 'after') => `
    const { installTimeWarp } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'src', 'runtime', 'timeWarp.ts'))});
    const realNow = performance.now.bind(performance);
    let delay = 0;
    let looks = 0;
    let waited = 0;
    const runDelayMs = () => {
      if (++looks % 4 !== 0) return delay;
      // The wait, as long as it really was (the machine running the test may stretch it).
      const start = realNow();
      while (realNow() - start < 30) {}
      const wait = realNow() - start;
      waited += wait;
      if (${JSON.stringify(when)} === 'before') return (delay += wait);
      const seen = delay;
      delay += wait;
      return seen;
    };
    installTimeWarp(() => undefined, undefined, runDelayMs);
    const main = () => {
      const v0 = performance.now();
      const r0 = realNow();
      const w0 = waited;
      while (waited - w0 < 150 && realNow() - r0 < 5000) performance.now();
      const r1 = realNow();
      const w1 = waited;
      const v1 = performance.now();
      process.stdout.write(JSON.stringify({ real: r1 - r0, warped: v1 - v0, waited: w1 - w0 }));
    };
    // While a request is in flight time is real (tsx's start-up connection is one): after it.
    const go = () => (process._getActiveRequests().length > 0 ? setImmediate(go) : main());
    go();
  `;

  for (const when of ['before', 'after'] as const) {
    it(`comes out of the program's clock whether it is in the value read (${when === 'before' ? 'wait first' : 'wait after the value'}) or in the next`, () => {
      assertWaitsTakenOut(spawnSync(process.execPath, ['--require', 'tsx/cjs', '-e', program(when)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
    });
  }
});

describe('time warp: a stall of a loop waiting on the clock that is not run delay', function () {
  this.timeout(60_000);
  // On a busy machine a spin on the clock also stops without being on a CPU or waiting for one (a
  // page fault, a lock held by a thread waiting for a CPU): 30-230 ms at load 11, which made a
  // 100 ms heartbeat of 06-heartbeat's solution read 270-450 ms in 4 of 600 warped gradings.
  // Here the main thread's run delay and CPU time are read as the runtime reads them (its
  // schedstat), and every fourth look of a spin a stand-in stall sleeps 60 ms in it (neither CPU
  // nor run delay), four times. What the program does itself between its reads stays on its clock.
  const program = (mode: 'spin' | 'own-sleep' | 'sleep-after-spin') => `
    const fs = require('node:fs');
    const { installTimeWarp } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'src', 'runtime', 'timeWarp.ts'))});
    const realNow = performance.now.bind(performance);
    const cell = new Int32Array(new SharedArrayBuffer(4));
    const sleep = (ms) => { const s = realNow(); Atomics.wait(cell, 0, 0, ms); const t = realNow() - s; slept += t; return t; };
    let slept = 0;
    let looks = 0;
    let stalls = 0;
    const stalling = ${JSON.stringify(mode)} === 'spin';
    const fd = fs.openSync('/proc/thread-self/schedstat', 'r');
    const b = Buffer.alloc(256);
    const schedstat = () => b.toString('latin1', 0, fs.readSync(fd, b, 0, 256, 0)).split(' ').map((f) => Number(f) / 1e6);
    let cpu = -1;
    const runDelayMs = () => {
      // from the spin's twelfth look: a loop that has been running a while (optimized)
      if (stalling && stalls < 4 && ++looks > 8 && looks % 4 === 0) { sleep(60); stalls++; }
      const [c, d] = schedstat();
      cpu = c;
      return d;
    };
    installTimeWarp(() => undefined, undefined, runDelayMs, () => cpu);
    const main = () => {
      const v0 = performance.now();
      const r0 = realNow();
      const s0 = slept;
      const [c0, d0] = schedstat();
      if (stalling) {
        while (stalls < 4 && realNow() - r0 < 5000) performance.now();
      } else if (${JSON.stringify(mode)} === 'own-sleep') {
        // the program's own waits between reads of the clock: a synchronous call that sleeps
        for (let i = 0; i < 4; i++) { performance.now(); sleep(60); }
      } else {
        // a spin, then the program's own wait, then a read elsewhere
        for (let i = 0; i < 4; i++) {
          const end = realNow() + 3;
          while (realNow() < end) performance.now();
          sleep(60);
          Date.now();
        }
      }
      const r1 = realNow();
      const v1 = performance.now();
      const [c1, d1] = schedstat();
      process.stdout.write(JSON.stringify({ real: r1 - r0, warped: v1 - v0, slept: slept - s0, delay: d1 - d0, cpu: c1 - c0 }));
    };
    const go = () => (process._getActiveRequests().length > 0 ? setImmediate(go) : main());
    go();
  `;
  const run = (mode: 'spin' | 'own-sleep' | 'sleep-after-spin') => {
    const r = spawnSync(process.execPath, ['--require', 'tsx/cjs', '-e', program(mode)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { real: number; warped: number; slept: number; delay: number; cpu: number };
    // What the program spent running (or in its own waits), by the same readings: never less on its clock.
    return { ...out, ran: out.real - out.delay, says: `real ${out.real.toFixed(1)} ms, run delay ${out.delay.toFixed(1)} ms, CPU ${out.cpu.toFixed(1)} ms, sleeps ${out.slept.toFixed(1)} ms: the program read ${out.warped.toFixed(1)} ms` };
  };

  it('comes out of the program\'s clock when it stops a loop reading the clock at one place', function () {
    if (!fs.existsSync('/proc/thread-self/schedstat')) this.skip(); // the runtime reads it only where there is one
    const { warped, slept, cpu, says } = run('spin');
    assert.ok(slept >= 240, says);
    // What it ran, and of each stop what a CPU time reading a tick behind could add (STALE_CPU_MS).
    assert.ok(warped <= cpu + 4 * 10 + 20, says);
    assert.ok(warped >= cpu - 10, says);
  });

  for (const mode of ['own-sleep', 'sleep-after-spin'] as const) {
    it(`stays when the program sleeps itself (${mode === 'own-sleep' ? 'between reads' : 'after a spin, reading elsewhere'})`, function () {
      if (!fs.existsSync('/proc/thread-self/schedstat')) this.skip();
      const { ran, warped, slept, says } = run(mode);
      assert.ok(slept >= 240, says);
      assert.ok(warped >= ran - 5, says);
    });
  }
});

describe("time warp: a hold the kernel reports while Python's clock looks at it", function () {
  this.timeout(60_000);
  // As above, for the Python runtime's warp (_awtl_warp.py): a stand-in for the main thread's run
  // delay spins 30 ms of real time every fourth look, the wait, and says so in the value it returns
  // then or in the next. A program reading time.monotonic in a loop through 150 ms of such waits
  // must read its real time less the waits.
  const program = (when: 'before' | 'after') => `
import json, sys, time
sys.path.insert(0, ${JSON.stringify(path.join(__dirname, '..', '..', 'src', 'runtime', 'python'))})
import _awtl_warp
real_now = time.monotonic
state = {'delay': 0.0, 'looks': 0, 'waited': 0.0}
def stand_in():
    def read():
        state['looks'] += 1
        if state['looks'] % 4:
            return state['delay']
        start = real_now()
        while real_now() - start < 0.030:
            pass
        wait = real_now() - start
        state['waited'] += wait
        seen = state['delay']
        state['delay'] += wait
        return state['delay'] if ${JSON.stringify(when)} == 'before' else seen
    return read
_awtl_warp._run_delay_reader = stand_in
_awtl_warp.install(lambda seconds: None)
v0 = time.monotonic(); r0 = real_now(); w0 = state['waited']
while state['waited'] - w0 < 0.150 and real_now() - r0 < 5:
    time.monotonic()
r1 = real_now(); w1 = state['waited']; v1 = time.monotonic()
print(json.dumps({'real': (r1 - r0) * 1000, 'warped': (v1 - v0) * 1000, 'waited': (w1 - w0) * 1000}))
`;

  for (const when of ['before', 'after'] as const) {
    it(`comes out of the program's clock whether it is in the value read (${when === 'before' ? 'wait first' : 'wait after the value'}) or in the next`, () => {
      assertWaitsTakenOut(spawnSync(process.env.AWAIT_TIMELINE_PYTHON || 'python3', ['-c', program(when)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
    });
  }
});
