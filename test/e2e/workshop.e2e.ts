// The workshop in a real VS Code workbench: the palette command lists the exercises with their task
// text, the chosen starter opens as the learner's copy, and after a run the panel shows ✓/✗ for each
// @expect line; clicking one shows that line in the editor.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';

import { cursorPosition, launchWorkbench, repoRoot, runCommand, screenshot, webviewFrame, type Workbench } from './codeServer';
import { waitFor } from './timelineView';

describe('Workshop exercises in the workbench', function () {
  this.timeout(180_000);
  let wb: Workbench;

  before(async () => {
    wb = await launchWorkbench({ folder: path.join(repoRoot, 'test', 'fixtures', 'node') });
  });
  after(async () => {
    await wb?.close();
  });

  it('opens a starter from the quick pick, and the panel grades its @expect lines after a run', async () => {
    await runCommand(wb.page, 'Await Timeline: Open Workshop Exercise');
    const rows = wb.page.locator('.quick-input-widget .monaco-list-row');
    await waitFor('nine exercises in the quick pick', async () => ((await rows.count()) >= 9 ? true : undefined));
    const breakfast = rows.filter({ hasText: 'Breakfast for one cook' }).first();
    assert.match(await breakfast.innerText(), /The toast takes 400 ms/);
    await screenshot(wb.page, 'e2e-workshop-pick');
    await breakfast.click();
    await wb.page.locator('.tabs-container .tab.active', { hasText: '02-breakfast.ts' }).first().waitFor({ state: 'visible', timeout: 20_000 });

    await runCommand(wb.page, 'Await Timeline: Run with Timeline');
    const view = await webviewFrame(wb.page, { title: '02-breakfast.ts — Timeline', has: 'canvas' });
    const items = view.locator('.at-expect-item');
    await waitFor('four expectations in the panel', async () => ((await items.count()) === 4 ? true : undefined));
    assert.equal(await view.locator('.at-expect-summary').innerText(), 'Expectations: 1 of 4 hold');
    assert.match(await items.nth(0).innerText(), /^✗\s*wall < 600ms — wall \d+(\.\d+)? m?s$/);
    assert.match(await items.nth(1).innerText(), /^✗\s*overlap "makeToast" "heatPan" — no overlap: makeToast\(\)/);
    assert.match(await items.nth(3).innerText(), /^✓\s*before "heatPan" "fryEggs"/);
    await screenshot(wb.page, 'e2e-workshop-graded');

    await view.locator('.at-expect-link').nth(1).click();
    const at = await waitFor('the cursor on line 6', async () => {
      const p = await cursorPosition(wb.page);
      return p?.line === 6 ? p : undefined;
    });
    assert.equal(at.line, 6, 'the second @expect line');
  });
});
