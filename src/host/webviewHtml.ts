// The timeline panel's HTML: strict Content-Security-Policy, the bundle loaded by nonce, nothing inline.
import { randomBytes } from 'node:crypto';

import { escapeHtml, htmlShell, strictCsp } from '../shared/htmlShell';

export interface WebviewHtmlInput {
  /** `webview.cspSource`: the origin local resources are served from. */
  cspSource: string;
  /** dist/webview/main.js as a webview URI. */
  scriptUri: string;
  /** media/timeline.css as a webview URI. */
  styleUri: string;
  /** Shown as the document title (screen readers announce it). */
  title: string;
}

/** A fresh nonce per page load, from the CSPRNG: a script the page did not ship cannot guess it. */
export function makeNonce(): string {
  return randomBytes(18).toString('base64');
}

export function renderWebviewHtml(input: WebviewHtmlInput, nonce = makeNonce()): string {
  return htmlShell({
    csp: strictCsp({ nonce, style: input.cspSource, img: `${input.cspSource} data:`, font: input.cspSource }),
    title: input.title,
    head: `<link rel="stylesheet" href="${escapeHtml(input.styleUri)}">`,
    body: `<script nonce="${nonce}" src="${escapeHtml(input.scriptUri)}"></script>`,
  });
}
