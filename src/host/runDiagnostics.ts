// What the editor shows of a finished run as diagnostics, kept per document: a run sets them, and
// they clear when the document's text changes, when it closes, or when another run starts.
import * as vscode from 'vscode';

/** Diagnostics of Await Timeline carry this source; quick fixes look for it. */
export const INSIGHT_SOURCE = 'Await Timeline';

export const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export class RunDiagnostics implements vscode.Disposable {
  private readonly collection: vscode.DiagnosticCollection;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(name: string) {
    this.collection = vscode.languages.createDiagnosticCollection(name);
    this.disposables.push(
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length) this.collection.delete(e.document.uri);
      }),
      vscode.workspace.onDidCloseTextDocument((doc) => this.collection.delete(doc.uri)),
    );
  }

  protected set(uri: vscode.Uri, diagnostics: vscode.Diagnostic[]): void {
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
