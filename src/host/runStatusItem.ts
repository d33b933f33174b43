// The status bar entry while a run is going: file, elapsed time, click to stop.
import * as vscode from 'vscode';

export class RunStatusItem implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('awaitTimeline.run', vscode.StatusBarAlignment.Left, 100);
  private fileName = '';

  constructor() {
    this.item.name = 'Await Timeline run';
    this.item.command = 'awaitTimeline.stop';
  }

  show(fileName: string): void {
    this.fileName = fileName;
    this.update(0);
    this.item.show();
  }

  update(elapsedMs: number): void {
    this.item.text = `$(debug-stop) ${this.fileName} ${formatElapsed(elapsedMs)}`;
    this.item.tooltip = vscode.l10n.t('Await Timeline is running {0}. Click to stop.', this.fileName);
    this.item.accessibilityInformation = { label: vscode.l10n.t('Await Timeline running {0}, {1}. Stop.', this.fileName, formatElapsed(elapsedMs)), role: 'button' };
  }

  hide(): void {
    this.item.hide();
  }

  dispose(): void {
    this.item.dispose();
  }
}

export function formatElapsed(ms: number): string {
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${Math.floor((ms % 60_000) / 1000)} s`;
}
