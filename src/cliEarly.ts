// The CLI's head start: for `await-timeline run <file>` of JavaScript or TypeScript, the run's
// child is started before the rest of the CLI is loaded, so that node's start in the child and the
// CLI's own loading (its bundle, the transform) overlap instead of adding up. What is guessed here
// from the command line is checked against the parsed options before the child is used
// (earlyChildFits); a child that does not fit is ended and a fresh one started, as without this.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { hintLoader, launchSpec, likelyImports, spawnRuntime, type StdioTarget, type WarmChild } from './engine/spawnRuntime';

/** A run's child started by the CLI's entry, and what it was started for. */
export interface EarlyChild {
  child: WarmChild;
  /** The snippet, absolute, as the run would resolve it. */
  file: string;
  /** Where the child's stdout goes (the terminal, or stderr when --json - takes stdout). */
  stdout: StdioTarget;
}

/** The JavaScript and TypeScript extensions a run starts node for (Python starts python3). */
const NODE_EXTENSIONS = /\.(?:[cm]?[jt]s|[jt]sx)$/i;

/**
 * What `run` would start, when the command line plainly says (`run <file> …` with an existing
 * JS/TS file): the file and where the child's stdout goes. Undefined otherwise (another command,
 * options before the file, a missing file): the CLI then starts its child as it parses.
 */
export function earlyRunGuess(argv: readonly string[], cwd: string): { file: string; stdout: StdioTarget } | undefined {
  if (argv[0] !== 'run' || argv[1] === undefined || argv[1].startsWith('-') || !NODE_EXTENSIONS.test(argv[1])) return undefined;
  const file = path.resolve(cwd, argv[1]);
  try {
    if (!fs.statSync(file).isFile()) return undefined;
  } catch {
    return undefined;
  }
  const dd = argv.indexOf('--');
  const own = dd >= 0 ? argv.slice(2, dd) : argv.slice(2);
  let jsonToStdout = false;
  for (let i = 0; i < own.length; i++) {
    if (own[i] === '--json') jsonToStdout = own[++i] === '-';
    else if (own[i].startsWith('--json=')) jsonToStdout = own[i] === '--json=-';
  }
  return { file, stdout: jsonToStdout ? 2 : 'inherit' };
}

/** Starts the run's child now if the command line says what it will be (see earlyRunGuess). */
export function startEarlyChild(argv: readonly string[]): EarlyChild | undefined {
  const guess = earlyRunGuess(argv, process.cwd());
  if (!guess) return undefined;
  try {
    // As the run would start it (src/cliMain.ts): node of this process, the caller's cwd and env.
    const child = spawnRuntime(launchSpec('javascript', {}), ['inherit', guess.stdout, 'inherit'], process.env, process.cwd());
    if (child.child.pid === undefined) return undefined;
    // An ES module entry needs the child's module loader: it starts while this process loads.
    if (likelyImports(guess.file, undefined)) hintLoader(child);
    return { child, ...guess };
  } catch {
    return undefined;
  }
}

/** Whether the early child was started as the run, now parsed, would start its own. */
export function earlyChildFits(early: EarlyChild, run: { file: string; stdout: StdioTarget }): boolean {
  return early.file === run.file && early.stdout === run.stdout && early.child.child.exitCode === null && early.child.child.signalCode === null;
}
