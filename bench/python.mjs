// Python runtime overhead: the same asyncio loops under plain python3 and under the instrumented
// runner (dist/runtime/python/runner.py, as the engine starts it), side by side in one run.
// Usage: npm run build && node bench/python.mjs [--runs 7] [--python python3] [--case trivial]
//        [--against ../main/dist/runtime/python/runner.py]   (another build's runner, A/B in the same run)
// 'cold' start-up: the runner with no bytecode of its own cached (the first run after an install).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { goal } from './goals.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runner = path.join(root, 'dist/runtime/python/runner.py');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const runs = Math.max(5, Number(arg('--runs', 7)));
// `--case trivial`: only the cases whose name holds this text (the start-up cases too).
const only = arg('--case', '');
const python = arg('--python', 'python3');
// Another runner (e.g. main's build) measured in the same alternation, for a side-by-side A/B.
const against = arg('--against', '') ? path.resolve(arg('--against', '')) : '';
if (against && !existsSync(against)) {
  console.error(`missing ${against}`);
  process.exit(1);
}

if (!existsSync(runner)) {
  console.error(`missing ${runner}: run \`npm run build\` first`);
  process.exit(1);
}

// Each case times only its loop (perf_counter inside the snippet), so interpreter start-up and
// instrumentation set-up are left out of the ratio; they are reported separately as wall time.
// The loop's CPU time (process_time: every thread of the process, the runtime's watchdog too) is
// printed beside it: on a shared, busy machine it is the steadier of the two.
const cases = {
  'sleep(0) x 100k': `
import asyncio, time
async def main():
    t, c = time.perf_counter(), time.process_time()
    for _ in range(100_000):
        await asyncio.sleep(0)
    print(time.perf_counter() - t, time.process_time() - c)
asyncio.run(main())
`,
  'await trivial coroutine x 1M': `
import asyncio, time
async def trivial(i):
    return i
async def main():
    t, c = time.perf_counter(), time.process_time()
    total = 0
    for i in range(1_000_000):
        total += await trivial(i)
    print(time.perf_counter() - t, time.process_time() - c)
asyncio.run(main())
`,
};

// Instrumenting must be linear in the file's length: a long file (many small coroutines) whose
// first line prints the time since the process started. Goal: the runner's extra start-up under
// 150 ms for 1,600 lines and under 400 ms for 3,300 (issue 11).
function longFile(functions) {
  const lines = ['import time', 'print(time.process_time())', 'import asyncio', ''];
  for (let i = 0; i < functions; i++) {
    lines.push(`async def f${i}(x, y=1):`, `    z = await asyncio.sleep(0, result=x + ${i})`, `    return {'a': z, 'b': [y, ${i}]}`, '');
  }
  lines.push('async def main():', '    for i in range(3):', '        await f1(i)', 'asyncio.run(main())');
  return lines.join('\n') + '\n';
}
const startCases = { 'first line, 10 lines': longFile(2), 'first line, 1,600 lines': longFile(400), 'first line, 3,300 lines': longFile(820) };

const dir = mkdtempSync(path.join(tmpdir(), 'awtl-pybench-'));
// The runner keeps its own modules' bytecode in the user's cache folder (XDG_CACHE_HOME): warm
// runs use one of the bench's own, filled by a first run; cold runs have none (the very first run
// after an install or an upgrade). The snippet's own code is never cached: each run instruments it.
const warmEnv = { ...process.env, XDG_CACHE_HOME: path.join(dir, 'cache') };
const coldEnv = { ...process.env, AWAIT_TIMELINE_CODE_CACHE: '0' };
const againstEnv = { ...process.env, XDG_CACHE_HOME: path.join(dir, 'cache-against') };

function runPlain(file, first = false) {
  return collect(spawn(python, [file], { stdio: ['ignore', 'pipe', 'pipe'] }), first);
}

/** The peer: the same loop under the standard library's deterministic profiler. */
function runProfiled(file) {
  return collect(spawn(python, ['-m', 'cProfile', '-o', path.join(dir, 'profile.out'), file], { stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** The sys.setprofile peer (bench/peers/setprofile.py): every call and return kept with its time. */
function runSetprofile(file) {
  return collect(spawn(python, [path.join(root, 'bench', 'peers', 'setprofile.py'), file], { stdio: ['ignore', 'pipe', 'pipe'] }));
}

/**
 * The runner as the engine starts it: the channel at PYTHON_CHANNEL_FDS (61-63), sealed with a
 * key sent as the first control line; `sealed: false` leaves the key out (the runner then writes
 * plain frames, as before the channel was sealed), for the A/B of what sealing costs.
 */
function runInstrumented(file, first = false, sealed = true, env = warmEnv, script = runner) {
  const child = spawn(python, [script], { env, stdio: ['ignore', 'pipe', 'pipe', ...Array(58).fill('ignore'), 'pipe', 'pipe', 'pipe'] });
  let events = 0;
  child.stdio[61].on('data', (d) => (events += d.length));
  child.stdio[62].resume();
  if (sealed) child.stdio[63].write(JSON.stringify({ type: 'key', key: randomBytes(32).toString('hex'), mac: 'hmac-sha256' }) + '\n');
  child.stdio[63].write(JSON.stringify({
    type: 'run', file, args: [], cwd: dir, blockThresholdMs: 50, maxSpansPerSite: 1000,
  }) + '\n');
  return collect(child, first).then((r) => ({ ...r, events }));
}

function collect(child, first = false) {
  const started = performance.now();
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const lines = out.trim().split('\n');
      const [loop, cpu] = (first ? lines[0] : lines.at(-1)).trim().split(/\s+/).map(Number.parseFloat);
      if (code !== 0 || !Number.isFinite(loop)) reject(new Error(`exit ${code}: ${err || out}`));
      else resolve({ loopMs: loop * 1000, cpuMs: cpu * 1000, wallMs: performance.now() - started });
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => `${ms.toFixed(1)} ms`.padStart(10);
/** a[i] / b[i] pair by pair: `ratio <median>x (pairs <min>–<max>, n=<n>)`. */
function pairRatio(a, b, pick, digits = 2) {
  const r = a.map((x, i) => pick(x) / pick(b[i]));
  return `ratio ${median(r).toFixed(digits)}x (pairs ${Math.min(...r).toFixed(digits)}–${Math.max(...r).toFixed(digits)}, n=${r.length})`;
}
/** a[i] − b[i] (ms before line 1) pair by pair: median, min–max, n. */
function pairDiff(a, b) {
  const d = a.map((x, i) => x.loopMs - b[i].loopMs);
  return `${fmt(median(d))} (pairs ${Math.min(...d).toFixed(0)}–${Math.max(...d).toFixed(0)} ms, n=${d.length})`;
}

try {
  console.log(`python: ${python}, runs per case: ${runs} (alternating plain / instrumented / unsealed / cProfile / sys.setprofile${against ? ' / against' : ''}), load ${loadavg()[0].toFixed(1)}`);
  if (against) console.log(`against: ${against}`);
  for (const [name, source] of Object.entries(cases).filter(([n]) => n.includes(only))) {
    const file = path.join(dir, name.replace(/\W+/g, '_') + '.py');
    writeFileSync(file, source);
    const plain = [];
    const instrumented = [];
    const unsealed = [];
    const profiled = [];
    const setprofiled = [];
    const other = [];
    for (let i = 0; i < runs; i++) {
      // A B C D A B C D …: side by side, so that load drifts hit them alike.
      plain.push(await runPlain(file));
      instrumented.push(await runInstrumented(file));
      unsealed.push(await runInstrumented(file, false, false));
      profiled.push(await runProfiled(file));
      setprofiled.push(await runSetprofile(file));
      if (against) other.push(await runInstrumented(file, false, true, againstEnv, against));
    }
    // Every figure is taken pair by pair (runs i of both sides, measured one after the other):
    // the median of the pair ratios, their min–max and n, never a ratio of separate medians.
    const loop = (r) => r.loopMs;
    const cpu = (r) => r.cpuMs;
    console.log(`${name.padEnd(30)} loop plain ${fmt(median(plain.map(loop)))}  instrumented ${fmt(median(instrumented.map(loop)))}  ` +
      `${pairRatio(instrumented, plain, loop)}  | cProfile ${fmt(median(profiled.map(loop)))} ${pairRatio(profiled, plain, loop)}` +
      `  | sys.setprofile ${fmt(median(setprofiled.map(loop)))} ${pairRatio(setprofiled, plain, loop)}`);
    if (name === 'await trivial coroutine x 1M') {
      const r = instrumented.map((x, i) => loop(x) / loop(plain[i]));
      goal('Python: 1 M awaits of a trivial coroutine', { measured: median(r), limit: 2, unit: 'x', shown: `loop ${median(r).toFixed(2)}x (${Math.min(...r).toFixed(2)}–${Math.max(...r).toFixed(2)}, n=${r.length}); peers cProfile ${median(profiled.map((x, i) => loop(x) / loop(plain[i]))).toFixed(2)}x, sys.setprofile ${median(setprofiled.map((x, i) => loop(x) / loop(plain[i]))).toFixed(2)}x` });
    }
    console.log(`${''.padEnd(30)} sealed / unsealed: ${pairRatio(instrumented, unsealed, loop, 3)}`);
    console.log(`${''.padEnd(30)} cpu  plain ${fmt(median(plain.map(cpu)))}  instrumented ${fmt(median(instrumented.map(cpu)))}  ` +
      `${pairRatio(instrumented, plain, cpu)}  | cProfile ${fmt(median(profiled.map(cpu)))} ${pairRatio(profiled, plain, cpu)}` +
      `  | sys.setprofile ${fmt(median(setprofiled.map(cpu)))} ${pairRatio(setprofiled, plain, cpu)}`);
    if (against) {
      console.log(`${''.padEnd(30)} cpu  against: instrumented ${fmt(median(other.map(cpu)))}  ${pairRatio(other, plain, cpu)}` +
        `  this / against ${pairRatio(instrumented, other, cpu, 3)}`);
      console.log(`${''.padEnd(30)} against: instrumented ${fmt(median(other.map(loop)))}  ${pairRatio(other, plain, loop)}` +
        `  this / against ${pairRatio(instrumented, other, loop, 3)}`);
    }
  }
  // What sealing costs where it is paid: a flush. The recorder writes 1,000 span messages (a
  // busy flush) to /dev/null, sealed and unsealed alternately in one process, medians of 200 each.
  if ('seal flush'.includes(only) || only === '') {
    const flush = spawn(python, ['-c', `
import os, sys, time
sys.path.insert(0, ${JSON.stringify(path.dirname(runner))})
import _awtl_recorder as r
fd = os.open(os.devnull, os.O_WRONLY)
message = {'type': 'span', 'id': 7, 'parentId': 3, 'kind': 'call', 'label': 'fetch(url, {retries: 3})', 'line': 12, 'column': 5, 'startMs': 12.5, 'endMs': 40.25, 'outcome': 'fulfilled'}
plain, sealed = r.Recorder(fd), r.Recorder(fd, r.make_sealer(os.urandom(32)))
times = {id(plain): [], id(sealed): []}
for i in range(400):
    rec = sealed if i % 2 else plain
    rec.out.extend(dict(message, id=k) for k in range(1000))
    t = time.perf_counter()
    rec.flush()
    times[id(rec)].append(time.perf_counter() - t)
med = lambda xs: sorted(xs)[len(xs) // 2]
a, b = med(times[id(sealed)]), med(times[id(plain)])
print('%.3f %.3f %.3f %.3f' % (a * 1000, b * 1000, min(times[id(sealed)]) * 1000, min(times[id(plain)]) * 1000))
`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    flush.stdout.on('data', (d) => (text += d));
    await new Promise((resolve) => flush.on('close', resolve));
    const [a, b, amin, bmin] = text.trim().split(' ').map(Number);
    console.log(`${'seal flush of 1,000 spans'.padEnd(30)} sealed ${fmt(a)}  unsealed ${fmt(b)}  ratio ${(a / b).toFixed(3)}x` +
      ` (min ${amin.toFixed(3)} / ${bmin.toFixed(3)} ms, n=200 each, alternating)`);
  }
  // Start-up: the CPU time the process spent before the snippet's first line (process_time()
  // printed by that line), plain against instrumented. The 10-line file's extra is the runner's
  // fixed cost; what a long file adds beyond it is the instrumenting. Alternating plain /
  // instrumented (runtime bytecode cached) / instrumented cold (no cache at all).
  for (const [name, source] of Object.entries(startCases).filter(([n]) => n.includes(only))) {
    const file = path.join(dir, name.replace(/\W+/g, '_') + '.py');
    writeFileSync(file, source);
    await runInstrumented(file, true); // fills the warm cache (the snippet is not cached)
    if (against) await runInstrumented(file, true, true, againstEnv, against);
    const plain = [];
    const instrumented = [];
    const cold = [];
    const other = [];
    for (let i = 0; i < runs; i++) {
      plain.push(await runPlain(file, true));
      instrumented.push(await runInstrumented(file, true));
      cold.push(await runInstrumented(file, true, true, coldEnv));
      if (against) other.push(await runInstrumented(file, true, true, againstEnv, against));
    }
    // The extra of each run over the plain run beside it, pair by pair: median, min–max, n.
    const rows = [['instrumented', instrumented], ['cold', cold]];
    if (against) rows.push(['against', other]);
    const p = median(plain.map((r) => r.loopMs));
    for (const [what, rs] of rows) {
      console.log(`${(what === 'instrumented' ? name : '').padEnd(30)} cpu before line 1: plain ${fmt(p)}  ${what.padStart(12)} ${fmt(median(rs.map((r) => r.loopMs)))}` +
        `  extra ${pairDiff(rs, plain)}`);
    }
    if (against) console.log(`${''.padEnd(30)} cpu before line 1: this − against ${pairDiff(instrumented, other)}`);
  }
  console.log(`load at the end ${loadavg()[0].toFixed(1)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
