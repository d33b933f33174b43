// The chart as a learner first sees it, in a real workbench: compact rows, a legend, a panel from
// 480 to 1400 px wide (toolbar inside the panel, labels readable), and the six built-in themes
// (WCAG contrast measured on the rendered colours), following a theme switch without a reload.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Frame } from 'playwright-core';

import { launchWorkbench, openFile, repoRoot, runCommand, screenshot, webviewFrame, type Workbench } from './codeServer';
import { runFromPalette, runningPanel, setColorTheme, sizePanel, spanBoxes, waitFor, waitForStatus, warmUp } from './timelineView';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'node');

/** What a learner could miss at this width: buttons outside the panel, labels cut short. */
async function layoutProblems(view: Frame): Promise<string[]> {
  return view.evaluate(() => {
    const w = globalThis as any;
    const problems: string[] = [];
    const width = w.innerWidth as number;
    for (const b of Array.from(w.document.querySelectorAll('.at-toolbar button, .at-toolbar input')) as any[]) {
      if (b.hidden || b.offsetParent === null) continue;
      const r = b.getBoundingClientRect();
      if (r.left < 0 || r.right > width + 0.5) problems.push(`"${b.textContent || b.placeholder}" is outside the panel (${r.left.toFixed(0)}–${r.right.toFixed(0)} of ${width})`);
    }
    w.awaitTimeline.renderNow();
    for (const { label, drawn } of w.awaitTimeline.drawnStyle().gutterLabels as { label: string; drawn: string }[]) {
      const kept = drawn.endsWith('…') ? drawn.length - 1 : drawn.length;
      if (kept < Math.min(12, label.length)) problems.push(`label "${label}" drawn as "${drawn}"`);
    }
    return problems;
  });
}

interface Rgb { r: number; g: number; b: number }

function parse(color: string): Rgb & { a: number } {
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})?$/i.exec(color.trim());
  if (hex) return { r: parseInt(hex[1]!, 16), g: parseInt(hex[2]!, 16), b: parseInt(hex[3]!, 16), a: hex[4] ? parseInt(hex[4], 16) / 255 : 1 };
  const m = /^rgba?\(([^)]+)\)$/.exec(color.trim());
  assert.ok(m, `a colour: ${color}`);
  const [r, g, b, a] = m[1]!.split(/[\s,/]+/).filter(Boolean).map(Number);
  return { r: r!, g: g!, b: b!, a: a ?? 1 };
}

/** A colour as the eye sees it over `under` (translucent theme colours are composited first). */
const over = (c: Rgb & { a: number }, under: Rgb): Rgb => ({ r: c.r * c.a + under.r * (1 - c.a), g: c.g * c.a + under.g * (1 - c.a), b: c.b * c.a + under.b * (1 - c.a) });

function contrast(x: Rgb, y: Rgb): number {
  const lum = (c: Rgb) => {
    const ch = (v: number) => (v / 255 <= 0.03928 ? v / 255 / 12.92 : Math.pow((v / 255 + 0.055) / 1.055, 2.4));
    return 0.2126 * ch(c.r) + 0.7152 * ch(c.g) + 0.0722 * ch(c.b);
  };
  const [hi, lo] = [lum(x), lum(y)].sort((a, b) => b - a);
  return (hi! + 0.05) / (lo! + 0.05);
}

/** The six built-in themes as Preferences: Color Theme lists them, and the class VS Code gives the webview's body. */
const THEMES: [label: string, bodyClass: string][] = [
  ['Light Modern', 'vscode-light'],
  ['Dark Modern', 'vscode-dark'],
  ['Light+', 'vscode-light'],
  ['Dark+', 'vscode-dark'],
  ['Dark High Contrast', 'vscode-high-contrast'],
  ['Light High Contrast', 'vscode-high-contrast-light'],
];

describe('The chart at a glance', function () {
  this.timeout(300_000);
  let wb: Workbench;

  before(async () => {
    wb = await launchWorkbench({ folder: fixtures });
    await warmUp(wb, 'nested.js');
  });
  after(async () => {
    await wb?.close();
  });

  it('two chefs with Promise.all in at most 5 rows, with a legend of what is drawn', async () => {
    const view = await runFromPalette(wb, 'chefs-promise-all.ts');
    await screenshot(wb.page, 'e2e-two-chefs-legend');
    const drawn = await spanBoxes(view);
    // A block the engine could not place in the program (line 0: start-up on a loaded machine) is
    // drawn as a row of its own; it is not one of the program's rows.
    const rows = new Set(drawn.filter((b) => !(b.kind === 'block' && b.line === 0)).map((b) => b.y));
    assert.ok(rows.size <= 5, `${rows.size} rows: ${drawn.map((b) => `${b.kind} ${b.label} :${b.line}`).join(' | ')}`);
    const legend = await view.locator('.at-legend-item').evaluateAll((items) => items.map((i: any) => i.dataset.legend as string));
    assert.ok(legend.includes('call') && legend.includes('combinator') && legend.includes('critical'), `legend: ${legend.join(', ')}`);
  });

  it('fits a panel 480 to 1400 px wide: toolbar inside it (Stop too, while running), labels readable at 520 px', async () => {
    // While it runs: Stop is there and inside the panel, at the narrowest width (a loop that never
    // ends, so resizing the window cannot outlast the run), and it stops the run.
    await runCommand(wb.page, 'View: Focus First Editor Group');
    await openFile(wb.page, 'endless.js');
    await runCommand(wb.page, 'Await Timeline: Run with Timeline');
    let view = await runningPanel(wb, 'endless.js');
    await sizePanel(wb.page, view, 480);
    const stop = view.getByRole('button', { name: 'Stop the run' });
    await stop.waitFor({ state: 'visible', timeout: 10_000 });
    const box = await stop.evaluate((b: any) => { const r = b.getBoundingClientRect(); return { left: r.left, right: r.right, width: (globalThis as any).innerWidth }; });
    assert.ok(box.left >= 0 && box.right <= box.width, `Stop inside a 480 px panel: ${JSON.stringify(box)}`);
    // The header's wall and Blocked read what the frame just drawn shows (its axis, its "blocked"
    // caption), frame after frame, while the endless loop's block grows.
    for (let i = 0; i < 5; i++) {
      const live = await view.locator('body').evaluate(() => new Promise<any>((resolve) => (globalThis as any).requestAnimationFrame(() => setTimeout(() => resolve((globalThis as any).awaitTimeline.liveFigures()), 0))));
      assert.deepEqual(live.header, live.frame, `header against the frame drawn with it: ${JSON.stringify(live)}`);
    }
    await screenshot(wb.page, 'e2e-width-480-running');
    await stop.click();
    await waitForStatus(view, ['cancelled'], 30_000);
    // The click focused the panel's group: the next file opens beside it, with the code.
    await runCommand(wb.page, 'View: Focus First Editor Group');

    view = await runFromPalette(wb, 'kinds.ts');
    for (const width of [480, 520, 800, 1400]) {
      const got = await sizePanel(wb.page, view, width);
      assert.ok(Math.abs(got - width) <= 6, `panel sized to ${width}: ${got}`);
      await new Promise((r) => setTimeout(r, 300));
      const problems = await layoutProblems(view);
      await screenshot(wb.page, `e2e-width-${width}`);
      assert.deepEqual(problems, [], `at ${width} px`);
    }
    await wb.page.setViewportSize({ width: 1400, height: 900 });
  });

  it('is readable in the six built-in themes (text 4.5:1, bars 3:1) and follows a theme switch', async () => {
    const view = await runFromPalette(wb, 'kinds.ts');
    await view.getByRole('button', { name: /^Show every span/ }).click(); // every kind, timers included
    const failures: string[] = [];
    for (const [theme, bodyClass] of THEMES) {
      await setColorTheme(wb.page, theme);
      await waitFor(`the panel in ${theme}`, () => view.evaluate((cls) => {
        const w = globalThis as any;
        const body = w.document.body.classList;
        if (!body.contains(cls) || (cls === 'vscode-high-contrast' && body.contains('vscode-high-contrast-light'))) return false;
        // The chart has read the new colours (it reads them again when the theme changes).
        const bg = w.getComputedStyle(w.document.querySelector('.at-app')).getPropertyValue('--at-bg').trim();
        return w.awaitTimeline.drawnStyle().theme.background === bg;
      }, bodyClass), 30_000);
      const seen = await view.evaluate(() => {
        const w = globalThis as any;
        const app = w.awaitTimeline;
        app.renderNow();
        const canvas = w.document.querySelector('canvas');
        const ctx = canvas.getContext('2d');
        const dpr = w.devicePixelRatio || 1;
        // (No named helper functions inside evaluate: the test's transpiler would wrap them in __name.)
        const vp = app.viewport();
        const boxes = (app.spanBoxes() as { kind: string; label: string; x: number; y: number; width: number }[]).filter((b) => b.width >= 8);
        const lastRow = Math.max(...boxes.map((b) => b.y));
        const header = w.document.querySelector('[data-stat="blocked"] dd');
        // Inside each bar (left of its text, below its top edge); below the last row right of every
        // bar (the chart's own background); the gutter beside the last row.
        const points: [number, number][] = [
          ...boxes.map((b): [number, number] => [b.x + 3, b.y + 6]),
          [vp.plotLeftCss + vp.plotWidthCss - 6, Math.min(lastRow + 22 + 12, vp.heightCss - 4)],
          [4, lastRow + 11],
        ];
        const pixels = points.map(([x, y]) => Array.from(ctx.getImageData(Math.round(x * dpr), Math.round(y * dpr), 1, 1).data).slice(0, 3) as number[]);
        return {
          theme: app.drawnStyle().theme,
          bars: boxes.map((b, i) => ({ kind: b.kind, label: b.label, fill: pixels[i]! })),
          background: pixels[boxes.length]!,
          gutter: pixels[boxes.length + 1]!,
          blockedFigure: w.getComputedStyle(header).color as string,
          pageBackground: w.getComputedStyle(w.document.body).backgroundColor as string,
        };
      });
      const toRgb = (p: number[]) => ({ r: p[0]!, g: p[1]!, b: p[2]! });
      const bg = toRgb(seen.background);
      const t = seen.theme;
      const check = (what: string, ratio: number, min: number) => {
        if (!(ratio >= min)) failures.push(`${theme}: ${what} ${ratio.toFixed(2)}:1 < ${min}:1`);
      };
      const kinds = new Set<string>();
      for (const bar of seen.bars) {
        if (kinds.has(bar.kind)) continue;
        kinds.add(bar.kind);
        const fill = toRgb(bar.fill);
        check(`${bar.kind} bar (${bar.label}) on the background`, contrast(fill, bg), 3);
        check(`text on the ${bar.kind} bar`, contrast(over(parse(t.kindText[bar.kind]), fill), fill), 4.5);
      }
      assert.ok(['call', 'await', 'combinator', 'timer', 'block'].every((k) => kinds.has(k)), `${theme}: bars of every kind drawn: ${[...kinds].join(', ')}`);
      check('axis and line-number text', contrast(over(parse(t.muted), bg), bg), 4.5);
      check('"blocked" caption', contrast(over(parse(t.blockText), bg), bg), 4.5);
      check('row labels on the gutter', contrast(over(parse(t.foreground), toRgb(seen.gutter)), toRgb(seen.gutter)), 4.5);
      const page = over(parse(seen.pageBackground), { r: 255, g: 255, b: 255 });
      check('the header\'s Blocked figure', contrast(over(parse(seen.blockedFigure), page), page), 4.5);
      await screenshot(wb.page, `e2e-theme-${theme.replace(/\+/g, 'Plus').replace(/\W+/g, '-')}`);
    }
    assert.deepEqual(failures, []);
  });
});
