// "Await Timeline: Open Workshop Exercise": a quick pick of the bundled exercises with their task
// text; the chosen starter is copied to the learner's own file and opened, ready to edit and run.
//
// Where the copy goes: the extension's global storage (workshop/NN-name.ts), not the bundled file
// (editing it would change the installed extension, and an update would wipe the work) and not an
// untitled buffer (it asks to be saved on every close and has no stable name). A real file saves as
// usual, runs like any other, keeps the learner's work across sessions, and stays out of their
// workspace. Opening an exercise that has a copy asks whether to continue it or start over.
import * as vscode from 'vscode';

import { listExercises, type WorkshopExercise } from './workshopExercises';

const EXTENSIONS: Record<WorkshopExercise['language'], string> = { typescript: '.ts', javascript: '.js', python: '.py' };

interface ExerciseItem extends vscode.QuickPickItem {
  exercise: WorkshopExercise;
}

/** Where the learners' copies live (set when the command is registered). */
let copiesFolder: vscode.Uri | undefined;
/** Exercise copies whose learner asked for a hint this session: their quick fix is offered. */
const hinted = new Set<string>();

/** What the editor offers in exercise copies: `awaitTimeline.workshop.hints`. */
export type WorkshopHints = 'off' | 'insights' | 'fixes';

/** Whether the document is a learner's copy of a workshop exercise. */
export function isWorkshopCopy(uri: vscode.Uri): boolean {
  return !!copiesFolder && uri.scheme === copiesFolder.scheme && uri.path.startsWith(`${copiesFolder.path}/`);
}

/**
 * What the editor offers on a document after a run: the insight (diagnostic) and the Promise.all fix.
 * In an exercise copy the fix would hand over the answer: it waits until the learner asks for a hint.
 */
export function hintsFor(uri: vscode.Uri): { insights: boolean; fix: boolean; askForHint: boolean } {
  if (!isWorkshopCopy(uri)) return { insights: true, fix: true, askForHint: false };
  const mode = vscode.workspace.getConfiguration('awaitTimeline', uri).get<WorkshopHints>('workshop.hints', 'insights');
  if (mode === 'fixes' || hinted.has(uri.toString())) return { insights: mode !== 'off' || hinted.has(uri.toString()), fix: true, askForHint: false };
  return { insights: mode === 'insights', fix: false, askForHint: mode === 'insights' };
}

export function registerWorkshop(context: vscode.ExtensionContext): vscode.Disposable {
  copiesFolder = vscode.Uri.joinPath(context.globalStorageUri, 'workshop');
  return vscode.Disposable.from(
    vscode.workspace.registerTextDocumentContentProvider(SOLUTION_SCHEME, {
      // Only the bundled exercises' files: the scheme is not a way to read anything else.
      provideTextDocumentContent: async (uri) => {
        const packRoot = vscode.Uri.joinPath(context.extensionUri, 'examples', 'workshop').path;
        if (!uri.path.startsWith(`${packRoot}/`) || uri.path.includes('/../')) return '';
        return Buffer.from(await vscode.workspace.fs.readFile(uri.with({ scheme: 'file' }))).toString('utf8');
      },
    }),
    // Resolves to the opened copy's URI (tests and other commands can run it). An exercise id
    // (`01-two-chefs`) opens that one without the quick pick, e.g. from a link in workshop notes.
    vscode.commands.registerCommand('awaitTimeline.openWorkshopExercise', async (id?: unknown) =>
      (await openWorkshopExercise(context, typeof id === 'string' ? id : undefined))?.document.uri),
    // The learner asks for a hint: from now on the quick fix is offered in this copy.
    vscode.commands.registerCommand('awaitTimeline.workshopHint', async (uri?: unknown) => {
      const target = uri instanceof vscode.Uri ? uri : vscode.window.activeTextEditor?.document.uri;
      if (!target) return;
      hinted.add(target.toString());
      if (vscode.window.activeTextEditor?.document.uri.toString() === target.toString()) {
        await vscode.commands.executeCommand('editor.action.quickFix');
      }
    }),
  );
}

export async function openWorkshopExercise(context: vscode.ExtensionContext, id?: string): Promise<vscode.TextEditor | undefined> {
  const root = vscode.Uri.joinPath(context.extensionUri, 'examples', 'workshop');
  const exercises = listExercises(root.fsPath);
  if (!exercises.length) {
    void vscode.window.showErrorMessage(vscode.l10n.t('Await Timeline: no workshop exercises found in {0}.', root.fsPath));
    return undefined;
  }
  if (id !== undefined) {
    const exercise = exercises.find((e) => e.id === id);
    if (!exercise) {
      void vscode.window.showErrorMessage(vscode.l10n.t("Await Timeline: there is no workshop exercise '{0}'.", id));
      return undefined;
    }
    return openStarter(context, exercise);
  }
  const solutionButton: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('lightbulb'), tooltip: vscode.l10n.t('Show the solution') };
  const picked = await new Promise<ExerciseItem | undefined>((resolve) => {
    const pick = vscode.window.createQuickPick<ExerciseItem>();
    pick.title = vscode.l10n.t('Await Timeline Workshop: make the timeline show what the @expect lines say');
    pick.placeholder = vscode.l10n.t('Pick an exercise: its starter opens as your own copy; run it with Run with Timeline');
    pick.matchOnDetail = true;
    pick.items = exercises.map((exercise) => ({
      exercise,
      label: `${exercise.id.slice(0, 2)} · ${exercise.title}`,
      description: vscode.l10n.t('{0} · {1} expectations', exercise.language === 'python' ? 'Python' : 'TypeScript', exercise.expectations),
      detail: exercise.task,
      buttons: exercise.solution ? [solutionButton] : [],
    }));
    let done = false;
    const finish = (item: ExerciseItem | undefined) => {
      if (done) return;
      done = true;
      resolve(item);
      pick.dispose();
    };
    pick.onDidTriggerItemButton((e) => void showSolution(context, e.item.exercise));
    pick.onDidAccept(() => finish(pick.selectedItems[0]));
    pick.onDidHide(() => finish(undefined));
    pick.show();
  });
  if (!picked) return undefined;
  return openStarter(context, picked.exercise);
}

/** The learner's own copy of an exercise (it may not exist yet). */
export function learnerCopyUri(context: vscode.ExtensionContext, exercise: WorkshopExercise): vscode.Uri {
  return vscode.Uri.joinPath(context.globalStorageUri, 'workshop', `${exercise.id}${EXTENSIONS[exercise.language]}`);
}

/** Copies the starter to the learner's file (asking before it replaces earlier work) and opens it. */
async function openStarter(context: vscode.ExtensionContext, exercise: WorkshopExercise): Promise<vscode.TextEditor | undefined> {
  const copy = learnerCopyUri(context, exercise);
  const folder = vscode.Uri.joinPath(copy, '..');
  const starter = await vscode.workspace.fs.readFile(vscode.Uri.file(exercise.starter));
  let exists = false;
  try {
    await vscode.workspace.fs.stat(copy);
    exists = true;
  } catch {
    // first time
  }
  if (exists) {
    const current = await vscode.workspace.fs.readFile(copy);
    if (Buffer.compare(Buffer.from(current), Buffer.from(starter)) !== 0) {
      const keep = vscode.l10n.t('Continue my copy');
      const restart = vscode.l10n.t('Start over');
      const choice = await vscode.window.showInformationMessage(
        vscode.l10n.t('You have worked on "{0}" before.', exercise.title), { modal: true, detail: vscode.l10n.t('Start over replaces your copy with the starter.') }, keep, restart,
      );
      if (!choice) return undefined;
      if (choice === restart) await writeCopy(folder, copy, starter);
    }
  } else {
    await writeCopy(folder, copy, starter);
  }
  const document = await vscode.workspace.openTextDocument(copy);
  const editor = await vscode.window.showTextDocument(document, { preview: false });
  void vscode.window.showInformationMessage(
    vscode.l10n.t('{0}: make the @expect lines hold, then Run with Timeline (Ctrl+Alt+Shift+R). The panel shows ✓/✗ for each.', exercise.title),
  );
  return editor;
}

/**
 * The copies folder's tsconfig: each exercise is a program of its own (a module), so two copies
 * that both define `main` and `sleep` do not show "Duplicate function implementation".
 */
const COPIES_TSCONFIG = JSON.stringify({
  compilerOptions: { moduleDetection: 'force', target: 'ES2022', lib: ['ES2022', 'DOM'], strict: true, noEmit: true, skipLibCheck: true },
}, null, 2) + '\n';

async function writeCopy(folder: vscode.Uri, copy: vscode.Uri, content: Uint8Array): Promise<void> {
  await vscode.workspace.fs.createDirectory(folder);
  await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(folder, 'tsconfig.json'), Buffer.from(COPIES_TSCONFIG));
  await vscode.workspace.fs.writeFile(copy, content);
  // A copy open in an editor with unsaved changes would hide the reset: revert it from disk.
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === copy.toString());
  if (open?.isDirty) {
    await vscode.window.showTextDocument(open);
    await vscode.commands.executeCommand('workbench.action.files.revert');
  }
}

/** Read-only documents with an exercise's solution: `await-timeline-solution:/<solution path>`. */
const SOLUTION_SCHEME = 'await-timeline-solution';

/**
 * The solution as a diff against the learner's copy (or the starter, before there is a copy): what
 * to change, without a third column squeezing code and chart. It opens in the column that shows the
 * copy, if one does (the learner may have been in the chart's column: the chart stays in view),
 * else in the current one.
 */
async function showSolution(context: vscode.ExtensionContext, exercise: WorkshopExercise): Promise<void> {
  if (!exercise.solution) return;
  const copy = vscode.Uri.joinPath(context.globalStorageUri, 'workshop', `${exercise.id}${EXTENSIONS[exercise.language]}`);
  let left = vscode.Uri.file(exercise.starter);
  try {
    await vscode.workspace.fs.stat(copy);
    left = copy;
  } catch {
    // no copy yet: compare with the starter
  }
  const right = vscode.Uri.from({ scheme: SOLUTION_SCHEME, path: vscode.Uri.file(exercise.solution).path });
  const viewColumn = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === left.toString())?.viewColumn;
  const options: vscode.TextDocumentShowOptions = { preview: true, viewColumn };
  await vscode.commands.executeCommand('vscode.diff', left, right, `${exercise.title}: ${left === copy ? 'your copy' : 'starter'} ↔ solution`, options);
}
