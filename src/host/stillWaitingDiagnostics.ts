// "Still waiting" in the editor: after a run that left awaits pending, a Warning at what would have
// settled each of them (the resolve nobody called, the listener of an event never emitted, the
// Event never set, the clearTimeout that cancelled it), and at each promise nobody awaited that was
// still running or rejected. They clear when the document changes or another run starts.
import * as vscode from 'vscode';

import type { Timeline } from '../shared/timeline';
import { capitalize, INSIGHT_SOURCE, RunDiagnostics } from './runDiagnostics';

export class StillWaitingDiagnostics extends RunDiagnostics {
  constructor() {
    super('await-timeline-still-waiting');
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
    this.set(uri, diagnostics);
  }
}
