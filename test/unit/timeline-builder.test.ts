// The engine's last pass over blocks, on streams built by hand: what the user sees when the
// watchdog could not sample a long block in time.
import * as assert from 'node:assert/strict';

import { TimelineBuilder } from '../../src/engine/timelineBuilder';
import type { Span } from '../../src/shared/timeline';

function feed(b: TimelineBuilder, spans: Array<Omit<Span, 'outcome'> & { continues?: number }>): void {
  for (const s of spans) {
    b.apply({ type: 'json', message: { type: 'span', outcome: s.endMs === null ? 'pending' : 'fulfilled', ...s } });
  }
}

describe('engine: block refinement', () => {
  // Two chefs spin one after the other inside one Promise.all: one 600 ms stretch of blocking that
  // only the first sample located (in the first chef's spin).
  const calls: Omit<Span, 'outcome'>[] = [
    { id: 1, parentId: null, kind: 'call', label: 'main()', line: 10, column: 1, startMs: 0, endMs: 605 },
    { id: 4, parentId: 1, kind: 'call', label: 'cook("soup")', line: 11, column: 33, startMs: 2, endMs: 302 },
    { id: 5, parentId: 4, kind: 'call', label: 'spin(300)', line: 7, column: 3, startMs: 2.5, endMs: 302 },
    { id: 6, parentId: 1, kind: 'call', label: 'cook("pasta")', line: 11, column: 47, startMs: 302, endMs: 603 },
    { id: 7, parentId: 6, kind: 'call', label: 'spin(300)', line: 7, column: 3, startMs: 302.5, endMs: 602.5 },
  ];

  it('gives the part of a block past its call\'s end to the call that ran then', () => {
    const b = new TimelineBuilder('/w/chefs.ts', 'typescript');
    feed(b, [...calls, { id: 1000000001, parentId: 5, kind: 'block', label: 'while (Date.now() < end) {}', line: 4, column: 3, startMs: 2.5, endMs: 602.5 }]);
    b.refineBlocks(undefined, 50);
    const blocks = b.allSpans().filter((s) => s.kind === 'block');
    assert.deepEqual(
      blocks.map((s) => [s.parentId, s.label, s.line, s.startMs, s.endMs]),
      [
        [5, 'while (Date.now() < end) {}', 4, 2.5, 302],
        [7, 'while (Date.now() < end) {}', 4, 302.5, 602.5],
      ],
      'the second chef\'s spin blocks on the same line',
    );
  });

  it('ends a block split off too early (a sample asked before the next call, answered in it) where its call ended', () => {
    // A sample asked at 280 ms, while the first chef still spun, was answered (on a busy machine,
    // late) in the second chef's spin: the watchdog split there, 22 ms before the first spin ended.
    const b = new TimelineBuilder('/w/chefs.ts', 'typescript');
    feed(b, [
      ...calls,
      { id: 1000000001, parentId: 5, kind: 'block', label: 'while (Date.now() < end) {}', line: 4, column: 3, startMs: 2.5, endMs: 280 },
      { id: 1000000002, parentId: 7, kind: 'block', label: 'while (Date.now() < end) {}', line: 4, column: 3, startMs: 280, endMs: 602.5, continues: 1000000001 },
    ]);
    b.refineBlocks(undefined, 50);
    assert.deepEqual(
      b.allSpans().filter((s) => s.kind === 'block').map((s) => [s.parentId, s.startMs, s.endMs]),
      [[5, 2.5, 302], [7, 302.5, 602.5]],
      'each spin is held for the whole of its call',
    );
  });

  it('invents no block after the call when something else ran then and no sample saw it', () => {
    // Only that the probe did not tick is known of that stretch: on a busy machine it is the wait
    // for a CPU after the spin returned ("synchronous work in main()" under load, 51-57 ms).
    const b = new TimelineBuilder('/w/chefs.ts', 'typescript');
    const other = calls.map((c) => (c.id === 7 ? { ...c, label: 'parse(data)', line: 20, column: 5 } : c));
    feed(b, [...other, { id: 1000000001, parentId: 5, kind: 'block', label: 'while (Date.now() < end) {}', line: 4, column: 3, startMs: 2.5, endMs: 602.5 }]);
    b.refineBlocks(undefined, 50);
    assert.deepEqual(b.allSpans().filter((s) => s.kind === 'block').map((s) => [s.parentId, s.startMs, s.endMs]), [[5, 2.5, 302]]);
  });

  it('merges samples that landed on a neighbouring line or in the caller into one block per spin', () => {
    const b = new TimelineBuilder('/w/chefs.ts', 'typescript');
    feed(b, [
      ...calls,
      { id: 1000000001, parentId: 5, kind: 'block', label: 'while (Date.now() < end) {}', line: 4, column: 3, startMs: 2.5, endMs: 250 },
      { id: 1000000002, parentId: 5, kind: 'block', label: '}', line: 5, column: 1, startMs: 250, endMs: 302 },
      { id: 1000000003, parentId: 6, kind: 'block', label: 'function spin(ms: number) {', line: 1, column: 1, startMs: 302.5, endMs: 360 },
      { id: 1000000004, parentId: 7, kind: 'block', label: 'while (Date.now() < end) {}', line: 4, column: 3, startMs: 360, endMs: 602.5 },
    ]);
    b.refineBlocks(undefined, 50);
    assert.deepEqual(
      b.allSpans().filter((s) => s.kind === 'block').map((s) => [s.parentId, s.label, s.startMs, s.endMs]),
      [
        [5, 'while (Date.now() < end) {}', 2.5, 302],
        [7, 'while (Date.now() < end) {}', 302.5, 602.5],
      ],
    );
  });

  it('a sampled block and an inferred tail over the same stretch are one block, with the sampled line', () => {
    const b = new TimelineBuilder('/w/chefs.ts', 'typescript');
    const other = calls.map((c) => (c.id === 7 ? { ...c, label: 'sleepBusy(2000)' } : c));
    feed(b, [
      ...other,
      // Seen from spin 5 until the end, and also sampled inside call 7 on its own line.
      { id: 1000000001, parentId: 5, kind: 'block', label: 'while (Date.now() < end) {}', line: 4, column: 3, startMs: 2.5, endMs: 602.5 },
      { id: 1000000002, parentId: 7, kind: 'block', label: 'while (Date.now() < end) {}', line: 4, column: 3, startMs: 303, endMs: 602.5 },
    ]);
    b.refineBlocks(undefined, 50);
    const blocks = b.allSpans().filter((s) => s.kind === 'block');
    assert.deepEqual(blocks.map((s) => [s.parentId, s.label]), [[5, 'while (Date.now() < end) {}'], [7, 'while (Date.now() < end) {}']]);
  });

  it('keeps a long block on another line of the same call apart', () => {
    const b = new TimelineBuilder('/w/chefs.ts', 'typescript');
    feed(b, [
      ...calls,
      { id: 1000000001, parentId: 5, kind: 'block', label: 'while (Date.now() < end) {}', line: 4, column: 3, startMs: 2.5, endMs: 150 },
      { id: 1000000002, parentId: 5, kind: 'block', label: 'crunch(data)', line: 9, column: 3, startMs: 150, endMs: 302 },
    ]);
    b.refineBlocks(undefined, 50);
    assert.deepEqual(b.allSpans().filter((s) => s.kind === 'block').map((s) => s.label), ['while (Date.now() < end) {}', 'crunch(data)']);
  });

  it('leaves a short overrun alone', () => {
    const b = new TimelineBuilder('/w/chefs.ts', 'typescript');
    feed(b, [...calls, { id: 1000000001, parentId: 5, kind: 'block', label: 'while (Date.now() < end) {}', line: 4, column: 3, startMs: 2.5, endMs: 320 }]);
    b.refineBlocks(undefined, 50);
    assert.equal(b.allSpans().filter((s) => s.kind === 'block').length, 1);
  });
});

describe('engine: delays that are not the snippet\'s', () => {
  const delay = (kind: 'delayed' | 'instrumenting', label: string, startMs: number, endMs: number) =>
    ({ type: 'json' as const, message: { type: 'delay' as const, kind, label, startMs, endMs } });

  it('lists a late event loop apart: never a block, never in blockedMs', () => {
    const b = new TimelineBuilder('/w/chefs.ts', 'typescript');
    b.apply(delay('delayed', 'event loop delayed: not your code', 100, 190));
    b.refineBlocks(undefined, 50);
    const t = b.build('completed', 0, 400, null);
    assert.equal(t.spans.filter((s) => s.kind === 'block').length, 0);
    assert.equal(t.stats.blockedMs, 0);
    assert.equal(t.stats.delayedMs, 90);
    assert.deepEqual(t.delays, [{ kind: 'delayed', label: 'event loop delayed: not your code', startMs: 100, endMs: 190 }]);
  });

  it('takes the runtime\'s instrumenting time out of a block; what is left under the threshold is no block', () => {
    const b = new TimelineBuilder('/w/main.js', 'javascript');
    feed(b, [
      // require('./tiny_mod') seen as stuck, but the child was instrumenting the module all along
      { id: 1000000001, parentId: null, kind: 'block', label: "const tiny = require('./tiny_mod')", line: 2, column: 14, startMs: 0, endMs: 320 },
      // a real block after the require: keeps its line and its wall time, minus the tool's part
      { id: 1000000002, parentId: null, kind: 'block', label: 'spin(200)', line: 3, column: 1, startMs: 400, endMs: 700 },
    ]);
    b.apply(delay('instrumenting', 'instrumenting ./tiny_mod.js', 2, 318));
    b.apply(delay('instrumenting', 'instrumenting ./other.js', 450, 500));
    b.refineBlocks(undefined, 50);
    const t = b.build('completed', 0, 800, null);
    assert.deepEqual(
      t.spans.filter((s) => s.kind === 'block').map((s) => [s.label, s.startMs, s.endMs]),
      [['spin(200)', 400, 450], ['spin(200)', 500, 700]],
    );
    assert.equal(t.stats.blockedMs, 250);
  });

  it('drops a block clipped to its call below the threshold', () => {
    const b = new TimelineBuilder('/w/b.ts', 'typescript');
    feed(b, [
      { id: 1, parentId: null, kind: 'call', label: 'cookEggs()', line: 30, column: 1, startMs: 100, endMs: 107 },
      { id: 1000000001, parentId: 1, kind: 'block', label: 'synchronous work', line: 0, column: 0, startMs: 20, endMs: 107 },
    ]);
    b.refineBlocks(undefined, 50);
    assert.equal(b.allSpans().filter((s) => s.kind === 'block').length, 0, 'a 7 ms block under a 50 ms threshold');
  });
});

describe('engine: a block first sampled in a later call', () => {
  it('gives the stretch before that call to the call that ran then (the first look came late)', () => {
    const b = new TimelineBuilder('/w/chefs.ts', 'typescript');
    feed(b, [
      { id: 1, parentId: null, kind: 'call', label: 'main()', line: 10, column: 1, startMs: 0, endMs: 605 },
      { id: 4, parentId: 1, kind: 'call', label: 'cook("soup")', line: 11, column: 33, startMs: 2, endMs: 302 },
      { id: 5, parentId: 4, kind: 'call', label: 'spin(300)', line: 7, column: 3, startMs: 2.5, endMs: 302 },
      { id: 6, parentId: 1, kind: 'call', label: 'cook("pasta")', line: 11, column: 47, startMs: 302, endMs: 603 },
      { id: 7, parentId: 6, kind: 'call', label: 'spin(300)', line: 7, column: 3, startMs: 302.5, endMs: 602.5 },
      // stuck since 2 ms, but the only sample that answered was taken in the second spin
      { id: 1000000001, parentId: 7, kind: 'block', label: 'while (Date.now() < end) {}', line: 4, column: 3, startMs: 2, endMs: 602.5 },
    ]);
    b.refineBlocks(undefined, 50);
    assert.deepEqual(
      b.allSpans().filter((s) => s.kind === 'block').map((s) => [s.parentId, s.label, s.line, s.startMs, s.endMs]),
      [
        [5, 'while (Date.now() < end) {}', 4, 2.5, 302],
        [7, 'while (Date.now() < end) {}', 4, 302.5, 602.5],
      ],
    );
  });
});

describe('engine: the stretch before a block\'s call', () => {
  it('is no block when another function ran then (only the probe\'s last tick is known)', () => {
    const b = new TimelineBuilder('/w/chefs.ts', 'typescript');
    feed(b, [
      { id: 1, parentId: null, kind: 'call', label: 'main()', line: 14, column: 1, startMs: 0, endMs: 800 },
      { id: 5, parentId: 1, kind: 'call', label: 'spin(300)', line: 11, column: 3, startMs: 57, endMs: 800 },
      { id: 1000000001, parentId: 5, kind: 'block', label: 'while (cpuMs() < end) {}', line: 4, column: 3, startMs: 0, endMs: 800 },
    ]);
    b.refineBlocks(undefined, 50);
    assert.deepEqual(b.allSpans().filter((s) => s.kind === 'block').map((s) => [s.parentId, s.startMs]), [[5, 57]]);
  });
});
