// The critical path: which spans set the wall time, on built timelines and on a real run.
import assert from 'node:assert/strict';

import type { Span, Timeline } from '../../src/shared/timeline';
import { criticalPath } from '../../src/engine/criticalPath';
import * as path from 'node:path';

import { startRun } from '../../src/engine/run';
import { FIXTURES, one, runFixture } from './helpers';

let nextId = 1;
function span(kind: Span['kind'], label: string, startMs: number, endMs: number | null, parent: Span | null = null): Span {
  return { id: nextId++, parentId: parent?.id ?? null, kind, label, line: 1, column: 1, startMs, endMs, outcome: endMs === null ? 'pending' : 'fulfilled' };
}

function timeline(spans: Span[], wallMs: number): Timeline {
  return {
    version: 1, file: 'a.ts', language: 'typescript', status: 'completed', exitCode: 0, wallMs, error: null, spans, marks: [], droppedSpans: 0,
    stats: { wallMs, awaitedMs: 0, blockedMs: 0, maxConcurrency: 1 },
  };
}

const labels = (t: Timeline) => criticalPath(t).map((id) => t.spans.find((s) => s.id === id)!.label);

describe('critical path', () => {
  it('awaits one after another are all on it, in order', () => {
    const main = span('call', 'main()', 0, 400);
    const a = span('await', 'a', 0, 200, main);
    const b = span('await', 'b', 200, 390, main);
    const t = timeline([main, a, b, span('call', 'a()', 0, 200, a), span('call', 'b()', 200, 390, b)], 400);
    assert.deepEqual(labels(t), ['main()', 'a', 'a()', 'b', 'b()']);
  });

  it('under Promise.all only the slowest item is, then what came after', () => {
    const main = span('call', 'main()', 0, 360);
    const all = span('await', 'Promise.all', 0, 300, main);
    const comb = span('combinator', 'combinator', 0, 300, all);
    const fast = span('call', 'fast()', 0, 120, comb);
    const slow = span('call', 'slow()', 0, 300, comb);
    const after = span('await', 'after', 301, 355, main);
    const t = timeline([main, all, comb, fast, slow, after], 360);
    assert.deepEqual(labels(t), ['main()', 'Promise.all', 'combinator', 'slow()', 'after']);
  });

  it('a call left running past its parent does not hold the parent up; a block counts', () => {
    const main = span('call', 'main()', 0, 100);
    const forgotten = span('call', 'background()', 10, 500, main);
    const block = span('block', 'while (…)', 20, 95, main);
    const late = span('timer', 'setTimeout(…)', 400, 600);
    const t = timeline([main, forgotten, block, late], 600);
    // The timer ends the run; main() ended before it began, so it is on the path; background() is not.
    assert.deepEqual(labels(t), ['main()', 'while (…)', 'setTimeout(…)']);
    const path = criticalPath(timeline([main, forgotten, block], 100));
    assert.deepEqual(path, [main.id, block.id]);
  });

  it('an await is not followed into a call that returned its promise at once', () => {
    const w = span('await', 'sleep(300)', 0, 300);
    const call = span('call', 'sleep(300)', 0, 0.2, w);
    assert.deepEqual(labels(timeline([w, call], 300)), ['sleep(300)']);
    assert.equal(criticalPath(timeline([w, call], 300)).length, 1);
    // …but into the timer that call set, which ended with the await.
    const timer = span('timer', 'setTimeout(r, 300)', 0.1, 300, call);
    assert.deepEqual(labels(timeline([w, call, timer], 300)), ['sleep(300)', 'setTimeout(r, 300)']);
  });

  it('pending spans end at the wall time; an empty run has an empty path', () => {
    const p = span('await', 'never', 10, null);
    const done = span('await', 'done', 0, 50);
    assert.deepEqual(labels(timeline([done, p], 900)), ['never']);
    assert.deepEqual(criticalPath(timeline([], 5)), []);
  });

  it('an await that resumed in the turn its last child closed in waited on that child, however late on the clock', () => {
    // On a busy machine the process can be kept off a CPU between the slowest item's settling and
    // `await Promise.all` resuming (one run of microtasks): the await ends 40 ms after it.
    const main = span('call', 'main()', 0, 345);
    const all = span('await', 'Promise.all([...])', 0, 345, main);
    const soup = span('call', 'cook("soup", 120)', 0, 120, all);
    const pasta = span('call', 'cook("pasta", 300)', 0, 305, all);
    const t = timeline([main, all, soup, pasta], 345);
    const turns = new Map([[soup.id, 13], [pasta.id, 31], [all.id, 31], [main.id, 31]]);
    assert.deepEqual(criticalPath(t, (id) => turns.get(id) ?? 0).map((id) => t.spans.find((s) => s.id === id)!.label), ['main()', 'Promise.all([...])', 'cook("pasta", 300)']);
    // In a later turn (a timer, I/O nobody recorded settled it), or not known (Python): as before.
    turns.set(all.id, 35);
    assert.deepEqual(criticalPath(t, (id) => turns.get(id) ?? 0).map((id) => t.spans.find((s) => s.id === id)!.label), ['main()', 'Promise.all([...])']);
    assert.deepEqual(labels(t), ['main()', 'Promise.all([...])']);
  });

  it('a real run: the await of Promise.all closes in the turn its slowest chef did, the faster one in an earlier turn', async () => {
    const run = startRun({ file: path.join(FIXTURES, 'node', 'chefs-uneven.ts'), stdout: 'pipe', stderr: 'pipe' });
    run.stdout?.resume();
    const t = await run.done;
    const turn = (s: Span) => run.builder.closeTurn(s.id);
    const all = t.spans.find((s) => s.kind === 'await' && s.label.startsWith('Promise.all'))!;
    const slow = one(t, 'call', 'cook("pasta", 300)');
    const fast = one(t, 'call', 'cook("soup", 120)');
    assert.ok(turn(slow) > 0 && turn(all) === turn(slow), `pasta ${turn(slow)}, the await ${turn(all)}`);
    assert.ok(turn(fast) > 0 && turn(fast) < turn(slow), `soup ${turn(fast)}, pasta ${turn(slow)}`);
  });

  it('a real run: the slower chef is on it, the faster one is not', async () => {
    const { timeline: t } = await runFixture('node/chefs-uneven.ts');
    assert.equal(t.status, 'completed');
    const path = new Set(t.criticalPath);
    const slow = one(t, 'call', 'cook("pasta", 300)');
    const fast = one(t, 'call', 'cook("soup", 120)');
    assert.ok(path.has(slow.id), 'the slower chef sets the wall time');
    assert.ok(!path.has(fast.id), 'the faster chef does not');
    assert.ok(path.has(one(t, 'await', 'sleep(50)').id), 'nor does what came after it');
    assert.ok(path.has(one(t, 'call', 'main()').id));
  });
});
