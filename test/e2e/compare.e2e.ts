// Pin as baseline and Export in a real VS Code workbench (code-server in chromium): the panel's
// buttons, the comparison in the header after the next run, and an HTML report saved through the
// save dialog next to the snippet.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { launchWorkbench, repoRoot, runCommand, screenshot, type Workbench } from './codeServer';
import { runFromPalette, timelinePanel, waitFor } from './timelineView';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'node');

const panel = timelinePanel;
const run = (wb: Workbench, file: string) => runFromPalette(wb, file, ['completed']);

describe('Compare and export in VS Code', function () {
  this.timeout(180_000);
  let wb: Workbench;
  let folder: string;

  before(async () => {
    // A scratch folder: exports are written next to the snippet.
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'awtl-e2e-compare-'));
    for (const name of ['compare-sequential.ts', 'compare-parallel.ts']) fs.copyFileSync(path.join(fixtures, name), path.join(folder, name));
    wb = await launchWorkbench({ folder });
  });
  after(async () => {
    await wb?.close();
    fs.rmSync(folder, { recursive: true, force: true });
  });

  it('pins a run as the baseline and shows the next run against it', async () => {
    let view = await run(wb, 'compare-sequential.ts');
    await view.locator('button', { hasText: 'Pin as baseline' }).click();
    await view.locator('button', { hasText: 'Clear baseline' }).waitFor({ state: 'visible', timeout: 10_000 });
    view = await run(wb, 'compare-parallel.ts');
    const text = await waitFor('the comparison in the header', async () => {
      const stat = view.locator('[data-stat="baseline"]');
      return (await stat.isVisible()) && (await stat.locator('dd').textContent());
    });
    await screenshot(wb.page, 'e2e-baseline');
    assert.match(text, /^[\d.]+ m?s → [\d.]+ m?s, −\d+ %$/, `the parallel run is faster than the pinned sequential one: ${text}`);
    // The baseline outlives the run: Clear baseline takes it away.
    await view.locator('button', { hasText: 'Clear baseline' }).click();
    await view.locator('[data-stat="baseline"]').waitFor({ state: 'hidden', timeout: 10_000 });
  });

  it('exports the shown run as an HTML report through the save dialog', async () => {
    const view = await panel(wb, 'compare-parallel.ts');
    await view.locator('button', { hasText: 'HTML' }).click();
    // The save dialog proposes a name next to the snippet; accept it.
    const input = wb.page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    // The simple file dialog fills its input a moment after it opens.
    const proposed = await waitFor('the proposed file name', async () => {
      const value = await input.inputValue();
      return value.endsWith('.html') && value;
    }, 10_000).catch(async (error) => {
      await screenshot(wb.page, 'e2e-export-dialog');
      throw new Error(`${String(error)}; the dialog shows '${await input.inputValue()}'`);
    });
    assert.equal(proposed, path.join(folder, 'compare-parallel.timeline.html'));
    await wb.page.keyboard.press('Enter');
    const target = path.join(folder, 'compare-parallel.timeline.html');
    await waitFor('the report on disk', async () => fs.existsSync(target) && fs.statSync(target).size > 10_000);
    const html = fs.readFileSync(target, 'utf8');
    assert.ok(html.includes('compare-parallel.ts'), 'the report is of the shown run');
    // The workbench may keep the message in the notification centre instead of a toast: open it.
    await runCommand(wb.page, 'Notifications: Show Notifications');
    const note = wb.page.locator('.notifications-center .notification-list-item', { hasText: 'exported compare-parallel.timeline.html' }).first();
    await note.waitFor({ state: 'visible', timeout: 20_000 });
    for (const action of ['Open', 'Reveal']) assert.equal(await note.locator('.monaco-button', { hasText: action }).count(), 1, `it offers ${action}`);
    await screenshot(wb.page, 'e2e-export');
  });
});
