// "Run with Timeline" end to end in a real VS Code workbench (code-server in chromium): the palette
// command, live bars in the webview, hover, click to the line, Stop, and a window reload.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import {
  cursorPosition,
  launchWorkbench,
  openFile,
  reloadWindow,
  repoRoot,
  runCommand,
  screenshot,
  webviewFrame,
  type Workbench,
} from './codeServer';
import { panelStatus, pointOn, runFromPalette, spanBoxes, waitFor, waitForStatus, warmUp, type Box } from './timelineView';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'node');

const status = panelStatus;
const boxes = spanBoxes;
const runFixture = runFromPalette;
const overlaps = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width;

describe('Run with Timeline in VS Code', function () {
  this.timeout(180_000);
  let wb: Workbench;

  before(async () => {
    wb = await launchWorkbench({ folder: fixtures });
    await warmUp(wb, 'nested.js');
  });
  after(async () => {
    await wb?.close();
  });

  it('draws two chefs with Promise.all in at most 5 rows, two overlapping bars; All spans shows every span', async () => {
    const view = await runFixture(wb, 'chefs-promise-all.ts');
    const drawn = await boxes(view);
    const rows = new Set(drawn.map((b) => b.y));
    assert.ok(rows.size <= 5, `at most 5 rows: ${drawn.map((b) => b.label).join(' | ')}`);
    const cooks = drawn.filter((b) => b.label.startsWith('cook('));
    assert.equal(cooks.length, 2, `a bar per cook: ${JSON.stringify(drawn)}`);
    assert.ok(overlaps(cooks[0]!, cooks[1]!), `the two cooks overlap on the chart: ${JSON.stringify(cooks)}`);
    assert.ok(cooks.every((c) => c.includes.includes('await sleep(300)')), `each cook's row stands for its wait: ${JSON.stringify(cooks)}`);
    await screenshot(wb.page, 'e2e-promise-all');

    await view.getByRole('button', { name: /^Show every span/ }).click();
    const sleeps = await waitFor('every span drawn', async () => {
      const found = (await boxes(view)).filter((b) => b.kind === 'await' && b.label === 'sleep(300)');
      return found.length === 2 ? found : undefined;
    }, 10_000);
    assert.ok(overlaps(sleeps[0]!, sleeps[1]!), `the two sleeps overlap on the chart: ${JSON.stringify(sleeps)}`);
    await screenshot(wb.page, 'e2e-promise-all-every-span');
    await view.getByRole('button', { name: /^Show every span/ }).click();
    await waitFor('compact rows again', async () => (await boxes(view)).every((b) => b.label !== 'sleep(300)'), 10_000);
  });

  it('shows a tooltip on hover and moves the cursor to the line of a clicked bar', async () => {
    const view = await webviewFrame(wb.page, { has: 'canvas' });
    const call = (await boxes(view)).find((b) => b.kind === 'call' && b.label.startsWith('cook('));
    assert.ok(call, 'a cook(...) call bar is drawn');
    const p = await pointOn(view, call);
    await wb.page.mouse.move(p.x, p.y);
    const tooltip = view.locator('.at-tooltip');
    await tooltip.waitFor({ state: 'visible', timeout: 5000 });
    const text = await tooltip.innerText();
    assert.match(text, /cook\(/, 'the tooltip names the span');
    assert.match(text, new RegExp(`chefs-promise-all\\.ts:${call.line}`), 'the tooltip gives file:line');
    await screenshot(wb.page, 'e2e-hover');

    await wb.page.mouse.click(p.x, p.y);
    const deadline = Date.now() + 10_000;
    let position = await cursorPosition(wb.page);
    while (position?.line !== call.line && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      position = await cursorPosition(wb.page);
    }
    assert.equal(position?.line, call.line, 'the editor selected the clicked span\'s line');
    // The cursor is on that line now: the panel highlights that line's spans, and only those.
    const highlighted = await waitFor('the cursor line highlighted', async () => {
      const marked = (await boxes(view)).filter((b) => b.cursor);
      return marked.length ? marked : undefined;
    }, 10_000);
    assert.ok(highlighted.every((b) => b.line === call.line), JSON.stringify(highlighted));
    assert.ok(highlighted.some((b) => b.id === call.id));
  });

  it('draws spans while the run goes, more as it goes on', async () => {
    // The code in the first group, the panel beside it where it is (the click above focused the
    // panel's group: a file opened there would be run from the panel's column and the panel would
    // move beside it).
    await runCommand(wb.page, 'View: Focus First Editor Group');
    await openFile(wb.page, 'slow-steps.mjs');
    // Sampled in the panel's page every 50 ms, from before the run starts: finding the running panel
    // from the test takes round trips that, on a busy machine, last longer than this 2.4 s run (it
    // was seen to start and end between two looks). The page that draws the run is the one already
    // open: a page loaded anew would lose the samples, and that is a failure too.
    const view = await webviewFrame(wb.page, { has: 'canvas' });
    await view.evaluate(() => {
      const g = globalThis as any;
      g.__samples = [];
      g.__sampler = setInterval(() => {
        const status = g.document.querySelector('[data-status]')?.dataset.status;
        const n = g.awaitTimeline.spanBoxes().filter((b: { label: string }) => b.label === 'await sleep(400)').length;
        // (The run's file and state as the page holds them: the header's status follows at the next frame.)
        g.__samples.push([g.awaitTimeline.model.file, status, n, g.awaitTimeline.model.status]);
      }, 50);
    });
    await runCommand(wb.page, 'Await Timeline: Run with Timeline');
    await waitFor('slow-steps.mjs\'s run to end in the page that was open', () => view.evaluate(() => {
      const s = (globalThis as any).__samples as Array<[string, string, number, string]> | undefined;
      return s?.some(([file, status, , held]) => file === 'slow-steps.mjs' && held === 'completed' && status === 'completed');
    }), 30_000);
    const samples = (await view.evaluate(() => {
      const g = globalThis as any;
      clearInterval(g.__sampler);
      return g.__samples as Array<[string, string, number, string]>;
    })).filter(([file]) => file === 'slow-steps.mjs');
    const counts = samples.filter(([, s]) => s === 'running').map(([, , n]) => n);
    const trace = samples.map(([, s, n]) => `${s[0]}${n}`).join(' ');
    assert.ok(counts.length > 0, `sampled while it ran: ${trace}`);
    // Never fewer bars than a moment before, up to the end (the final state replaces the streamed
    // spans: the chart must not go blank for a frame then).
    for (let i = 1; i < samples.length; i++) assert.ok(samples[i]![2] >= samples[i - 1]![2], `the bars drawn never went down: ${trace}`);
    assert.ok(new Set(counts.filter((n) => n > 0)).size >= 2, `bars were drawn before the run ended, more as it went on: ${trace}`);
    assert.equal((await boxes(view)).filter((b) => b.label === 'await sleep(400)').length, 6);
    await screenshot(wb.page, 'e2e-live');
  });

  it('draws the busy-wait as two blocking bars, one after the other', async () => {
    const view = await runFixture(wb, 'chefs-busy.ts', ['completed']);
    const blocks = (await boxes(view)).filter((b) => b.kind === 'block').sort((a, b) => a.x - b.x);
    assert.equal(blocks.length, 2, `two block bars: ${JSON.stringify(blocks)}`);
    assert.ok(blocks[1]!.x >= blocks[0]!.x + blocks[0]!.width - 2, `the second block starts after the first ends: ${JSON.stringify(blocks)}`);
    assert.match(blocks[0]!.label, /for \(let u = \{ user: 0, system: 0 \}; u\.user \+ u\.system < ms \* 1000/, 'the block is labelled with the spinning line');
    await screenshot(wb.page, 'e2e-busy-wait');
  });

  it('stops an endless loop and keeps what it recorded', async () => {
    await openFile(wb.page, 'endless.js');
    await runCommand(wb.page, 'Await Timeline: Run with Timeline');
    const view = await webviewFrame(wb.page, { title: 'endless.js — Timeline', has: 'canvas' });
    await waitForStatus(view, ['running']);
    // While it runs, the status bar shows the file and the elapsed time, with a stop action.
    const item = wb.page.locator('.statusbar-item', { hasText: 'endless.js' }).first();
    await item.waitFor({ state: 'visible', timeout: 10_000 });
    assert.match(await item.innerText(), /endless\.js \d+\.\d s/);
    await new Promise((r) => setTimeout(r, 1500));
    await runCommand(wb.page, 'Await Timeline: Stop');
    const ended = await waitForStatus(view, ['cancelled'], 20_000);
    assert.equal(ended, 'cancelled');
    const blocks = (await boxes(view)).filter((b) => b.kind === 'block');
    assert.ok(blocks.length >= 1, 'the loop shows as a block');
    await screenshot(wb.page, 'e2e-stopped');
  });

  it('brings the panel back with the last timeline after a window reload', async () => {
    await reloadWindow(wb.page);
    const view = await webviewFrame(wb.page, { title: 'endless.js — Timeline', has: 'canvas', timeoutMs: 60_000 });
    const deadline = Date.now() + 20_000;
    let drawn: Box[] = [];
    while (Date.now() < deadline) {
      drawn = await boxes(view).catch(() => []);
      if (drawn.some((b) => b.kind === 'block')) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(drawn.some((b) => b.kind === 'block'), 'the restored panel draws the last run');
    await screenshot(wb.page, 'e2e-after-reload');
  });
});

describe('Run with Timeline in an untrusted workspace', function () {
  this.timeout(180_000);
  let wb: Workbench;

  before(async () => {
    wb = await launchWorkbench({ folder: fixtures, workspaceTrust: true });
  });
  after(async () => {
    await wb?.close();
  });

  it('does not run, and says why', async () => {
    await openFile(wb.page, 'chefs-promise-all.ts');
    await runCommand(wb.page, 'Await Timeline: Run with Timeline');
    // The workbench may keep the warning in the notification centre instead of a toast: open it.
    await runCommand(wb.page, 'Notifications: Show Notifications');
    const note = wb.page.locator('.notifications-center .notification-list-item', { hasText: 'disabled in an untrusted workspace' }).first();
    await note.waitFor({ state: 'visible', timeout: 20_000 });
    assert.equal(await note.locator('.monaco-button', { hasText: 'Manage Workspace Trust' }).count(), 1, 'it offers the way out');
    assert.equal(await wb.page.locator('.tabs-container .tab', { hasText: 'Timeline' }).count(), 0, 'no timeline panel opened');
    await screenshot(wb.page, 'e2e-untrusted');
  });
});
