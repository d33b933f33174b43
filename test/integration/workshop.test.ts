// "Open Workshop Exercise" in a real VS Code: the quick pick lists the bundled exercises, accepting
// one opens the learner's own copy of its starter, and running it shows the failed @expect lines.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

import type { Timeline } from '../../src/shared/timeline';

/** The palette's quick pick is driven in test/e2e/workshop.e2e.ts; here the exercise is named. */
const openFirstExercise = () => vscode.commands.executeCommand<vscode.Uri | undefined>('awaitTimeline.openWorkshopExercise', '01-two-chefs');

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

  it('in an exercise the insight is shown but the Promise.all fix waits until the learner asks for a hint', async () => {
    const uri = await vscode.commands.executeCommand<vscode.Uri | undefined>('awaitTimeline.openWorkshopExercise', '02-breakfast');
    assert.ok(uri);
    const t = await vscode.commands.executeCommand<Timeline | undefined>('awaitTimeline.run');
    assert.ok(t?.insights?.some((i) => i.fix), `the run found the back-to-back awaits: ${JSON.stringify(t?.insights)}`);
    const line = t!.insights!.find((i) => i.fix)!.line;
    const diagnostics = vscode.languages.getDiagnostics(uri).filter((d) => d.code === 'could-overlap');
    assert.ok(diagnostics.length >= 1, 'the insight is shown');
    const actions = async () => (await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, new vscode.Range(line - 1, 0, line - 1, 0))) ?? [];
    const titles = (await actions()).map((a) => a.title);
    assert.ok(!titles.some((x) => /together with Promise\.all/.test(x)), `no fix before a hint: ${titles.join(' | ')}`);
    const ask = (await actions()).find((a) => /show me the fix/.test(a.title));
    assert.ok(ask?.command, `the learner can ask for a hint: ${titles.join(' | ')}`);
    await vscode.commands.executeCommand(ask.command.command, ...(ask.command.arguments ?? []));
    const after = (await actions()).map((a) => a.title);
    assert.ok(after.some((x) => /together with Promise\.all/.test(x)), `the fix after the hint: ${after.join(' | ')}`);
  });
});
