// The panel never covers the code being run: a file opened in the panel's own column runs with the
// panel moved to the group next to it (no third column), the code stays in view, and the run draws
// live all the same, to the last span the CLI records for the same program. The workshop's solution
// opens as a diff in the learner's column, beside the chart, not over it nor in a third column.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Frame, Page } from 'playwright-core';

import { launchWorkbench, openFile, repoRoot, runCommand, screenshot, webviewFrame, type Workbench } from './codeServer';
import { sizePanel, spanBoxes, waitFor, warmUp } from './timelineView';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'node');

/** Per editor group, left to right: its active tab's label and where the group is on the page. */
async function groups(page: Page): Promise<{ active: string; left: number; width: number; code: boolean }[]> {
  return page.evaluate(() => {
    const d = (globalThis as any).document;
    return (Array.from(d.querySelectorAll('.part.editor .editor-group-container')) as any[])
      .map((g) => {
        const r = g.getBoundingClientRect();
        return {
          active: (g.querySelector('.tab.active')?.getAttribute('aria-label') ?? '') as string,
          left: r.left as number,
          width: r.width as number,
          // The group shows a text editor with rendered lines (not a webview).
          code: !!g.querySelector('.monaco-editor .view-lines .view-line'),
        };
      })
      .sort((a, b) => a.left - b.left);
  });
}

/** The spans the CLI records for a file, with the kinds a run always has (blocks depend on the machine's load). */
function cliSpans(file: string): number {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'at-beside-')), 'run.json');
  execFileSync(process.execPath, [path.join(repoRoot, 'dist', 'cli.js'), 'run', file, '--json', out], { stdio: 'ignore' });
  const t = JSON.parse(fs.readFileSync(out, 'utf8')) as { spans: { kind: string }[] };
  return t.spans.filter((s) => s.kind !== 'block').length;
}

const FILE = 'long-steps.mjs';
const TITLE = `${FILE} — Timeline`;

/** What the panel's page received, as it handled it: when, and how many spans its model held then. */
interface Received { t: number; type: string; file: string; status: string; spans: number }

/**
 * Listens to the panel's page from now on: every message the host sends it, logged after the page
 * has handled it. The log lives in the page, so it is gone if VS Code loads the page anew.
 */
async function listen(view: Frame): Promise<void> {
  await view.evaluate(() => {
    const w = globalThis as any;
    if (w.__received) return;
    w.__received = [];
    w.addEventListener('message', (e: any) => {
      const app = w.awaitTimeline;
      w.__received.push({ t: Date.now(), type: String(e.data?.type), file: app.model.file, status: app.model.status, spans: app.model.store.spanCount });
    });
  });
}

/** The log since `listen`, or undefined when this page is not the one that listened (loaded anew). */
function received(view: Frame): Promise<Received[] | undefined> {
  return view.evaluate(() => (globalThis as any).__received);
}

/** The panel once it shows this run, ended. */
async function ended(wb: Workbench): Promise<Frame> {
  const view = await waitFor(`${FILE}'s run to end in the panel`, async () => {
    const v = await webviewFrame(wb.page, { title: TITLE, has: 'canvas', timeoutMs: 5000 });
    const s = await v.evaluate((file) => { const m = (globalThis as any).awaitTimeline.model; return m.file === file ? m.status as string : undefined; }, FILE);
    return s === 'completed' ? v : undefined;
  }, 60_000);
  return view;
}

/**
 * The page drew the run as it went, on one page: the log it started before the run is still there
 * (VS Code did not load it anew, which would have started the drawing over from a replay), the
 * run was reset once while it ran, and its spans arrived in several messages while it ran, never fewer.
 */
function assertDrawnLive(log: Received[] | undefined, since: number): Received[] {
  assert.ok(log, 'the panel kept its page (a page loaded anew would have had to start the drawing over)');
  const run = log.filter((r) => r.t >= since && r.file === FILE);
  // (The final timeline replaces what was streamed with a reset of its own once the run has
  // ended: that one is followed by no 'running' status.)
  const streamed = run.filter((r, i) => r.type === 'reset' && run.slice(i + 1).some((q) => q.type === 'status' && q.status === 'running'));
  assert.equal(streamed.length, 1, `the run was reset once while it ran: ${run.map((r) => `${r.type}:${r.status}`).join(',')}`);
  const final = run.findIndex((r) => r.type === 'reset' && !streamed.includes(r));
  const running = (final < 0 ? run : run.slice(0, final)).filter((r) => r.status === 'running' && r.type === 'append');
  const counts = running.map((r) => r.spans);
  assert.ok(running.length >= 3, `spans arrived in several messages while it ran: ${counts.join(',')}`);
  for (let i = 1; i < counts.length; i++) assert.ok(counts[i]! >= counts[i - 1]!, `no span lost while it ran: ${counts.join(',')}`);
  return running;
}

let cliCount: number | undefined;

/** Every span the panel holds is one the CLI records for the same program, and none is missing. */
async function assertWholeRun(view: Frame): Promise<void> {
  const inPanel = await view.evaluate(() => {
    const spans = [...(globalThis as any).awaitTimeline.model.store.spans()] as { kind: string }[];
    return spans.filter((s) => s.kind !== 'block').length;
  });
  cliCount ??= cliSpans(path.join(fixtures, FILE));
  assert.equal(inPanel, cliCount, 'the panel holds as many spans as the CLI records');
  assert.equal((await spanBoxes(view)).filter((b) => b.label === 'await sleep(400)').length, 15, 'the fifteen awaits are drawn');
}

describe('The panel beside the code being run', function () {
  this.timeout(240_000);
  let wb: Workbench;

  before(async () => {
    wb = await launchWorkbench({ folder: fixtures });
    await warmUp(wb, 'nested.js');
  });
  after(async () => {
    await wb?.close();
  });

  it('moves out of the column of the file being run to the other one open, keeps the code visible, and draws the whole run live', async () => {
    // The panel is in the second group, beside nested.js.
    await listen(await webviewFrame(wb.page, { title: 'nested.js — Timeline', has: 'canvas' }));
    // Open the file to run in the panel's group: the panel goes behind it.
    await runCommand(wb.page, 'View: Focus First Editor Group');
    await runCommand(wb.page, 'View: Focus Right Editor Group');
    await openFile(wb.page, FILE);
    const before = await groups(wb.page);
    assert.equal(before.length, 2, `two groups: ${JSON.stringify(before)}`);
    assert.ok(before[1]!.active.startsWith(`${FILE},`), `the file opened in the panel's group: ${JSON.stringify(before)}`);

    const t0 = Date.now();
    await runCommand(wb.page, 'Await Timeline: Run with Timeline');
    const view = await ended(wb);
    const after = await groups(wb.page);
    const code = after.find((g) => g.active.startsWith(`${FILE},`));
    const panel = after.find((g) => g.active.startsWith(TITLE));
    assert.ok(code?.code, `the code is still shown: ${JSON.stringify(after)}`);
    assert.ok(panel && panel !== code, `the panel is in another column: ${JSON.stringify(after)}`);
    // The code was in the last group: the panel takes the one on its left rather than squeezing the
    // window into three columns (at 1400 px that left the panel about 340 px wide).
    assert.equal(after.length, 2, `still two columns: ${JSON.stringify(after)}`);
    assert.ok(panel.width >= 480, `the panel keeps a column it is built for: ${JSON.stringify(after)}`);
    assertDrawnLive(await received(view), t0);
    await assertWholeRun(view);
    const width = await sizePanel(wb.page, view, 520);
    await wb.page.mouse.move(code.left + code.width / 2, 700); // no tooltip over the panel
    await screenshot(wb.page, `e2e-beside-${width}`);
    await wb.page.setViewportSize({ width: 1400, height: 900 });

    // The moved panel is a kept tab, as it was created: a file opened in its group with a single
    // click (a preview) does not replace it (VS Code moves a webview as a preview tab).
    const panelTab = wb.page.locator('.tabs-container .tab', { hasText: TITLE }).first();
    await panelTab.click();
    await wb.page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'ordering.js' }).first().click();
    await wb.page.locator('.tabs-container .tab.active', { hasText: 'ordering.js' }).first().waitFor({ state: 'visible', timeout: 20_000 });
    assert.equal(await wb.page.locator('.tabs-container .tab', { hasText: TITLE }).count(), 1, 'the chart is still open beside ordering.js');
    await panelTab.click();
  });

  it('keeps drawing when the panel is moved to another group while the run goes on', async () => {
    const view = await webviewFrame(wb.page, { title: TITLE, has: 'canvas' });
    await listen(view);
    const panelLeft = async () => (await groups(wb.page)).find((g) => g.active.startsWith(TITLE))?.left;
    const before = await panelLeft();
    // The code in its own group (the panel went to the other one): the panel stays where it is.
    await wb.page.locator(`.tabs-container .tab[aria-label^="${FILE},"]`).first().click();
    const t0 = Date.now();
    await runCommand(wb.page, 'Await Timeline: Run with Timeline');
    await waitFor('the run drawing', async () => (await received(view))?.some((r) => r.file === FILE && r.status === 'running' && r.spans > 0), 30_000);
    // Mid-run, the user moves the panel to the next group (as a drag would).
    await wb.page.locator('.tabs-container .tab', { hasText: TITLE }).first().click();
    await wb.page.keyboard.press('Control+Alt+ArrowRight'); // View: Move Editor into Next Group
    await waitFor('the panel moved', async () => { const left = await panelLeft(); return left !== undefined && left !== before; }, 10_000);
    const movedAt = Date.now();
    const endedView = await ended(wb);
    const running = assertDrawnLive(await received(endedView), t0);
    assert.ok(running.some((r) => r.t > movedAt), `spans kept arriving after the move: ${running.map((r) => `${r.t - movedAt}ms:${r.spans}`).join(' ')}`);
    await assertWholeRun(endedView);
  });

  it('opens the workshop solution as a diff in the learner\'s column, beside the chart: no third column, the chart not covered', async () => {
    await runCommand(wb.page, 'Await Timeline: Open Workshop Exercise');
    const rows = wb.page.locator('.quick-input-widget .monaco-list-row');
    await rows.filter({ hasText: 'Breakfast for one cook' }).first().click();
    const copy = '02-breakfast.ts';
    await wb.page.locator('.tabs-container .tab.active', { hasText: copy }).first().waitFor({ state: 'visible', timeout: 20_000 });
    await runCommand(wb.page, 'Await Timeline: Run with Timeline');
    await waitFor(`${copy}'s run to end`, async () => {
      const v = await webviewFrame(wb.page, { title: `${copy} — Timeline`, has: 'canvas', timeoutMs: 5000 });
      return v.evaluate((file) => { const m = (globalThis as any).awaitTimeline.model; return m.file === file && m.status !== 'running'; }, copy);
    }, 60_000);
    const ran = await groups(wb.page);
    const codeAt = ran.findIndex((g) => g.active.startsWith(`${copy},`));
    const panelAt = ran.findIndex((g) => g.active.startsWith(`${copy} — Timeline`));
    assert.ok(codeAt >= 0 && panelAt >= 0 && codeAt !== panelAt, `the copy and its chart side by side: ${JSON.stringify(ran)}`);

    // The learner was last in the chart (its column is the active one), then asks for the solution.
    await wb.page.locator('.tabs-container .tab', { hasText: `${copy} — Timeline` }).first().click();
    await runCommand(wb.page, 'Await Timeline: Open Workshop Exercise');
    const row = rows.filter({ hasText: 'Breakfast for one cook' }).first();
    await row.hover();
    await row.locator('.codicon-lightbulb').first().click();
    const diff = await waitFor('the solution diff open', async () => {
      const now = await groups(wb.page);
      return now.some((g) => /↔ solution/.test(g.active)) ? now : undefined;
    }, 20_000);
    await wb.page.keyboard.press('Escape');
    assert.equal(diff.length, ran.length, `no third column: ${JSON.stringify(diff)}`);
    assert.match(diff[codeAt]!.active, /your copy ↔ solution/, `the diff is in the learner's column, against their copy: ${JSON.stringify(diff)}`);
    assert.ok(diff[panelAt]!.active.startsWith(`${copy} — Timeline`), `the chart is still shown: ${JSON.stringify(diff)}`);
    await screenshot(wb.page, 'e2e-beside-workshop-solution');
  });
});
