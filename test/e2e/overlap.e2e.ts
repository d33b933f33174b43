// "What could overlap" in the panel of a real VS Code workbench: the insights under the header,
// a click on one moves the editor's cursor to its line, and the critical-path switch.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Frame } from 'playwright-core';

import { cursorPosition, launchWorkbench, openFile, repoRoot, runCommand, screenshot, webviewFrame, type Workbench } from './codeServer';
import { waitFor } from './timelineView';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'node');

describe('What could overlap in the panel', function () {
  this.timeout(180_000);
  let wb: Workbench;

  before(async () => {
    wb = await launchWorkbench({ folder: fixtures });
  });
  after(async () => {
    await wb?.close();
  });

  it('lists the back-to-back awaits under the header and shows the line of a clicked one', async () => {
    await openFile(wb.page, 'could-overlap.mjs');
    await runCommand(wb.page, 'Await Timeline: Run with Timeline');
    const view: Frame = await webviewFrame(wb.page, { title: 'could-overlap.mjs — Timeline', has: 'canvas' });
    const links = view.locator('.at-insight-link');
    await waitFor('two insights', async () => ((await links.count()) === 2 ? true : undefined));
    const summary = await view.locator('.at-insights-summary').innerText();
    assert.match(summary, /^4 awaits could overlap: saves about \d+(\.\d+)? m?s$/);
    assert.match(await links.nth(0).innerText(), /^Lines 8–9: these 2 awaits ran back to back/);
    assert.match(await links.nth(1).innerText(), /^Lines 10–13: this await ran 2 times back to back in the loop/);
    const toggle = view.locator('.at-critical-toggle');
    assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
    await screenshot(wb.page, 'e2e-could-overlap');
    await toggle.click();
    await waitFor('the critical-path switch to turn off', async () => (await toggle.getAttribute('aria-pressed')) === 'false', 5000);

    await links.nth(1).click();
    const at = await waitFor('the cursor on line 12', async () => {
      const p = await cursorPosition(wb.page);
      return p?.line === 12 ? p : undefined;
    });
    assert.equal(at.line, 12, 'the loop\'s await');
  });
});
