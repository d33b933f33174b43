// False blocks under load: the non-blocking fixtures the tests use, run while test/load.ts keeps
// the machine busy (CPU, fsync'd writes, page-cache churn); a run with any block is a false one.
// Beside it, the real block kept: a 300 ms busy-wait on the wall clock, found as one block on its
// line lasting the spin (the rule that keeps false blocks out must not drop this one).
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
const rows: Array<{ name: string; fixtures: string[]; spin?: { file: string; line: number } }> = [
  {
    name: 'node',
    spin: { file: 'test/fixtures/node/spin-wall.js', line: 6 },
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
      const where = `${load ? `test/load.ts${saturated ? ', saturated' : ''}` : 'external'}`;
      const range = () => {
        loads.sort((a, b) => a - b);
        return `load ${loads[0]!.toFixed(0)}–${loads[loads.length - 1]!.toFixed(0)}`;
      };
      lines.push(`${`false blocks under load, ${row.name} (${where})`.padEnd(46)} ${falseRuns}/${total} runs   (${parts.join(', ')}; ${delays} delays shown; ${range()})`);
      if (row.spin) {
        loads.length = 0;
        let kept = 0;
        const seen: string[] = [];
        for (let i = 0; i < runs; i++) {
          const r = startRun({ file: path.join(repo, row.spin.file), pythonPath: python, stdout: 'pipe', stderr: 'pipe' });
          r.stdout?.resume();
          r.stderr?.resume();
          const t = await r.done;
          loads.push(os.loadavg()[0]!);
          const blocks = t.spans.filter((x) => x.kind === 'block');
          const b = blocks[0];
          if (blocks.length === 1 && b!.line === row.spin.line && b!.endMs !== null && b!.endMs - b!.startMs >= 295) kept++;
          else seen.push(blocks.map((x) => `${x.line}:${x.endMs === null ? 'open' : Math.round(x.endMs - x.startMs)}`).join('+') || 'none');
        }
        lines.push(`${`real block kept under load, ${row.name} (${where})`.padEnd(46)} ${kept}/${runs} runs   (${path.basename(row.spin.file)}: one block on line ${row.spin.line}, >= 295 ms${seen.length ? `; else ${seen.join(', ')}` : ''}; ${range()})`);
      }
    }
  } finally {
    await load?.stop();
  }
  console.log(lines.join('\n'));
}

void main();
