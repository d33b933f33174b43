// Engine benchmarks: each workload runs under plain node and instrumented, alternating A B A B in
// one run; the snippet times its own work, so start-up is not in the ratio. Ratios are taken pair
// by pair and printed as median (min–max, n). Then issue 14's table (bench/scale.mjs: default
// budget and every span kept, whole process, peak RSS), the HTML report of a million spans, the
// Python runtime, the warm child's first event and the channel's throughput.
// Usage: npm run bench [-- --runs N] [--big]   (--big adds the 10 M-await rows: minutes each)
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { goalTable, takeGoals } from './goals.mjs';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 5;
const repo = path.resolve(import.meta.dirname, '..');
const cli = path.join(repo, 'dist', 'cli.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awt-bench-'));

const timed = (body) => `const __t0 = performance.now();\n${body}\nprocess.stderr.write('BENCH ' + (performance.now() - __t0) + '\\n');\n`;
const workloads = {
  'W1 1,000,000 sequential `await i`': timed(`let s = 0;\nfor (let i = 0; i < 1_000_000; i++) s += await i;`),
  'W2 100,000 chains of 3 setImmediate awaits': timed(`async function chain() {\n  for (let k = 0; k < 3; k++) await new Promise((r) => setImmediate(r));\n}\nawait Promise.all(Array.from({ length: 100_000 }, chain));`),
  'W3 I/O: timers and fs.promises reads': timed(`import { readFile } from 'node:fs/promises';\nimport { setTimeout as delay } from 'node:timers/promises';\nfor (let i = 0; i < 20; i++) {\n  await Promise.all([delay(10), readFile(${JSON.stringify(path.join(repo, 'package.json'))}), readFile(${JSON.stringify(path.join(repo, 'LICENSE'))})]);\n}`),
};

function measure(file, instrumented) {
  const args = instrumented ? [cli, 'run', file, '--json', '/dev/null'] : [file];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  const m = /BENCH ([\d.]+)/.exec(r.stderr);
  if (!m) throw new Error(`no timing from ${file} (${instrumented ? 'instrumented' : 'plain'}): ${r.stderr.slice(0, 500)}`);
  return Number(m[1]);
}
/** Runs another bench (node `args`) and prints its output, its goal rows kept for the table at the end. */
const goalRows = [];
function bench(args, options = {}) {
  const r = spawnSync(process.execPath, args, { cwd: repo, encoding: 'utf8', ...options });
  const { text, rows } = takeGoals(r.stdout || r.stderr || '');
  goalRows.push(...rows);
  process.stdout.write(text);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(`await-timeline bench: ${runs} runs each, alternating plain and instrumented (${os.cpus().length} cores, node ${process.version})`);
for (const [name, src] of Object.entries(workloads)) {
  const file = path.join(dir, name.split(' ')[0] + '.mjs');
  fs.writeFileSync(file, src);
  const plain = [];
  const inst = [];
  for (let i = 0; i < runs; i++) {
    plain.push(measure(file, false));
    inst.push(measure(file, true));
  }
  const p = median(plain);
  const q = median(inst);
  const ratios = inst.map((x, i) => x / plain[i]);
  console.log(`${name.padEnd(46)} plain ${p.toFixed(1).padStart(8)} ms   instrumented ${q.toFixed(1).padStart(8)} ms   ratio ${median(ratios).toFixed(2)}x (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}, n=${runs})`);
}

// Issue 14's table: default budget and every span kept, whole process, memory.
bench([path.join(repo, 'bench', 'scale.mjs'), '--runs', String(runs), ...(process.argv.includes('--big') ? ['--big'] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
// The HTML report of a million spans (headless Chromium).
bench(['--import', 'tsx', path.join(repo, 'bench', 'report.ts')]);
// Python: the runtime against plain python3 (and its own peers, where bench/python.mjs has them).
bench([path.join(repo, 'bench', 'python.mjs'), '--runs', String(Math.max(runs, 5))]);

// require of a 3-line local module: what the snippet measures of itself, plain and instrumented.
// By a literal name the engine instruments it before the run; by a computed one, during the run
// at the child's request (the tool's time, shown apart, but on the program's clock).
fs.writeFileSync(path.join(dir, 'tiny_mod.js'), "exports.add = (a, b) => a + b;\nexports.name = 'tiny';\nexports.version = 1;\n");
for (const [name, base, code] of [
  ['W4 require of a 3-line local module', 'W4.cjs', "const tiny = require('./tiny_mod');"],
  ['W4 the same, its name computed', 'W4c.cjs', "const tiny = require(['./tiny', 'mod'].join('_'));"],
]) {
  const file = path.join(dir, base);
  fs.writeFileSync(file, timed(code));
  const plain = [];
  const inst = [];
  for (let i = 0; i < runs; i++) {
    plain.push(measure(file, false));
    inst.push(measure(file, true));
  }
  const p = median(plain);
  const q = median(inst);
  const range = (xs) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`;
  console.log(`${name.padEnd(46)} plain ${p.toFixed(1).padStart(8)} ms   instrumented ${q.toFixed(1).padStart(8)} ms   ratio ${(q / p).toFixed(2)}x   (min–max ${range(plain)} / ${range(inst)} ms, n ${runs})`);
}

// False blocks under load, next to the ratios: non-blocking fixtures run while the machine is busy.
bench(['--import', 'tsx', path.join(repo, 'bench', 'falseBlocks.ts'), String(Math.max(20, runs))]);

// Request to first event, with a warm child, measured through the engine API (TypeScript, via tsx).
bench(['--import', 'tsx', path.join(repo, 'bench', 'firstEvent.ts'), String(Math.max(10, runs))]);

// Child to parent throughput of the event channel alone.
bench(['--import', 'tsx', path.join(repo, 'bench', 'transport.ts')]);

// End to end: a million recorded awaits (no cap), two events each.
{
  const file = path.join(dir, 'throughput.mjs');
  fs.writeFileSync(file, 'for (let i = 0; i < 1_000_000; i++) await i;\n');
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, 'run', file, '--max-spans-per-site', '100000000', '--json', path.join(dir, 't.json')], { encoding: 'utf8' });
  const ms = performance.now() - t0;
  const spans = JSON.parse(fs.readFileSync(path.join(dir, 't.json'), 'utf8')).spans.length;
  console.log(`${'1,000,000 awaits recorded, end to end'.padEnd(46)} ${spans} spans, ${(2 * spans / (ms / 1000) / 1e6).toFixed(2)} M events/s including recording, JSON and exit (status ${r.status})`);
}
fs.rmSync(dir, { recursive: true, force: true });

// The panel (the webview's bundle in headless Chromium): a million spans loaded, drawn, panned.
bench([path.join(repo, 'bench', 'renderer.mjs')], { maxBuffer: 1 << 26 });

// The workshop pack graded in real time and warped, side by side.
bench([path.join(repo, 'bench', 'workshop.mjs'), '--runs', String(Math.min(runs, 3))]);

// Issue 14's table: each of its rows, met or by how much not (a row not measured says so).
console.log('\n' + goalTable(goalRows, [
  'W1, default', 'W1, every span', 'W2, default', 'W2, every span',
  '10 M awaits, every span: time', '10 M awaits, every span: CLI memory',
  '10 M awaits over 10 k sites, default: CLI memory', '10 M awaits over 100 k sites, default: CLI memory',
  'empty .mjs snippet, whole process', 'empty .ts snippet, whole process',
  'warm child, request to first event', 'Python: 1 M awaits of a trivial coroutine',
  'HTML report, 1,000,000 spans: file', 'HTML report, 1,000,000 spans: first frame',
  'panel, 1 M spans: load + first frame', 'panel, 1 M spans: pan/zoom draw p95',
]));
