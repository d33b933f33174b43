// The extension against the real `vscode` API, inside VS Code's extension host (code-server here,
// desktop VS Code through `npx vscode-test` where it can be downloaded). The workspace is test/fixtures.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';

import type { Span, Timeline } from '../../src/shared/timeline';

const workspace = () => vscode.workspace.workspaceFolders![0]!.uri;
const fixture = (rel: string) => vscode.Uri.joinPath(workspace(), ...rel.split('/'));
const run = (resource?: vscode.Uri) => vscode.commands.executeCommand<Timeline | undefined>('awaitTimeline.run', resource);
const awaits = (t: Timeline, label: string): Span[] => t.spans.filter((s) => s.kind === 'await' && s.label === label);
const overlaps = (a: Span, b: Span) => a.startMs < (b.endMs ?? Infinity) && b.startMs < (a.endMs ?? Infinity);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Ours only: the language servers report on the same buffers (an unused variable, say). */
const ourDiagnostics = (uri: vscode.Uri) => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'Await Timeline');

let untitledCount = 0;

/** A new untitled buffer (a unique name each time: VS Code may hand back a closed Untitled-1). */
async function untitled(language: string, content: string): Promise<vscode.TextEditor> {
  const ext = language === 'typescript' ? 'ts' : 'js';
  const uri = vscode.Uri.parse(`untitled:${path.join(workspace().fsPath, `scratch-${process.pid}-${++untitledCount}.${ext}`)}`);
  const doc = await vscode.languages.setTextDocumentLanguage(await vscode.workspace.openTextDocument(uri), language);
  const editor = await vscode.window.showTextDocument(doc);
  await editor.edit((e) => e.insert(new vscode.Position(0, 0), content));
  return editor;
}

async function setSetting(key: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration('awaitTimeline').update(key, value, vscode.ConfigurationTarget.Global);
}

async function closeAll(): Promise<void> {
  // Edited and untitled buffers are reverted, never saved: a save prompt must not touch the fixtures.
  for (let i = 0; i < 20 && vscode.window.activeTextEditor; i++) {
    const dirty = vscode.window.activeTextEditor.document.isDirty;
    await vscode.commands.executeCommand(dirty ? 'workbench.action.revertAndCloseActiveEditor' : 'workbench.action.closeActiveEditor');
  }
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

/** A copy of a fixture in a scratch folder, for tests that edit it. */
async function scratchCopy(rel: string): Promise<vscode.Uri> {
  const dir = vscode.Uri.file(await fs.mkdtemp(path.join(os.tmpdir(), 'awt-int-')));
  const copy = vscode.Uri.joinPath(dir, path.basename(rel));
  await vscode.workspace.fs.copy(fixture(rel), copy);
  return copy;
}

describe('Await Timeline extension', function () {
  this.timeout(60_000);

  afterEach(async () => {
    await vscode.commands.executeCommand('awaitTimeline.stop');
    await closeAll();
  });

  it('is not active before a command (or a TS, JS or Python editor, for its CodeLens), and contributes its commands and settings', async () => {
    const ext = vscode.extensions.getExtension('await-timeline.await-timeline');
    assert.ok(ext, 'the extension is installed');
    assert.equal(ext.isActive, false, 'nothing activated it before its first command');
    const contributed = (ext.packageJSON.contributes.commands as { command: string }[]).map((c) => c.command);
    assert.ok(contributed.includes('awaitTimeline.run') && contributed.includes('awaitTimeline.stop'));
    await vscode.commands.executeCommand('awaitTimeline.stop');
    assert.equal(ext.isActive, true, 'a command activates it');
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes('awaitTimeline.run') && commands.includes('awaitTimeline.stop'));
    const c = vscode.workspace.getConfiguration('awaitTimeline');
    assert.equal(c.inspect('timeoutSeconds')?.defaultValue, 0);
    assert.equal(c.inspect('blockThresholdMs')?.defaultValue, 50);
    assert.equal(c.inspect('pythonPath')?.defaultValue, '');
  });

  it('runs the unsaved text of a saved file, with lines of the buffer', async () => {
    const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(await scratchCopy('node/chefs-promise-all.ts')));
    await editor.edit((e) => e.insert(new vscode.Position(0, 0), '// a line the file on disk does not have\n'));
    assert.ok(editor.document.isDirty);
    const t = await run();
    assert.ok(t, 'the command resolves to the timeline');
    assert.equal(t.status, 'completed');
    const sleeps = awaits(t, 'sleep(300)');
    assert.equal(sleeps.length, 2);
    assert.ok(overlaps(sleeps[0]!, sleeps[1]!), 'Promise.all: the two waits overlap');
    assert.deepEqual(sleeps.map((s) => s.line), [5, 5], 'line 4 on disk is line 5 in the edited buffer');
  });

  it('runs an untitled buffer, resolving imports from the workspace folder', async () => {
    await untitled('typescript', [
      "import { double } from './node/helpers/math.js';",
      'async function main() {',
      '  const n: number = await double(21);',
      "  console.log('answer', n);",
      '}',
      'main();',
    ].join('\n'));
    const t = await run();
    assert.ok(t);
    assert.equal(t.status, 'completed', JSON.stringify(t.error));
    assert.equal(t.language, 'typescript');
    assert.equal(awaits(t, 'double(21)')[0]?.line, 3);
    assert.ok(t.marks.some((m) => m.text === 'answer 42'), 'the output is the program\'s');
  });

  it('puts an uncaught exception on its line as a diagnostic, cleared by an edit', async () => {
    const editor = await untitled('javascript', ['setTimeout(() => {', '  const x = 1;', "  throw new Error('kaput');", '}, 10);'].join('\n'));
    const t = await run();
    assert.equal(t?.status, 'failed');
    const diagnostics = ourDiagnostics(editor.document.uri);
    assert.equal(diagnostics.length, 1, JSON.stringify(diagnostics));
    assert.equal(diagnostics[0]!.range.start.line, 2);
    assert.equal(diagnostics[0]!.severity, vscode.DiagnosticSeverity.Error);
    assert.match(diagnostics[0]!.message, /kaput/, `${JSON.stringify(t.error)} ${editor.document.uri} ${JSON.stringify(editor.document.getText())}`);
    await editor.edit((e) => e.insert(new vscode.Position(0, 0), '// edited\n'));
    // The change event reaches the extension around the time edit() resolves: allow it a moment.
    for (let i = 0; i < 40 && ourDiagnostics(editor.document.uri).length > 0; i++) await sleep(50);
    assert.equal(ourDiagnostics(editor.document.uri).length, 0, 'the text changed: the old error no longer applies');
  });

  it('puts a compile error at its line and column', async () => {
    const editor = await untitled('typescript', ['const a = 1;', 'const b = ;', 'console.log(a, b);'].join('\n'));
    const t = await run();
    assert.equal(t?.error?.kind, 'compile');
    const [d] = ourDiagnostics(editor.document.uri);
    assert.ok(d, 'a diagnostic');
    assert.equal(d.range.start.line, 1);
  });

  it('passes the args and env settings to the snippet', async () => {
    await setSetting('args', ['--flag', 'value']);
    await setSetting('env', { AWAIT_TIMELINE_TEST: 'yes' });
    try {
      await untitled('javascript', 'console.log(JSON.stringify({ args: process.argv.slice(2), env: process.env.AWAIT_TIMELINE_TEST }));');
      const t = await run();
      assert.ok(t?.marks.some((m) => m.text === '{"args":["--flag","value"],"env":"yes"}'), JSON.stringify(t?.marks));
    } finally {
      await setSetting('args', undefined);
      await setSetting('env', undefined);
    }
  });

  it('stops an endless loop at the timeout setting, keeping what it recorded', async () => {
    await setSetting('timeoutSeconds', 1);
    try {
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(fixture('node/endless.js')));
      const started = Date.now();
      const t = await run();
      assert.equal(t?.status, 'timeout');
      assert.ok(Date.now() - started < 15_000);
      assert.ok(t.marks.some((m) => m.text === 'before'));
    } finally {
      await setSetting('timeoutSeconds', undefined);
    }
  });

  it('Stop ends the run; running again replaces a run that is still going', async () => {
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(fixture('node/endless.js')));
    const first = run();
    await sleep(1500);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(fixture('node/chefs-promise-all.ts')));
    const second = run();
    assert.equal((await first)?.status, 'cancelled', 'the endless run was replaced');
    assert.equal((await second)?.status, 'completed');

    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(fixture('node/endless.js')));
    const third = run();
    await sleep(1500);
    await vscode.commands.executeCommand('awaitTimeline.stop');
    const stopped = await third;
    assert.equal(stopped?.status, 'cancelled');
    assert.ok(stopped.spans.some((s) => s.kind === 'block' && s.line === 4), 'the loop shows as a block at its line');
  });

  it('runs a Python asyncio file: gather overlaps', async () => {
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(fixture('python/chefs_gather.py')));
    const t = await run();
    assert.equal(t?.language, 'python');
    assert.equal(t.status, 'completed', JSON.stringify(t.error));
    const sleeps = t.spans.filter((s) => s.kind === 'await' && /asyncio\.sleep/.test(s.label));
    assert.ok(sleeps.length >= 2, JSON.stringify(t.spans.map((s) => s.label)));
    assert.ok(overlaps(sleeps[0]!, sleeps[1]!), 'asyncio.gather: the sleeps overlap');
  });

  it('runs a file of a subfolder in its workspace folder, as Run Python File does (Python and JS)', async () => {
    for (const name of ['cwd/sub/cwd.py', 'cwd/sub/cwd.js']) {
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(fixture(name)));
      const t = await run();
      assert.equal(t?.status, 'completed', JSON.stringify(t?.error));
      assert.deepEqual(t.marks.filter((m) => m.kind === 'stdout' || m.kind === 'log').map((m) => m.text), [`cwd ${workspace().fsPath}`], name);
    }
  });

  it('says clearly when the Python interpreter is missing', async () => {
    await setSetting('pythonPath', path.join('/nonexistent', 'python3'));
    try {
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(fixture('python/chefs_gather.py')));
      const t = await run();
      assert.equal(t?.status, 'failed');
      assert.equal(t.error?.kind, 'spawn');
      assert.match(t.error.message, /nonexistent/);
    } finally {
      await setSetting('pythonPath', undefined);
    }
  });
});
