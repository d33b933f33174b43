// False blocks under load: the non-blocking fixtures the tests use, run while test/load.ts keeps
// the machine busy (CPU, fsync'd writes, page-cache churn); a run with any block is a false one.
// One row for node, one for Python (both runtimes decide blocks on evidence, see watchdog.ts and
// _awtl_hooks.py), each with its delays (the neutral "event loop delayed" marks) counted beside.
// Usage (from bench/run.mjs): node --import tsx bench/falseBlocks.ts RUNS [--only node|python] [--python python3]
//        [--no-load]   (the machine is kept busy by something else, e.g. /work/shared/tools/load.sh)
//        [--saturated] (test/load.ts with eight busy loops per core, each in its own session)
import * as os from 'node:os';
import * as path from 'node:path';

import { startRun } from '../src/engine/run';
import { startLoad } from '../test/load';

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const runs = Math.max(5, Number(args[0]) || 20);
const only = opt('--only');
const python = opt('--python') ?? process.env.AWAIT_TIMELINE_PYTHON ?? 'python3';
const repo = path.resolve(__dirname, '..');
const rows: Array<{ name: string; fixtures: string[] }> = [
  {
    name: 'node',
    fixtures: [
      'test/fixtures/node/chefs-promise-all.ts',
      'examples/workshop/02-breakfast/solution.ts',
      'examples/workshop/03-weather-loop/solution.ts',
    ],
  },
  {
    name: 'python',
    fixtures: [
      'test/fixtures/python/chefs_gather.py',
      'test/fixtures/python/sleep_loop.py',
      'examples/workshop/09-python-two-chefs/solution.py',
    ],
  },
];

async function main(): Promise<void> {
  const cores = Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  const saturated = args.includes('--saturated');
  const load = args.includes('--no-load') ? undefined : startLoad({ seconds: 600, ...(saturated ? { cpus: 8 * cores, sessions: true } : {}) });
  const lines: string[] = [];
  try {
    for (const row of rows) {
      if (only && only !== row.name) continue;
      const parts: string[] = [];
      let total = 0;
      let falseRuns = 0;
      let delays = 0;
      const loads: number[] = [];
      for (const f of row.fixtures) {
        let bad = 0;
        for (let i = 0; i < runs; i++) {
          const r = startRun({ file: path.join(repo, f), pythonPath: python, stdout: 'pipe', stderr: 'pipe' });
          r.stdout?.resume();
          r.stderr?.resume();
          const t = await r.done;
          loads.push(os.loadavg()[0]!);
          if (t.spans.some((s) => s.kind === 'block')) bad++;
          delays += t.delays?.length ?? 0;
        }
        total += runs;
        falseRuns += bad;
        parts.push(`${path.basename(path.dirname(f)) === 'node' || path.basename(path.dirname(f)) === 'python' ? path.basename(f) : f.split('/').slice(-2).join('/')} ${bad}/${runs}`);
      }
      loads.sort((a, b) => a - b);
      lines.push(`${`false blocks under load, ${row.name} (${load ? `test/load.ts${saturated ? ', saturated' : ''}` : 'external'})`.padEnd(46)} ${falseRuns}/${total} runs   (${parts.join(', ')}; ${delays} delays shown; load ${loads[0]!.toFixed(0)}–${loads[loads.length - 1]!.toFixed(0)})`);
    }
  } finally {
    await load?.stop();
  }
  console.log(lines.join('\n'));
}

void main();
