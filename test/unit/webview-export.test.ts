// The SVG image and the standalone HTML report.

import assert from 'node:assert/strict';
import type { Span, Timeline } from '../../src/shared/timeline';
import { renderHtmlReport } from '../../src/engine/exportHtml';
import { renderSvg } from '../../src/engine/exportSvg';

function timeline(): Timeline {
  const spans: Span[] = [
    { id: 1, parentId: null, kind: 'call', label: 'main()', line: 10, column: 1, startMs: 0, endMs: 620, outcome: 'fulfilled' },
    { id: 2, parentId: 1, kind: 'await', label: "fetch('/weather')", line: 11, column: 20, startMs: 1, endMs: 301, outcome: 'fulfilled' },
    { id: 3, parentId: 1, kind: 'await', label: "fetch('/stock')", line: 11, column: 40, startMs: 1, endMs: 302, outcome: 'rejected' },
    { id: 4, parentId: 1, kind: 'block', label: 'while (Date.now() < end) {}', line: 13, column: 3, startMs: 305, endMs: 505, outcome: 'fulfilled' },
    { id: 5, parentId: 1, kind: 'await', label: 'a < b && "c"', line: 15, column: 3, startMs: 506, endMs: 619, outcome: 'fulfilled' },
  ];
  return {
    version: 1, file: '/tmp/two-chefs.ts', language: 'typescript', status: 'completed', exitCode: 0, wallMs: 620,
    error: null, spans, marks: [{ kind: 'log', text: '</script><b>done</b>', atMs: 600 }], droppedSpans: 0,
    stats: { wallMs: 620, awaitedMs: 414, blockedMs: 200, maxConcurrency: 2 },
  };
}

describe('webview exports', () => {
  it('SVG shows every span label as text, escaped, with one bar per span', () => {
    const svg = renderSvg(timeline());
    assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
    for (const label of ['main()', "fetch('/weather')", "fetch('/stock')", 'while (Date.now() &lt; end) {}']) {
      assert.ok(svg.includes(`>${label.replace(/'/g, '&apos;')}`), `label ${label} missing`);
    }
    assert.ok(svg.includes('a &lt; b &amp;&amp; &quot;c&quot;'));
    assert.ok(!svg.includes('a < b'), 'raw text must be escaped');
    assert.equal((svg.match(/<g><title>/g) ?? []).length, 5);
    assert.ok(svg.includes('blocked 200 ms'));
    assert.ok(svg.includes('max concurrency 2'));
  });

  it('SVG caps the rows it draws and says how many it left out', () => {
    const t = timeline();
    for (let i = 0; i < 50; i++) t.spans.push({ id: 100 + i, parentId: null, kind: 'await', label: `job${i}`, line: 30, column: 1, startMs: i, endMs: i + 100, outcome: 'fulfilled' });
    const svg = renderSvg(t, { maxRows: 10 });
    assert.ok(svg.includes('more rows not shown'));
  });

  it('HTML report is one offline file with a strict, nonce-based CSP and the timeline embedded safely', () => {
    const html = renderHtmlReport(timeline(), 'console.log("bundle </script> end");\n//# sourceMappingURL=main.js.map', 'body { color: red }');
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1] ?? '';
    assert.match(csp, /default-src 'none'/);
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    assert.ok(nonce && nonce.length >= 16);
    assert.ok(!csp.includes('unsafe-inline') && !csp.includes('unsafe-eval'));
    assert.ok(html.includes(`<script nonce="${nonce}">`) && html.includes(`<style nonce="${nonce}">`));
    assert.equal((html.match(/<\/script>/g) ?? []).length, 2, 'only the two script elements close');
    assert.ok(!/\b(src|href)=/.test(html), 'nothing is loaded from outside');
    assert.ok(!html.includes('sourceMappingURL'));
    const json = /<script type="application\/json" id="timeline">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
    assert.deepEqual(JSON.parse(json), timeline());
    const other = renderHtmlReport(timeline(), '', '');
    assert.notEqual(/nonce-([^']+)/.exec(other)?.[1], nonce, 'a fresh nonce each time');
  });
});
