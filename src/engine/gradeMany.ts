// Grading many snippets in one go (`await-timeline check <file|folder>…`): a workshop pack, a
// course's exercises, a CI job. Each file runs in a child of its own exactly as `run --check` runs
// it (warped unless it says `@time real`, the same timeout, the same verdict), a few at a time, in
// one engine: the transform, the code cache and the process start are paid once, not per file.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import type { TimeMode, Timeline } from '../shared/timeline';
import { SUPPORTED_EXTENSIONS, startRun, type Run } from './run';

/** A file's grade, as `run --check` gives it in its exit code. */
export type Verdict = 'pass' | 'fail' | 'error';

export interface Graded {
  /** Absolute path. */
  file: string;
  /** As shown: relative to the working directory. */
  rel: string;
  timeline: Timeline;
  verdict: Verdict;
  /** What the program printed (stdout then stderr), kept for a file that failed. */
  output: string;
}

export interface GradeOptions {
  time?: TimeMode;
  timeoutMs: number;
  blockThresholdMs: number;
  pythonPath?: string;
  /** How many run at once. */
  jobs: number;
  /** The working directory every run gets (as `run --check` from there would). */
  cwd: string;
}

/** Folders a search for exercises never enters. */
const SKIPPED_DIRS = new Set(['node_modules', '__pycache__']);
const EXPECT = /@expect\b/;

/**
 * The files to grade, in the order given; a folder gives every snippet below it that has an
 * `@expect` comment, sorted. What cannot be graded is said in `problems`, one line each.
 */
export function findGradable(targets: readonly string[], cwd: string): { files: string[]; problems: string[] } {
  const files: string[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  const add = (file: string) => {
    if (!seen.has(file)) {
      seen.add(file);
      files.push(file);
    }
  };
  const walk = (dir: string, found: string[]) => {
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      if (d.name.startsWith('.')) continue;
      const full = path.join(dir, d.name);
      if (d.isDirectory()) {
        if (!SKIPPED_DIRS.has(d.name)) walk(full, found);
      } else if (d.isFile() && SUPPORTED_EXTENSIONS.includes(path.extname(d.name).toLowerCase()) && EXPECT.test(fs.readFileSync(full, 'utf8'))) {
        found.push(full);
      }
    }
  };
  for (const target of targets) {
    const abs = path.resolve(cwd, target);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(abs);
    } catch {
      problems.push(`${target}: no such file or folder`);
      continue;
    }
    if (stat.isDirectory()) {
      const found: string[] = [];
      walk(abs, found);
      if (!found.length) problems.push(`${target}: no file with @expect comments in this folder`);
      for (const f of found.sort()) add(f);
    } else if (!SUPPORTED_EXTENSIONS.includes(path.extname(abs).toLowerCase())) {
      problems.push(`${target}: not a file type await-timeline runs (${SUPPORTED_EXTENSIONS.join(', ')})`);
    } else add(abs);
  }
  return { files, problems };
}

/** The grade `run --check` would exit with: 0 pass, 1 fail, 2 error (no @expect, does not compile). */
export function verdictOf(t: Timeline): Verdict {
  if (t.error?.kind === 'compile' || !t.expectations?.length) return 'error';
  return t.expectations.every((e) => e.passed) ? 'pass' : 'fail';
}

/**
 * Grades `files`, `jobs` at a time. `onGraded` is called in the files' order (a file that ends
 * early waits for the ones before it), so what is printed reads the same whichever ends first.
 * `runs` receives the runs under way, for a stop.
 */
export async function gradeMany(files: readonly string[], options: GradeOptions, onGraded: (g: Graded) => void, runs = new Set<Run>()): Promise<Graded[]> {
  const results: Array<Graded | undefined> = new Array(files.length);
  let shown = 0;
  let next = 0;
  const showReady = () => {
    while (shown < files.length && results[shown]) onGraded(results[shown++]!);
  };
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      const file = files[i];
      const rel = path.relative(options.cwd, file) || file;
      const run = startRun({
        file,
        cwd: options.cwd,
        argv0: rel,
        args: [],
        timeoutMs: options.timeoutMs,
        blockThresholdMs: options.blockThresholdMs,
        pythonPath: options.pythonPath,
        time: options.time,
        defaultTime: 'warp',
        stdin: 'ignore',
        stdout: 'pipe',
        stderr: 'pipe',
      });
      runs.add(run);
      const out: string[] = [];
      const err: string[] = [];
      run.stdout?.setEncoding('utf8').on('data', (d: string) => out.push(d));
      run.stderr?.setEncoding('utf8').on('data', (d: string) => err.push(d));
      const timeline = await run.done;
      runs.delete(run);
      results[i] = { file, rel, timeline, verdict: verdictOf(timeline), output: out.join('') + err.join('') };
      showReady();
    }
  };
  const jobs = Math.max(1, Math.min(options.jobs, files.length));
  await Promise.all(Array.from({ length: jobs }, worker));
  return results as Graded[];
}

/** How many files run at once by default: one per core the process may use. */
export const defaultJobs = (): number => (typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length) || 1;
