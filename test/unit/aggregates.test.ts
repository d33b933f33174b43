// Spans past the run's budget: the engine's aggregate store (bounded, shape kept) and how the
// terminal chart and the trace export draw them.
import * as assert from 'node:assert/strict';

import { AggregateStore } from '../../src/engine/aggregateStore';
import { renderGantt } from '../../src/engine/terminalGantt';
import { toChromeTrace } from '../../src/engine/exportTrace';
import type { Span, Timeline } from '../../src/shared/timeline';
import { computeStats, unionLength } from '../../src/engine/timelineBuilder';
import { Aggregates } from '../../src/runtime/recorder';
import { AggregateGroups, aggregateRows } from '../../src/shared/aggregates';

describe('aggregate store', () => {
  it('merges a pair\'s stretches that follow each other, keeps apart an idle gap and other pairs', () => {
    const a = new AggregateStore();
    a.add(1, 7, 10, 0, 5);
    a.add(1, 7, 4, 5.5, 9); // within 1 ms: one stretch
    a.add(1, 7, 3, 50, 60); // idle 41 ms: a stretch of its own
    a.add(2, 7, 1, 1, 2); // another site
    a.add(1, 7, 0, 61, 70); // the end of a span counted before: extends the last stretch
    assert.deepEqual(a.rows(), [
      { site: 1, parentId: 7, count: 14, startMs: 0, endMs: 9 },
      { site: 2, parentId: 7, count: 1, startMs: 1, endMs: 2 },
      { site: 1, parentId: 7, count: 3, startMs: 50, endMs: 70 },
    ]);
    assert.equal(a.total, 18);
  });

  it('stays within its capacity whatever arrives, coarsening each pair but keeping its extent and count', () => {
    const a = new AggregateStore(1000);
    // 100 sites x 2,000 stretches each, 3 ms apart: 200,000 stretches.
    for (let k = 0; k < 2000; k++) for (let site = 0; site < 100; site++) a.add(site, 0, 2, k * 3, k * 3 + 0.5);
    assert.ok(a.size <= 1000, `${a.size} aggregates kept`);
    const rows = a.rows();
    assert.equal(rows.reduce((n, r) => n + r.count, 0), 400_000);
    for (let site = 0; site < 100; site++) {
      const mine = rows.filter((r) => r.site === site);
      assert.equal(Math.min(...mine.map((r) => r.startMs)), 0);
      assert.equal(Math.max(...mine.map((r) => r.endMs)), 1999 * 3 + 0.5);
    }
  });
});

describe('aggregates drawn', () => {
  const t: Timeline = {
    version: 1, file: '/w/workers.mjs', language: 'javascript', status: 'completed', exitCode: 0, wallMs: 100, error: null,
    spans: [{ id: 1, parentId: null, kind: 'call', label: 'worker(0)', line: 1, column: 1, startMs: 0, endMs: 100, outcome: 'fulfilled' },
      { id: 2, parentId: 1, kind: 'await', label: 'tick()', line: 2, column: 3, startMs: 0, endMs: 10, outcome: 'fulfilled' }],
    marks: [], droppedSpans: 30, stats: { wallMs: 100, awaitedMs: 10, blockedMs: 0, maxConcurrency: 1 },
    aggregates: [
      { kind: 'await', label: 'tick()', line: 2, column: 3, parentId: 1, count: 20, startMs: 10, endMs: 40 },
      { kind: 'await', label: 'tick()', line: 2, column: 3, parentId: 1, count: 10, startMs: 70, endMs: 100 },
    ],
  };

  it('grouped without a row object per row (the terminal chart\'s way), they make the rows aggregateRows makes, in its order', () => {
    let seed = 7;
    const r = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let round = 0; round < 50; round++) {
      const list = Array.from({ length: 1 + Math.floor(r() * 80) }, () => {
        const start = Math.floor(r() * 20);
        return {
          kind: (['await', 'call', 'timer'] as const)[Math.floor(r() * 3)], label: `f${Math.floor(r() * 3)}|x`, line: Math.floor(r() * 3), column: 1 + Math.floor(r() * 2),
          parentId: r() < 0.3 ? null : Math.floor(r() * 4), count: 1 + Math.floor(r() * 5), startMs: start, endMs: start + r() * 5,
        };
      });
      const groups = new AggregateGroups(list);
      assert.deepEqual(Array.from({ length: groups.size }, (_, k) => groups.row(k)), aggregateRows(list));
    }
  });

  it('the terminal chart gives a parent\'s aggregates one row under it, a segment per stretch, and says what ▒ is', () => {
    const out = renderGantt(t, { width: 100 });
    const lines = out.split('\n');
    const row = lines.findIndex((l) => l.includes('×30 await tick()'));
    assert.ok(row > lines.findIndex((l) => l.includes('await tick()') && !l.includes('×')), out);
    const bar = lines[row].slice(lines[row].indexOf('▒'));
    assert.match(bar, /^▒+ +▒+/, 'two stretches with the idle gap between them');
    assert.match(out, /▒ ×N: 30 spans past the run's span budget/);
  });

  it('the trace export has one event per stretch, named with its count, on its parent\'s track', () => {
    const trace = toChromeTrace(t);
    const aggs = trace.traceEvents.filter((e) => e.cat === 'aggregate.await' && e.ph === 'b');
    assert.deepEqual(aggs.map((e) => [e.name, e.ts, e.args?.track]), [['×20 tick()', 10_000, 'chain 1'], ['×10 tick()', 70_000, 'chain 1']]);
  });
});

describe('stats of a large run', () => {
  /** The stats as they were computed before they were swept over typed arrays (the reference). */
  function reference(spans: Span[], wallMs: number) {
    const end = (s: Span) => (s.endMs === null ? Math.max(wallMs, s.startMs) : s.endMs);
    const awaits = spans.filter((s) => s.kind === 'await');
    const blocks = spans.filter((s) => s.kind === 'block');
    const hasAwaitChild = new Set<number>();
    const byId = new Map(spans.map((s) => [s.id, s]));
    for (const a of awaits) {
      for (let p = a.parentId === null ? undefined : byId.get(a.parentId); p; p = p.parentId === null ? undefined : byId.get(p.parentId)) {
        if (p.kind === 'await') {
          if (hasAwaitChild.has(p.id)) break;
          hasAwaitChild.add(p.id);
        }
      }
    }
    const points: Array<[number, number]> = [];
    for (const a of awaits) {
      if (hasAwaitChild.has(a.id)) continue;
      const e = end(a);
      if (e <= a.startMs) continue;
      points.push([a.startMs, 1], [e, -1]);
    }
    points.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    let live = 0;
    let maxConcurrency = 0;
    for (const [, d] of points) {
      live += d;
      if (live > maxConcurrency) maxConcurrency = live;
    }
    const r = (ms: number) => Math.round(ms * 1000) / 1000;
    return {
      wallMs,
      awaitedMs: r(unionLength(awaits.map((a) => [a.startMs, end(a)]))),
      blockedMs: r(unionLength(blocks.map((b) => [b.startMs, end(b)]))),
      maxConcurrency,
    };
  }

  it('are the same as before, to the last digit, on runs with nesting, ties, pending and zero-length spans', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let run = 0; run < 30; run++) {
      const spans: Span[] = [];
      for (let id = 1; id <= 400; id++) {
        const start = Math.round(rand() * 200) / (run % 2 ? 4 : 1) + rand() * (run % 3);
        const len = rand() < 0.1 ? 0 : Math.round(rand() * 40) / (run % 2 ? 8 : 1);
        spans.push({
          id, parentId: id > 1 && rand() < 0.6 ? 1 + Math.floor(rand() * (id - 1)) : null,
          kind: rand() < 0.7 ? 'await' : rand() < 0.5 ? 'block' : 'call', label: 'x', line: 1, column: 1,
          startMs: start, endMs: rand() < 0.05 ? null : start + len, outcome: 'fulfilled',
        });
      }
      if (run % 2) {
        // Blocks as the watchdog numbers them (from 1e9): ids far past the records' dense range.
        const big = new Map(spans.filter((s) => s.kind === 'block').map((s) => [s.id, 1e9 + s.id]));
        for (const s of spans) {
          s.id = big.get(s.id) ?? s.id;
          if (s.parentId !== null) s.parentId = big.get(s.parentId) ?? s.parentId;
        }
      }
      assert.deepEqual(computeStats(spans, 180), reference(spans, 180), `run ${run}`);
    }
  });
});

describe('the runtime\'s aggregates (spans counted past the budget, per site and parent, per time bin)', () => {
  /** What the aggregates are, said plainly: a pair's slot made by a counted span, or by an end alone. */
  class Model {
    gen = 0;
    slots: Array<{ site: number; parent: number; count: number; first: number; last: number }> = [];
    private counted = new Map<string, number>();
    private endOnly = new Map<string, number>();
    constructor(private readonly clock: () => number) {}
    add(site: number, parent: number, before: number): number {
      const key = `${site} ${parent}`;
      let i = this.counted.get(key);
      if (i === undefined) {
        const t = this.clock();
        i = this.slots.push({ site, parent, count: 0, first: t, last: t }) - 1;
        this.counted.set(key, i);
      }
      this.slots[i].count++;
      this.slots[i].last = Math.max(this.slots[i].last, before);
      return i;
    }
    end(slot: number, gen: number, site: number, parent: number, t: number): void {
      const key = `${site} ${parent}`;
      let i = gen === this.gen ? slot : this.counted.get(key) ?? this.endOnly.get(key);
      if (i === undefined) {
        i = this.slots.push({ site, parent, count: 0, first: t, last: t }) - 1;
        this.endOnly.set(key, i);
      }
      this.slots[i].last = Math.max(this.slots[i].last, t);
    }
    clear(): void {
      this.slots = [];
      this.counted.clear();
      this.endOnly.clear();
      this.gen++;
    }
  }

  it('keep one slot per pair and bin through many parents, ends after a flush and large ids, as the plain model does', () => {
    let now = 0;
    const clock = () => now;
    const real = new Aggregates(clock);
    const model = new Model(clock);
    real.sites(8);
    // A small generator, seeded: the same sequence on every run.
    let seed = 12345;
    const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
    const parents = [0, 1, 2, 3, 1e9 + 3, 2 ** 40 + 7, ...Array.from({ length: 3000 }, (_, i) => 10 + i)];
    const open: Array<{ slot: number; gen: number; mslot: number; site: number; parent: number }> = [];
    const flushed = () => Array.from({ length: real.n }, (_, i) => ({
      site: real.site[i], parent: real.parent[i], count: real.count[i], first: real.first[i], last: real.last[i],
    }));
    let bins = 0;
    let maxPairs = 0;
    for (let step = 0; step < 300_000; step++) {
      now += rand(3) / 4;
      const op = rand(100);
      if (op < 55) {
        // Many parents for one site (calls that each await), or few.
        const site = rand(8);
        const parent = site < 4 ? parents[rand(parents.length)] : parents[rand(4)];
        const before = now - rand(2);
        open.push({ slot: real.add(site, parent, before), gen: real.gen, mslot: model.add(site, parent, before), site, parent });
      } else if (op < 99 && open.length) {
        const k = rand(open.length);
        const s = open[k];
        open[k] = open[open.length - 1];
        open.pop();
        real.end(s.slot, s.gen, s.site, s.parent, now);
        model.end(s.mslot, s.gen, s.site, s.parent, now);
      } else if (bins % 4 !== 3 || rand(30) === 0) {
        // Every fourth bin lasts about 30 times longer: thousands of pairs, the table grows.
        assert.deepEqual(flushed(), model.slots, `bin ${bins}`);
        maxPairs = Math.max(maxPairs, real.n);
        real.clear();
        model.clear();
        bins++;
      }
    }
    assert.deepEqual(flushed(), model.slots);
    assert.ok(bins > 500, `${bins} bins`);
    assert.ok(maxPairs > 2000, `${maxPairs} pairs in a bin at most`);
  });
});
