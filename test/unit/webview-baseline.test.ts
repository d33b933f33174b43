// The panel's baseline model: a row's site finds the baseline's spans of the site it was paired
// with (also when lines moved), and tooltips say what changed.
import assert from 'node:assert/strict';

import type { Span } from '../../src/shared/timeline';
import { BaselineRun, describeSiteChange } from '../../src/webview/model/baseline';
import { layoutSpans } from '../../src/shared/chart/layout';

let nextId = 1;
const span = (kind: Span['kind'], label: string, line: number, startMs: number, endMs: number | null): Span =>
  ({ id: nextId++, parentId: null, kind, label, line, column: 3, startMs, endMs, outcome: endMs === null ? 'pending' : 'fulfilled' });

describe('webview baseline', () => {
  const base = [span('call', 'cook("soup")', 3, 0, 150), span('call', 'cook("pasta")', 3, 150, 300), span('await', 'sleep(150)', 4, 0, 150), span('await', 'sleep(150)', 4, 150, 300)];

  it("gives a row's site the spans of the baseline site it was paired with, sorted by start", () => {
    const b = new BaselineRun({ file: '/w/seq.ts', wallMs: 300, spans: base });
    const current = [span('call', 'cook("pasta")', 5, 1, 151), span('await', 'sleep(150)', 6, 1, 151), span('await', 'brand_new()', 9, 0, 10)];
    assert.equal(b.forSite(current[0]), undefined, 'nothing before the first comparison');
    b.compareWith({ file: '/w/par.ts', wallMs: 160, spans: current });
    const pasta = b.forSite(current[0])!;
    assert.deepEqual(pasta.spans.map((s) => [s.startMs, s.endMs]), [[150, 300]], 'paired by label although it moved from line 3 to 5');
    assert.equal(pasta.site.deltaFirstStartMs, -149);
    assert.deepEqual(b.forSite(current[1])!.spans.map((s) => s.startMs), [0, 150]);
    assert.equal(b.forSite(current[2]), undefined, 'a new site has no baseline');
    assert.equal(b.comparison?.wallText, '300 ms → 160 ms, −47 %');
  });

  it('says in a tooltip what the site took then and what changed', () => {
    const b = new BaselineRun({ file: '/w/seq.ts', wallMs: 300, spans: base });
    const pasta = span('call', 'cook("pasta")', 5, 1, 152);
    b.compareWith({ file: '/w/par.ts', wallMs: 160, spans: [pasta] });
    assert.deepEqual(describeSiteChange(b.forSite(pasta)!.site), [
      ['Baseline', '150 ms, from 150 ms (line 3)'],
      ['Change', '+1 ms, starts 149 ms earlier'],
    ]);
  });

  it("draws behind a row only the baseline spans under the same callers", () => {
    const child = (parent: Span, kind: Span['kind'], label: string, line: number, startMs: number, endMs: number): Span =>
      ({ ...span(kind, label, line, startMs, endMs), parentId: parent.id });
    const soup = span('call', 'cook("soup")', 3, 0, 150);
    const pasta = span('call', 'cook("pasta")', 3, 150, 300);
    const baseline = [soup, child(soup, 'await', 'sleep(150)', 4, 0, 150), pasta, child(pasta, 'await', 'sleep(150)', 4, 150, 300)];
    const all = span('combinator', 'Promise.all([…])', 10, 0, 150);
    const soup2 = child(all, 'call', 'cook("soup")', 5, 0, 150);
    const pasta2 = child(all, 'call', 'cook("pasta")', 5, 0, 150);
    const current = [all, soup2, child(soup2, 'await', 'sleep(150)', 6, 0, 150), pasta2, child(pasta2, 'await', 'sleep(150)', 6, 0, 150)];
    const b = new BaselineRun({ file: '/w/seq.ts', wallMs: 300, spans: baseline });
    b.compareWith({ file: '/w/par.ts', wallMs: 150, spans: current });
    const rows = layoutSpans(current).flatten();
    const ghosts = (label: string, under: string) =>
      b.spansForRow(rows.find((r) => r.label === label && r.parent?.label === under)!).map((s) => [s.startMs, s.endMs]);
    assert.deepEqual(ghosts('sleep(150)', 'cook("soup")'), [[0, 150]]);
    assert.deepEqual(ghosts('sleep(150)', 'cook("pasta")'), [[150, 300]]);
    assert.deepEqual(ghosts('cook("pasta")', 'Promise.all([…])'), [[150, 300]], 'a caller that is new (the combinator) does not narrow');
  });
});
