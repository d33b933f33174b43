// Test pages that load the built webview bundle the way a VS Code webview or the report does.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { styleAttribute, themes } from './themes.mjs';

export const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const bundle = path.join(repo, 'dist/webview/main.js');
export const css = path.join(repo, 'media/timeline.css');

/**
 * Writes a page for `theme` ('dark' | 'light' | 'high-contrast' | null: report fallbacks) and returns its URL.
 * `script`: another build's webview bundle (an A/B against main's) instead of this one's.
 */
export function writePage(name, { theme = null, timeline = null, script = bundle } = {}) {
  const dir = path.join(repo, 'test-results/pages');
  fs.mkdirSync(dir, { recursive: true });
  const htmlStyle = theme ? ` style="${styleAttribute(theme).replace(/"/g, '&quot;')}"` : '';
  const bodyClass = theme ? ` class="${themes[theme].bodyClass}"` : '';
  const data = timeline ? `<script type="application/json" id="timeline">${JSON.stringify(timeline).replace(/</g, '\\u003c')}</script>` : '';
  const html = `<!doctype html><html lang="en"${htmlStyle}><head><meta charset="utf-8"><title>${name}</title>
<link rel="stylesheet" href="${pathToFileURL(css)}"></head><body${bodyClass}>${data}
<script src="${pathToFileURL(script)}"></script></body></html>`;
  const file = path.join(dir, `${name}.html`);
  fs.writeFileSync(file, html);
  return pathToFileURL(file).href;
}

export async function launch() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'at-chromium-'));
  const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath: '/usr/bin/chromium', headless: true, args, viewport: { width: 1100, height: 560 } });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export function ensureBuilt() {
  if (!fs.existsSync(bundle)) throw new Error('dist/webview/main.js is missing: run `node esbuild.js` first');
}
