// Two builds of the CLI side by side on W1 and W2 (bench/run.mjs's workloads; F1 on request), with plain node as
// the reference: each round runs plain, A and B (A and B swap places every round), and every
// ratio is taken within one round, so a busy machine moves all three together.
// Usage: node bench/ab.mjs --a <other checkout>/dist/cli.js [--b dist/cli.js] [--runs 9] [--only W1]
//   e.g. A = the same tree built without the still-waiting tracking, B = this one.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const repo = path.resolve(import.meta.dirname, '..');
const cliA = arg('--a');
const cliB = arg('--b', path.join(repo, 'dist', 'cli.js'));
const runs = Math.max(3, Number(arg('--runs', 9)));
if (!cliA || !fs.existsSync(cliA) || !fs.existsSync(cliB)) {
  console.error('usage: node bench/ab.mjs --a <path to cli.js> [--b dist/cli.js] [--runs 9]');
  process.exit(2);
}

const timed = (body) => `const __t0 = performance.now();\n${body}\nprocess.stderr.write('BENCH ' + (performance.now() - __t0) + '\\n');\n`;
const workloads = {
  'W1 1,000,000 sequential `await i`': timed(`let s = 0;\nfor (let i = 0; i < 1_000_000; i++) s += await i;`),
  'W2 100,000 chains of 3 setImmediate awaits': timed(`async function chain() {\n  for (let k = 0; k < 3; k++) await new Promise((r) => setImmediate(r));\n}\nawait Promise.all(Array.from({ length: 100_000 }, chain));`),
  // Calls nobody awaits: each is marked for the "Not awaited" lane (run with --only F1).
  'F1 100,000 calls nobody awaits': timed(`async function log(i) {\n  return i;\n}\nfor (let i = 0; i < 100_000; i++) log(i);\nawait null;`),
};

function measure(file, cli) {
  const args = cli ? [cli, 'run', file, '--json', '/dev/null'] : [file];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  const m = /BENCH ([\d.]+)/.exec(r.stderr);
  if (!m) throw new Error(`no timing from ${file} (${cli ?? 'plain'}): ${r.stderr.slice(0, 500)}`);
  return Number(m[1]);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (xs) => `${median(xs).toFixed(2)}x (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}, n=${xs.length})`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awt-ab-'));
console.log(`A = ${cliA}\nB = ${cliB}\n${runs} rounds of plain, A, B (A/B order swapped each round); ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}, node ${process.version}`);
const only = arg('--only');
for (const [name, src] of Object.entries(workloads)) {
  if (only ? !name.startsWith(`${only} `) : name.startsWith('F1 ')) continue;
  const file = path.join(dir, name.split(' ')[0] + '.mjs');
  fs.writeFileSync(file, src);
  const plain = [], a = [], b = [];
  for (let i = 0; i < runs; i++) {
    plain.push(measure(file, null));
    if (i % 2 === 0) {
      a.push(measure(file, cliA));
      b.push(measure(file, cliB));
    } else {
      b.push(measure(file, cliB));
      a.push(measure(file, cliA));
    }
  }
  const ratio = (xs, ys) => xs.map((x, i) => x / ys[i]);
  console.log(`${name}\n  plain ${median(plain).toFixed(1)} ms · A ${median(a).toFixed(1)} ms · B ${median(b).toFixed(1)} ms`);
  console.log(`  A/plain ${fmt(ratio(a, plain))}   B/plain ${fmt(ratio(b, plain))}   B/A ${fmt(ratio(b, a))}`);
}
fs.rmSync(dir, { recursive: true, force: true });
