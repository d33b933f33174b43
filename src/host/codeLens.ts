// CodeLenses in TS/JS/Python editors: "▶ Run with Timeline" above the first async line (with the
// last run's wall time once it ran), and ✓/✗ with what the run showed on each graded @expect line.
// `awaitTimeline.codeLens` turns them off.
import * as vscode from 'vscode';

import type { Language, Timeline } from '../shared/timeline';
import { formatDuration } from '../shared/format';
import { EDITOR_LANGUAGES, firstAsyncLine, gradeLensText, stillGraded } from './codeLensModel';
import { SECTION } from './settings';

export const CODELENS_SETTING = 'codeLens';

/** What the lenses need of a finished run. */
export interface FinishedRun {
  uri: vscode.Uri;
  timeline: Timeline;
}

export class TimelineCodeLenses implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  /** The last run of each document (by URI), for the wall time and the grades. */
  private readonly lastRuns = new Map<string, Timeline>();
  private readonly disposables: vscode.Disposable[] = [];

  /** `runs`: where finished runs come from (the run command, the Test Explorer's grading). */
  constructor(runs: vscode.Event<FinishedRun>[]) {
    this.disposables.push(
      this.changed,
      ...runs.map((onDidFinishRun) => onDidFinishRun(({ uri, timeline }) => {
        this.lastRuns.set(uri.toString(), timeline);
        this.changed.fire();
      })),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${SECTION}.${CODELENS_SETTING}`)) this.changed.fire();
      }),
      vscode.workspace.onDidCloseTextDocument((d) => this.lastRuns.delete(d.uri.toString())),
      vscode.languages.registerCodeLensProvider(Object.keys(EDITOR_LANGUAGES).map((language) => ({ language })), this),
    );
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const language: Language | undefined = EDITOR_LANGUAGES[document.languageId]?.language;
    if (!language || !vscode.workspace.getConfiguration(SECTION, document.uri).get<boolean>(CODELENS_SETTING, true)) return [];
    const lenses: vscode.CodeLens[] = [];
    const last = this.lastRuns.get(document.uri.toString());
    const line = firstAsyncLine(document.getText(), language);
    if (line !== undefined) {
      const range = document.lineAt(line).range;
      lenses.push(new vscode.CodeLens(range, {
        title: !last
          ? vscode.l10n.t('▶ Run with Timeline')
          : last.status === 'completed'
            ? vscode.l10n.t('▶ Run with Timeline · last {0}', formatDuration(last.wallMs))
            : vscode.l10n.t('▶ Run with Timeline · last {0} ({1})', formatDuration(last.wallMs), last.status),
        tooltip: vscode.l10n.t('Run this file and show when each await started and finished'),
        command: 'awaitTimeline.run',
        arguments: [document.uri],
      }));
    }
    for (const result of last?.expectations ?? []) {
      if (result.line < 1 || result.line > document.lineCount) continue;
      const text = document.lineAt(result.line - 1);
      if (!stillGraded(result, text.text)) continue;
      const title = result.error !== undefined ? vscode.l10n.t('✗ malformed: {0}', result.error) : gradeLensText(result);
      // No command: the lens is the grade, read-only (an empty command renders as plain text).
      lenses.push(new vscode.CodeLens(text.range, { title, command: '', tooltip: result.passed ? vscode.l10n.t('This expectation held in the last run') : vscode.l10n.t('This expectation failed in the last run') }));
    }
    return lenses;
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
