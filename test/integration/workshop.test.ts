// "Open Workshop Exercise" in a real VS Code: the quick pick lists the bundled exercises, accepting
// one opens the learner's own copy of its starter, and running it shows the failed @expect lines.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

import type { Timeline } from '../../src/shared/timeline';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs the command and accepts the quick pick's first item once it is up. A quick pick closes when
 * the window's focus moves (a notification, a panel from an earlier test): then the command
 * resolves to nothing and is run again.
 */
async function openFirstExercise(): Promise<vscode.Uri | undefined> {
  for (let attempt = 1; attempt <= 5; attempt++) {
    let settled = false;
    const opened = vscode.commands.executeCommand<vscode.Uri | undefined>('awaitTimeline.openWorkshopExercise');
    void opened.then(() => (settled = true), () => (settled = true));
    for (let i = 0; i < 50 && !settled; i++) {
      await sleep(200);
      await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    }
    const uri = await opened;
    if (uri) return uri;
  }
  return undefined;
}

describe('Await Timeline workshop', function () {
  this.timeout(60_000);

  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('opens the first exercise as an editable copy of its starter, which runs and fails its expectations', async () => {
    const uri = await openFirstExercise();
    assert.ok(uri, 'the command resolves to the opened copy');
    assert.equal(uri.scheme, 'file');
    assert.match(uri.path, /\/workshop\/01-two-chefs\.ts$/);
    const ext = vscode.extensions.getExtension('await-timeline.await-timeline')!;
    assert.ok(!uri.fsPath.startsWith(ext.extensionUri.fsPath), 'the copy is not the bundled starter');
    const editor = vscode.window.activeTextEditor;
    assert.equal(editor?.document.uri.toString(), uri.toString());
    assert.match(editor!.document.getText(), /^\/\/ Two chefs, one kitchen\n/);
    assert.match(editor!.document.getText(), /@expect wall < 480ms/);

    const t = await vscode.commands.executeCommand<Timeline | undefined>('awaitTimeline.run');
    assert.ok(t?.expectations, 'the run checked the @expect lines');
    assert.deepEqual(t.expectations.map((e) => e.text), ['wall < 480ms', 'blocked < 50ms', 'overlap "soup" "pasta"']);
    assert.ok(t.expectations.some((e) => !e.passed), 'the starter fails');
  });
});
