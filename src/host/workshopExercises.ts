// The workshop pack on disk (examples/workshop/NN-name/{starter,solution}.{ts,js,py}): which
// exercises there are and the task text each starter begins with. No 'vscode': tested in Node.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface WorkshopExercise {
  /** The folder name, e.g. `01-two-chefs`: also the name of the learner's copy. */
  id: string;
  /** The first comment line of the starter, e.g. "Two chefs, one kitchen". */
  title: string;
  /** The rest of the task text, before the first `@expect` line, as one paragraph. */
  task: string;
  /** How many `@expect` lines grade it. */
  expectations: number;
  /** Absolute path of the starter. */
  starter: string;
  /** Absolute path of the solution, when there is one. */
  solution: string | undefined;
  language: 'typescript' | 'javascript' | 'python';
}

const LANGUAGES: Record<string, WorkshopExercise['language']> = { '.ts': 'typescript', '.js': 'javascript', '.mjs': 'javascript', '.py': 'python' };

/** Title and task from the comment lines a starter begins with (`//` or `#`). */
export function readTaskText(source: string): { title: string; task: string; expectations: number } {
  const comments: string[] = [];
  for (const line of source.split(/\r?\n/)) {
    const m = /^\s*(?:\/\/|#)\s?(.*)$/.exec(line);
    if (!m) break;
    comments.push(m[1].trim());
  }
  const expectAt = comments.findIndex((c) => c.startsWith('@expect'));
  const text = expectAt >= 0 ? comments.slice(0, expectAt) : comments;
  return {
    title: text[0] ?? '',
    task: text.slice(1).join(' ').replace(/\s+/g, ' ').trim(),
    expectations: source.split(/\r?\n/).filter((l) => /^\s*(?:\/\/|#)\s*@expect\s/.test(l)).length,
  };
}

/** The exercises under `root`, in folder order; folders without a starter are skipped. */
export function listExercises(root: string): WorkshopExercise[] {
  let dirs: fs.Dirent[];
  try {
    dirs = fs.readdirSync(root, { withFileTypes: true });
  } catch {
    return [];
  }
  const exercises: WorkshopExercise[] = [];
  for (const dir of dirs.filter((d) => d.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const files = fs.readdirSync(path.join(root, dir.name));
    const find = (base: string) => files.find((f) => path.parse(f).name === base && LANGUAGES[path.extname(f)]);
    const starter = find('starter');
    if (!starter) continue;
    const solution = find('solution');
    const starterPath = path.join(root, dir.name, starter);
    const { title, task, expectations } = readTaskText(fs.readFileSync(starterPath, 'utf8'));
    exercises.push({
      id: dir.name,
      title: title || dir.name,
      task,
      expectations,
      starter: starterPath,
      solution: solution ? path.join(root, dir.name, solution) : undefined,
      language: LANGUAGES[path.extname(starter)],
    });
  }
  return exercises;
}
