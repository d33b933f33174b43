// "What could overlap" in the editor: after a run, an Information diagnostic on awaits that ran
// back to back, and a quick fix that rewrites them to Promise.all where the analysis finds it safe.
import * as vscode from 'vscode';

import type { Timeline } from '../shared/timeline';
import { findOverlapCandidates, type OverlapCandidate } from '../engine/overlap';
import { capitalize, INSIGHT_SOURCE, RunDiagnostics } from './runDiagnostics';
import { hintsFor } from './workshop';
/** The diagnostic code of a measured insight. */
const INSIGHT_CODE = 'could-overlap';

const LANGUAGES = ['typescript', 'javascript', 'typescriptreact', 'javascriptreact'];

/** The diagnostics from the last run of each document; they clear when its text changes. */
export class OverlapDiagnostics extends RunDiagnostics {
  constructor() {
    super('await-timeline-insights');
  }

  /** Shows a finished run's insights on the document it ran from. */
  show(uri: vscode.Uri, timeline: Timeline): void {
    // In a workshop exercise with hints off, the learner finds it on their own.
    const diagnostics = (hintsFor(uri).insights ? timeline.insights ?? [] : []).map((i) => {
      // From the first await to the end of the group; for a loop, its await's line only.
      const last = i.kind === 'sequential-loop' ? i.sites[0].line : i.endLine;
      const range = new vscode.Range(i.sites[0].line - 1, i.sites[0].column - 1, last - 1, Number.MAX_SAFE_INTEGER);
      const d = new vscode.Diagnostic(range, `${capitalize(i.message)}.`, vscode.DiagnosticSeverity.Information);
      d.source = INSIGHT_SOURCE;
      d.code = INSIGHT_CODE;
      return d;
    });
    this.set(uri, diagnostics);
  }
}

/** A file name the parser reads the right syntax from, also for untitled documents. */
function parseName(document: vscode.TextDocument): string {
  const name = document.fileName;
  switch (document.languageId) {
    case 'typescript': return /\.(c|m)?ts$/i.test(name) ? name : 'snippet.ts';
    case 'typescriptreact': return 'snippet.tsx';
    case 'javascriptreact': return 'snippet.jsx';
    default: return /\.(c|m)?js$/i.test(name) ? name : 'snippet.js';
  }
}

/** Offers the Promise.all rewrite; preferred where a run measured the saving. */
export class OverlapCodeActionProvider implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix, vscode.CodeActionKind.RefactorRewrite];
  private cache: { uri: string; version: number; candidates: OverlapCandidate[] } | undefined;

  provideCodeActions(document: vscode.TextDocument, range: vscode.Range | vscode.Selection, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const actions: vscode.CodeAction[] = [];
    const hints = hintsFor(document.uri);
    for (const c of this.candidates(document)) {
      if (!c.fix) continue; // the analysis said it is not safe here
      if (!hints.fix) {
        // A workshop exercise: the rewrite is the answer. Offer it once the learner asks.
        const first = c.line - 1;
        if (!hints.askForHint || range.end.line < first || range.start.line > c.endLine - 1) continue;
        if (context.only && !context.only.contains(vscode.CodeActionKind.QuickFix)) continue;
        const ask = new vscode.CodeAction('Workshop: show me the fix (a hint)', vscode.CodeActionKind.QuickFix);
        ask.command = { title: ask.title, command: 'awaitTimeline.workshopHint', arguments: [document.uri] };
        actions.push(ask);
        continue;
      }
      const first = c.line - 1;
      const last = c.endLine - 1;
      if (range.end.line < first || range.start.line > last) continue;
      // The run's diagnostic, wherever the cursor is within the statements (the editor only
      // passes diagnostics that touch the requested range).
      const measured = [...context.diagnostics, ...vscode.languages.getDiagnostics(document.uri)].find((d) =>
        d.source === INSIGHT_SOURCE && d.code === INSIGHT_CODE && d.range.start.line >= first && d.range.start.line <= last);
      const kind = measured ? vscode.CodeActionKind.QuickFix : vscode.CodeActionKind.RefactorRewrite;
      if (context.only && !context.only.contains(kind)) continue;
      const action = new vscode.CodeAction(c.fix.title, kind);
      action.edit = new vscode.WorkspaceEdit();
      action.edit.replace(document.uri, new vscode.Range(document.positionAt(c.fix.start), document.positionAt(c.fix.end)), c.fix.newText);
      if (measured) {
        action.diagnostics = [measured];
        action.isPreferred = true;
      }
      actions.push(action);
    }
    return actions;
  }

  private candidates(document: vscode.TextDocument): OverlapCandidate[] {
    const uri = document.uri.toString();
    if (this.cache?.uri !== uri || this.cache.version !== document.version) {
      this.cache = { uri, version: document.version, candidates: findOverlapCandidates(document.getText(), parseName(document)) };
    }
    return this.cache.candidates;
  }
}

/** Registers the quick fix for JS and TS documents, files and untitled buffers alike. */
export function registerOverlapCodeActions(): vscode.Disposable {
  const selector = LANGUAGES.flatMap((language) => [{ language, scheme: 'file' }, { language, scheme: 'untitled' }]);
  return vscode.languages.registerCodeActionsProvider(selector, new OverlapCodeActionProvider(), {
    providedCodeActionKinds: OverlapCodeActionProvider.kinds,
  });
}
