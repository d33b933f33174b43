// Grading is the same on any machine: the workshop pack's exercises graded 100 times, warped (as
// --check grades them), while the machine is saturated: three busy loops per core, each a program
// of its own (its own session, so the run does not keep half the machine: see
// LoadOptions.sessions), with fsync'd writes and page-cache churn. Every starter must fail and
// every solution pass, every time: the time the machine keeps the program off a CPU is not the
// program's time (see timeWarp.ts).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { startRun } from '../../src/engine/run';
import { startLoad, type Load } from '../load';
import { REPO } from './helpers';

const WORKSHOP = path.join(REPO, 'examples', 'workshop');
const PYTHON = process.env.AWAIT_TIMELINE_PYTHON ?? 'python3';
const GRADINGS = 100;

/** Every exercise: the hang exercises too (warped, a wait for nothing that can come ends at the timeout at once). */
function packFiles(): string[] {
  return fs.readdirSync(WORKSHOP, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => fs.readdirSync(path.join(WORKSHOP, d.name)).filter((f) => /^(starter|solution)\./.test(f)).map((f) => path.join(WORKSHOP, d.name, f)))
    .sort();
}

async function verdict(file: string): Promise<string> {
  const run = startRun({ file, defaultTime: 'warp', timeoutMs: 30_000, pythonPath: PYTHON, stdout: 'ignore', stderr: 'ignore' });
  const t = await run.done;
  // The engine's own account of a channel that stopped checking out (a fault of the tool's looks
  // like the program's doing from outside: CI run 60, 1 grading in 100).
  const fault = run.channelFault ? `, channel: ${run.channelFault}` : '';
  const failed = (t.expectations ?? []).filter((e) => !e.passed).map((e) => `${e.text} — ${e.actual}`);
  if (!failed.length) return 'passes';
  // What the run itself says, for a verdict that should not be (CI run 29: a call span of a run
  // that went to its end was left open once in 100 gradings, not reproduced since).
  const open = t.spans.filter((s) => s.endMs === null).map((s) => `${s.kind} ${s.label} @${s.startMs.toFixed(1)}`);
  return `fails: ${failed.join('; ')} [status ${t.status}, exit ${t.exitCode}, wall ${t.wallMs.toFixed(1)} ms` +
    `${t.incomplete ? `, incomplete: ${JSON.stringify(t.incomplete)}${fault}` : ''}${t.error ? `, error: ${t.error.message}` : ''}, open: ${open.join(' | ') || 'none'}]`;
}

describe('workshop grading under load', function () {
  this.timeout(600_000);
  let load: Load | undefined;
  after(async () => {
    await load?.stop();
  });

  it(`gives the same verdict ${GRADINGS} times in ${GRADINGS}, warped, on a busy machine`, async () => {
    const files = packFiles();
    assert.ok(files.length >= 20, `only ${files.length} exercise files`);
    load = startLoad({ seconds: 300, cpus: 3 * Math.max(1, os.availableParallelism?.() ?? os.cpus().length), sessions: true });
    const queue = Array.from({ length: GRADINGS }, (_, i) => files[i % files.length]);
    const wrong: string[] = [];
    const worker = async () => {
      for (let file = queue.shift(); file; file = queue.shift()) {
        const v = await verdict(file);
        const starter = path.parse(file).name === 'starter';
        if (starter ? v === 'passes' : v !== 'passes') wrong.push(`${path.relative(WORKSHOP, file)} ${v}`);
      }
    };
    await Promise.all([worker(), worker()]);
    assert.deepEqual(wrong, []);
  });
});
