// A standalone HTML report: one offline file that draws the run with the panel's own renderer
// (the webview bundle, inlined), the timeline embedded as JSON. Plain Node: no 'vscode'.

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';

import { htmlShell, strictCsp } from '../shared/htmlShell';
import type { Timeline } from '../shared/timeline';
import { packSpans } from '../shared/spanColumns';
import { encodeRun, message, type BaselineMessage } from '../shared/webviewProtocol';

/** Id of the JSON script element the webview reads in standalone mode (see src/webview/main.ts). */
export const EMBEDDED_TIMELINE_ID = 'timeline';
/** Id of the JSON script element with the baseline run, as a `baseline` message (see src/webview/main.ts). */
export const EMBEDDED_BASELINE_ID = 'baseline';
/** Ids of the elements with the packed spans of a large run (see src/shared/spanColumns.ts and src/webview/main.ts). */
export const EMBEDDED_SITES_ID = 'timeline-sites';
export const EMBEDDED_SPANS_ID = 'timeline-spans';
/** From this many spans on, the report packs them in gzip-compressed columns instead of JSON. */
export const PACK_SPANS_FROM = 10_000;

/** The timeline's embedded elements: JSON, or for a large run JSON without spans plus the spans packed. */
function embedTimeline(timeline: Timeline): string {
  if (timeline.spans.length < PACK_SPANS_FROM) {
    return `<script type="application/json" id="${EMBEDDED_TIMELINE_ID}">${embedJson(timeline)}</script>\n`;
  }
  const packed = packSpans(timeline.spans);
  const gz = gzipSync(packed.bytes, { level: 6 }).toString('base64');
  return `<script type="application/json" id="${EMBEDDED_TIMELINE_ID}">${embedJson({ ...timeline, spans: [] })}</script>\n` +
    `<script type="application/json" id="${EMBEDDED_SITES_ID}">${embedJson(packed.sites)}</script>\n` +
    `<script type="text/plain" id="${EMBEDDED_SPANS_ID}" data-count="${timeline.spans.length}">${gz}</script>\n`;
}

/** JSON that is safe inside <script>: no "</script>", no "<!--". */
export function embedJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/**
 * The report as a string. `webviewBundleJs` is dist/webview/main.js, `css` is media/timeline.css.
 * CSP: nothing may load from anywhere; only the nonce'd inline script and style run.
 */
export function renderHtmlReport(timeline: Timeline, webviewBundleJs: string, css: string, baseline?: Timeline): string {
  const nonce = randomBytes(18).toString('base64');
  const name = timeline.file.split(/[\\/]/).pop() || timeline.file;
  // An inline script ends at the first "</script" whatever the JS means; the same for styles.
  const js = webviewBundleJs.replace(/<\/script/gi, '<\\/script').replace(/^\/\/# sourceMappingURL=.*$/m, '');
  const style = css.replace(/<\/style/gi, '<\\/style');
  return htmlShell({
    csp: strictCsp({ nonce, style: `'nonce-${nonce}'`, img: 'data:', font: 'data:' }),
    title: `${name} — Await Timeline`,
    head: `<meta name="generator" content="Await Timeline">\n<style nonce="${nonce}">${style}</style>`,
    body: embedTimeline(timeline) +
      (baseline ? `<script type="application/json" id="${EMBEDDED_BASELINE_ID}">${embedJson(baselineMessage(baseline))}</script>\n` : '') +
      `<script nonce="${nonce}">${js}</script>`,
  });
}

/** The baseline as the panel gets it: the run in wire form. */
function baselineMessage(t: Timeline): BaselineMessage {
  return message({ type: 'baseline', baseline: encodeRun(t.file, t.wallMs, t.spans) });
}

/** The report drawn by the renderer that ships in `root` (the extension or package folder: dist/ and media/). */
export function htmlReportFrom(root: string, timeline: Timeline, baseline?: Timeline): string {
  const bundle = fs.readFileSync(path.join(root, 'dist', 'webview', 'main.js'), 'utf8');
  const css = fs.readFileSync(path.join(root, 'media', 'timeline.css'), 'utf8');
  return renderHtmlReport(timeline, bundle, css, baseline);
}
