// False blocks under load: the non-blocking fixtures the tests use, run while test/load.ts keeps
// the machine busy (CPU, fsync'd writes, page-cache churn); a run with any block is a false one.
// Usage (from bench/run.mjs): node --import tsx bench/falseBlocks.ts RUNS
import * as path from 'node:path';

import { startRun } from '../src/engine/run';
import { startLoad } from '../test/load';

const runs = Math.max(5, Number(process.argv[2]) || 20);
const repo = path.resolve(__dirname, '..');
const fixtures = [
  'test/fixtures/node/chefs-promise-all.ts',
  'examples/workshop/02-breakfast/solution.ts',
  'examples/workshop/03-weather-loop/solution.ts',
];

async function main(): Promise<void> {
  const load = startLoad({ seconds: 300 });
  const parts: string[] = [];
  let total = 0;
  let falseRuns = 0;
  try {
    for (const f of fixtures) {
      let bad = 0;
      for (let i = 0; i < runs; i++) {
        const r = startRun({ file: path.join(repo, f), stdout: 'pipe', stderr: 'pipe' });
        r.stdout?.resume();
        r.stderr?.resume();
        const t = await r.done;
        if (t.spans.some((s) => s.kind === 'block')) bad++;
      }
      total += runs;
      falseRuns += bad;
      parts.push(`${path.basename(path.dirname(f)) === 'node' ? path.basename(f) : f.split('/').slice(-2).join('/')} ${bad}/${runs}`);
    }
  } finally {
    await load.stop();
  }
  console.log(`${'false blocks under load (test/load.ts)'.padEnd(46)} ${falseRuns}/${total} runs   (${parts.join(', ')})`);
}

void main();
