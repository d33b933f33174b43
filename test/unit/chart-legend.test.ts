// The legend: only what the chart shows, in one order, and the SVG draws it.
import assert from 'node:assert/strict';
import { legendEntries } from '../../src/shared/chart/legend';
import { renderSvg } from '../../src/engine/exportSvg';
import type { Span, Timeline } from '../../src/shared/timeline';

describe('chart legend', () => {
  it('lists the kinds drawn and the outlines in use, nothing else', () => {
    const none = { critical: false, couldOverlap: false, pending: false, rejected: false };
    assert.deepEqual(legendEntries({ kinds: new Set(['block', 'call']), ...none }).map((e) => e.id), ['call', 'block']);
    assert.deepEqual(
      legendEntries({ kinds: new Set(['await', 'combinator']), critical: true, couldOverlap: true, pending: true, rejected: true }).map((e) => e.label),
      ['await', 'Promise.all / gather', 'rejected', 'still running', 'critical path', 'could overlap'],
    );
  });

  it('the SVG draws a legend entry for each kind of bar and for the critical path it outlines', () => {
    const span = (id: number, parentId: number | null, kind: Span['kind'], label: string, startMs: number, endMs: number): Span =>
      ({ id, parentId, kind, label, line: id, column: 1, startMs, endMs, outcome: 'fulfilled' });
    const t: Timeline = {
      version: 1, file: 'busy.ts', language: 'typescript', status: 'completed', exitCode: 0, wallMs: 400, error: null, marks: [], droppedSpans: 0,
      spans: [span(1, null, 'call', 'main()', 0, 400), span(2, 1, 'block', 'while (true) {}', 10, 200), span(3, 1, 'await', 'sleep(100)', 210, 310)],
      stats: { wallMs: 400, awaitedMs: 100, blockedMs: 190, maxConcurrency: 1 },
      criticalPath: [1, 2],
    };
    const svg = renderSvg(t);
    const ids = [...svg.matchAll(/<g data-legend="([^"]+)">/g)].map((m) => m[1]);
    assert.deepEqual(ids, ['await', 'call', 'block', 'critical']);
    assert.match(svg, /<title>Synchronous work held the event loop: nothing else could run\.<\/title>/);
  });
});
