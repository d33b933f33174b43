// "Still waiting" in the editor: after a run that left awaits pending, a Warning at what would have
// settled each of them (the resolve nobody called, the listener of an event never emitted, the
// Event never set, the clearTimeout that cancelled it), and at each promise nobody awaited that was
// still running or rejected. They clear when the document changes or another run starts.
import * as vscode from 'vscode';

import type { Timeline } from '../shared/timeline';
import { INSIGHT_SOURCE } from './overlapCodeActions';

export class StillWaitingDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('await-timeline-still-waiting');
  private readonly disposables: vscode.Disposable[] = [];

  constructor() {
    this.disposables.push(
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length) this.collection.delete(e.document.uri);
      }),
      vscode.workspace.onDidCloseTextDocument((doc) => this.collection.delete(doc.uri)),
    );
  }

  /** Shows a finished run's still-waiting causes and floating promises on its document. */
  show(uri: vscode.Uri, timeline: Timeline): void {
    const diagnostics: vscode.Diagnostic[] = [];
    const seen = new Set<string>();
    const add = (line: number, column: number, text: string, code: string) => {
      if (line < 1) return;
      const key = `${line}:${text}`;
      if (seen.has(key)) return;
      seen.add(key);
      const range = new vscode.Range(line - 1, Math.max(0, column - 1), line - 1, Number.MAX_SAFE_INTEGER);
      const d = new vscode.Diagnostic(range, text, vscode.DiagnosticSeverity.Warning);
      d.source = INSIGHT_SOURCE;
      d.code = code;
      diagnostics.push(d);
    };
    for (const w of timeline.stillWaiting ?? []) {
      add(w.cause.line, w.cause.column, `Still waiting when the run ended: ${w.cause.message}.`, 'still-waiting');
    }
    for (const f of timeline.floating ?? []) add(f.line, f.column, `${capitalize(f.message)}.`, 'not-awaited');
    this.collection.set(uri, diagnostics);
  }

  clear(uri: vscode.Uri): void {
    this.collection.delete(uri);
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
    this.collection.dispose();
  }
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
