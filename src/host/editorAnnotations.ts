// After a run: each line's time as an inline decoration, and the run's errors as diagnostics.
// Both belong to the text that ran, so both clear as soon as that document changes.
import * as vscode from 'vscode';

import type { Timeline } from '../shared/timeline';
import { lineSummaries, runProblems } from './lineSummaries';

export class EditorAnnotations implements vscode.Disposable {
  private readonly decoration = vscode.window.createTextEditorDecorationType({
    after: {
      color: new vscode.ThemeColor('editorCodeLens.foreground'),
      fontStyle: 'italic',
      // Close to the code: in an editor beside the panel (about 520 px) every character counts.
      margin: '0 0 0 1.5ch',
    },
    rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
  });
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('Await Timeline');
  /** Decorations per document (uri string), re-applied when an editor for it becomes visible. */
  private readonly shown = new Map<string, vscode.DecorationOptions[]>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor() {
    this.disposables.push(
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length) this.clear(e.document.uri);
      }),
      vscode.workspace.onDidCloseTextDocument((doc) => this.clear(doc.uri)),
      vscode.window.onDidChangeVisibleTextEditors((editors) => {
        for (const editor of editors) this.apply(editor);
      }),
    );
  }

  /** Shows a finished run on the document it ran from. */
  show(uri: vscode.Uri, timeline: Timeline): void {
    const key = uri.toString();
    const options = lineSummaries(timeline).map((s): vscode.DecorationOptions => {
      // The whole line carries the hover: a long line in a narrow editor puts the figure past the
      // edge, but the line itself is there to point at. The figure follows the line's end.
      const range = new vscode.Range(s.line - 1, 0, s.line - 1, Number.MAX_SAFE_INTEGER);
      const hover = new vscode.MarkdownString(`**Await Timeline** · ${s.hover}`);
      return { range, hoverMessage: hover, renderOptions: { after: { contentText: s.text } } };
    });
    this.shown.set(key, options);
    for (const editor of vscode.window.visibleTextEditors) this.apply(editor);

    const diagnostics = runProblems(timeline).map((p) => {
      const line = p.line - 1;
      const start = new vscode.Position(line, Math.max(0, p.column - 1));
      const d = new vscode.Diagnostic(
        new vscode.Range(start, new vscode.Position(line, Number.MAX_SAFE_INTEGER)),
        p.message,
        p.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning,
      );
      d.source = 'Await Timeline';
      return d;
    });
    this.diagnostics.set(uri, diagnostics);
  }

  /** A new run of this document starts, or its text changed: the old figures no longer apply. */
  clear(uri: vscode.Uri): void {
    const key = uri.toString();
    if (this.shown.delete(key)) {
      for (const editor of vscode.window.visibleTextEditors) {
        if (editor.document.uri.toString() === key) editor.setDecorations(this.decoration, []);
      }
    }
    this.diagnostics.delete(uri);
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
    this.decoration.dispose();
    this.diagnostics.dispose();
    this.shown.clear();
  }

  private apply(editor: vscode.TextEditor): void {
    const options = this.shown.get(editor.document.uri.toString());
    if (!options) return;
    // Lines past the end (the text shrank without an edit event, e.g. a revert) are left out.
    editor.setDecorations(this.decoration, options.filter((o) => o.range.start.line < editor.document.lineCount));
  }
}
