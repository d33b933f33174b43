// The panel's Export buttons: ask where to save (next to the snippet by default), write the Chrome
// trace, SVG or HTML report with the engine's exporters, then offer to open or reveal the file.
import * as vscode from 'vscode';

import { defaultExportPath, EXPORT_FORMATS, exportText, type ExportKind } from '../engine/exports';
import type { Timeline } from '../shared/timeline';

/** The run the panel shows, as the host knows it. */
export interface ShownRun {
  timeline: Timeline;
  /** The document it came from. */
  uri: vscode.Uri;
}

/** `baseline`: the pinned run, drawn in the HTML report as the panel draws it. */
export async function exportRun(kind: ExportKind, shown: ShownRun | undefined, running: boolean, extensionUri: vscode.Uri, baseline?: Timeline): Promise<void> {
  if (!shown) {
    void vscode.window.showInformationMessage(running
      ? vscode.l10n.t('Await Timeline: the run is still going: export it when it ends, or Stop it.')
      : vscode.l10n.t('Await Timeline: nothing to export yet: run a snippet first.'));
    return;
  }
  const format = EXPORT_FORMATS[kind];
  const target = await vscode.window.showSaveDialog({
    defaultUri: defaultTarget(shown.uri, kind),
    filters: { [format.name]: format.extensions },
    title: vscode.l10n.t('Export {0}', format.name),
    saveLabel: vscode.l10n.t('Export'),
  });
  if (!target) return;
  try {
    const text = exportText(kind, shown.timeline, extensionUri.fsPath, baseline);
    await vscode.workspace.fs.writeFile(target, Buffer.from(text, 'utf8'));
  } catch (err) {
    void vscode.window.showErrorMessage(vscode.l10n.t('Await Timeline: could not export {0}: {1}', target.fsPath, (err as Error).message));
    return;
  }
  const name = target.path.split('/').pop();
  const openItem = vscode.l10n.t('Open');
  const revealItem = vscode.l10n.t('Reveal');
  const choice = await vscode.window.showInformationMessage(vscode.l10n.t('Await Timeline: exported {0}.', name ?? ''), openItem, revealItem);
  if (choice === openItem) {
    // The report is for a browser; the image and the trace open in the editor.
    if (kind === 'html') await vscode.env.openExternal(target);
    else await vscode.commands.executeCommand('vscode.open', target);
  } else if (choice === revealItem) {
    const inWorkspace = vscode.workspace.getWorkspaceFolder(target) !== undefined;
    await vscode.commands.executeCommand(inWorkspace ? 'revealInExplorer' : 'revealFileInOS', target);
  }
}

/** Next to the snippet when it is a file; in the first workspace folder for an untitled one. */
function defaultTarget(document: vscode.Uri, kind: ExportKind): vscode.Uri | undefined {
  if (document.scheme !== 'untitled') return document.with({ path: defaultExportPath(document.path, kind).replace(/\\/g, '/') });
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  return folder && vscode.Uri.joinPath(folder, `untitled${EXPORT_FORMATS[kind].suffix}`);
}
