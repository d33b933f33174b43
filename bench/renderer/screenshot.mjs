// Renders a realistic run in headless Chromium, in VS Code's dark, light and high contrast themes
// and as the standalone report, to PNGs under test-results/ for a person to look at.
// Also writes the SVG export and the standalone HTML report and photographs both.
// Usage: node esbuild.js && node --import tsx bench/renderer/screenshot.mjs

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
  // A run in progress, fed through the protocol: pending bars grow up to "now".
  {
    const page = await browser.context.newPage();
    await page.goto(writePage('running-dark', { theme: 'dark' }));
    await page.waitForFunction(() => globalThis.awaitTimeline !== undefined);
    await page.evaluate((t) => {
      const app = globalThis.awaitTimeline;
      const v = 1;
      const sites = [];
      const index = new Map();
      const wire = (s, endMs) => {
        const key = `${s.kind}:${s.line}:${s.column}:${s.label}`;
        if (!index.has(key)) {
          index.set(key, sites.length);
          sites.push({ kind: s.kind, label: s.label, line: s.line, column: s.column });
        }
        return [s.id, s.parentId ?? 0, index.get(key), s.startMs, endMs, endMs === null ? 0 : s.outcome === 'rejected' ? 2 : 1];
      };
      const now = 620;
      app.handleMessage({ v, type: 'reset', file: t.file, language: 'typescript', status: 'running' });
      const spans = t.spans.filter((s) => s.startMs < now).map((s) => wire(s, s.endMs !== null && s.endMs <= now ? s.endMs : null));
      app.handleMessage({ v, type: 'append', sites, spans, marks: t.marks.filter((m) => m.atMs < now), droppedSpans: 0 });
      app.handleMessage({ v, type: 'status', status: 'running', error: null, stats: null, wallMs: now, exitCode: null, nowMs: now });
      app.handleMessage({ v, type: 'cursor', line: 28 });
      app.renderNow();
    }, timeline);
    await page.waitForTimeout(1100);
    await page.screenshot({ path: path.join(out, 'webview-dark-running.png') });
    await page.close();
  }
  // The exports, built by the engine's functions from the same timeline.
  const { renderHtmlReport } = await import('../../src/engine/exportHtml.ts');
  const { renderSvg } = await import('../../src/engine/exportSvg.ts');
  const reportFile = path.join(out, 'report.html');
  fs.writeFileSync(reportFile, renderHtmlReport(timeline, fs.readFileSync(path.join(repo, 'dist/webview/main.js'), 'utf8'), fs.readFileSync(path.join(repo, 'media/timeline.css'), 'utf8')));
  for (const scheme of ['light', 'dark']) {
    const page = await browser.context.newPage();
    await page.emulateMedia({ colorScheme: scheme });
    const errors = [];
    const requests = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('request', (r) => !r.url().startsWith('file:') && requests.push(r.url()));
    await page.goto(`file://${reportFile}`);
    await page.waitForFunction(() => globalThis.awaitTimeline !== undefined);
    await page.evaluate(() => globalThis.awaitTimeline.renderNow());
    await page.screenshot({ path: path.join(out, `report-${scheme}.png`) });
    if (errors.length || requests.length) console.error('report', scheme, { errors, requests });
    await page.close();
  }
  const svgFile = path.join(out, 'chart.svg');
  fs.writeFileSync(svgFile, renderSvg(timeline));
  const svgPage = await browser.context.newPage();
  await svgPage.goto(`file://${svgFile}`);
  await svgPage.screenshot({ path: path.join(out, 'chart-svg.png') });
  await svgPage.close();
  console.log('screenshots in', out);
} finally {
  await browser.close();
}
