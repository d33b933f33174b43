// Entry of the extension: registers the commands, the panel serializer and the trust gate; the work lives in host/.
import * as vscode from 'vscode';

import { TIMELINE_VIEW_TYPE } from './host/timelinePanel';
import { TimelineRunner } from './host/timelineRunner';
import { registerOverlapCodeActions } from './host/overlapCodeActions';
import { registerWorkshop } from './host/workshop';
import { LiveMode } from './host/liveMode';
import type { Timeline } from './shared/timeline';
import { TimelineCodeLenses } from './host/codeLens';
import { TimelineTestExplorer } from './host/testExplorer';
import { registerSavedTimelines } from './host/savedTimeline';

/** What other extensions (and the tests) can use: the end of each live run, with its timeline. */
export interface AwaitTimelineApi {
  onDidEndLiveRun: vscode.Event<Timeline>;
}

export function activate(context: vscode.ExtensionContext): AwaitTimelineApi {
  const runner = new TimelineRunner(context);
  const tests = new TimelineTestExplorer(context);
  context.subscriptions.push(
    runner,
    tests,
    new TimelineCodeLenses([runner.onDidFinishRun, tests.onDidGrade]),
    registerOverlapCodeActions(),
    registerSavedTimelines(runner),
    registerWorkshop(context),
    vscode.commands.registerCommand('awaitTimeline.run', async (resource?: unknown) => {
      // Running a snippet executes code from the workspace: never in an untrusted one.
      if (!vscode.workspace.isTrusted) {
        void explainUntrusted();
        return undefined;
      }
      return runner.runDocument(resource instanceof vscode.Uri ? resource : undefined);
    }),
    vscode.commands.registerCommand('awaitTimeline.stop', () => runner.stop()),
    vscode.commands.registerCommand('awaitTimeline.toggleTimeWarp', () => runner.toggleTimeWarp()),
    new LiveMode(runner),
    vscode.commands.registerCommand('awaitTimeline.pinBaseline', () => runner.pinBaseline(true)),
    vscode.commands.registerCommand('awaitTimeline.clearBaseline', () => runner.pinBaseline(false)),
    vscode.window.registerWebviewPanelSerializer(TIMELINE_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel) => runner.restorePanel(panel),
    }),
  );
  return { onDidEndLiveRun: runner.onDidEndLiveRun };
}

/** The run command in Restricted Mode: say why nothing runs, and where to change it. */
async function explainUntrusted(): Promise<void> {
  const manage = vscode.l10n.t('Manage Workspace Trust');
  const choice = await vscode.window.showWarningMessage(
    vscode.l10n.t('Await Timeline: Run with Timeline executes the snippet, so it is disabled in an untrusted workspace (Restricted Mode). Trust the workspace to use it.'),
    manage,
  );
  if (choice === manage) await vscode.commands.executeCommand('workbench.trust.manage');
}

export function deactivate(): void {
  // Everything is owned by context.subscriptions.
}
