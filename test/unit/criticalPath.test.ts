// The critical path: which spans set the wall time, on built timelines and on a real run.
import assert from 'node:assert/strict';

import type { Span, Timeline } from '../../src/shared/timeline';
import { criticalPath } from '../../src/engine/criticalPath';
import { one, runFixture } from './helpers';

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
