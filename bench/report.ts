// The HTML report of a large run (issue 14 item 4): file size, time to write it, and in headless
// Chromium the time to the first frame (header and totals) and to every span unpacked and drawn.
// Usage: npm run build && node --import tsx bench/report.ts [spans]   (needs /usr/bin/chromium)
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

import { chromium } from 'playwright-core';

import { htmlReportFrom } from '../src/engine/exportHtml';
import { goal } from './goals.mjs';
import { bigTimeline } from '../test/unit/helpers';

const N = Number(process.argv[2]) || 1_000_000;
const REPO = path.resolve(__dirname, '..');

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awt-report-'));
  const t = bigTimeline(N);
  const t0 = performance.now();
  const html = htmlReportFrom(REPO, t);
  fs.writeFileSync(path.join(dir, 'r.html'), html);
  const writeMs = performance.now() - t0;
  const browser = await chromium.launch({ executablePath: process.env.AWAIT_TIMELINE_CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 700 } });
    const start = Date.now();
    await page.goto(pathToFileURL(path.join(dir, 'r.html')).href, { waitUntil: 'commit' });
    await page.waitForFunction(() => (globalThis as any).document.querySelector('[data-stat="wall"] dd')?.textContent, undefined, { polling: 5, timeout: 120_000 });
    const first = Date.now() - start;
    const want = N.toLocaleString('en-US');
    await page.waitForFunction((w) => (globalThis as any).document.querySelector('[data-stat="spans"] dd')?.textContent === w, want, { polling: 20, timeout: 120_000 });
    const all = Date.now() - start;
    goal(`HTML report, ${want} spans: file`, { measured: html.length / 1e6, limit: 40, unit: 'MB', shown: `${(html.length / 1e6).toFixed(1)} MB` });
    goal(`HTML report, ${want} spans: first frame`, { measured: first, limit: 1000, unit: 'ms', shown: `${first} ms (n=1)` });
    console.log(`${`HTML report, ${want} spans`.padEnd(46)} ${(html.length / 1e6).toFixed(1)} MB (goal ≤ 40), written in ${(writeMs / 1000).toFixed(1)} s; ` +
      `first frame ${first} ms (goal ≤ 1000), every span in ${all} ms`);
  } finally {
    await browser.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
void main();
