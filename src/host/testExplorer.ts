// The Test Explorer: workspace files with @expect lines and the workshop exercises are test items,
// each @expect line a child at its line. Running one grades the file as `--check` does (a run with a
// 30 s limit unless a timeout is set; every @expect checked against its timeline) and reports each
// expectation's pass/fail with what the run showed, at its line.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

import { parseExpectations } from '../engine/expectations';
import { languageOf, SUPPORTED_EXTENSIONS, startRun } from '../engine/run';
import type { ExpectationResult, Timeline } from '../shared/timeline';
import { readSettings, resolvePython } from './settings';
import { learnerCopyUri } from './workshop';
import { listExercises } from './workshopExercises';

/** Same as the CLI's --check: a starter that never ends still gets a grade. */
const CHECK_TIMEOUT_MS = 30_000;
const WORKSHOP_ID = 'workshop';
const FILE_GLOB = `**/*.{${SUPPORTED_EXTENSIONS.map((e) => e.slice(1)).join(',')}}`;
const EXCLUDE_GLOB = '**/{node_modules,.git,dist,out,.venv,venv,__pycache__}/**';
/** Files looked at when the explorer first opens: enough for a workshop repo, bounded for a monorepo. */
const MAX_FILES = 5000;
const HAS_EXPECT = /^\s*(?:\/\/|#)\s*@expect\s/m;

export interface GradedRun {
  uri: vscode.Uri;
  timeline: Timeline;
}

export class TimelineTestExplorer implements vscode.Disposable {
  private readonly controller = vscode.tests.createTestController('awaitTimeline', 'Await Timeline');
  private readonly graded = new vscode.EventEmitter<GradedRun>();
  /** A file was graded here: the CodeLenses show the grades as after a run from the editor. */
  readonly onDidGrade = this.graded.event;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly workshop: vscode.TestItem;

  constructor(private readonly context: vscode.ExtensionContext) {
    const controller = this.controller;
    this.workshop = controller.createTestItem(WORKSHOP_ID, vscode.l10n.t('Await Timeline Workshop'));
    this.workshop.description = vscode.l10n.t('your copies of the exercises');
    this.workshop.canResolveChildren = true;
    controller.items.add(this.workshop);
    controller.resolveHandler = async (item) => {
      if (!item) await this.discoverWorkspace();
      else if (item === this.workshop) this.loadWorkshop();
    };
    controller.refreshHandler = async () => {
      this.loadWorkshop();
      await this.discoverWorkspace();
    };
    controller.createRunProfile(vscode.l10n.t('Grade'), vscode.TestRunProfileKind.Run, (request, token) => this.runTests(request, token), true);
    this.disposables.push(
      controller,
      this.graded,
      vscode.workspace.onDidOpenTextDocument((d) => this.updateFromDocument(d)),
      vscode.workspace.onDidChangeTextDocument((e) => this.updateFromDocument(e.document)),
      vscode.workspace.onDidSaveTextDocument((d) => this.updateFromDocument(d)),
    );
    const watcher = vscode.workspace.createFileSystemWatcher(FILE_GLOB);
    this.disposables.push(
      watcher,
      watcher.onDidCreate((uri) => void this.updateFromDisk(uri)),
      watcher.onDidChange((uri) => void this.updateFromDisk(uri)),
      watcher.onDidDelete((uri) => controller.items.delete(uri.toString())),
    );
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  /** Exercise items: the learner's copy when there is one (their progress), else the starter. */
  private loadWorkshop(): void {
    const root = vscode.Uri.joinPath(this.context.extensionUri, 'examples', 'workshop').fsPath;
    const items: vscode.TestItem[] = [];
    for (const exercise of listExercises(root)) {
      const copy = learnerCopyUri(this.context, exercise);
      const started = fs.existsSync(copy.fsPath);
      const uri = started ? copy : vscode.Uri.file(exercise.starter);
      const item = this.controller.createTestItem(`${WORKSHOP_ID}/${exercise.id}`, `${exercise.id.slice(0, 2)} · ${exercise.title}`, uri);
      item.description = started ? vscode.l10n.t('your copy') : vscode.l10n.t('not started (the starter)');
      item.sortText = exercise.id;
      this.setExpectations(item, readSource(uri), exercise.language);
      items.push(item);
    }
    this.workshop.children.replace(items);
  }

  private async discoverWorkspace(): Promise<void> {
    const uris = await vscode.workspace.findFiles(FILE_GLOB, EXCLUDE_GLOB, MAX_FILES);
    await Promise.all(uris.map((uri) => this.updateFromDisk(uri)));
  }

  private async updateFromDisk(uri: vscode.Uri): Promise<void> {
    if (this.isWorkshopFile(uri)) return;
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (open) return this.updateFromDocument(open);
    let text: string;
    try {
      text = Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
    } catch {
      this.controller.items.delete(uri.toString());
      return;
    }
    this.updateFile(uri, text);
  }

  private updateFromDocument(document: vscode.TextDocument): void {
    if (document.uri.scheme !== 'file' || !SUPPORTED_EXTENSIONS.includes(path.extname(document.uri.fsPath).toLowerCase())) return;
    const exercise = this.exerciseItemFor(document.uri);
    if (exercise) {
      this.setExpectations(exercise, document.getText(), languageOf(document.uri.fsPath));
      return;
    }
    // A copy Open Workshop Exercise just made: the exercise's item moves from the starter to it.
    if (this.isWorkshopFile(document.uri)) {
      if (this.workshop.children.size) this.loadWorkshop();
      return;
    }
    this.updateFile(document.uri, document.getText());
  }

  /** A workspace file: an item while it has @expect lines. */
  private updateFile(uri: vscode.Uri, text: string): void {
    const id = uri.toString();
    if (!HAS_EXPECT.test(text)) {
      this.controller.items.delete(id);
      return;
    }
    let item = this.controller.items.get(id);
    if (!item) {
      item = this.controller.createTestItem(id, vscode.workspace.asRelativePath(uri, false), uri);
      this.controller.items.add(item);
    }
    this.setExpectations(item, text, languageOf(uri.fsPath));
  }

  /** One child per @expect line (malformed ones too: running reports what is wrong with them). */
  private setExpectations(item: vscode.TestItem, text: string, language: Timeline['language']): void {
    const { expectations, errors } = parseExpectations(text, language);
    const lines = [...expectations, ...errors].sort((a, b) => a.line - b.line);
    item.children.replace(lines.map((e) => {
      const child = this.controller.createTestItem(`${item.id}#L${e.line}`, `@expect ${e.text}`, item.uri);
      child.range = new vscode.Range(e.line - 1, Math.max(0, e.column - 1), e.line - 1, Math.max(0, e.column - 1) + e.text.length + 8);
      return child;
    }));
  }

  private exerciseItemFor(uri: vscode.Uri): vscode.TestItem | undefined {
    let found: vscode.TestItem | undefined;
    this.workshop.children.forEach((item) => {
      if (item.uri?.toString() === uri.toString()) found = item;
    });
    return found;
  }

  /** The pack's starters/solutions and the learner's copies belong under the Workshop item only. */
  private isWorkshopFile(uri: vscode.Uri): boolean {
    const under = (folder: vscode.Uri) => uri.fsPath.startsWith(folder.fsPath + path.sep);
    return under(vscode.Uri.joinPath(this.context.globalStorageUri, 'workshop')) || under(vscode.Uri.joinPath(this.context.extensionUri, 'examples', 'workshop'));
  }

  private async runTests(request: vscode.TestRunRequest, token: vscode.CancellationToken): Promise<void> {
    const run = this.controller.createTestRun(request);
    // Whatever was picked (a file, an exercise, one expectation, the Workshop), the unit run is a file.
    const files = new Map<string, vscode.TestItem>();
    const addFile = (item: vscode.TestItem) => {
      if (item === this.workshop) {
        if (!item.children.size) this.loadWorkshop();
        item.children.forEach(addFile);
      } else if (item.parent && item.parent !== this.workshop) addFile(item.parent);
      else if (!request.exclude?.includes(item)) files.set(item.id, item);
    };
    if (request.include) request.include.forEach(addFile);
    else this.controller.items.forEach(addFile);
    try {
      for (const file of files.values()) {
        if (token.isCancellationRequested) break;
        await this.gradeFile(run, file, token);
      }
    } finally {
      run.end();
    }
  }

  private async gradeFile(run: vscode.TestRun, item: vscode.TestItem, token: vscode.CancellationToken): Promise<void> {
    const uri = item.uri!;
    if (!vscode.workspace.isTrusted) {
      run.errored(item, new vscode.TestMessage(vscode.l10n.t('Grading runs the file, so it is disabled in an untrusted workspace (Restricted Mode).')));
      return;
    }
    const source = readSource(uri);
    const language = languageOf(uri.fsPath);
    this.setExpectations(item, source, language);
    run.started(item);
    item.children.forEach((child) => run.started(child));
    const settings = readSettings(uri);
    const pythonPath = language === 'python' ? (await resolvePython(settings, uri)).path : undefined;
    const started = Date.now();
    const engineRun = startRun({
      file: uri.fsPath,
      source,
      args: settings.args,
      timeoutMs: settings.timeoutMs || CHECK_TIMEOUT_MS,
      blockThresholdMs: settings.blockThresholdMs,
      maxSpansPerSite: settings.maxSpansPerSite,
      stdout: 'pipe',
      stderr: 'pipe',
      nodePath: settings.node.nodePath,
      runtimeArgs: language === 'python' ? undefined : settings.nodeArgs,
      pythonPath,
      env: { ...process.env, ...settings.node.env, ...settings.env },
    });
    for (const stream of [engineRun.stdout, engineRun.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (text: string) => run.appendOutput(text.replace(/\r?\n/g, '\r\n'), undefined, item));
    }
    const cancel = token.onCancellationRequested(() => void engineRun.cancel());
    const timeline = await engineRun.done.finally(() => cancel.dispose());
    const duration = Date.now() - started;
    this.report(run, item, uri, timeline, duration);
    this.graded.fire({ uri, timeline });
  }

  private report(run: vscode.TestRun, item: vscode.TestItem, uri: vscode.Uri, timeline: Timeline, duration: number): void {
    const results = timeline.expectations ?? [];
    const byLine = new Map<number, ExpectationResult>(results.map((r) => [r.line, r]));
    const at = (line: number, column = 1) => new vscode.Location(uri, new vscode.Position(Math.max(0, line - 1), Math.max(0, column - 1)));
    item.children.forEach((child) => {
      const line = (child.range?.start.line ?? -1) + 1;
      const r = byLine.get(line);
      if (!r) run.skipped(child);
      else if (r.passed) run.passed(child);
      else {
        const message = new vscode.TestMessage(r.error !== undefined
          ? vscode.l10n.t('malformed @expect: {0}', r.error)
          : vscode.l10n.t('expected {0}; the run showed {1}', r.text, r.actual));
        message.location = at(r.line, r.column);
        if (r.error !== undefined) run.errored(child, message);
        else run.failed(child, message);
      }
    });
    const error = timeline.error;
    if (error?.kind === 'compile' || error?.kind === 'spawn') {
      const message = new vscode.TestMessage(error.message);
      if (error.line) message.location = at(error.line, error.column);
      run.errored(item, message, duration);
    } else if (!results.length) {
      run.errored(item, new vscode.TestMessage(vscode.l10n.t('This file has no @expect comments to check.')), duration);
    } else if (results.every((r) => r.passed)) {
      run.passed(item, duration);
    } else {
      const failed = results.filter((r) => !r.passed).length;
      const text = timeline.status === 'timeout'
        ? vscode.l10n.t('{0} of {1} expectations failed (the run timed out).', failed, results.length)
        : timeline.status === 'cancelled'
          ? vscode.l10n.t('{0} of {1} expectations failed (the run was stopped).', failed, results.length)
          : vscode.l10n.t('{0} of {1} expectations failed.', failed, results.length);
      run.failed(item, new vscode.TestMessage(text), duration);
    }
  }
}

/** The text to grade: the open editor's (saved or not), else the file on disk. */
function readSource(uri: vscode.Uri): string {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open) return open.getText();
  try {
    return fs.readFileSync(uri.fsPath, 'utf8');
  } catch {
    return '';
  }
}

