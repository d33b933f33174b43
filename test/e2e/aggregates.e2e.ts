// Nothing silently missing, in a real workbench: a run past its span budget (awaitTimeline.maxSpans)
// draws the spans it only counted as aggregated bars on their rows, with a legend entry and a
// tooltip that says what they are; a delay that was not the snippet's (the runtime instrumenting a
// module whose name is computed) is a neutral band with its own legend entry, never Blocked.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Frame } from 'playwright-core';

import { launchWorkbench, repoRoot, screenshot, type Workbench } from './codeServer';
import { runFromPalette, setColorTheme, sizePanel, waitFor, warmUp } from './timelineView';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'node');

interface AggregateBox { label: string; kind: string; line: number; count: number; rowCount: number; text: string; x: number; y: number; width: number; listed: number; startMs: number; endMs: number }

const aggregateBoxes = (view: Frame): Promise<AggregateBox[]> =>
  view.evaluate(() => { const app = (globalThis as any).awaitTimeline; app.renderNow(); return app.aggregateBoxes(); });
const legendIds = (view: Frame): Promise<string[]> =>
  view.locator('.at-legend-item').evaluateAll((items) => items.map((i: any) => i.dataset.legend as string));
const tooltipText = (view: Frame): Promise<string> =>
  view.evaluate(() => { const t = (globalThis as any).document.querySelector('.at-tooltip'); return t && !t.hidden ? t.textContent as string : ''; });

const LIGHT_AND_DARK = [['Light Modern', 'light'], ['Dark Modern', 'dark']] as const;

/** Screenshots of the panel at 520 and 1400 px in these themes (the first switches from whatever is on). */
async function looks(wb: Workbench, view: Frame, name: string, themes: readonly (readonly [string, string])[] = LIGHT_AND_DARK): Promise<void> {
  for (const [theme, tag] of themes) {
    await setColorTheme(wb.page, theme);
    for (const width of [520, 1400]) {
      await sizePanel(wb.page, view, width);
      await new Promise((r) => setTimeout(r, 400));
      await view.evaluate(() => (globalThis as any).awaitTimeline.renderNow());
      await screenshot(wb.page, `e2e-${name}-${width}-${tag}`);
    }
  }
  await wb.page.setViewportSize({ width: 1400, height: 900 });
}

describe('Spans past the budget and delays in the panel', function () {
  this.timeout(300_000);
  let wb: Workbench;

  before(async () => {
    wb = await launchWorkbench({ folder: fixtures, settings: { 'awaitTimeline.maxSpans': 300 } });
    await warmUp(wb, 'nested.js');
  });
  after(async () => {
    await wb?.close();
  });

  it('50 workers past a budget of 300 spans: every worker\'s row covers all 40 awaits, drawn as aggregates, in the legend', async () => {
    const view = await runFromPalette(wb, 'workers.mjs', ['completed'], 60_000);
    const boxes = await waitFor('aggregated bars', async () => {
      const b = await aggregateBoxes(view);
      return b.length ? b : undefined;
    });
    // The await rows of the workers in view: their listed awaits and the ones counted make 40.
    const awaits = boxes.filter((b) => b.kind === 'await');
    assert.ok(awaits.length >= 3, `aggregated await bars: ${boxes.map((b) => b.text).join(' | ')}`);
    // A row may have more than one bar: counted awaits more than a millisecond apart (the worker's
    // own code between two awaits, held off a CPU on a busy machine) are two stretches, as they ran.
    const rows = new Map<number, AggregateBox[]>();
    for (const b of awaits) rows.set(b.y, [...(rows.get(b.y) ?? []), b]);
    // Pixels per millisecond, from the widest bar: every bar is drawn where its awaits ran.
    const widest = awaits.reduce((w, b) => (b.endMs - b.startMs > w.endMs - w.startMs ? b : w));
    const pxPerMs = widest.width / (widest.endMs - widest.startMs);
    for (const [y, bars] of rows) {
      const { listed, rowCount } = bars[0]!;
      assert.equal(listed + rowCount, 40, `row at ${y}: ${listed} listed + ${rowCount} counted`);
      assert.equal(bars.reduce((n, b) => n + b.count, 0), rowCount, `row at ${y}: every counted await is in one of its bars`);
      for (const b of bars) {
        assert.match(b.text, /^×\d+ awaits?, [\d.]+–[\d.]+ m?s$/);
        assert.ok(Math.abs(b.width - (b.endMs - b.startMs) * pxPerMs) <= 1.5, `row at ${y}: ${b.width} px for ${b.startMs}–${b.endMs} ms`);
      }
      // The bars cover when the counted awaits ran: one after the other, each a timer of 2 ms
      // (node may fire one a fraction of a millisecond early), so at least a millisecond each.
      const extent = Math.max(...bars.map((b) => b.endMs)) - Math.min(...bars.map((b) => b.startMs));
      assert.ok(extent >= rowCount, `row at ${y}: ${rowCount} awaits in ${extent.toFixed(1)} ms`);
    }
    assert.ok((await legendIds(view)).includes('aggregated'), `legend: ${(await legendIds(view)).join(', ')}`);
    const spans = await view.locator('[data-stat="spans"] dd').textContent();
    assert.match(spans ?? '', /^300 \(\+[\d,]+ aggregated\)$/);
    // Hover says what the bar is.
    const canvas = (await view.locator('canvas').first().boundingBox())!;
    await wb.page.mouse.move(canvas.x + widest.x + Math.min(widest.width / 2, 60), canvas.y + widest.y + 11);
    const tip = await waitFor('the aggregate tooltip', async () => (await tooltipText(view)) || undefined, 10_000);
    assert.match(tip, /past the span budget/);
    assert.match(tip, /×\d+ awaits?, /);
    await screenshot(wb.page, 'e2e-aggregates-hover');
    await wb.page.mouse.move(2, 2);
    await looks(wb, view, 'aggregates');
  });

  it('a module whose name is computed: its instrumenting is a neutral "not your code" band, in the legend, never Blocked', async () => {
    const view = await runFromPalette(wb, 'local-modules/computed.js', ['completed'], 60_000);
    const delays = await view.evaluate(() => (globalThis as any).awaitTimeline.delayBoxes()) as { x: number; width: number; labels: string[] }[];
    const band = delays.find((d) => d.labels.includes('instrumenting ./tiny_mod.js'));
    assert.ok(band, `delays: ${JSON.stringify(delays)}`);
    assert.ok((await legendIds(view)).includes('delayed'));
    const stat = view.locator('[data-stat="delayed"]');
    assert.equal(await stat.isVisible(), true, 'the header says how long the loop was delayed by something else');
    // Blocked is the snippet's own work: no block covers the instrumenting, which is delayed time.
    const seen = await view.evaluate(() => {
      const m = (globalThis as any).awaitTimeline.model;
      const blocks = [...m.store.spans()].filter((s: any) => s.kind === 'block').map((s: any) => [s.startMs, s.endMs ?? Infinity]);
      const tool = m.delays.filter((d: any) => d.kind === 'instrumenting').map((d: any) => [d.startMs, d.endMs]);
      return { blocks, tool, delayedMs: m.stats().delayedMs as number };
    });
    assert.ok(seen.tool.length === 1 && seen.delayedMs > 0, JSON.stringify(seen));
    const [from, to] = seen.tool[0]!;
    assert.deepEqual(seen.blocks.filter(([s, e]: number[]) => s! < to! && e! > from!), [], 'no block during the instrumenting');
    // Hover the band under the axis: it says what it was.
    const canvas = (await view.locator('canvas').first().boundingBox())!;
    await wb.page.mouse.move(canvas.x + band.x + Math.max(1, Math.min(band.width / 2, 40)), canvas.y + 32);
    const tip = await waitFor('the delay tooltip', async () => (await tooltipText(view)) || undefined, 10_000);
    assert.match(tip, /not your code/);
    assert.match(tip, /instrumenting \.\/tiny_mod\.js/);
    await screenshot(wb.page, 'e2e-delay-hover');
    await wb.page.mouse.move(2, 2);
    // One theme here (the aggregates' spec looked at both): the band is neutral in either.
    await looks(wb, view, 'delay', [['Light Modern', 'light']]);
  });
});
