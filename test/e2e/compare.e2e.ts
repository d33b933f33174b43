// Pin as baseline and Export in a real VS Code workbench (code-server in chromium): the panel's
// buttons, the comparison in the header after the next run, and an HTML report saved through the
// save dialog next to the snippet.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Frame } from 'playwright-core';

import { launchWorkbench, openFile, repoRoot, runCommand, screenshot, webviewFrame, type Workbench } from './codeServer';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'node');

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * The panel's frame. The webview may navigate while webviewFrame looks into it ("Execution context
 * was destroyed", seen once on a loaded machine): look again.
 */
async function panel(wb: Workbench, file: string): Promise<Frame> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await webviewFrame(wb.page, { title: `${file} — Timeline`, has: 'canvas' });
    } catch (error) {
      if (attempt >= 3 || !/Execution context was destroyed/.test(String(error))) throw error;
    }
  }
}

/** Opens a snippet, runs it from the palette and returns the panel once the run has completed. */
async function run(wb: Workbench, file: string): Promise<Frame> {
  await openFile(wb.page, file);
  await runCommand(wb.page, 'Await Timeline: Run with Timeline');
  const view = await panel(wb, file);
  await waitFor(`${file} to complete`, () =>
    view.evaluate(() => (globalThis as any).document.querySelector('[data-status]')?.dataset.status === 'completed'));
  return view;
}

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
    assert.match(text, /^[\d.]+ ms → [\d.]+ ms, −\d+ %$/, `the parallel run is faster than the pinned sequential one: ${text}`);
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
