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
import { compactSpans } from '../../src/shared/chart/compact';
import { groupAggregates } from '../../src/shared/chart/aggregates';
import { layoutSpans, TimelineLayout, type Row } from '../../src/shared/chart/layout';
import { TimelineModel } from '../../src/webview/model/timelineModel';
import { SiteInterner } from '../../src/shared/webviewProtocol';
import { encodeAppendColumns } from '../../src/shared/spanColumns';
import { compactSpans as referenceCompaction } from './reference/compactReference';
import { randomRun, streamed } from './randomRuns';
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
            if (!(model.store as unknown as { built: unknown }).built) replayed++;
            assert.equal(picture(model.store.layout().flatten()), picture(eager.flatten()), `${where}: rows`);
          }
        }
      }
    }
    assert.ok(replayed > SEEDS, `the layout was made by replaying ${replayed} times`);
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
