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
});
