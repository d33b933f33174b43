// Request to first event with a warm child: from startRun() to the first update the engine emits.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { startRun, WarmPool } from '../src/engine/run';

/** Issue 14's goal: 9 runs of 10 at most this long. */
const GOAL_MS = 20;

async function main(runs: number): Promise<void> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'awt-first-')), 'first.mjs');
  fs.writeFileSync(file, 'await new Promise((r) => setTimeout(r, 5));\n');
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const pool = new WarmPool();
    pool.fill();
    // Warm means started: its hello came (on a busy machine node alone can take a second), then
    // time for what a waiting child does (the transform and the module loader, after 250 ms idle).
    const warm = (pool as unknown as { warm?: { early: Buffer[] } }).warm;
    const since = performance.now();
    while (warm && warm.early.length === 0 && performance.now() - since < 30_000) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 800));
    const t0 = performance.now();
    let first = -1;
    const run = startRun({ file, warm: pool.take(), stdout: 'pipe' });
    run.on('update', () => {
      if (first < 0) first = performance.now() - t0;
    });
    await run.done;
    pool.dispose();
    times.push(first);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const within = times.filter((t) => t <= GOAL_MS).length;
  console.log(`${'request to first event, warm child'.padEnd(46)} median ${sorted[Math.floor(sorted.length / 2)].toFixed(1)} ms (${sorted[0].toFixed(1)}–${sorted[sorted.length - 1].toFixed(1)}, n=${times.length}); ` +
    `${within} of ${times.length} ≤ ${GOAL_MS} ms (goal: 9 of 10)`);
}

void main(Number(process.argv[2]) || 10);
