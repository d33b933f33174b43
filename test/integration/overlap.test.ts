// "What could overlap" in a real VS Code: the diagnostic a run leaves, and the Promise.all quick fix.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';

import type { Timeline } from '../../src/shared/timeline';

const workspace = () => vscode.workspace.workspaceFolders![0]!.uri;
const run = () => vscode.commands.executeCommand<Timeline | undefined>('awaitTimeline.run');
const insightsOf = (uri: vscode.Uri) => vscode.languages.getDiagnostics(uri).filter((d) => d.code === 'could-overlap');

async function codeActions(uri: vscode.Uri, line: number): Promise<vscode.CodeAction[]> {
  const range = new vscode.Range(line - 1, 0, line - 1, 0);
  return (await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, range)) ?? [];
}

const promiseAllActions = (actions: vscode.CodeAction[]) => actions.filter((a) => /together with Promise\.all/.test(a.title));

async function scratchCopy(rel: string): Promise<vscode.Uri> {
  const dir = vscode.Uri.file(await fs.mkdtemp(path.join(os.tmpdir(), 'awt-overlap-')));
  const copy = vscode.Uri.joinPath(dir, path.basename(rel));
  await vscode.workspace.fs.copy(vscode.Uri.joinPath(workspace(), ...rel.split('/')), copy);
  return copy;
}

describe('What could overlap', function () {
  this.timeout(60_000);

  afterEach(async () => {
    await vscode.commands.executeCommand('awaitTimeline.stop');
    for (let i = 0; i < 10 && vscode.window.activeTextEditor; i++) {
      await vscode.commands.executeCommand(vscode.window.activeTextEditor.document.isDirty ? 'workbench.action.revertAndCloseActiveEditor' : 'workbench.action.closeActiveEditor');
    }
  });

  it('a run marks the back-to-back awaits, and the preferred quick fix rewrites them to Promise.all', async () => {
    const uri = await scratchCopy('node/could-overlap.mjs');
    const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    const t = await run();
    assert.equal(t?.status, 'completed', JSON.stringify(t?.error));
    const diagnostics = insightsOf(uri);
    assert.equal(diagnostics.length, 2, JSON.stringify(diagnostics));
    const pair = diagnostics.find((d) => d.range.start.line === 7)!;
    assert.ok(pair, 'on line 8');
    assert.equal(pair.severity, vscode.DiagnosticSeverity.Information);
    assert.match(pair.message, /^These 2 awaits ran back to back \(.+\); together with Promise\.all they would take about .+ \(saves .+\)\.$/);

    const [fix] = promiseAllActions(await codeActions(uri, 8));
    assert.ok(fix, 'a quick fix on line 8');
    assert.equal(fix.kind?.value, vscode.CodeActionKind.QuickFix.value);
    assert.equal(fix.isPreferred, true);
    assert.ok(fix.edit && (await vscode.workspace.applyEdit(fix.edit)));
    const lines = editor.document.getText().split('\n');
    assert.equal(lines[7], "  const [soup, pasta] = await Promise.all([cook('soup', 200), cook('pasta', 200)]);");
    assert.equal(lines[8], '  const plated = [];', 'the line after is untouched');
    assert.equal(insightsOf(uri).length, 0, 'the text changed: the measurements no longer apply');
  });

  it('offers the rewrite from the code alone, never where the order matters', async () => {
    const doc = await vscode.workspace.openTextDocument({
      language: 'typescript',
      content: [
        'async function main(load: (n: number) => Promise<number>) {',
        '  const a = await fetchA();',
        '  const b = await fetchB();',
        '  const c = await fetchC(a);',
        '  try {',
        '    const x = await fetchA();',
        '    const y = await fetchB();',
        '    return [x, y];',
        '  } catch {}',
        '  await fetchA();',
        '  await fetchB();',
        '  return [a, b, c];',
        '}',
        'declare function fetchA(): Promise<number>;',
        'declare function fetchB(): Promise<number>;',
        'declare function fetchC(n: number): Promise<number>;',
      ].join('\n'),
    });
    await vscode.window.showTextDocument(doc);
    const [rewrite] = promiseAllActions(await codeActions(doc.uri, 2));
    assert.ok(rewrite, 'offered on two independent awaits');
    assert.equal(rewrite.kind?.value, vscode.CodeActionKind.RefactorRewrite.value, 'not measured: a refactoring, not a quick fix');
    assert.deepEqual(promiseAllActions(await codeActions(doc.uri, 4)), [], 'fetchC(a) needs a');
    assert.deepEqual(promiseAllActions(await codeActions(doc.uri, 6)), [], 'inside try');
    assert.deepEqual(promiseAllActions(await codeActions(doc.uri, 10)), [], 'after an await whose result is unused');
  });
});
