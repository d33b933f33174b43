// "Await Timeline: Toggle Live Timeline": a live file runs again, warped, a moment after each edit,
// and the chart follows the typing. Per file, off by default, only in a trusted workspace and only
// for files of the workspace (or the learner's own workshop copies, which the extension keeps).
import * as vscode from 'vscode';

import { runTargetFor } from './runTarget';
import type { TimelineRunner } from './timelineRunner';
import { isWorkshopCopy } from './workshop';

/** How long typing must pause before the file runs again (ms). */
export const LIVE_DEBOUNCE_MS = 400;

export class LiveMode implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('awaitTimeline.live', vscode.StatusBarAlignment.Left, 99);
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly runner: TimelineRunner) {
    this.item.name = 'Await Timeline live';
    this.item.command = 'awaitTimeline.toggleLive';
    this.disposables.push(
      this.item,
      vscode.commands.registerCommand('awaitTimeline.toggleLive', (resource?: unknown) => this.toggle(resource instanceof vscode.Uri ? resource : undefined)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length && this.runner.isLive(e.document.uri)) this.schedule(e.document);
      }),
      vscode.workspace.onDidCloseTextDocument((document) => {
        if (this.runner.isLive(document.uri)) this.stop(document);
      }),
      vscode.window.onDidChangeActiveTextEditor(() => this.showItem()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.showItem()),
    );
  }

  /** Turns live mode on or off for a file (default: the active editor's); resolves to whether it is on. */
  async toggle(resource?: vscode.Uri): Promise<boolean> {
    const document = resource
      ? vscode.workspace.textDocuments.find((d) => d.uri.toString() === resource.toString()) ?? (await vscode.workspace.openTextDocument(resource))
      : vscode.window.activeTextEditor?.document;
    if (!document) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Await Timeline: open a TypeScript, JavaScript or Python file to run it live.'));
      return false;
    }
    if (this.runner.isLive(document.uri)) {
      this.stop(document);
      return false;
    }
    const refusal = this.refusal(document);
    if (refusal) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Await Timeline: {0}', refusal));
      return false;
    }
    this.runner.setLive(document, true);
    this.showItem();
    // The first live run draws as it goes unless the panel already shows this file; later ones morph it.
    await this.runner.runLive(document);
    return true;
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  /** Why this file cannot run live, or undefined when it can. */
  private refusal(document: vscode.TextDocument): string | undefined {
    if (!vscode.workspace.isTrusted) return vscode.l10n.t('live mode runs the file as you type, so it is off in an untrusted workspace (Restricted Mode).');
    const target = runTargetFor(document);
    if (typeof target === 'string') return target;
    const inWorkspace = document.uri.scheme === 'file' && !!vscode.workspace.getWorkspaceFolder(document.uri);
    if (!inWorkspace && !isWorkshopCopy(document.uri)) {
      return vscode.l10n.t('live mode runs only files of the open workspace (and workshop exercises); {0} is outside it. Use Run with Timeline instead.', target.displayName);
    }
    return undefined;
  }

  private schedule(document: vscode.TextDocument): void {
    const key = document.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(key, setTimeout(() => {
      this.timers.delete(key);
      void this.runner.runLive(document);
    }, LIVE_DEBOUNCE_MS));
  }

  private stop(document: vscode.TextDocument): void {
    const key = document.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.runner.setLive(document, false);
    this.showItem();
  }

  private showItem(): void {
    const document = vscode.window.activeTextEditor?.document;
    if (!document || !this.runner.isLive(document.uri)) {
      this.item.hide();
      return;
    }
    this.item.text = `$(pulse) ${vscode.l10n.t('Live')}`;
    this.item.tooltip = vscode.l10n.t('Await Timeline re-runs this file, warped, as you type. Click to turn live mode off.');
    this.item.accessibilityInformation = { label: vscode.l10n.t('Await Timeline live mode is on for this file. Turn it off.'), role: 'button' };
    this.item.show();
  }
}
