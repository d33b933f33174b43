// Saved timelines (`--json` files and the panel's exports): a read-only custom editor for
// `*.timeline.json`, and "Open Saved Timeline…" for a timeline under any name. The viewer is the
// panel's own webview (TimelinePanel), so drawing, table, exports and baseline are the same.
import * as path from 'node:path';
import * as vscode from 'vscode';

import { parseTimelineJson } from '../shared/compare';
import type { Timeline } from '../shared/timeline';
import type { TimelineRunner } from './timelineRunner';

export const SAVED_TIMELINE_VIEW_TYPE = 'awaitTimeline.savedTimeline';

class SavedTimelineDocument implements vscode.CustomDocument {
  constructor(readonly uri: vscode.Uri, readonly timeline: Timeline | undefined, readonly problem: string | undefined) {}
  dispose(): void {
    // Nothing held: the text was read once.
  }
}

export function registerSavedTimelines(runner: TimelineRunner): vscode.Disposable {
  const provider: vscode.CustomReadonlyEditorProvider<SavedTimelineDocument> = {
    async openCustomDocument(uri) {
      let text: string;
      try {
        text = Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
      } catch (err) {
        return new SavedTimelineDocument(uri, undefined, `could not read it: ${(err as Error).message}`);
      }
      try {
        return new SavedTimelineDocument(uri, parseTimelineJson(text), undefined);
      } catch (err) {
        return new SavedTimelineDocument(uri, undefined, (err as Error).message);
      }
    },
    async resolveCustomEditor(document, webviewPanel) {
      if (document.timeline) {
        runner.showSaved(webviewPanel, document.timeline, path.basename(document.uri.path));
        return;
      }
      webviewPanel.webview.options = { enableScripts: false };
      webviewPanel.webview.html = notATimelinePage(path.basename(document.uri.path), document.problem ?? 'unknown');
    },
  };
  return vscode.Disposable.from(
    vscode.window.registerCustomEditorProvider(SAVED_TIMELINE_VIEW_TYPE, provider, { supportsMultipleEditorsPerDocument: true }),
    vscode.commands.registerCommand('awaitTimeline.openSavedTimeline', async (resource?: unknown) => {
      const uri = resource instanceof vscode.Uri ? resource : (await vscode.window.showOpenDialog({
        canSelectMany: false,
        filters: { [vscode.l10n.t('Timeline JSON')]: ['json'] },
        title: vscode.l10n.t("Open a saved timeline (await-timeline --json, or the panel's export)"),
        openLabel: vscode.l10n.t('Open Timeline'),
      }))?.[0];
      if (!uri) return undefined;
      await vscode.commands.executeCommand('vscode.openWith', uri, SAVED_TIMELINE_VIEW_TYPE);
      return uri;
    }),
  );
}

/** A file that is not a timeline: say so, and why, where the chart would be. */
function notATimelinePage(name: string, problem: string): string {
  const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline';">
<title>${esc(name)}</title>
<style>body{font-family:var(--vscode-font-family);color:var(--vscode-foreground);padding:2em;max-width:48em}
code{font-family:var(--vscode-editor-font-family)}h1{font-size:1.3em;font-weight:600}</style></head>
<body role="alert"><h1>${esc(vscode.l10n.t('{0} is not a timeline Await Timeline can show', name))}</h1>
<p>${esc(problem)}.</p>
<p>${esc(vscode.l10n.t('Timelines are the JSON files that await-timeline run file.ts --json out.timeline.json writes. Reopen this file with the text editor (Reopen Editor With…) to see its content.'))}</p></body></html>`;
}
