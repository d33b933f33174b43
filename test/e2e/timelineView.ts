// What the e2e specs read from the Await Timeline panel, in one place: waiting, the run's status,
// where bars are drawn, running a file from the palette, the panel's width and the colour theme.
import * as assert from 'node:assert/strict';
import type { Frame, Page } from 'playwright-core';

import { openFile, runCommand, webviewFrame, type Workbench } from './codeServer';

/** Polls `probe` until it gives something other than undefined, null or false (errors count as not yet). */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The panel's run status, as its header shows it (running, completed, failed, timeout, cancelled). */
export async function panelStatus(view: Frame): Promise<string | undefined> {
  return view.evaluate(() => (globalThis as any).document.querySelector('[data-status]')?.dataset.status as string | undefined);
}

export function waitForStatus(view: Frame, wanted: string[], timeoutMs = 30_000): Promise<string> {
  return waitFor(`the panel's status to be ${wanted.join('/')}`, async () => {
    const s = await panelStatus(view);
    return s && wanted.includes(s) ? s : undefined;
  }, timeoutMs);
}

/** Where a span's bar is drawn, in CSS pixels relative to the chart's canvas. */
export interface Box {
  id: number; kind: string; label: string; line: number; x: number; y: number; width: number; height: number; cursor: boolean;
  /** For a compacted bar: the spans it stands for ("kind label"), outermost first; empty otherwise. */
  includes: string[];
}

export function spanBoxes(view: Frame): Promise<Box[]> {
  return view.evaluate(() => (globalThis as any).awaitTimeline.spanBoxes());
}

/** Page coordinates of a point inside a span's bar (for hover and click). */
export async function pointOn(view: Frame, box: Box): Promise<{ x: number; y: number }> {
  const canvas = await view.locator('canvas').first().boundingBox();
  assert.ok(canvas, 'the chart canvas has a box');
  return { x: canvas.x + box.x + Math.min(box.width / 2, 40), y: canvas.y + box.y + box.height / 2 };
}

/** The panel showing this file's run. */
export function timelinePanel(wb: Workbench, file: string, timeoutMs?: number): Promise<Frame> {
  return webviewFrame(wb.page, { title: `${file} — Timeline`, has: 'canvas', timeoutMs });
}

/**
 * Readies a cold workbench: the first Quick Open (its file search starting up) and the first run
 * (activating the extension, opening the panel) take tens of seconds on a loaded machine. That is
 * set-up, not what the specs time: call it from \`before\`.
 */
export async function warmUp(wb: Workbench, file: string): Promise<void> {
  await openFile(wb.page, file, 90_000);
  await runCommand(wb.page, 'Await Timeline: Run with Timeline', 60_000);
  await waitForStatus(await timelinePanel(wb, file, 90_000), ['completed', 'failed'], 60_000);
}

/**
 * The panel of a run that is going on, once it says so. Looked up again on every try: when the run's
 * editor shares the panel's column, the panel moves beside it (its page is kept, but the frame
 * handle of an earlier lookup may not be).
 */
export async function runningPanel(wb: Workbench, file: string, timeoutMs = 30_000): Promise<Frame> {
  return waitFor(`${file}'s panel to say running`, async () => {
    const view = await webviewFrame(wb.page, { title: `${file} — Timeline`, has: 'canvas', timeoutMs: 3000 });
    return (await panelStatus(view)) === 'running' ? view : undefined;
  }, timeoutMs);
}

/** Which run a panel's page shows (see TimelineApp.runShown); undefined: no panel. */
async function runShown(view: Frame | undefined): Promise<string | undefined> {
  return view?.evaluate(() => (globalThis as any).awaitTimeline.runShown() as string).catch(() => undefined);
}

/**
 * Opens a file (relative to the workspace), runs it from the palette and returns its panel once
 * this run has ended. The panel of the previous run is reused: its title changes before its page
 * has the new run, and until then it still says "completed" about the previous one.
 */
export async function runFromPalette(wb: Workbench, file: string, end = ['completed', 'failed'], timeoutMs = 30_000): Promise<Frame> {
  const previous = await webviewFrame(wb.page, { has: 'canvas', timeoutMs: 500 }).catch(() => undefined);
  const before = await runShown(previous);
  await openFile(wb.page, file);
  await runCommand(wb.page, 'Await Timeline: Run with Timeline');
  const name = file.split('/').pop()!;
  return waitFor(`${file}'s run to end (${end.join('/')})`, async () => {
    const view = await timelinePanel(wb, name, 3000);
    const shown = await runShown(view);
    if (shown === undefined || shown === before) return undefined;
    const header = await view.evaluate(() => (globalThis as any).document.querySelector('.at-file')?.textContent as string | undefined);
    const status = await panelStatus(view);
    return header === name && status && end.includes(status) ? view : undefined;
  }, timeoutMs);
}

/** Resizes the window until the panel's webview is `width` CSS px wide (the editor groups keep their proportions). */
export async function sizePanel(page: Page, view: Frame, width: number): Promise<number> {
  let inner = await view.evaluate(() => (globalThis as any).innerWidth as number);
  for (let i = 0; i < 6 && Math.abs(inner - width) > 6; i++) {
    const vp = page.viewportSize() ?? { width: 1400, height: 900 };
    // Both editor groups grow with the window: the panel gets about half of any change.
    const next = Math.max(800, Math.round(vp.width + (width - inner) * 2));
    await page.setViewportSize({ width: next, height: vp.height });
    await new Promise((r) => setTimeout(r, 500));
    inner = await view.evaluate(() => (globalThis as any).innerWidth as number);
  }
  return inner;
}

/** Switches the colour theme as a user does: Preferences: Color Theme, then the theme's row. */
export async function setColorTheme(page: Page, label: string): Promise<void> {
  await runCommand(page, 'Preferences: Color Theme');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.fill(label);
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const row = page.locator('.quick-input-widget .monaco-list-row').filter({ has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${escaped}\\s*$`) }) }).first();
  await row.waitFor({ state: 'visible', timeout: 10_000 });
  await row.click();
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 5000 }).catch(() => undefined);
}

