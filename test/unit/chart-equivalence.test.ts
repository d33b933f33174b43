// The chart's models give the same picture after their rewrite on columns: on seeded random runs
// (every kind, repeated sites, overlaps, pending spans, calls nobody awaited, lost parents, big ids,
// aggregates), the compaction equals the one it replaced (test/unit/reference/), and the rows the
// layout builds — whole, streamed in batches, compacted, in the panel's model — hash to what the
// layout gave before (test/fixtures/chart-golden.json, written by UPDATE_GOLDEN=1 on that commit).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { Span, Timeline } from '../../src/shared/timeline';
import { compactColumns, compactSpans } from '../../src/shared/chart/compact';
import { spansOf, tableOf } from '../../src/shared/chart/spanTable';
import { groupAggregates } from '../../src/shared/chart/aggregates';
import { copySpan, layoutSpans, rowSummary, TimelineLayout, type Row } from '../../src/shared/chart/layout';
import { byStart } from '../../src/shared/chart/startOrder';
import { TimelineModel } from '../../src/webview/model/timelineModel';
import { SiteInterner } from '../../src/shared/webviewProtocol';
import { encodeAppendColumns } from '../../src/shared/spanColumns';
import { compactSpans as referenceCompaction } from './reference/compactReference';
import { randomRun, rng, streamed } from './randomRuns';
import { FIXTURES } from './helpers';

const SEEDS = 120;
const GOLDEN = path.join(FIXTURES, 'chart-golden.json');

const spanText = (s: Span) => `${s.id}<${s.parentId}:${s.kind}:${s.label}@${s.line}:${s.column}[${s.startMs},${s.endMs}]${s.outcome}${s.floating ? 'F' : ''}`;

/** Everything a row shows: its place, site, spans and aggregated bars. */
function picture(rows: readonly Row[]): string {
  return rows
    .map((r) => {
      const agg = r.aggregate ? `${r.aggregate.kind}/${r.aggregate.label}/${r.aggregate.count}/${r.aggregate.bars.map((b) => `${b.startMs}-${b.endMs}x${b.count}`).join(',')}/${r.aggregate.includes.map((i) => `${i.label}x${i.count}`).join(',')}` : '';
      return `${r.depth}|${r.key}|${r.kind}|${r.label}|${r.line}:${r.column}|${r.lane ?? ''}|${r.spans.map(spanText).join(' ')}|${agg}`;
    })
    .join('\n');
}

const hash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

function pictures(seed: number): Record<string, string> {
  const run = randomRun(seed, 20 + (seed % 7) * 15);
  const out: Record<string, string> = {};
  // Whole, with aggregates placed.
  const whole = layoutSpans(run.spans);
  whole.placeAggregates(groupAggregates(run.aggregates));
  out.whole = picture(whole.flatten());
  // Streamed in batches: before the run ends (orphans wait) and after.
  const live = new TimelineLayout();
  for (const batch of streamed(seed, run.spans)) live.apply(batch);
  out.live = picture(live.flatten());
  live.adoptOrphans();
  out.liveEnded = picture(live.flatten());
  // Compacted, as the terminal chart, the SVG and the report draw it.
  const c = compactSpans(run.spans, run.nowMs);
  const compacted = layoutSpans(c.spans);
  compacted.placeAggregates(groupAggregates(run.aggregates, c.shownAs), c.members);
  out.compacted = picture(compacted.flatten());
  // The panel's model: a stored run, compacted and not.
  const timeline: Timeline = {
    version: 1, file: 'r.ts', language: 'typescript', status: 'completed', exitCode: 0, wallMs: run.nowMs, error: null, marks: [],
    spans: run.spans, droppedSpans: 0, aggregates: run.aggregates, stats: { wallMs: run.nowMs, awaitedMs: 0, blockedMs: 0, maxConcurrency: 0 },
  };
  const model = new TimelineModel();
  model.load(timeline);
  out.panel = picture(model.chartRows().layout.flatten());
  model.allSpans = true;
  out.panelAll = picture(model.chartRows().layout.flatten());
  // The panel's model fed by the host's messages (spans in columns): streamed while running (drawn on the way), and a
  // finished run's spans arriving after a reset that says it is over (its final timeline, in one
  // message, or in batches that send some spans again).
  const streamedModel = (running: boolean, batches: readonly Span[][]) => {
    const m = new TimelineModel();
    const interner = new SiteInterner();
    m.reset({ file: 'r.ts', language: 'typescript', status: running ? 'running' : 'completed' });
    batches.forEach((batch, i) => {
      m.append(encodeAppendColumns(interner, batch, [], 0));
      if (running && i % 5 === 2) m.chartRows();
    });
    const before = running ? '' : `${picture(m.chartRows().layout.flatten())}\n--\n`;
    m.status_({ status: 'completed', error: null, stats: null, wallMs: run.nowMs, exitCode: 0, nowMs: run.nowMs });
    const compacted = picture(m.chartRows().layout.flatten());
    m.allSpans = true;
    return `${before}${compacted}\n--\n${picture(m.chartRows().layout.flatten())}\n${m.extentMs()}|${m.store.spanCount}`;
  };
  out.panelStreamed = streamedModel(true, streamed(seed, run.spans));
  out.panelFinal = streamedModel(false, [run.spans]);
  out.panelFinalBatches = streamedModel(false, streamed(seed, run.spans));
  return out;
}

describe('chart models on random runs', () => {
  it('the compaction gives what the reference compaction gives: spans, members and which span shows each', () => {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const run = randomRun(seed, 20 + (seed % 7) * 15);
      // Each gets its own copies: neither may change its input.
      const got = compactSpans(run.spans.map((s) => ({ ...s })), run.nowMs);
      const want = referenceCompaction(run.spans.map((s) => ({ ...s })), run.nowMs);
      assert.deepEqual(got.spans.map(spanText), want.spans.map(spanText), `seed ${seed}: drawn spans`);
      assert.deepEqual(got.spans, want.spans, `seed ${seed}: drawn spans (fields)`);
      const members = (m: ReadonlyMap<number, readonly Span[]>) => [...m].map(([id, ms]) => `${id}:${ms.map((s) => s.id).join(',')}`).sort();
      assert.deepEqual(members(got.members), members(want.members), `seed ${seed}: members`);
      for (const s of run.spans) assert.equal(got.shownAs.get(s.id), want.shownAs.get(s.id), `seed ${seed}: span ${s.id} shown as`);
      assert.equal(got.shownAs.get(123_456_789), undefined, 'an unknown span is shown as nothing');
    }
  });

  it('the compaction on columns (the panel\'s) draws what compactSpans draws, in the order given; the same members and which span shows each', () => {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const run = randomRun(seed, 20 + (seed % 7) * 15);
      const given = run.spans.map((s) => ({ ...s }));
      const want = compactSpans(run.spans, run.nowMs);
      const table = tableOf(given);
      const got = compactColumns(table, run.nowMs);
      assert.deepEqual(spansOf(got.drawn).map(spanText), want.inInputOrder().map(spanText), `seed ${seed}: drawn spans`);
      assert.deepEqual(spansOf(got.drawn), want.inInputOrder(), `seed ${seed}: drawn spans (fields)`);
      for (const s of run.spans) {
        assert.equal(got.shownAs.get(s.id), want.shownAs.get(s.id), `seed ${seed}: span ${s.id} shown as`);
        assert.deepEqual(got.members.get(s.id), want.members.get(s.id), `seed ${seed}: members of ${s.id}`);
      }
      assert.equal(got.shownAs.get(123_456_789), undefined, 'an unknown span is shown as nothing');
      assert.deepEqual(spansOf(table), given, `seed ${seed}: the table holds the spans field for field`);
      assert.deepEqual(given, run.spans, `seed ${seed}: the spans given are not changed`);
    }
  });

  it('the rows (whole, streamed, compacted, in the panel) are the rows the layout built before', () => {
    const all: Record<string, Record<string, string>> = {};
    for (let seed = 1; seed <= SEEDS; seed++) {
      const p = pictures(seed);
      all[seed] = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, hash(v)]));
    }
    if (process.env.UPDATE_GOLDEN) fs.writeFileSync(GOLDEN, `${JSON.stringify(all, null, 0)}\n`);
    const golden = JSON.parse(fs.readFileSync(GOLDEN, 'utf8')) as typeof all;
    for (let seed = 1; seed <= SEEDS; seed++) {
      for (const [k, h] of Object.entries(all[seed])) {
        if (h !== golden[seed]?.[k]) assert.fail(`seed ${seed} ${k}: the rows differ from the golden ones; they are now:\n${pictures(seed)[k]}`);
      }
    }
  });
  it("the panel's model lays out every span, when first asked, as a layout fed each batch on arrival does (spans sent again, orphans, adoption)", () => {
    let replayed = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const run = randomRun(seed, 20 + (seed % 7) * 15);
      // As generated (lost parents, some children before their parents), and with only the spans
      // whose parent came before them, where ending a span in place needs no layout.
      const seen = new Set<number>();
      const ordered = [...run.spans].sort((a, b) => a.startMs - b.startMs);
      const rooted = ordered.filter((s) => (s.parentId === null || seen.has(s.parentId)) && seen.add(s.id));
      for (const [name, batches] of [['as generated', streamed(seed, run.spans)], ['rooted', inOrder(seed, rooted)]] as const) {
        for (const upTo of [Math.ceil(batches.length / 2), batches.length]) {
          for (const end of [false, true]) {
            const model = new TimelineModel();
            const eager = new TimelineLayout();
            const interner = new SiteInterner();
            model.reset({ file: 'r.ts', language: 'typescript', status: 'running' });
            for (const batch of batches.slice(0, upTo)) {
              model.append(encodeAppendColumns(interner, batch, [], 0));
              eager.apply(batch.map((x) => ({ ...x })));
            }
            if (end) {
              model.status_({ status: 'completed', error: null, stats: null, wallMs: run.nowMs, exitCode: 0, nowMs: run.nowMs });
              eager.adoptOrphans();
            }
            const where = `seed ${seed} ${name}, ${upTo} of ${batches.length} batches${end ? ', ended' : ''}`;
            assert.equal(model.store.extentMs, eager.extentMs, `${where}: extent`);
            assert.equal(model.store.spanCount, eager.spanCount, `${where}: spans`);
            // The store's columns hold each span as the layout holds it (ended, clamped, floating), in the order they came.
            assert.deepEqual([...spansOf(model.store)].map(spanText), [...eager.spanList()].map(spanText), `${where}: the store's spans`);
            if (!(model.store as unknown as { built: unknown }).built) replayed++;
            assert.equal(picture(model.store.layout().flatten()), picture(eager.flatten()), `${where}: rows`);
          }
        }
      }
    }
    assert.ok(replayed > SEEDS, `the layout was made by replaying ${replayed} times`);
  });
});

describe('a layout made at once from a list of spans (TimelineLayout.of)', () => {
  /** Everything a layout holds that its users read: rows, lanes, each span's copy and row, counts. */
  function state(l: TimelineLayout, ids: readonly number[]): string {
    const lanes = (r: Row) => [...r.lanes].map(([site, rows]) => `${site}:${rows.map((x) => x.key).join(',')}`).join(';');
    const rows = l.flatten().map((r) => `${picture([r])}|${r.parent?.key}|${lanes(r)}`).join('\n');
    const spans = ids.map((id) => `${id}:${l.span(id) ? spanText(l.span(id)!) : '-'}@${l.rowOf(id)?.key ?? '-'}`).join(' ');
    // The order of spans() is the order given (a layout given copies in start order: start order).
    return `${rows}\nroot ${lanes(l.root)}\n${spans}\n${[...l.spanList()].map(spanText).sort().join(' ')}\n` +
      `rows ${l.rowCount} spans ${l.spanCount} waiting ${l.waitingForParent} extent ${l.extentMs} structure ${l.structureVersion} version ${l.version}`;
  }

  it('holds what a layout given copies in start order holds, and takes later spans as it would (children before parents, orphans, adoption, ends before starts, spans sent again, ids twice)', () => {
    let cases = 0;
    // A third of the random runs (every size among them): twelve lists each, compared whole twice.
    for (let seed = 1; seed <= SEEDS; seed += 3) {
      const run = randomRun(seed, 20 + (seed % 7) * 15);
      const c = compactSpans(run.spans, run.nowMs);
      const batches = streamed(seed, run.spans);
      const half = batches.slice(0, Math.ceil(batches.length / 2)).flat();
      // An id given twice: the second names the first (apply updates it).
      const twice = [...half, ...half.slice(0, 3).map((s) => ({ ...s, endMs: s.endMs === null ? s.startMs + 1 : s.endMs, outcome: 'rejected' as const }))];
      // Children that start before their parent (they wait for it, several at once) and ends before starts.
      const r = rng(seed);
      const byId = new Map(run.spans.map((s) => [s.id, s]));
      const skewed = run.spans.map((s) => {
        const parent = s.parentId === null ? undefined : byId.get(s.parentId);
        const startMs = parent && r() < 0.4 ? parent.startMs - r() * 3 : s.startMs;
        return { ...s, startMs, endMs: s.endMs !== null && r() < 0.1 ? startMs - 1 : s.endMs };
      });
      // Parents first, with spans of one site that end where the next starts, and ends before starts.
      const placed = new Set<number>();
      const rooted = [...run.spans].sort((a, b) => a.startMs - b.startMs)
        .filter((s) => (s.parentId === null || placed.has(s.parentId)) && placed.add(s.id)).map((s) => ({ ...s }));
      const lastOfSite = new Map<string, Span>();
      for (const s of rooted) {
        const key = `${s.parentId}|${s.line}|${s.column}|${s.kind}`;
        const prev = lastOfSite.get(key);
        if (prev && prev.endMs !== null && prev.endMs <= s.startMs && r() < 0.5) prev.endMs = s.startMs;
        lastOfSite.set(key, s);
        if (s.endMs !== null && r() < 0.1) s.endMs = s.startMs - 1;
      }
      const lists: [string, Span[]][] = [
        ['run', run.spans], ['compacted', c.inInputOrder()], ['half streamed', half], ['ids twice', twice], ['skewed', skewed], ['rooted', rooted],
      ];
      for (const [name, list] of lists) {
        for (const adopt of [false, true]) {
          const given = list.map((s) => ({ ...s }));
          const got = TimelineLayout.of(given, adopt);
          const want = new TimelineLayout();
          want.apply(byStart(list.map(copySpan)));
          if (adopt) want.adoptOrphans();
          const where = `seed ${seed} ${name}${adopt ? ', adopted' : ''}`;
          const ids = [...new Set([...run.spans.map((s) => s.id), ...list.map((s) => s.id)])];
          // Its rows make their spans when first read: asked by id, or summed up, before any row is read.
          const unread = TimelineLayout.of(list.map((s) => ({ ...s })), adopt);
          // Some rows made between frames (a time already past: the first eight), the rest still to make.
          assert.equal(unread.makeSpans(-1), !unread.spansToMake, `${where}: makeSpans says whether rows are left`);
          const rowsOf = (l: TimelineLayout) => l.flatten().map((row) => row.key);
          const summaries = (l: TimelineLayout) => l.flatten().map((row) => JSON.stringify(rowSummary(row)));
          assert.deepEqual(summaries(unread), summaries(want), `${where}: row summaries before the rows are read`);
          assert.deepEqual(ids.map((id) => unread.span(id) && spanText(unread.span(id)!)), ids.map((id) => want.span(id) && spanText(want.span(id)!)), `${where}: spans by id before the rows are read`);
          assert.deepEqual(rowsOf(unread), rowsOf(want), `${where}: rows`);
          assert.equal(state(unread, ids), state(want, ids), `${where}: read by id first`);
          assert.equal(state(got, ids), state(want, ids), where);
          assert.deepEqual(given, list, `${where}: the spans given are not changed`);
          // Later spans: the rest of the run (ends of pending spans, children of waiting ones), then its end.
          const rest = batches.slice(Math.ceil(batches.length / 2)).flat();
          // Later spans given before any row was read.
          const fresh = TimelineLayout.of(list.map((s) => ({ ...s })), adopt);
          fresh.apply(rest.map((s) => ({ ...s })));
          fresh.adoptOrphans();
          got.apply(rest.map((s) => ({ ...s })));
          want.apply(rest.map((s) => ({ ...s })));
          got.adoptOrphans();
          want.adoptOrphans();
          assert.equal(state(got, ids), state(want, ids), `${where}, then the rest`);
          assert.equal(state(fresh, ids), state(want, ids), `${where}, then the rest before any row was read`);
          cases++;
        }
      }
    }
    assert.equal(cases, (SEEDS / 3) * 12);
  });
});

/** `spans` in start order in batches, each ended span possibly sent pending first and ended a few batches later. */
function inOrder(seed: number, spans: readonly Span[]): Span[][] {
  let x = seed * 7919;
  const r = () => ((x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const batches: Span[][] = [];
  const later: Span[] = [];
  let batch: Span[] = [];
  for (const s of spans) {
    if (s.endMs !== null && r() < 0.3) {
      batch.push({ ...s, endMs: null, outcome: 'pending' });
      later.push({ ...s });
    } else batch.push({ ...s });
    if (r() < 0.3) {
      if (later.length && r() < 0.5) batch.push(later.shift()!);
      batches.push(batch);
      batch = [];
    }
  }
  batches.push([...batch, ...later]);
  return batches;
}
