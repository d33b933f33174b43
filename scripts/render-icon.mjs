// Rasterises media/icon.svg to media/icon.png (256×256, transparent corners) with Debian's chromium
// through playwright-core: the Marketplace wants a PNG, and the SVG stays the source we edit.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const media = fileURLToPath(new URL('../media/', import.meta.url));
const svg = readFileSync(`${media}icon.svg`, 'utf8');
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const page = await browser.newPage({ viewport: { width: 256, height: 256 }, deviceScaleFactor: 1 });
  await page.setContent(`<html><body style="margin:0;background:transparent">${svg}</body></html>`);
  await page.locator('svg').screenshot({ path: `${media}icon.png`, omitBackground: true });
} finally {
  await browser.close();
}
