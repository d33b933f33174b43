// The legend: only what the chart shows, in one order, and the SVG draws it.
import assert from 'node:assert/strict';
import { legendEntries } from '../../src/shared/chart/legend';
import { renderSvg } from '../../src/engine/exportSvg';
import { contrast, parseColor } from '../../src/shared/chart/color';
import type { Span, Timeline } from '../../src/shared/timeline';

describe('chart legend', () => {
  it('lists the kinds drawn and the outlines in use, nothing else', () => {
    const none = { critical: false, couldOverlap: false, pending: false, rejected: false };
    assert.deepEqual(legendEntries({ kinds: new Set(['block', 'call']), ...none }).map((e) => e.id), ['call', 'block']);
    assert.deepEqual(
      legendEntries({ kinds: new Set(['await', 'combinator']), critical: true, couldOverlap: true, pending: true, rejected: true }).map((e) => e.label),
      ['await', 'Promise.all / gather', 'rejected', 'pending', 'critical path', 'could overlap'],
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

  it('the SVG\'s bars stand out 3:1 from its background and their text reads 4.5:1, in both palettes', () => {
    const kinds: Span['kind'][] = ['call', 'await', 'combinator', 'timer', 'task', 'block'];
    const spans: Span[] = kinds.map((kind, i) => ({ id: i + 1, parentId: null, kind, label: `${kind} thing`, line: i + 1, column: 1, startMs: 0, endMs: 1000, outcome: 'fulfilled' }));
    const t: Timeline = {
      version: 1, file: 'k.ts', language: 'typescript', status: 'completed', exitCode: 0, wallMs: 1000, error: null, marks: [], droppedSpans: 0,
      spans, stats: { wallMs: 1000, awaitedMs: 1000, blockedMs: 1000, maxConcurrency: 6 },
    };
    for (const theme of ['light', 'dark'] as const) {
      const svg = renderSvg(t, { theme });
      const bg = parseColor(/<rect width="100%" height="100%" fill="([^"]+)"/.exec(svg)![1])!;
      const bars = [...svg.matchAll(/<g><title>[^<]*<\/title><rect [^>]*rx="2" fill="([^"]+)"\/>(?:\n<rect [^>]*\/>)*\n<text [^>]*fill="([^"]+)">/g)];
      assert.equal(bars.length, kinds.length, `${theme}: a labelled bar per kind`);
      for (const [, fill, text] of bars) {
        const f = parseColor(fill)!;
        assert.ok(contrast(f, bg) >= 3, `${theme}: bar ${fill} on ${JSON.stringify(bg)}: ${contrast(f, bg).toFixed(2)}`);
        assert.ok(contrast(parseColor(text)!, f) >= 4.5, `${theme}: text ${text} on ${fill}: ${contrast(parseColor(text)!, f).toFixed(2)}`);
      }
      const caption = /<text [^>]*fill="([^"]+)" font-size="11">blocked /.exec(svg);
      assert.ok(caption && contrast(parseColor(caption[1])!, bg) >= 4.5, `${theme}: the blocked caption reads 4.5:1`);
    }
  });
});
