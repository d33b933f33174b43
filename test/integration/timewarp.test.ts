// Time warp and live mode in a real VS Code: workshop copies run warped, the Warp toggle flips the
// next runs, and a live file runs again after each edit, keeping the last good chart when it does
// not compile. The workspace is test/fixtures.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

import type { Timeline } from '../../src/shared/timeline';

const workspace = () => vscode.workspace.workspaceFolders![0]!.uri;
const fixture = (rel: string) => vscode.Uri.joinPath(workspace(), ...rel.split('/'));
const run = (resource?: vscode.Uri) => vscode.commands.executeCommand<Timeline | undefined>('awaitTimeline.run', resource);
const toggleLive = (resource?: vscode.Uri) => vscode.commands.executeCommand<boolean>('awaitTimeline.toggleLive', resource);

async function closeAll(): Promise<void> {
  for (let i = 0; i < 20 && vscode.window.activeTextEditor; i++) {
    const dirty = vscode.window.activeTextEditor.document.isDirty;
    await vscode.commands.executeCommand(dirty ? 'workbench.action.revertAndCloseActiveEditor' : 'workbench.action.closeActiveEditor');
  }
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

/** The live run that the next edit starts, as the panel gets it (the command API of the runner is internal). */
function nextLiveRun(edit: () => Thenable<unknown>, timeoutMs = 30_000): Promise<Timeline> {
  const api = vscode.extensions.getExtension('await-timeline.await-timeline')!.exports as { onDidEndLiveRun?: vscode.Event<Timeline> } | undefined;
  assert.ok(api?.onDidEndLiveRun, 'the extension exports onDidEndLiveRun');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error('no live run within the time limit'));
    }, timeoutMs);
    const sub = api.onDidEndLiveRun!((t) => {
      clearTimeout(timer);
      sub.dispose();
      resolve(t);
    });
    void edit();
  });
}

describe('Await Timeline time warp and live mode', function () {
  this.timeout(90_000);

  const scratch: vscode.Uri[] = [];
  afterEach(async () => {
    await vscode.commands.executeCommand('awaitTimeline.stop');
    await closeAll();
    for (const uri of scratch.splice(0)) await vscode.workspace.fs.delete(uri).then(undefined, () => undefined);
  });

  it('a workshop exercise runs warped: a 300 ms wait is on the chart, in a fraction of it', async () => {
    const uri = await vscode.commands.executeCommand<vscode.Uri | undefined>('awaitTimeline.openWorkshopExercise', '09-python-two-chefs');
    assert.ok(uri);
    const t = await run(uri);
    assert.equal(t?.time, 'warp', 'workshop copies run warped by default');
    assert.ok(t!.wallMs > 0);
  });

  it('a workspace file runs in real time until the Warp toggle is on, and again after it is off', async () => {
    const uri = fixture('node/chefs-promise-all.ts');
    await vscode.window.showTextDocument(uri);
    const real = await run(uri);
    assert.equal(real?.time, undefined, 'real time by default');
    assert.equal(await vscode.commands.executeCommand('awaitTimeline.toggleTimeWarp'), true);
    const warped = await run(uri);
    assert.equal(warped?.time, 'warp');
    const timers = warped!.spans.filter((s) => s.kind === 'timer');
    assert.ok(timers.length === 2 && timers.every((s) => (s.endMs ?? 0) - s.startMs >= 300), 'the timers keep their whole 300 ms, virtually');
    assert.equal(await vscode.commands.executeCommand('awaitTimeline.toggleTimeWarp'), false);
    assert.equal((await run(uri))?.time, undefined);
  });

  it('live: an edit runs the file again, warped; a file that does not compile keeps the last good chart', async () => {
    // A scratch copy inside the workspace (live mode runs only workspace files): the edits below
    // must never reach a fixture, whatever the workbench saves.
    const uri = fixture(`node/live-scratch-${process.pid}.ts`);
    await vscode.workspace.fs.copy(fixture('node/compare-sequential.ts'), uri, { overwrite: true });
    scratch.push(uri);
    const editor = await vscode.window.showTextDocument(uri);
    assert.equal(await toggleLive(uri), true);
    const text = editor.document.getText();
    const first = text.indexOf('await ');
    assert.ok(first >= 0);

    // Break it: the chart stays, the error is reported.
    const broken = await nextLiveRun(() => editor.edit((e) => e.insert(editor.document.positionAt(0), 'const = ;\n')));
    assert.equal(broken.error?.kind, 'compile');
    assert.equal(broken.time, 'warp');

    // Mend it: a good run replaces the chart.
    const mended = await nextLiveRun(() => editor.edit((e) => e.delete(new vscode.Range(0, 0, 1, 0))));
    assert.equal(mended.status, 'completed', JSON.stringify(mended.error));
    assert.equal(mended.time, 'warp');
    assert.ok(mended.spans.some((s) => s.kind === 'await'));

    assert.equal(await toggleLive(uri), false, 'toggled off');
    let ran = false;
    const api = vscode.extensions.getExtension('await-timeline.await-timeline')!.exports as { onDidEndLiveRun: vscode.Event<Timeline> };
    const sub = api.onDidEndLiveRun(() => (ran = true));
    await editor.edit((e) => e.insert(editor.document.positionAt(0), '// no longer live\n'));
    await new Promise((r) => setTimeout(r, 1500));
    sub.dispose();
    assert.equal(ran, false, 'an edit of a file that is not live runs nothing');
  });

  it('live mode is refused for a file outside the workspace', async () => {
    const doc = await vscode.workspace.openTextDocument({ language: 'typescript', content: 'await new Promise((r) => setTimeout(r, 10));\n' });
    await vscode.window.showTextDocument(doc);
    assert.equal(await toggleLive(doc.uri), false);
  });
});
