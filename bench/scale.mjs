// The cost of recording everything (issue 14's table): each workload under plain node and under
// the CLI, alternating A B A B in one run, ratios taken pair by pair (median, min–max, n), with
// the default span budget and with every span kept, beside the peers (bench/peers: async_hooks and
// promiseHooks tracers that keep every await, run in the same rounds); peak RSS of the CLI and of the child
// (sampled from /proc) and of the largest process (exact, getrusage via /usr/bin/time).
// Usage: npm run build && node bench/scale.mjs [--runs N] [--cli dist/cli.js] [--only NAME] [--big] [--against CLI]
//   --big also runs the 10 M-await rows (minutes each).
//   --against another build's cli.js (main's): the W and empty rows run it too, in the same alternation
//   (plain, this, against, …), and print its ratios and this build's inner time over its, pair by pair.
//   --mode default|every: only that one of the W rows' two modes.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { goal } from './goals.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const runs = Number(arg('--runs', 5));
const repo = path.resolve(import.meta.dirname, '..');
const cli = path.resolve(arg('--cli', path.join(repo, 'dist', 'cli.js')));
const only = arg('--only', '');
const big = process.argv.includes('--big');
const onlyMode = arg('--mode', '');
const against = arg('--against', '') ? path.resolve(arg('--against', '')) : '';
if (against && !fs.existsSync(against)) throw new Error(`missing ${against}`);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awt-scale-'));
// Every span kept: no per-site cap, and no run budget where the CLI has one (--max-spans).
const help = spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8' });
const EVERY = ['--max-spans-per-site', '1000000000', ...(/--max-spans </.test(help.stderr + help.stdout) ? ['--max-spans', '1000000000'] : [])];

const timed = (body) => `const __t0 = performance.now();\n${body}\nprocess.stderr.write('BENCH ' + (performance.now() - __t0) + '\\n');\n`;
const W1 = timed(`let s = 0;\nfor (let i = 0; i < 1_000_000; i++) s += await i;`);
const W2 = timed(`async function chain() {\n  for (let k = 0; k < 3; k++) await new Promise((r) => setImmediate(r));\n}\nawait Promise.all(Array.from({ length: 100_000 }, chain));`);
/** `sites` distinct await sites in one function, the function called until `total` awaits ran. */
function manySites(sites, total) {
  let s = 'async function f() {\n';
  for (let i = 0; i < sites; i++) s += `  await ${i};\n`;
  s += `}\nfor (let k = 0; k < ${Math.round(total / sites)}; k++) await f();\n`;
  return timed(s);
}

/** Peak RSS (kB) of a process, from /proc; 0 when it is gone. */
function hwm(pid) {
  return statusKb(pid, 'VmHWM');
}
/** A size (kB) from /proc/<pid>/status: VmHWM (peak RSS), VmRSS (now); 0 when it is gone. */
function statusKb(pid, field) {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+)`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}
function childrenOf(pid) {
  try {
    return fs.readdirSync(`/proc/${pid}/task`).flatMap((t) => fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
  } catch {
    return [];
  }
}

/**
 * Runs a command under /usr/bin/time; resolves { wallMs, cpuMs, innerMs, peakKb, cliKb, childKb,
 * togetherKb, status } (cpuMs: user + system of the whole process tree; togetherKb: the most the
 * CLI and its child held at one moment, sampled; cliKb + childKb adds peaks reached at different
 * moments: the CLI's while it instruments or writes the timeline, the child's while it runs).
 */
function measure(args) {
  const out = path.join(dir, 'time.out');
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn('/usr/bin/time', ['-f', '%U %S %M', '-o', out, process.execPath, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    let cliKb = 0;
    let childKb = 0;
    let togetherKb = 0;
    // /usr/bin/time -> node (the CLI or plain node) -> the instrumented child.
    const sample = setInterval(() => {
      for (const node of childrenOf(p.pid)) {
        cliKb = Math.max(cliKb, hwm(node));
        let now = statusKb(node, 'VmRSS');
        for (const c of childrenOf(node)) {
          childKb = Math.max(childKb, hwm(c));
          now += statusKb(c, 'VmRSS');
        }
        togetherKb = Math.max(togetherKb, now);
      }
    }, 10);
    p.on('error', reject);
    p.on('close', (status) => {
      clearInterval(sample);
      const wallMs = performance.now() - t0;
      const m = /BENCH ([\d.]+)/.exec(err);
      const [user, sys, peak] = fs.readFileSync(out, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
      resolve({ wallMs, cpuMs: (user + sys) * 1000, innerMs: m ? Number(m[1]) : NaN, peakKb: peak, cliKb, childKb, togetherKb, status, err });
    });
  });
}

const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const range = (xs) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;
const mb = (kb) => `${Math.round(kb / 1024)} MB`;
function ratio(name, pairs, pick, limit) {
  const r = pairs.map(([a, b]) => pick(b) / pick(a));
  return `${name} ${med(r).toFixed(2)}x (${range(r)}, n=${r.length})${limit ? ` goal ≤ ${limit}x` : ''}`;
}

/** The peers: tracers a developer would write to see every await (bench/peers), run as node --import. */
const PEERS = [['async_hooks', path.join(repo, 'bench', 'peers', 'asyncHooks.mjs')], ['promiseHooks', path.join(repo, 'bench', 'peers', 'promiseHooks.mjs')]];

/**
 * A B A B: plain node, then the CLI with `extra` flags (and the --against CLI: `pairs.against`);
 * with `peers`, each peer tracer after them in the same round (`pairs.peers[k]`: [plain, peer]).
 */
async function ab(file, extra, n = runs, peers = []) {
  const pairs = [];
  const other = [];
  pairs.peers = peers.map(() => []);
  for (let i = 0; i < n; i++) {
    const a = await measure([file]);
    const b = await measure([cli, 'run', file, '--json', '/dev/null', ...extra]);
    if (b.status !== 0) throw new Error(`${file}: CLI exited ${b.status}: ${b.err.slice(-800)}`);
    pairs.push([a, b]);
    for (const [k, [name, hook]] of peers.entries()) {
      const c = await measure(['--import', hook, file]);
      if (c.status !== 0 || !Number.isFinite(c.innerMs)) throw new Error(`${file}: the ${name} peer exited ${c.status}: ${c.err.slice(-800)}`);
      pairs.peers[k].push([a, c]);
    }
    if (against) {
      const c = await measure([against, 'run', file, '--json', '/dev/null', ...extra]);
      if (c.status !== 0) throw new Error(`${file}: --against CLI exited ${c.status}: ${c.err.slice(-800)}`);
      other.push([a, c]);
    }
  }
  pairs.against = other;
  return pairs;
}
/** Issue 14's row for a ratio: the median of the pair ratios against the goal. */
function ratioGoal(row, pairs, pick, limit, what) {
  const r = pairs.map(([a, b]) => pick(b) / pick(a));
  const peers = (pairs.peers ?? []).map((theirs, k) => `${PEERS[k][0]} ${med(theirs.map(([a, c]) => pick(c) / pick(a))).toFixed(2)}x`);
  goal(row, { measured: med(r), limit: Number(limit), unit: 'x', shown: `${what} ${med(r).toFixed(2)}x (${range(r)}, n=${r.length})${peers.length ? `; peers ${peers.join(', ')}` : ''}` });
}
function line(label, text) {
  console.log(`${label.padEnd(44)} ${text}`);
}
const want = (name) => !only || name.includes(only);

console.log(`await-timeline scale bench: ${cli}; ${runs} pairs (plain node A, CLI B${against ? `, then ${against}` : ''}), ${os.cpus().length} cores, node ${process.version}, load ${os.loadavg()[0].toFixed(1)}`);
for (const [name, src, goals] of [
  ['W1 1 M sequential `await i`', W1, ['1.5', '3']],
  ['W2 100 k x 3 setImmediate awaits', W2, ['1.25', '2']],
]) {
  if (!want(name.split(' ')[0])) continue;
  const file = path.join(dir, name.split(' ')[0] + '.mjs');
  fs.writeFileSync(file, src);
  for (const [mode, extra, limit] of [['default', [], goals[0]], ['every span', EVERY, goals[1]]]) {
    if (onlyMode && !mode.startsWith(onlyMode)) continue;
    const pairs = await ab(file, extra, runs, PEERS);
    line(`${name}, ${mode}`, `${ratio('inner', pairs, (x) => x.innerMs, limit)}; ${ratio('process', pairs, (x) => x.wallMs)}; ` +
      `CLI ${mb(med(pairs.map((p) => p[1].cliKb)))}, child ${mb(med(pairs.map((p) => p[1].childKb)))}, largest ${mb(med(pairs.map((p) => p[1].peakKb)))}`);
    ratioGoal(`${name.split(' ')[0]}, ${mode}`, pairs, (x) => x.innerMs, limit, 'inner');
    // The peers, measured in the same rounds: each against plain node, and this tool against each.
    line('  peers', PEERS.map(([peer], k) => {
      const theirs = pairs.peers[k];
      const mine = pairs.map(([, b], i) => [theirs[i][1], b]);
      return `${peer} ${ratio('inner', theirs, (x) => x.innerMs)}, peak ${mb(med(theirs.map((p) => p[1].peakKb)))}; ${ratio('this / ' + peer, mine, (x) => x.innerMs)}`;
    }).join('; '));
    if (against) {
      const o = pairs.against;
      const mine = pairs.map(([, b], i) => [o[i][1], b]);
      line('  against', `${ratio('inner', o, (x) => x.innerMs, limit)}; ${ratio('process', o, (x) => x.wallMs)}; ` +
        `${ratio('this / against, inner', mine, (x) => x.innerMs)}; ${ratio('process', mine, (x) => x.wallMs)}`);
    }
  }
}

if (want('empty')) {
  // An ES module entry starts node's module loader thread; a TypeScript file without imports runs
  // as CommonJS and does not. Each against plain node on an empty file of its kind (.mjs, .js).
  for (const [ext, peerExt] of [['mjs', 'mjs'], ['ts', 'js']]) {
    const file = path.join(dir, `empty.${ext}`);
    const peer = path.join(dir, `empty-peer.${peerExt}`);
    fs.writeFileSync(file, '');
    fs.writeFileSync(peer, '');
    const pairs = [];
    const other = [];
    for (let i = 0; i < Math.max(runs, 7); i++) {
      pairs.push([await measure([peer]), await measure([cli, 'run', file, '--json', '/dev/null'])]);
      if (against) other.push([pairs[i][0], await measure([against, 'run', file, '--json', '/dev/null'])]);
    }
    ratioGoal(`empty .${ext} snippet, whole process`, pairs, (x) => x.wallMs, 2, 'process');
    line(`empty .${ext} snippet, whole process`, `${ratio('process', pairs, (x) => x.wallMs, '2')}; plain ${med(pairs.map((p) => p[0].wallMs)).toFixed(0)} ms, CLI ${med(pairs.map((p) => p[1].wallMs)).toFixed(0)} ms; ` +
      `${ratio('cpu', pairs, (x) => x.cpuMs)}, plain ${med(pairs.map((p) => p[0].cpuMs)).toFixed(0)} ms, CLI ${med(pairs.map((p) => p[1].cpuMs)).toFixed(0)} ms`);
    if (against) {
      // This build over the other, each pair measured next to the same plain run.
      const mine = pairs.map((p, i) => [other[i][1], p[1]]);
      line('  against', `${ratio('process', other, (x) => x.wallMs)}; ${ratio('cpu', other, (x) => x.cpuMs)}; ` +
        `${ratio('this / against, process', mine, (x) => x.wallMs)}; ${ratio('cpu', mine, (x) => x.cpuMs)}`);
    }
  }
}

if (want('two-chefs')) {
  // A small real program: the two-chefs lesson (TypeScript, two 2 s timers) with its clock warped,
  // so what is left is the tool's start and end; against plain node starting an empty file.
  const empty = path.join(dir, 'empty.mjs');
  fs.writeFileSync(empty, '');
  const lesson = path.join(repo, 'examples', 'two-chefs', 'promise-all.ts');
  const pairs = [];
  for (let i = 0; i < Math.max(runs, 7); i++) {
    const a = await measure([empty]);
    const b = await measure([cli, 'run', lesson, '--time', 'warp', '--json', '/dev/null']);
    if (b.status !== 0) throw new Error(`${lesson}: CLI exited ${b.status}: ${b.err.slice(-800)}`);
    pairs.push([a, b]);
  }
  line('two-chefs promise-all.ts --time warp, whole', `${ratio('process', pairs, (x) => x.wallMs)} of plain node starting an empty file; plain ${med(pairs.map((p) => p[0].wallMs)).toFixed(0)} ms, CLI ${med(pairs.map((p) => p[1].wallMs)).toFixed(0)} ms; ` +
    `${ratio('cpu', pairs, (x) => x.cpuMs)}`);
}

if (want('sites')) {
  // Issue 9: a module with 160,000 await sites is fully accounted for.
  const file = path.join(dir, 'sites160k.mjs');
  fs.writeFileSync(file, manySites(160_000, 160_000));
  const r = await measure([cli, 'run', file, '--json', path.join(dir, 's.json')]);
  const t = JSON.parse(fs.readFileSync(path.join(dir, 's.json'), 'utf8'));
  const listed = t.spans.filter((s) => s.kind === 'await').length;
  line('160 k await sites, once each', `${t.status}, ${listed} await spans listed + ${t.droppedSpans} counted, CLI ${(r.wallMs / 1000).toFixed(1)} s, largest ${mb(r.peakKb)}`);
}

if (want('html')) {
  const file = path.join(dir, 'html1m.mjs');
  fs.writeFileSync(file, 'for (let i = 0; i < 1_000_000; i++) await i;\n');
  const html = path.join(dir, 'r.html');
  const r = await measure([cli, 'run', file, '--html', html, ...EVERY]);
  if (r.status !== 0) throw new Error(`HTML report run exited ${r.status}: ${r.err.slice(-500)}`);
  line('HTML report, 1 M spans', `${(fs.statSync(html).size / 1e6).toFixed(1)} MB (goal ≤ 40), CLI ${(r.wallMs / 1000).toFixed(1)} s, CLI peak ${mb(r.cliKb)}`);
}

if (big) {
  for (const [name, src, extra] of [
    ['10 M awaits, every span', timed('for (let i = 0; i < 10_000_000; i++) await i;'), EVERY],
    ['10 M awaits over 10 k sites, default', manySites(10_000, 10_000_000), []],
    ['10 M awaits over 100 k sites, default', manySites(100_000, 10_000_000), []],
  ]) {
    if (!want(name)) continue;
    const file = path.join(dir, 'big.mjs');
    fs.writeFileSync(file, src);
    const r = await measure([cli, 'run', file, '--json', '/dev/null', ...extra]);
    // Issue 9: CLI and child together stay under 400 MB for 10 M awaits over 100 k sites; beside
    // it, the same program under plain node (its peak RSS, exact from getrusage).
    const plain = name.includes('100 k sites') ? await measure([file]) : undefined;
    const total = plain ? `, CLI + child ${mb(r.cliKb + r.childKb)} (goal < 400 MB; at one moment at most ${mb(r.togetherKb)}; plain node ${mb(plain.peakKb)})` : '';
    if (name.includes('every span')) {
      goal('10 M awaits, every span: time', { measured: r.wallMs / 1000, limit: 10, unit: 's', shown: `CLI ${(r.wallMs / 1000).toFixed(1)} s (n=1)` });
      goal('10 M awaits, every span: CLI memory', { measured: r.cliKb / 1024, limit: 1024, unit: 'MB', shown: `CLI ${mb(r.cliKb)} (n=1)` });
    } else {
      goal(`${name}: CLI memory`, { measured: r.cliKb / 1024, limit: 400, unit: 'MB', shown: `CLI ${mb(r.cliKb)}, child ${mb(r.childKb)} (n=1)` });
    }
    line(name, `CLI ${(r.wallMs / 1000).toFixed(1)} s (inner ${(r.innerMs / 1000).toFixed(1)} s), CLI ${mb(r.cliKb)}, child ${mb(r.childKb)}, largest ${mb(r.peakKb)}${total}, exit ${r.status}`);
  }
}
fs.rmSync(dir, { recursive: true, force: true });
console.log(`load at the end ${os.loadavg()[0].toFixed(1)}`);
