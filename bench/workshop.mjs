// The workshop pack graded through the CLI (`--check`), in real time and warped, side by side:
// for each exercise file the two clocks alternate (real, warp, real, warp …), whole processes timed
// from spawn to exit. Prints the pack's total per round (median, min–max over the rounds), the
// ratio of the pair, and whether the two clocks gave the same verdict on every file.
// Usage: node bench/workshop.mjs [--runs N]   (after npm run build)
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 3;
const repo = path.resolve(import.meta.dirname, '..');
const cli = path.join(repo, 'dist', 'cli.js');
const pack = path.join(repo, 'examples', 'workshop');
const python = process.env.AWAIT_TIMELINE_PYTHON ?? 'python3';

const files = fs.readdirSync(pack, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) => fs.readdirSync(path.join(pack, d.name)).filter((f) => /^(starter|solution)\./.test(f)).map((f) => path.join(pack, d.name, f)))
  .sort();

function grade(file, time) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, 'run', file, '--check', '--time', time, '--python', python, '--timeout', '30000'], { encoding: 'utf8' });
  return { ms: performance.now() - t0, status: r.status };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const totals = { real: [], warp: [] };
let disagreements = 0;
for (let round = 0; round < runs; round++) {
  const sum = { real: 0, warp: 0 };
  for (const file of files) {
    const real = grade(file, 'real');
    const warp = grade(file, 'warp');
    sum.real += real.ms;
    sum.warp += warp.ms;
    if (real.status !== warp.status) {
      disagreements++;
      console.log(`  verdicts differ on ${path.relative(pack, file)}: real exit ${real.status}, warp exit ${warp.status}`);
    }
  }
  totals.real.push(sum.real);
  totals.warp.push(sum.warp);
}
const fmt = (xs) => `${(median(xs) / 1000).toFixed(2)} s (${(Math.min(...xs) / 1000).toFixed(2)}–${(Math.max(...xs) / 1000).toFixed(2)})`;
const ratios = totals.real.map((r, i) => totals.warp[i] / r);
console.log(
  `${`workshop pack, ${files.length} files graded (--check)`.padEnd(46)} real ${fmt(totals.real)}   warp ${fmt(totals.warp)}   ` +
  `ratio ${median(ratios).toFixed(2)}x (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}), n=${runs}, ` +
  `${disagreements ? `${disagreements} verdicts differ` : 'same verdicts'}`,
);
