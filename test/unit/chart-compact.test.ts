// Compaction: the rows a learner sees by default, for the two-chefs programs in TypeScript and in
// Python (real runs of both runtimes), and the rules on hand-made spans.

import assert from 'node:assert/strict';
import type { Span, Timeline } from '../../src/shared/timeline';
import { compactSpans, shownIds } from '../../src/shared/chart/compact';
import { layoutSpans, type Row } from '../../src/shared/chart/layout';
import { renderGantt } from '../../src/engine/terminalGantt';
import { renderSvg } from '../../src/engine/exportSvg';
import { cli, REPO, runFixture } from './helpers';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

const PYTHON = process.env.AWAIT_TIMELINE_PYTHON ?? 'python3';

function rowsOf(t: Timeline): Row[] {
  return layoutSpans(compactSpans(t.spans, t.wallMs).spans).flatten();
}

/** "  label" per row, indented by depth. */
const outline = (rows: Row[]) => rows.map((r) => `${'  '.repeat(r.depth)}${r.label}`);
/** The shape of the rows with the language's own spelling taken out (quotes, gather/Promise.all, snake_case). */
const shape = (rows: Row[]) =>
  outline(rows).map((l) => l.replace(/'/g, '"').replace(/Promise\.all\(\[(.*)\]\)/, 'all($1)').replace(/asyncio\.gather\((.*)\)/, 'all($1)').replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()));

/**
 * Runs a fixture. Programs that do not block run with a 1 s block threshold: on a loaded machine a
 * first console.log can take over 50 ms and be (truly) drawn as a block, which is not what these
 * tests are about; the busy-wait keeps the default.
 */
async function run(name: string, blockThresholdMs = 1000): Promise<Timeline> {
  const { timeline } = await runFixture(`chart/${name}`, { blockThresholdMs, ...(name.endsWith('.py') ? { pythonPath: PYTHON } : {}) });
  assert.equal(timeline.status, 'completed', `${name} completed: ${timeline.error?.message ?? ''}`);
  return timeline;
}

describe('chart compaction (real runs)', () => {
  it('two chefs with Promise.all: 4 rows (main, Promise.all, a row per cook with its wait), all spans kept in the timeline', async () => {
    const t = await run('two_chefs.ts');
    const rows = rowsOf(t);
    assert.deepEqual(outline(rows), [
      'main()',
      "  await Promise.all([cook('soup', 3), cook('pasta', 3)])",
      '    cook("soup", 3)',
      '    cook("pasta", 3)',
    ]);
    // Each cook's row is as long as its wait (about 300 ms), not its 0.2 ms sleep() call.
    for (const r of rows.slice(2)) {
      const s = r.spans[0];
      assert.ok(s.endMs! - s.startMs >= 250, `${r.label} spans its wait: ${s.endMs! - s.startMs} ms`);
    }
    assert.ok(t.spans.length >= 11, `the timeline keeps every span (${t.spans.length})`);
    assert.ok(t.spans.some((s) => s.kind === 'timer'), 'the timer spans are still in the timeline');
  });

  it('the terminal chart and the SVG draw the same compacted rows; --all draws every span', async () => {
    const t = await run('two_chefs.ts');
    const chartRows = (text: string) => text.split('\n').filter((l) => /[█▓░]/.test(l));
    assert.equal(chartRows(renderGantt(t)).length, 4);
    assert.equal(chartRows(renderGantt(t, { all: true })).length, t.spans.length);
    assert.doesNotMatch(renderSvg(t), /setTimeout\(resolve, ms\)/);
    assert.match(renderSvg(t, { all: true }), /setTimeout\(resolve, ms\)/);
    // The CLI (built dist/): its chart has 4 rows, and one per span with --all.
    const args = ['run', 'test/fixtures/chart/two_chefs.ts', '--no-color', '--block-threshold', '1000'];
    const [compact, all] = [cli(args), cli([...args, '--all'])];
    assert.equal(chartRows(compact.stderr + compact.stdout).length, 4, compact.stdout + compact.stderr);
    assert.equal(chartRows(all.stderr + all.stdout).length, 11, all.stdout + all.stderr);
  });

  it('two chefs in Python draws the same rows as in TypeScript', async () => {
    const [ts, py] = await Promise.all([run('two_chefs.ts'), run('two_chefs.py')]);
    assert.deepEqual(shape(rowsOf(py)), shape(rowsOf(ts)));
  });

  it('the busy-wait chefs: at most 5 rows, every block still drawn as a block', async () => {
    const t = await run('busy_wait.ts', 50);
    const c = compactSpans(t.spans, t.wallMs);
    const rows = layoutSpans(c.spans).flatten();
    assert.ok(rows.length <= 5, outline(rows).join('\n'));
    const cooks = rows.filter((r) => r.label.startsWith('cook('));
    assert.equal(cooks.reduce((n, r) => n + r.spans.length, 0), 2, 'both cooks are drawn');
    const shown = new Map(c.spans.map((s) => [s.id, s]));
    // (Whether the engine found both spins is its own tests' business; each block it found is drawn.)
    const blocks = t.spans.filter((s) => s.kind === 'block');
    for (const b of blocks) {
      const row = shown.get(c.shownAs.get(b.id)!);
      assert.equal(row?.kind, 'block', `${b.label} is drawn as a block`);
      assert.ok(row!.label.includes(b.label), `the row "${row!.label}" names what blocked: ${b.label}`);
    }
  });

  it('the busy-wait chefs in Python (time.sleep in a coroutine) draw the rows TypeScript draws: pasta\'s row starts when soup\'s task ends', async () => {
    const [ts, py] = await Promise.all([run('busy_wait.ts', 50), run('busy_wait.py', 50)]);
    const c = compactSpans(py.spans, py.wallMs);
    const rows = layoutSpans(c.spans).flatten();
    // Three rows: the cooks share one, one after the other, as in TypeScript.
    assert.deepEqual(outline(rows), [
      'main()',
      '  await asyncio.gather(cook("soup", 3), cook("pasta", 3))',
      '    cook("soup", 3) · time.sleep(tenths / 10)',
    ]);
    // The same rows as TypeScript's (what blocked is spelled per language; a block the engine
    // could not place in the program, line 0, is not one of the program's rows).
    const program = (t: Timeline) => rowsOf(t).filter((r) => r.line !== 0);
    const unblocked = (rows: Row[]) => shape(rows).map((l) => l.replace(/ · .*$/, ''));
    assert.deepEqual(unblocked(rows), unblocked(program(ts)));
    // Pasta's task was created with soup's, but its body ran only once soup's had returned: its
    // part of the row is that stretch, drawn as a block; the timeline keeps the task from its creation.
    const [soup, pasta] = rows[2]!.spans;
    assert.ok(soup && pasta, 'both cooks are on the row');
    const [soupTask, pastaTask] = [c.members.get(soup.id)![0]!, c.members.get(pasta.id)![0]!];
    assert.deepEqual([soup.kind, pasta.kind, soupTask.kind, pastaTask.kind], ['block', 'block', 'task', 'task']);
    assert.ok(pastaTask.startMs < soupTask.endMs! - 250, `the task span starts at its creation: ${pastaTask.startMs} ms`);
    assert.equal(pasta.startMs, soupTask.endMs, 'pasta\'s part starts when soup\'s task ends');
    assert.equal(pasta.endMs, pastaTask.endMs);
  });

  it('breakfast: at most 8 rows, one per await main() wrote, the same in Python', async () => {
    const [ts, py] = await Promise.all([run('../../../examples/workshop/02-breakfast/starter.ts'), run('breakfast.py')]);
    const rows = rowsOf(ts);
    assert.deepEqual(outline(rows), ['main()', '  await makeToast()', '  await heatPan()', '  await fryEggs()']);
    assert.deepEqual(shape(rowsOf(py)), shape(rows));
  });
});

let nextId = 1;
function span(p: Partial<Span> & Pick<Span, 'label' | 'startMs' | 'kind'>): Span {
  return { id: nextId++, parentId: null, line: 1, column: 1, endMs: p.startMs + 10, outcome: 'fulfilled', ...p };
}

describe('chart compaction rules', () => {
  beforeEach(() => (nextId = 1));

  it('keeps a fan-out: each child of Promise.all stays a row', () => {
    const main = span({ kind: 'call', label: 'main()', startMs: 0, endMs: 100 });
    const all = span({ kind: 'combinator', label: 'Promise.all([a(), b()])', parentId: main.id, startMs: 0, endMs: 100 });
    const a = span({ kind: 'call', label: 'a()', parentId: all.id, startMs: 0, endMs: 100 });
    const b = span({ kind: 'call', label: 'b()', parentId: all.id, startMs: 0, endMs: 60, line: 2 });
    const c = compactSpans([main, all, a, b], 100);
    assert.deepEqual(c.spans.map((s) => s.label), ['main()', 'Promise.all([a(), b()])', 'a()', 'b()']);
  });

  it('a call and its one wait are one row as long as the call; a block beside the wait keeps both rows', () => {
    const call = span({ kind: 'call', label: 'work()', startMs: 0, endMs: 100 });
    const wait = span({ kind: 'await', label: 'save()', parentId: call.id, startMs: 40, endMs: 100 });
    assert.deepEqual(compactSpans([call, wait], 100).spans.map((s) => [s.label, s.kind, s.startMs, s.endMs]), [['work()', 'call', 0, 100]]);
    const block = span({ kind: 'block', label: 'crunch()', parentId: call.id, startMs: 1, endMs: 39 });
    assert.equal(compactSpans([call, block, wait], 100).spans.length, 3);
    // A call busy in its own code most of the time keeps its short wait on a row of its own.
    const short = span({ kind: 'await', label: 'w()', parentId: call.id, startMs: 70, endMs: 100 });
    assert.equal(compactSpans([call, short], 100).spans.length, 2);
  });

  it('folds a short call into the timer it scheduled: its label, the timer\'s end and kind', () => {
    const call = span({ kind: 'call', label: 'sleep(2000)', line: 3, startMs: 1, endMs: 1.2 });
    const timer = span({ kind: 'timer', label: 'setTimeout(resolve, ms)', line: 3, column: 50, parentId: call.id, startMs: 1.1, endMs: 2001 });
    const c = compactSpans([call, timer], 2001);
    assert.deepEqual(c.spans.map((s) => [s.id, s.label, s.kind, s.startMs, s.endMs]), [[call.id, 'sleep(2000)', 'timer', 1, 2001]]);
    assert.deepEqual(c.members.get(call.id), [call, timer]);
    assert.deepEqual([...shownIds([timer.id], c)], [call.id], 'the critical path through the timer outlines the row');
  });

  it('a call that spun in a helper is one row drawn as a block, named after the line that blocked', () => {
    const cook = span({ kind: 'call', label: 'cook("soup", 2)', startMs: 0, endMs: 2002 });
    const helper = span({ kind: 'call', label: 'sleepBusy(2000)', parentId: cook.id, startMs: 1, endMs: 2001 });
    const block = span({ kind: 'block', label: 'while (Date.now() < end) {}', parentId: helper.id, startMs: 1, endMs: 2001 });
    const c = compactSpans([cook, helper, block], 2002);
    assert.deepEqual(c.spans.map((s) => [s.id, s.kind, s.label]), [[cook.id, 'block', 'cook("soup", 2) · while (Date.now() < end) {}']]);
    assert.equal(c.shownAs.get(block.id), cook.id);
  });

  it('a task queued behind another task\'s step starts its row when that task ends; with nothing else on the loop it keeps its start', () => {
    const gather = span({ kind: 'combinator', label: 'asyncio.gather(cook(1), cook(2))', startMs: 0, endMs: 600 });
    const soup = span({ kind: 'task', label: 'cook(1)', parentId: gather.id, startMs: 0.1, endMs: 300.3 });
    const soupBlock = span({ kind: 'block', label: 'time.sleep(0.3)', parentId: soup.id, startMs: 0.2, endMs: 300.1 });
    const pasta = span({ kind: 'task', label: 'cook(2)', parentId: gather.id, startMs: 0.15, endMs: 600 });
    const pastaBlock = span({ kind: 'block', label: 'time.sleep(0.3)', parentId: pasta.id, startMs: 300.4, endMs: 599.9 });
    const c = compactSpans([gather, soup, soupBlock, pasta, pastaBlock], 600);
    assert.deepEqual(c.spans.map((s) => [s.label, s.kind, s.startMs, s.endMs]), [
      ['asyncio.gather(cook(1), cook(2))', 'combinator', 0, 600],
      ['cook(1) · time.sleep(0.3)', 'block', 0.1, 300.3],
      ['cook(2) · time.sleep(0.3)', 'block', 300.3, 600],
    ]);
    // Alone, nothing says the task was queued before its block: its row keeps its creation, and
    // the block (half of it or less) a row of its own.
    assert.equal(compactSpans([gather, pasta, pastaBlock], 600).spans.length, 3);
  });

  it('a rejected member makes the row rejected; a pending one keeps it pending; the input is not changed', () => {
    const w = span({ kind: 'await', label: 'load()', startMs: 0, endMs: null, outcome: 'pending' });
    const call = span({ kind: 'call', label: 'load()', parentId: w.id, startMs: 0.1, endMs: 50, outcome: 'rejected' });
    const before = JSON.stringify([w, call]);
    const c = compactSpans([w, call], 50);
    assert.equal(c.spans.length, 1);
    assert.equal(c.spans[0].label, 'await load()');
    assert.equal(c.spans[0].outcome, 'rejected');
    assert.equal(c.spans[0].endMs, null);
    assert.equal(JSON.stringify([w, call]), before);
  });

  it('a child whose parent has not arrived yet keeps its parent id (a live layout waits for it)', () => {
    const orphan = span({ kind: 'await', label: 'x()', parentId: 99, startMs: 0 });
    assert.equal(compactSpans([orphan], 10).spans[0].parentId, 99);
  });
});

describe('the terminal chart of a big run', () => {
  it('draws 100,000 listed spans and 50,000 aggregate rows within 68 MB of heap (the timeline itself included)', async function () {
    this.timeout(60_000);
    // A run like 1 M awaits over 100 k sites, halved: two calls of f(), each with its awaits
    // listed, then aggregates at the top level. The chart draws 200 rows and counts the others;
    // a row object, node and Map entry per span and a string key per aggregate needed 85 MB.
    const worker = new Worker(`
      require(${JSON.stringify(require.resolve('tsx/cjs'))});
      const { parentPort } = require('node:worker_threads');
      const { renderGantt } = require(${JSON.stringify(path.join(REPO, 'src', 'engine', 'terminalGantt.ts'))});
      const sites = 50000;
      const spans = [];
      let id = 1;
      let t = 0;
      for (let k = 0; k < 2; k++) {
        const top = { id: id++, parentId: null, kind: 'await', label: 'f()', line: sites + 3, column: 30, startMs: t, endMs: null, outcome: 'fulfilled' };
        const call = { id: id++, parentId: top.id, kind: 'call', label: 'f', line: 1, column: 1, startMs: t + 0.001, endMs: null, outcome: 'fulfilled' };
        spans.push(top, call);
        for (let i = 0; i < sites; i++) {
          t += 0.004;
          spans.push({ id: id++, parentId: call.id, kind: 'await', label: String(i), line: i + 2, column: 3, startMs: t, endMs: t + 0.002, outcome: 'fulfilled' });
        }
        call.endMs = t + 0.003;
        top.endMs = t + 0.004;
      }
      const aggregates = [];
      for (let i = 0; i < sites; i++) {
        t += 0.004;
        aggregates.push({ kind: 'await', label: String(i), line: i + 2, column: 3, parentId: null, count: 8, startMs: t, endMs: t + 3 });
      }
      const timeline = { version: 1, file: '/big.mjs', language: 'javascript', status: 'completed', exitCode: 0, wallMs: t + 5, error: null,
        spans, marks: [], droppedSpans: sites * 8, stats: { wallMs: t + 5, awaitedMs: t, blockedMs: 0, maxConcurrency: 1 }, aggregates };
      parentPort.postMessage(renderGantt(timeline, { width: 100 }));`, { eval: true, resourceLimits: { maxOldGenerationSizeMb: 68 } });
    const chart = await new Promise<string>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    const lines = chart.split('\n');
    // The two calls' rows (each await folded with its call), then the first awaits under the first.
    assert.match(lines[1], /^await f\(\)\s/);
    assert.match(lines[2], /^ {2}await 0\s/);
    assert.ok(lines.includes(`… ${100_002 + 50_000 - 200} more spans (see --json)`), lines.slice(-6).join('\n'));
    assert.ok(lines.some((l) => l.includes('▒ ×N: 400,000 spans past the run\'s span budget')));
  });
});
