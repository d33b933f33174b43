// Live mode in a real workbench: toggled on for a workshop starter, the chart appears (warped);
// typing the fix into the editor runs it again, the wall time drops, and the previous run stays on
// the chart as the baseline.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { launchWorkbench, repoRoot, runCommand, screenshot, type Workbench } from './codeServer';
import { panelStatus, timelinePanel, waitFor, waitForStatus } from './timelineView';

/** A duration as the header prints it ("612 ms", "1.02 s") in ms. */
function parseDuration(text: string): number | undefined {
  const m = /^([\d.]+)\s*(µs|ms|s)$/.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * (m[2] === 's' ? 1000 : m[2] === 'ms' ? 1 : 0.001);
}

describe('Live mode in the workbench', function () {
  this.timeout(240_000);
  let wb: Workbench;

  let folder: string;

  before(async () => {
    // A copy: the spec types into the starter, and the workbench may save it.
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'awt-live-'));
    fs.cpSync(path.join(repoRoot, 'examples', 'workshop', '01-two-chefs'), folder, { recursive: true });
    wb = await launchWorkbench({ folder });
  });
  after(async () => {
    await wb?.close();
    fs.rmSync(folder, { recursive: true, force: true });
  });

  it('re-runs the starter as the fix is typed: the wall time drops and the last run becomes the baseline', async () => {
    // From the Explorer (Quick Open's file search can take long on a busy machine).
    await wb.page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'starter.ts' }).first().click({ timeout: 60_000 });
    await wb.page.locator('.tabs-container .tab.active', { hasText: 'starter.ts' }).first().waitFor({ state: 'visible', timeout: 30_000 });
    const lines = wb.page.locator('.editor-group-container.active .monaco-editor .view-lines').first();
    await lines.waitFor({ state: 'visible', timeout: 30_000 });
    await lines.click(); // focus the editor: the palette offers the command for a TypeScript editor
    await runCommand(wb.page, 'Await Timeline: Toggle Live Timeline');
    const view = await timelinePanel(wb, 'starter.ts', 60_000);
    await waitForStatus(view, ['completed'], 60_000);
    const wall = async () => parseDuration(await view.locator('.at-stat[data-stat="wall"] dd').innerText());
    const before = await waitFor('the first wall time', wall);
    assert.ok(before >= 590, `two 300 ms spins one after the other: ${before} ms`);
    assert.equal(await view.locator('[data-badge="live"]').isVisible(), true, 'the Live badge');
    assert.equal(await view.locator('[data-badge="warp"]').isVisible(), true, 'live runs are warped');
    await screenshot(wb.page, 'e2e-live-before-edit');

    // Line 16 is `  waitBusy(ms);`: replace it with a wait that does not block.
    await wb.page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
    await wb.page.keyboard.press('Control+G');
    await wb.page.keyboard.type('16');
    await wb.page.keyboard.press('Enter');
    await wb.page.keyboard.press('End');
    await wb.page.keyboard.press('Shift+Home');
    await wb.page.keyboard.type('await new Promise((r) => setTimeout(r, ms));', { delay: 20 });

    // Runs of the half-typed line come and go (`await n` throws; with the editor's auto-closed
    // brackets `setTimeout(r)` runs and completes at once). The typed fix: both chefs wait 300 ms
    // at the same time.
    const after = await waitFor('a completed run of the fix: one 300 ms wait', async () => {
      const ms = await wall();
      return ms !== undefined && ms >= 290 && ms < before / 1.5 && (await panelStatus(view)) === 'completed' ? ms : undefined;
    }, 60_000);
    assert.ok(after < before, `the wall time dropped: ${before} → ${after} ms`);
    await waitFor('the previous run as the baseline', async () => (await view.locator('.at-stat[data-stat="baseline"]').isVisible()) || undefined);
    assert.match(await view.locator('.at-stat[data-stat="baseline"] dd').innerText(), /→/);
    await screenshot(wb.page, 'e2e-live-after-edit');
  });
});
