// The exports seen as a user sees them: the CLI's HTML report opened in headless Chromium (bars drawn
// where the spans are, the table view listing the same spans, no network requests), and the SVG
// drawing the same spans as the JSON. Chromium: $AWAIT_TIMELINE_CHROMIUM or /usr/bin/chromium; when
// it is missing the browser test fails, unless AWAIT_TIMELINE_SKIP_BROWSER=1 says to skip it.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

import { chromium, type BrowserContext } from 'playwright-core';

import { formatDuration } from '../../src/shared/format';
import { compactSpans } from '../../src/shared/chart/compact';
import type { Span, Timeline } from '../../src/shared/timeline';
import { bigTimeline, cli, FIXTURES, REPO } from './helpers';
import { htmlReportFrom } from '../../src/engine/exportHtml';

const CHROMIUM = process.env.AWAIT_TIMELINE_CHROMIUM || '/usr/bin/chromium';
const SKIP_BROWSER = process.env.AWAIT_TIMELINE_SKIP_BROWSER === '1';
const RESULTS = path.join(REPO, 'test-results');

describe('exports seen as a user sees them', function () {
  this.timeout(40_000);
  let dir: string;
  let timeline: Timeline;
  /** The spans the chart draws by default: the run's spans compacted (src/shared/chart/compact.ts). */
  let shown: Span[];
  let html: string;
  let svg: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awtl-report-'));
    html = path.join(dir, 'report.html');
    svg = path.join(dir, 'chart.svg');
    const json = path.join(dir, 'run.json');
    // The report of a run compared with a baseline: the run's own bars, and the baseline's too.
    const baseline = path.join(dir, 'baseline.json');
    const b = cli(['run', path.join(FIXTURES, 'node', 'compare-sequential.ts'), '--json', baseline, '--no-color']);
    assert.equal(b.status, 0, b.stderr);
    const r = cli(['run', path.join(FIXTURES, 'node', 'compare-parallel.ts'), '--baseline', baseline, '--json', json, '--html', html, '--svg', svg, '--no-color']);
    assert.equal(r.status, 0, r.stderr);
    timeline = JSON.parse(fs.readFileSync(json, 'utf8')) as Timeline;
    assert.ok(timeline.spans.length >= 8, `a real run with spans: ${timeline.spans.length}`);
    shown = compactSpans(timeline.spans, timeline.spans.reduce((m, x) => Math.max(m, x.endMs ?? x.startMs), timeline.wallMs)).spans;
    assert.ok(shown.length < timeline.spans.length, `compaction folds some spans: ${shown.length} of ${timeline.spans.length}`);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the HTML report draws every span offline, as bars and in its table', async function () {
    if (!fs.existsSync(CHROMIUM)) {
      if (SKIP_BROWSER) this.skip();
      assert.fail(`no Chromium at ${CHROMIUM}: install it (apt-get install chromium), point AWAIT_TIMELINE_CHROMIUM at one, or set AWAIT_TIMELINE_SKIP_BROWSER=1`);
    }
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'awtl-chromium-'));
    let context: BrowserContext | undefined;
    try {
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
        viewport: { width: 1100, height: 640 },
        env: { ...process.env, XDG_CONFIG_HOME: path.join(profile, 'xdg-config'), XDG_CACHE_HOME: path.join(profile, 'xdg-cache') },
      });
      const page = await context.newPage();
      const requests: string[] = [];
      const errors: string[] = [];
      page.on('request', (req) => requests.push(req.url()));
      page.on('pageerror', (err) => errors.push(String(err)));
      page.on('console', (msg) => msg.type() === 'error' && errors.push(msg.text()));
      await page.goto(pathToFileURL(html).href);
      await page.waitForFunction(() => (globalThis as any).awaitTimeline !== undefined);

      // Bars: one box per span, each painted in its kind's colour where the box says.
      const drawn = await page.evaluate(() => {
        // Runs in the page; the test project has no DOM types.
        const w = globalThis as any;
        const app = w.awaitTimeline;
        app.renderNow();
        const ctx = w.document.querySelector('canvas').getContext('2d');
        const dpr = w.devicePixelRatio || 1;
        const style = w.getComputedStyle(w.document.querySelector('.at-app'));
        const boxes = app.spanBoxes() as { id: number; kind: string; x: number; y: number; width: number; height: number }[];
        return boxes.map((b) => {
          // Inside the bar, left of its label text and below its top edge (the bar is inset by 3 px).
          const [r, g, bl] = ctx.getImageData(Math.round((b.x + 3) * dpr), Math.round((b.y + 6) * dpr), 1, 1).data;
          return { ...b, pixel: [r, g, bl], expected: style.getPropertyValue(`--at-${b.kind}`).trim() };
        });
      });
      const ids = (spans: { id: number }[]) => spans.map((s) => s.id).sort((a, b) => a - b);
      assert.deepEqual(ids(drawn), ids(shown), 'a bar for every span the chart shows');
      let checked = 0;
      for (const box of drawn) {
        if (box.width < 6) continue;
        const [r, g, b] = hex(box.expected);
        const [pr, pg, pb] = box.pixel;
        assert.ok(Math.abs(pr - r) + Math.abs(pg - g) + Math.abs(pb - b) <= 24, `span ${box.id} (${box.kind}) at x ${box.x.toFixed(0)}: pixel rgb(${box.pixel}) is not ${box.expected}`);
        checked++;
      }
      assert.ok(checked > drawn.length / 2, `most bars are wide enough to sample: ${checked} of ${drawn.length}`);
      // Bars sit where their times say: same scale for all, start order kept.
      const byId = new Map(shown.map((s) => [s.id, s]));
      const wide = drawn.filter((b) => b.width >= 6);
      const scale = wide.map((b) => b.width / duration(byId.get(b.id)!));
      for (const s of scale) assert.ok(Math.abs(s - scale[0]) / scale[0] < 0.05, `one scale for all bars: ${scale.map((x) => x.toFixed(3)).join(', ')}`);
      for (const b of drawn) {
        const s = byId.get(b.id)!;
        assert.ok(Math.abs(b.x - (drawn[0].x + (s.startMs - byId.get(drawn[0].id)!.startMs) * scale[0])) < 2, `span ${b.id} starts at its time`);
      }
      await page.screenshot({ path: path.join(RESULTS, 'report-browser.png') });

      // The baseline: its wall change in the header, and where pasta cooked then, a faint box in
      // pasta's row past the end of today's bar (in the baseline it waited for the soup).
      const comparison = timeline.comparison!;
      assert.equal(await page.locator('[data-stat="baseline"] dd').textContent(), comparison.wallText);
      const pasta = comparison.sites.find((x) => x.label === 'cook("pasta")' && x.match === 'label')!;
      assert.ok(pasta, 'pasta paired by label');
      // (No helper functions inside evaluate: the test's transpiler would wrap them in __name.)
      const ghost = await page.evaluate(([from, to]) => {
        const w = globalThis as any;
        const app = w.awaitTimeline;
        const vp = app.viewport();
        const dpr = w.devicePixelRatio || 1;
        const box = app.spanBoxes().find((b: any) => b.label === 'cook("pasta")');
        const ctx = w.document.querySelector('canvas').getContext('2d');
        const y = Math.round((box.y + 8) * dpr);
        const xIn = vp.plotLeftCss + ((from + to) / 2 - vp.startMs) / vp.msPerCssPx;
        const xPast = vp.plotLeftCss + (to - vp.startMs) / vp.msPerCssPx + 3;
        const style = w.getComputedStyle(w.document.querySelector('.at-app'));
        return {
          inGhost: [...ctx.getImageData(Math.round(xIn * dpr), y, 1, 1).data].slice(0, 3) as number[],
          pastGhost: [...ctx.getImageData(Math.round(xPast * dpr), y, 1, 1).data].slice(0, 3) as number[],
          xIn, xPast, barEnd: box.x + box.width,
          bg: style.getPropertyValue('--at-bg').trim() as string,
          kind: style.getPropertyValue('--at-call').trim() as string,
        };
      }, [Math.max(pasta.baseline!.firstStartMs, pasta.current!.firstStartMs + pasta.current!.totalMs + 2), pasta.baseline!.firstStartMs + pasta.baseline!.totalMs] as const);
      const dist = (a: number[], b: number[]) => Math.abs(a[0] - b[0]) + Math.abs(a[1] - b[1]) + Math.abs(a[2] - b[2]);
      assert.ok(dist(ghost.inGhost, hex(ghost.bg)) > 30 && dist(ghost.inGhost, hex(ghost.kind)) > 30, `a faint box, neither background nor a bar: ${JSON.stringify(ghost)}`);
      assert.ok(dist(ghost.pastGhost, hex(ghost.bg)) < 12, `background after the baseline's end: ${JSON.stringify(ghost)}`);

      // The table view lists the same spans with the same durations.
      await page.getByRole('button', { name: /table/i }).click();
      // The table fills on the panel's next frame, as the chart draws (on a busy machine that
      // frame can come well after the click returns).
      await page.locator('table.at-table tbody tr').first().waitFor({ timeout: 10_000 });
      const rows = await page.locator('table.at-table tbody tr').evaluateAll((trs) =>
        trs.map((tr: any) => Array.from(tr.querySelectorAll('td') as ArrayLike<{ textContent: string | null }>).map((td) => (td.textContent ?? '').trim())),
      );
      const expected = shown.map((s) => `${s.label} | ${s.kind} | ${s.line} | ${formatDuration(duration(s))}`).sort();
      assert.deepEqual(rows.map(([label, kind, line, , dur]) => `${label} | ${kind} | ${line} | ${dur}`).sort(), expected);
      // Its last column says what changed against the baseline (the accessible form of the ghosts).
      const pastaRow = rows.find(([label]) => label === 'cook("pasta")')!;
      assert.match(pastaRow[6] ?? '', /^was [\d.]+ ms, from [\d.]+ ms \(line 4\); .*starts [\d.]+ ms earlier$/, `pasta's vs baseline cell: ${pastaRow.join(' | ')}`);
      assert.equal(rows.find(([label, kind]) => kind === 'combinator')?.[6], 'new');
      await page.screenshot({ path: path.join(RESULTS, 'report-browser-table.png') });

      assert.deepEqual(errors, [], 'no errors on the page');
      const remote = requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'));
      assert.deepEqual(remote, [], 'the report makes no network requests');
    } finally {
      await context?.close();
      fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    }
  });

  it('a report of a large run unpacks its spans in the page: the header first, then every span', async function () {
    if (!fs.existsSync(CHROMIUM)) {
      if (SKIP_BROWSER) this.skip();
      assert.fail(`no Chromium at ${CHROMIUM}`);
    }
    const big = bigTimeline(30_000);
    const file = path.join(dir, 'big.html');
    fs.writeFileSync(file, htmlReportFrom(REPO, big));
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'awtl-chromium-'));
    let context: BrowserContext | undefined;
    try {
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
        viewport: { width: 1100, height: 640 },
        env: { ...process.env, XDG_CONFIG_HOME: path.join(profile, 'xdg-config'), XDG_CACHE_HOME: path.join(profile, 'xdg-cache') },
      });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(String(err)));
      page.on('console', (msg) => msg.type() === 'error' && errors.push(msg.text()));
      await page.goto(pathToFileURL(file).href);
      await page.waitForFunction(() => (globalThis as any).document.querySelector('[data-stat="spans"] dd')?.textContent === '30,000', undefined, { timeout: 20_000 });
      assert.deepEqual(errors, []);
      const drawn = await page.evaluate(() => {
        const app = (globalThis as any).awaitTimeline;
        app.renderNow();
        return app.spanBoxes().length as number;
      });
      assert.ok(drawn > 0, 'bars drawn');
      await page.screenshot({ path: path.join(RESULTS, 'report-browser-packed.png') });
    } finally {
      await context?.close();
      fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    }
  });

  it('a run whose timeline is incomplete says so in the header: a badge whose tooltip says why, and the reason in words', async function () {
    if (!fs.existsSync(CHROMIUM)) {
      if (SKIP_BROWSER) this.skip();
      assert.fail(`no Chromium at ${CHROMIUM}`);
    }
    // A program that writes forged frames to the tool's channel (test/fixtures/node/hostile).
    const file = path.join(dir, 'incomplete.html');
    const json = path.join(dir, 'incomplete.json');
    cli(['run', path.join(FIXTURES, 'node', 'hostile', 'forge.js'), '--json', json, '--html', file, '--no-color', '--', 'spans']);
    const reason = (JSON.parse(fs.readFileSync(json, 'utf8')) as Timeline).incomplete;
    assert.equal(reason, "the program closed or wrote to the tool's channel");
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'awtl-chromium-'));
    let context: BrowserContext | undefined;
    try {
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
        env: { ...process.env, XDG_CONFIG_HOME: path.join(profile, 'xdg-config'), XDG_CACHE_HOME: path.join(profile, 'xdg-cache') },
      });
      const page = await context.newPage();
      for (const [width, scheme] of [[480, 'light'], [1100, 'dark']] as const) {
        await page.setViewportSize({ width, height: 360 });
        await page.emulateMedia({ colorScheme: scheme });
        await page.goto(pathToFileURL(file).href);
        await page.waitForFunction(() => (globalThis as any).awaitTimeline !== undefined);
        const badge = page.locator('[data-badge="incomplete"]');
        assert.equal(await badge.isVisible(), true, `the badge shows at ${width} px`);
        assert.equal(await badge.textContent(), 'Incomplete');
        assert.match((await badge.getAttribute('title')) ?? '', new RegExp(`^Timeline incomplete: ${reason}\\.`));
        assert.equal(await page.locator('.at-error').textContent(), `Timeline incomplete: ${reason}.`);
        await page.screenshot({ path: path.join(RESULTS, `report-incomplete-${width}-${scheme}.png`) });
      }
    } finally {
      await context?.close();
      fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    }
  });

  it('the SVG draws the same spans as the JSON: labels as text, bars to scale', () => {
    const text = fs.readFileSync(svg, 'utf8');
    // One <g> per drawn run; in this small run every span is its own bar with a <title>.
    const bars = [...text.matchAll(/<g><title>([^<]*)<\/title><rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)"/g)].map((m) => ({
      title: unescapeXml(m[1]), x: Number(m[2]), y: Number(m[3]), width: Number(m[4]),
    }));
    assert.equal(bars.length, shown.length, 'a bar per span the chart shows');
    // The time axis: tick lines with their labels give where 0 is and how many px a ms is.
    const ticks = [...text.matchAll(/<line x1="([\d.]+)" y1="[\d.]+" x2="\1" y2="[\d.]+" stroke="[^"]+"\/>\n<text [^>]*>([^<]+)<\/text>/g)]
      .map((m) => ({ x: Number(m[1]), ms: parseTickMs(m[2]) }));
    assert.ok(ticks.length >= 3 && ticks[0].ms === 0, `axis ticks: ${JSON.stringify(ticks)}`);
    const pxPerMs = (ticks[ticks.length - 1].x - ticks[0].x) / ticks[ticks.length - 1].ms;
    const x = (ms: number) => ticks[0].x + ms * pxPerMs;
    // Each span has its own bar: same text, at its start, as long as it lasted (to 0.01 px rounding).
    const used = new Set<number>();
    for (const span of shown) {
      const title = `${span.label} · ${formatDuration(duration(span))} · ${span.outcome} · line ${span.line}`;
      const i = bars.findIndex((b, j) => !used.has(j) && b.title === title && Math.abs(b.x - x(span.startMs)) < 0.05 &&
        Math.abs(b.width - Math.max(1, x(span.startMs + duration(span)) - x(span.startMs))) < 0.05);
      assert.ok(i >= 0, `a bar "${title}" at x ${x(span.startMs).toFixed(2)}, ${(duration(span) * pxPerMs).toFixed(2)} wide: ${JSON.stringify(bars.filter((b) => b.title === title))}`);
      used.add(i);
    }
    // Every label is text in the image, not pixels.
    for (const s of shown) assert.ok(text.includes(`>${escapeXml(s.label)}<`) || text.includes(`>${escapeXml(s.label)} `), `label ${s.label} as <text>`);
  });
});

/** "0", "20 ms", "1.50 s", "500 µs" → ms. */
function parseTickMs(label: string): number {
  const m = /^([\d.]+)\s*(µs|ms|s)?$/.exec(label.trim());
  assert.ok(m, `a tick label: ${label}`);
  return Number(m[1]) * (m[2] === 's' ? 1000 : m[2] === 'µs' ? 0.001 : 1);
}

const duration = (s: Span) => (s.endMs ?? s.startMs) - s.startMs;

function hex(color: string): [number, number, number] {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
  assert.ok(m, `a hex colour: ${color}`);
  return [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)];
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos);/g, (_, e: string) => ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" })[e] as string);
}
