// The chart morphing from one run to the next (live mode): bars move from where the previous run had
// them to the new run's places, on the same rows; the end of the morph is the new run exactly.
import assert from 'node:assert/strict';

import type { Span } from '../../src/shared/timeline';
import { layoutSpans } from '../../src/shared/chart/layout';
import { ease, morphRows, morphViewport, rowExtents, spanOf } from '../../src/shared/chart/morph';
import type { Viewport } from '../../src/shared/chart/coords';

/** Two chefs: one after the other (sequential) or side by side (Promise.all), as the learner edits. */
function chefs(together: boolean, firstId: number): Span[] {
  let id = firstId;
  const span = (p: Partial<Span> & Pick<Span, 'label' | 'startMs' | 'endMs'>): Span =>
    ({ id: id++, parentId: null, kind: 'await', line: 1, column: 1, outcome: 'fulfilled', ...p });
  const main = span({ kind: 'call', label: 'main()', line: 10, startMs: 0, endMs: together ? 2000 : 4000 });
  return [
    main,
    span({ label: 'cook("soup", 2)', line: 11, parentId: main.id, startMs: 0, endMs: 2000 }),
    span({ label: 'cook("pasta", 2)', line: 12, parentId: main.id, startMs: together ? 0 : 2000, endMs: together ? 2000 : 4000 }),
  ];
}

const bars = (rows: ReturnType<typeof morphRows>) =>
  Object.fromEntries(rows.map((r) => [r.label, r.spans.map((s) => [Math.round(s.startMs), Math.round(s.endMs ?? NaN)])]));

describe('chart morph', () => {
  const before = rowExtents(layoutSpans(chefs(false, 1)).flatten(), 4000);
  const after = layoutSpans(chefs(true, 100)).flatten();

  it('moves each bar from the previous run\'s place to the new one\'s: halfway, halfway there', () => {
    assert.deepEqual(bars(morphRows(after, before, 0)), { 'main()': [[0, 4000]], 'cook("soup", 2)': [[0, 2000]], 'cook("pasta", 2)': [[2000, 4000]] });
    assert.deepEqual(bars(morphRows(after, before, 0.5)), { 'main()': [[0, 3000]], 'cook("soup", 2)': [[0, 2000]], 'cook("pasta", 2)': [[1000, 3000]] });
    assert.deepEqual(bars(morphRows(after, before, 1)), bars(after));
  });

  it("a moving bar's figures are the new run's from the first frame: main() reads 2 s while its bar is 3 s long", () => {
    const half = morphRows(after, before, 0.5);
    const main = half.find((r) => r.label === 'main()')!.spans[0];
    assert.equal(main.endMs! - main.startMs, 3000, 'the bar is halfway');
    const own = spanOf(main);
    assert.equal(own.endMs! - own.startMs, 2000, 'its duration is the run\'s');
    assert.equal(own, after.find((r) => r.label === 'main()')!.spans[0]);
    const still = after.find((r) => r.label.startsWith('cook("soup"'))!.spans[0];
    assert.equal(spanOf(still), still, 'a bar that does not move is its own span');
  });

  it('ends on the new run itself, and leaves rows that did not move as they are', () => {
    assert.equal(morphRows(after, before, 1), after);
    const soup = after.find((r) => r.label.startsWith('cook("soup"'))!;
    assert.equal(morphRows(after, before, 0.3).find((r) => r.key === soup.key), soup);
  });

  it('grows a bar that is new at its row from its own start', () => {
    const fresh = morphRows(after, new Map(), 0.25);
    assert.deepEqual(bars(fresh)['cook("pasta", 2)'], [[0, 500]]);
  });

  it('eases in and out, and the axis follows', () => {
    assert.equal(ease(0), 0);
    assert.equal(ease(1), 1);
    assert.equal(ease(0.5), 0.5);
    assert.ok(ease(0.1) < 0.1 && ease(0.9) > 0.9);
    const vp = (startMs: number, msPerCssPx: number) => ({ startMs, msPerCssPx, plotLeftCss: 100, plotWidthCss: 400, rowsTopCss: 20, rowHeightCss: 22, heightCss: 300, scrollTopCss: 0, dpr: 1 }) as Viewport;
    assert.deepEqual(morphViewport(vp(0, 10), vp(0, 5), 0.5), vp(0, 7.5));
  });
});
