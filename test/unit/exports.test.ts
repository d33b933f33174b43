// The export files as the panel and the CLI write them, and the one page skeleton both pages use.
import assert from 'node:assert/strict';
import * as path from 'node:path';

import { defaultExportPath, exportText } from '../../src/engine/exports';
import { renderWebviewHtml } from '../../src/host/webviewHtml';
import type { Timeline } from '../../src/shared/timeline';
import { REPO } from './helpers';

const timeline: Timeline = {
  version: 1, file: '/w/chefs.ts', language: 'typescript', status: 'completed', exitCode: 0, wallMs: 300, error: null,
  spans: [{ id: 1, parentId: null, kind: 'await', label: 'cook("soup")', line: 3, column: 1, startMs: 0, endMs: 300, outcome: 'fulfilled' }],
  marks: [], droppedSpans: 0, stats: { wallMs: 300, awaitedMs: 300, blockedMs: 0, maxConcurrency: 1 },
};

describe('exports', () => {
  it('are named after the snippet, next to it', () => {
    assert.equal(defaultExportPath('/w/src/chefs.ts', 'trace'), path.join('/w/src', 'chefs.trace.json'));
    assert.equal(defaultExportPath('/w/src/chefs.ts', 'svg'), path.join('/w/src', 'chefs.timeline.svg'));
    assert.equal(defaultExportPath('/w/src/chefs.ts', 'html'), path.join('/w/src', 'chefs.timeline.html'));
  });

  it('write a trace Perfetto reads, an SVG, and a report with the renderer from the package root', () => {
    const trace = JSON.parse(exportText('trace', timeline, REPO));
    assert.ok(trace.traceEvents.some((e: { name: string; ph: string }) => e.name === 'cook("soup")' && e.ph === 'b'));
    assert.match(exportText('svg', timeline, REPO), /^<svg [^>]*>[\s\S]*cook\(&quot;soup&quot;\)[\s\S]*<\/svg>$/);
    const html = exportText('html', timeline, REPO);
    assert.ok(html.includes('<title>chefs.ts — Await Timeline</title>'));
    assert.ok(html.length > 10_000, 'the webview bundle is inlined');
    assert.throws(() => exportText('html', timeline, '/nonexistent'), /ENOENT/);
  });

  it('the panel page and the report share one strict CSP', () => {
    const page = renderWebviewHtml({ cspSource: 'vscode-webview://x', scriptUri: 'vscode-webview://x/main.js', styleUri: 'vscode-webview://x/t.css', title: 'a <b> — Timeline' }, 'NONCE');
    const csp = /content="([^"]+)"/.exec(page)?.[1];
    assert.equal(csp, "default-src 'none'; script-src 'nonce-NONCE'; style-src vscode-webview://x; img-src vscode-webview://x data:; font-src vscode-webview://x; connect-src 'none'; base-uri 'none'; form-action 'none'");
    assert.ok(page.includes('<title>a &lt;b&gt; — Timeline</title>'));
    assert.ok(page.includes('<script nonce="NONCE" src="vscode-webview://x/main.js"></script>'));
    const report = exportText('html', timeline, REPO);
    const reportCsp = /content="([^"]+)"/.exec(report)?.[1] ?? '';
    assert.equal(reportCsp.replace(/nonce-[^']+/g, 'nonce-N').replace("style-src 'nonce-N'", 'style-src S').replace('img-src data:', 'img-src I').replace('font-src data:', 'font-src F'),
      "default-src 'none'; script-src 'nonce-N'; style-src S; img-src I; font-src F; connect-src 'none'; base-uri 'none'; form-action 'none'");
  });
});
