// Renders a realistic run in headless Chromium, in VS Code's dark, light and high contrast themes
// and as the standalone report, to PNGs under test-results/ for a person to look at.
// Usage: node esbuild.js && node bench/renderer/screenshot.mjs

import fs from 'node:fs';
import path from 'node:path';
import { realisticTimeline } from './fixtures.mjs';
import { ensureBuilt, launch, repo, writePage } from './page.mjs';

ensureBuilt();
const out = path.join(repo, 'test-results');
fs.mkdirSync(out, { recursive: true });
const timeline = realisticTimeline();
const browser = await launch();
try {
  for (const theme of ['dark', 'light', 'high-contrast']) {
    const page = await browser.context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(writePage(`realistic-${theme}`, { theme, timeline }));
    await page.waitForFunction(() => globalThis.awaitTimeline !== undefined);
    await page.evaluate(() => globalThis.awaitTimeline.renderNow());
    await page.screenshot({ path: path.join(out, `webview-${theme}.png`) });
    // Hover the Promise.all's second fetch to show the tooltip.
    const box = await page.locator('canvas').boundingBox();
    const pos = await page.evaluate(() => {
      const app = globalThis.awaitTimeline;
      const vp = app.viewport();
      const rows = app.rows();
      const i = rows.findIndex((r) => r.label.includes('stock'));
      const s = rows[i].spans[0];
      return { x: vp.plotLeftCss + ((s.startMs + s.endMs) / 2 - vp.startMs) / vp.msPerCssPx, y: vp.rowsTopCss + i * vp.rowHeightCss + 10 - vp.scrollTopCss };
    });
    await page.mouse.move(box.x + pos.x, box.y + pos.y);
    await page.waitForTimeout(50);
    await page.screenshot({ path: path.join(out, `webview-${theme}-hover.png`) });
    if (errors.length) console.error(theme, errors);
    await page.close();
  }
  console.log('screenshots in', out);
} finally {
  await browser.close();
}
