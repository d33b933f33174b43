// The workshop pack graded through the CLI, in real time and warped, side by side, two ways:
// - file by file (`run <file> --check`, a CLI start per file): for each exercise file the two
//   clocks alternate (real, warp, real, warp …), whole processes timed from spawn to exit;
// - the whole pack at once (`check examples/workshop`, one CLI): real and warp alternate per round.
// Prints the pack's total per round (median, min–max over the rounds), the ratio of the pair, and
// whether the two clocks gave the same verdict on every file.
// Usage: node bench/workshop.mjs [--runs N]   (after npm run build)
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 3;
const repo = path.resolve(import.meta.dirname, '..');
const cli = path.join(repo, 'dist', 'cli.js');
const packDir = path.join(repo, 'examples', 'workshop');
const python = process.env.AWAIT_TIMELINE_PYTHON ?? 'python3';

const files = fs.readdirSync(packDir, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) => fs.readdirSync(path.join(packDir, d.name)).filter((f) => /^(starter|solution)\./.test(f)).map((f) => path.join(packDir, d.name, f)))
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
      console.log(`  verdicts differ on ${path.relative(packDir, file)}: real exit ${real.status}, warp exit ${warp.status}`);
    }
  }
  totals.real.push(sum.real);
  totals.warp.push(sum.warp);
}
// The whole pack in one CLI: rounds alternate real, warp, real, warp …
const pack = { real: [], warp: [] };
const verdicts = { real: [], warp: [] };
for (let round = 0; round < runs; round++) {
  for (const time of ['real', 'warp']) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [cli, 'check', packDir, '--no-color', '--time', time, '--python', python], { encoding: 'utf8' });
    pack[time].push(performance.now() - t0);
    verdicts[time].push(r.stdout.split('\n').filter((l) => /^[✓✗] /.test(l)).map((l) => l.split('  ')[0]).join('\n'));
  }
}
// Warped verdicts must be the same every round (that is what warp promises); real-time ones may
// differ on a busy machine (that is why warp exists): said apart, so a line says which it was.
const same = (xs) => xs.every((v) => v === xs[0]);
const packAgrees = same(verdicts.warp) && same(verdicts.real) && verdicts.real[0] === verdicts.warp[0];
const packSays = packAgrees
  ? 'same verdicts'
  : `verdicts differ: warped ${same(verdicts.warp) ? 'same every round' : 'NOT the same every round'}, real ${same(verdicts.real) ? 'same every round' : 'not the same every round'}${same(verdicts.warp) && same(verdicts.real) ? ', real against warped' : ''}`;

const fmt = (xs) => `${(median(xs) / 1000).toFixed(2)} s (${(Math.min(...xs) / 1000).toFixed(2)}–${(Math.max(...xs) / 1000).toFixed(2)})`;
const ratios = totals.real.map((r, i) => totals.warp[i] / r);
console.log(
  `${`workshop pack, ${files.length} files graded (--check)`.padEnd(46)} real ${fmt(totals.real)}   warp ${fmt(totals.warp)}   ` +
  `ratio ${median(ratios).toFixed(2)}x (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}), n=${runs}, ` +
  `${disagreements ? `${disagreements} verdicts differ` : 'same verdicts'}`,
);
const packRatios = pack.real.map((r, i) => pack.warp[i] / r);
console.log(
  `${`workshop pack, ${files.length} files, one \`check\``.padEnd(46)} real ${fmt(pack.real)}   warp ${fmt(pack.warp)}   ` +
  `ratio ${median(packRatios).toFixed(2)}x (${Math.min(...packRatios).toFixed(2)}–${Math.max(...packRatios).toFixed(2)}), n=${runs}, ` +
  packSays,
);
