// Request to first event with a warm child: from startRun() to the first update the engine emits.
// Each measurement is a process of its own (a fresh engine and warm pool, as the extension has
// after a while); with `--against DIR` (another checkout, built) the two alternate A B A B and
// each pair gives a difference.
// Usage: node --import tsx bench/firstEvent.ts [runs] [--against DIR]   (DIR: a checkout, built, with node_modules)
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import type * as RunModule from '../src/engine/run';
import { goal } from './goals.mjs';

/** Issue 14's goal: 9 runs of 10 at most this long. */
const GOAL_MS = 20;

/** One measurement, in this process. */
async function one(repo: string): Promise<number> {
  // The engine of the checkout measured (this one, or --against's), with its own built runtime.
  const { startRun, WarmPool } = (await import(path.join(repo, 'src', 'engine', 'run.ts'))) as typeof RunModule;
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'awt-first-')), 'first.mjs');
  fs.writeFileSync(file, 'await new Promise((r) => setTimeout(r, 5));\n');
  const pool = new WarmPool();
  pool.fill();
  // Warm means started: its hello came (on a busy machine node alone can take a second), then
  // time for what a waiting child does before its run request.
  const since = performance.now();
  for (;;) {
    const warm = (pool as unknown as { warm?: { early: Buffer[] } }).warm;
    if (warm && warm.early.length > 0) break;
    if (performance.now() - since > 30_000) throw new Error('no warm child within 30 s');
    await new Promise((r) => setTimeout(r, 10));
  }
  await new Promise((r) => setTimeout(r, 800));
  const t0 = performance.now();
  let first = -1;
  const run = startRun({ file, warm: pool.take(), stdout: 'pipe' });
  run.on('update', () => {
    if (first < 0) first = performance.now() - t0;
  });
  await run.done;
  pool.dispose();
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  return first;
}

function measureIn(repo: string): number {
  const r = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--one', repo], { cwd: repo, encoding: 'utf8' });
  const m = /FIRST ([\d.]+)/.exec(r.stdout);
  if (!m) throw new Error(`no figure from ${repo}: ${r.stderr.slice(0, 500)}`);
  return Number(m[1]);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (xs: number[]) => `median ${median(xs).toFixed(1)} ms (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}, n=${xs.length})`;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--one') {
    console.log(`FIRST ${(await one(argv[1])).toFixed(2)}`);
    return;
  }
  const runs = Number(argv.find((a) => /^\d+$/.test(a))) || 10;
  const ai = argv.indexOf('--against');
  const against = ai >= 0 ? path.resolve(argv[ai + 1]) : undefined;
  const here = path.resolve(__dirname, '..');
  const mine: number[] = [];
  const theirs: number[] = [];
  const load = os.loadavg()[0];
  for (let i = 0; i < runs; i++) {
    mine.push(measureIn(here));
    if (against) theirs.push(measureIn(against));
  }
  const within = mine.filter((t) => t <= GOAL_MS).length;
  goal('warm child, request to first event', { measured: within, limit: Math.ceil(0.9 * runs), unit: 'runs', atLeast: true, shown: `${within} of ${runs} runs ≤ ${GOAL_MS} ms, ${fmt(mine)}` });
  console.log(`${'request to first event, warm child'.padEnd(46)} ${fmt(mine)}; ${within} of ${runs} ≤ ${GOAL_MS} ms (goal: 9 of 10); load ${load.toFixed(1)} → ${os.loadavg()[0].toFixed(1)}`);
  if (against) {
    const diffs = mine.map((m, i) => m - theirs[i]);
    const ratios = mine.map((m, i) => m / theirs[i]);
    console.log(`${'  against'.padEnd(46)} ${fmt(theirs)}; ${theirs.filter((t) => t <= GOAL_MS).length} of ${runs} ≤ ${GOAL_MS} ms`);
    console.log(`${'  this − against, pair by pair'.padEnd(46)} median ${median(diffs).toFixed(1)} ms (${Math.min(...diffs).toFixed(1)}–${Math.max(...diffs).toFixed(1)}); ratio ${median(ratios).toFixed(2)}x (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}, n=${runs})`);
  }
}

void main();
