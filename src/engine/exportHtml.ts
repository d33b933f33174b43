// A standalone HTML report: one offline file that draws the run with the panel's own renderer
// (the webview bundle, inlined), the timeline embedded as JSON. Plain Node: no 'vscode'.

import { randomBytes } from 'node:crypto';
import type { Timeline } from '../shared/timeline';

/** Id of the JSON script element the webview reads in standalone mode (see src/webview/main.ts). */
export const EMBEDDED_TIMELINE_ID = 'timeline';

/** JSON that is safe inside <script>: no "</script>", no "<!--". */
export function embedJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function escapeHtml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] as string);
}

/**
 * The report as a string. `webviewBundleJs` is dist/webview/main.js, `css` is media/timeline.css.
 * CSP: nothing may load from anywhere; only the nonce'd inline script and style run.
 */
export function renderHtmlReport(timeline: Timeline, webviewBundleJs: string, css: string): string {
  const nonce = randomBytes(18).toString('base64');
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    'img-src data:',
    'font-src data:',
    "connect-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  const name = timeline.file.split(/[\\/]/).pop() || timeline.file;
  // An inline script ends at the first "</script" whatever the JS means; the same for styles.
  const js = webviewBundleJs.replace(/<\/script/gi, '<\\/script').replace(/^\/\/# sourceMappingURL=.*$/m, '');
  const style = css.replace(/<\/style/gi, '<\\/style');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="Await Timeline">
<title>${escapeHtml(`${name} — Await Timeline`)}</title>
<style nonce="${nonce}">${style}</style>
</head>
<body>
<script type="application/json" id="${EMBEDDED_TIMELINE_ID}">${embedJson(timeline)}</script>
<script nonce="${nonce}">${js}</script>
</body>
</html>
`;
}
