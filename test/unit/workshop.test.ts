// The workshop pack graded by the built CLI: every starter must fail its @expect lines and every
// solution must pass them; and how `--check` sets the exit code.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { Timeline } from '../../src/shared/timeline';
import { listExercises, readTaskText } from '../../src/host/workshopExercises';
import { REPO, cli } from './helpers';

const WORKSHOP = path.join(REPO, 'examples', 'workshop');
const PYTHON = process.env.AWAIT_TIMELINE_PYTHON ?? 'python3';

const exercises = fs.readdirSync(WORKSHOP, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
const fileIn = (dir: string, base: string) => {
  const name = fs.readdirSync(path.join(WORKSHOP, dir)).find((f) => path.parse(f).name === base);
  assert.ok(name, `${dir} has no ${base} file`);
  return path.join(WORKSHOP, dir, name);
};

describe('workshop pack', function () {
  this.timeout(180_000);

  it('has at least 8 exercises, each a starter and a solution with the same task text and @expect lines', () => {
    assert.ok(exercises.length >= 8, `only ${exercises.length} exercises`);
    assert.ok(exercises.some((d) => fs.readdirSync(path.join(WORKSHOP, d)).includes('starter.py')), 'no Python exercise');
    for (const dir of exercises) {
      const [starter, solution] = [fileIn(dir, 'starter'), fileIn(dir, 'solution')].map((f) => fs.readFileSync(f, 'utf8'));
      const head = (text: string) => text.split('\n').filter((l, i) => i < 12 && /^(\/\/|#) /.test(l) && !/^(\/\/|#) Solution/.test(l));
      assert.ok(/^(\/\/|#) \S/.test(starter), `${dir}: the starter does not begin with its task text`);
      assert.deepEqual(head(solution), head(starter), `${dir}: the solution's task text and @expect lines differ from the starter's`);
      assert.ok(head(starter).some((l) => l.includes('@expect')), `${dir}: no @expect line`);
    }
  });

  it('lists for the quick pick: title, task text and count of @expect lines, TypeScript and Python', () => {
    const listed = listExercises(WORKSHOP);
    assert.deepEqual(listed.map((e) => e.id), exercises);
    const chefs = listed[0];
    assert.equal(chefs.title, 'Two chefs, one kitchen');
    assert.match(chefs.task, /^Both dishes should cook at the same time, .* side by side\.$/);
    assert.equal(chefs.expectations, 3);
    assert.equal(chefs.language, 'typescript');
    assert.ok(chefs.solution?.endsWith(path.join('01-two-chefs', 'solution.ts')));
    assert.ok(listed.some((e) => e.language === 'python' && e.starter.endsWith('starter.py')));
    for (const e of listed) assert.ok(e.title && e.task.length > 40 && e.expectations > 0, `${e.id}: ${JSON.stringify(e)}`);
    assert.deepEqual(readTaskText('# Title\n# more\n#   words\n# @expect wall < 1s\nimport asyncio\n'), { title: 'Title', task: 'more words', expectations: 1 });
    assert.deepEqual(listExercises(path.join(WORKSHOP, 'no-such-folder')), []);
  });

  it('every starter fails its expectations and every solution passes them, graded in one `check`', () => {
    // Graded warped, as `check` and --check grade: an exercise's waits take the same virtual time
    // on any machine, a block is only the snippet's own work holding the loop, and a starter that
    // hangs times out on the program's clock at once.
    const r = cli(['check', 'examples/workshop', '--no-color', '--python', PYTHON], { timeout: 170_000 });
    const lines = r.stdout.split('\n').filter((l) => /^[✓✗] /.test(l));
    const files = exercises.flatMap((d) => [fileIn(d, 'solution'), fileIn(d, 'starter')]).map((f) => path.relative(REPO, f)).sort();
    assert.deepEqual(lines.map((l) => l.split('  ')[0]), files.map((f) => `${path.parse(f).name === 'starter' ? '✗' : '✓'} ${f}`), r.stdout + r.stderr);
    assert.equal(r.status, 1);
    assert.match(r.stdout, new RegExp(`^${files.length} files graded in .*: ${files.length / 2} pass, ${files.length / 2} fail$`, 'm'));
  });
});

describe('CLI --check', () => {
  it('prints each expectation and puts them in the JSON, also without --check', () => {
    const r = cli(['run', 'test/fixtures/node/expect-exit.js', '--json', '-']);
    assert.equal(r.status, 3, 'without --check the exit code is the snippet\'s');
    const t = JSON.parse(r.stdout) as Timeline;
    assert.deepEqual(t.expectations?.map(({ line, text, passed }) => ({ line, text, passed })), [
      { line: 2, text: 'wall < 10s', passed: true },
      { line: 3, text: 'outcome "pause" fulfilled', passed: true },
    ]);
    assert.match(r.stderr, /^✓ outcome "pause" fulfilled {2}— pause\(20\) \(line \d+\) fulfilled/m);
  });

  it('exits 0 when all hold, whatever the snippet exited with', () => {
    assert.equal(cli(['run', 'test/fixtures/node/expect-exit.js', '--check']).status, 0);
  });

  it('exits 1 on a malformed line, naming its file, line and column', () => {
    const r = cli(['run', 'test/fixtures/node/expect-malformed.ts', '--check']);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /^✓ wall < 10s/m);
    assert.match(r.stdout, /^✗ test\/fixtures\/node\/expect-malformed\.ts:3:19: malformed @expect: expected a time/m);
  });

  it('grades a run that never ends as failed', () => {
    const r = cli(['run', 'test/fixtures/node/expect-endless.js', '--check', '--timeout', '400']);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /^✗ wall < 100ms {2}— the run did not finish: timed out after 400 ms/m);
  });

  it('exits 2 when the snippet does not compile or has nothing to check', () => {
    assert.equal(cli(['run', 'test/fixtures/node/syntax-error.ts', '--check']).status, 2);
    const none = cli(['run', 'test/fixtures/node/chefs-promise-all.ts', '--check']);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /has no @expect comments to check/);
  });
});
