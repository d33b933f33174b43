// Each line's time after a run, in an editor 520 px wide beside the panel: the figure follows a
// short line inside the editor, and a line too long for it tells its time when hovered.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Page } from 'playwright-core';

import { launchWorkbench, openFile, repoRoot, runCommand, screenshot, webviewFrame, type Workbench } from './codeServer';
import { waitFor, warmUp } from './timelineView';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'node');

/** Per editor group, left to right: its active tab's label and where the group is on the page. */
async function groups(page: Page): Promise<{ active: string; left: number; width: number; code: boolean }[]> {
  return page.evaluate(() => {
    const d = (globalThis as any).document;
    return (Array.from(d.querySelectorAll('.part.editor .editor-group-container')) as any[])
      .map((g) => {
        const r = g.getBoundingClientRect();
        return {
          active: (g.querySelector('.tab.active')?.getAttribute('aria-label') ?? '') as string,
          left: r.left as number,
          width: r.width as number,
          // The group shows a text editor with rendered lines (not a webview).
          code: !!g.querySelector('.monaco-editor .view-lines .view-line'),
        };
      })
      .sort((a, b) => a.left - b.left);
  });
}

describe('Inline line timings in a narrow editor', function () {
  this.timeout(240_000);
  let wb: Workbench;

  before(async () => {
    wb = await launchWorkbench({ folder: fixtures });
    await warmUp(wb, 'nested.js');
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      await screenshot(wb.page, `debug-inline-${this.currentTest.title.slice(0, 20).replace(/\W+/g, '-')}`);
      console.log('DEBUG groups', JSON.stringify(await groups(wb.page)));
    }
  });
  after(async () => {
    await wb?.close();
  });

  it('shows each line\'s time inside a 520 px editor, and on a hover of a line too long for it', async () => {
    await runCommand(wb.page, 'View: Close All Editor Groups');
    await openFile(wb.page, 'chefs-promise-all.ts');
    await runCommand(wb.page, 'Await Timeline: Run with Timeline');
    const view = await webviewFrame(wb.page, { title: 'chefs-promise-all.ts — Timeline', has: 'canvas' });
    await waitFor('the run to end', async () => (await view.evaluate(() => (globalThis as any).awaitTimeline.model.status)) === 'completed', 60_000);

    // The code's editor group 520 px wide (the window grows or shrinks; both groups share the change).
    const codeGroup = wb.page.locator('.editor-group-container', { has: wb.page.locator('.tab.active[aria-label^="chefs-promise-all.ts"]:not([aria-label*="Timeline"])') }).first();
    for (let i = 0; i < 6; i++) {
      const width = (await codeGroup.boundingBox())!.width;
      if (Math.abs(width - 520) <= 6) break;
      const vp = wb.page.viewportSize()!;
      await wb.page.setViewportSize({ width: Math.max(800, Math.round(vp.width + (520 - width) * 2)), height: vp.height });
      await new Promise((r) => setTimeout(r, 500));
    }
    const width = (await codeGroup.boundingBox())!.width;
    assert.ok(Math.abs(width - 520) <= 6, `the code's editor is 520 px wide: ${width}`);

    // Each line's figure: its text and where it is drawn, against the right edge of the code's
    // visible text (the minimap's left edge).
    const figures = await waitFor('the inline times', () => codeGroup.evaluate((group: any) => {
      const w = globalThis as any;
      const minimap = group.querySelector('.minimap');
      const textRight = minimap && minimap.getBoundingClientRect().width > 0 ? minimap.getBoundingClientRect().left : group.querySelector('.monaco-scrollable-element.editor-scrollable').getBoundingClientRect().right;
      const found = (Array.from(group.querySelectorAll('.view-line')) as any[]).flatMap((line) => (Array.from(line.querySelectorAll('span[class*="TextEditorDecorationType"]')) as any[])
        .map((el) => ({ code: line.textContent.replace(/\u00a0/g, ' ').trim() as string, text: w.getComputedStyle(el, '::after').content as string, right: el.getBoundingClientRect().right as number }))
        .filter((f) => f.text && f.text !== 'none' && f.text !== 'normal'));
      return found.length >= 2 ? { found, textRight } : undefined;
    }), 20_000);
    await screenshot(wb.page, 'e2e-inline-timings-520');
    const short = figures.found.find((f) => f.code === 'await sleep(300);');
    assert.ok(short, `the sleep line has its time: ${JSON.stringify(figures)}`);
    assert.match(short.text, /^"\d+ ms ×2"$/, 'the time first, then how many awaits');
    assert.ok(short.right <= figures.textRight, `the sleep line's time is inside the editor: ${JSON.stringify(figures)}`);

    // The Promise.all line is too long for 520 px: hovering the line itself gives its time.
    const line = codeGroup.locator('.view-line', { hasText: 'Promise.all' }).first();
    const box = (await line.boundingBox())!;
    await wb.page.mouse.move(box.x + 40, box.y + box.height / 2);
    const hover = wb.page.locator('.monaco-hover', { hasText: 'Await Timeline' }).first();
    await hover.waitFor({ state: 'visible', timeout: 10_000 });
    assert.match(await hover.innerText(), /Await Timeline · This await took \d+ ms/);
    await screenshot(wb.page, 'e2e-inline-timings-520-hover');
    await wb.page.mouse.move(1, 1);
    await wb.page.setViewportSize({ width: 1400, height: 900 });
  });
});
