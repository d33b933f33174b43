// "Still waiting" in the panel of a real VS Code workbench: a run that exits with code 13 lists the
// await that never finished with its cause, a click on the cause shows its line in the editor, and
// selecting a pending bar of the chain marks its entry.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';

import { cursorPosition, launchWorkbench, repoRoot, screenshot, type Workbench } from './codeServer';
import { pointOn, runFromPalette, sizePanel, spanBoxes, waitFor } from './timelineView';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'hangs');

describe('Still waiting in the panel', function () {
  this.timeout(180_000);
  let wb: Workbench;

  before(async () => {
    wb = await launchWorkbench({ folder: fixtures });
  });
  after(async () => {
    await wb?.close();
  });

  it('lists the await that never finished, its cause reveals the line, and a pending bar marks its entry', async () => {
    const view = await runFromPalette(wb, 'forgotten-resolve.ts', ['failed']);
    const cause = view.locator('.at-still-cause');
    await waitFor('the still-waiting entry', async () => ((await cause.count()) === 1 ? true : undefined));
    assert.match(await view.locator('.at-still-summary').innerText(), /^Still waiting \(1\)$/);
    assert.match(await view.locator('.at-still-note').innerText(), /exit code 13/);
    assert.equal(await cause.innerText(), 'Line 5: resolve was stored in this.waiters at line 5; nothing called it');
    assert.match(await view.locator('.at-still-chain').innerText(), /^await main\(\) :18 → await gate\.wait\(\) :15 → new Promise\(…\) :4$/);
    await screenshot(wb.page, 'e2e-still-waiting');

    await cause.click();
    const at = await waitFor('the cursor on line 5', async () => {
      const p = await cursorPosition(wb.page);
      return p?.line === 5 ? p : undefined;
    });
    assert.equal(at.line, 5);

    const boxes = await spanBoxes(view);
    const pending = boxes.find((b) => b.kind === 'await' && b.label === 'gate.wait()');
    assert.ok(pending, `a bar for await gate.wait(): ${boxes.map((b) => b.label).join(' | ')}`);
    const p = await pointOn(view, pending);
    await wb.page.mouse.click(p.x, p.y);
    await waitFor('the entry marked', async () => (await view.locator('.at-still-item[data-active="true"]').count()) === 1);
  });

  it('draws the calls nobody awaited in their own lane, under the awaited tree, at 520 and 1400 px', async () => {
    const view = await runFromPalette(wb, 'floating-lane.mjs', ['completed']);
    const floating = ['logVisit()', 'sendMetrics()', 'flushLogs()'];
    const boxes = await waitFor('the lane\'s bars', async () => {
      const b = await spanBoxes(view);
      return floating.every((label) => b.some((x) => x.label === label)) ? b : undefined;
    });
    const awaited = boxes.filter((b) => !floating.includes(b.label));
    const lowestAwaited = Math.max(...awaited.map((b) => b.y));
    for (const label of floating) {
      const bar = boxes.find((b) => b.label === label)!;
      // Below every row of the awaited tree, with the lane's header row in between.
      assert.ok(bar.y >= lowestAwaited + 2 * bar.height, `${label} at y ${bar.y}, awaited rows end at ${lowestAwaited}`);
    }
    assert.match(await view.locator('.at-still-summary').innerText(), /Not awaited \(2\)/);
    for (const width of [520, 1400]) {
      const got = await sizePanel(wb.page, view, width);
      assert.ok(Math.abs(got - width) <= 6, `panel sized to ${width}: ${got}`);
      await new Promise((r) => setTimeout(r, 400));
      await screenshot(wb.page, `e2e-not-awaited-lane-${width}`);
    }
  });
});
