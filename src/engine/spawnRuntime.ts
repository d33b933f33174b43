// Spawns the instrumented runtime: the executable and arguments for a language, the channel's
// pipes placed in the child, the run's key as the first control line. Apart from run.ts so that
// the CLI's entry can start a child before it loads the rest of the engine (see cli.ts).
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';

import { markerFdOf, NODE_CHANNEL_FDS, PYTHON_CHANNEL_FDS, SEAL_KEY_BYTES, type KeyMessage, type LoaderMessage, type SealMac } from '../shared/runtimeProtocol';
import type { Language } from '../shared/timeline';
import { declaredFormat } from '../runtime/moduleFormat';
import { makeChannelPipes } from './channelPipes';
import { runtimeDir } from './runtimeDir';

export type StdioTarget = 'inherit' | 'pipe' | 'ignore' | number;

/** What a launch may set (RunOptions' fields of the same names). */
export interface LaunchOptions {
  /** Node executable for JS/TS; default: the one running the engine. */
  nodePath?: string;
  /** Python executable for .py; default: python3. */
  pythonPath?: string;
  /** Extra arguments for the runtime (node flags). */
  runtimeArgs?: string[];
}

export interface LaunchSpec {
  command: string;
  args: string[];
  /** Where the child finds [events, watchdog events, control] (see runtimeProtocol.ts). */
  channelFds: readonly [number, number, number];
  /** How the runtime seals its frames with the run's key; absent: it does not. */
  seal?: SealMac;
}

export function launchSpec(language: Language, options: LaunchOptions): LaunchSpec {
  const dir = runtimeDir();
  if (language === 'python') {
    return {
      command: options.pythonPath ?? 'python3', args: [...(options.runtimeArgs ?? []), path.join(dir, 'python', 'runner.py')],
      channelFds: PYTHON_CHANNEL_FDS,
      seal: 'hmac-sha256',
    };
  }
  return {
    command: options.nodePath ?? process.execPath,
    // No --enable-source-maps: it changes how node prints errors; the runtime maps stacks itself.
    args: [...(options.runtimeArgs ?? []), path.join(dir, 'bootstrap.js')],
    channelFds: NODE_CHANNEL_FDS,
    seal: 'poly1305',
  };
}

/** A spawned runtime waiting for its run request. */
export interface WarmChild {
  child: ChildProcess;
  spec: LaunchSpec;
  /** The engine's side of the channel: [events, watchdog events] to read, control to write. */
  channel: [Readable | null, Readable | null, Writable | null];
  /** What /proc shows for the child's channel ends (its process tree's marker). */
  markers: string[];
  /** Frames that arrived before the run (the hello). */
  early: Buffer[];
  /** The run's key, sent to the child as its first control line when the runtime seals. */
  key?: Buffer;
  /** The child was told to start its module loader (hintLoader). */
  loaderHinted?: boolean;
}

export function spawnRuntime(spec: LaunchSpec, stdio: [StdioTarget, StdioTarget, StdioTarget], env?: NodeJS.ProcessEnv, cwd?: string): WarmChild {
  // Descriptors between stdio and the channel stay closed in the child ('ignore' beyond 2).
  // Real pipes where they can be made (the runtime then keeps them from the program's children),
  // else child_process's own socket pairs.
  const marker = markerFdOf(spec.channelFds);
  const pipes = marker >= 3 ? makeChannelPipes() : undefined;
  let child: ChildProcess;
  try {
    child = spawn(spec.command, spec.args, {
      stdio: [
        ...stdio, ...Array<'ignore'>(marker - 3).fill('ignore'),
        pipes ? pipes.markerFd : 'ignore', ...(pipes ? pipes.childFds : ['pipe', 'pipe', 'pipe']),
      ] as StdioOptions,
      env: env ?? process.env,
      cwd,
      // Its own process group: a stop ends the snippet and everything it spawned.
      detached: true,
      windowsHide: true,
    });
  } finally {
    pipes?.closeChildEnds();
  }
  const channel = pipes ? pipes.streams : socketChannelOf(child, spec);
  const early: Buffer[] = [];
  const [events, , control] = channel;
  const onEarly = (b: Buffer) => early.push(b);
  events?.on('data', onEarly);
  (child as any).__awtEarly = onEarly;
  child.on('error', () => undefined);
  control?.on('error', () => undefined);
  if (pipes) {
    // Gone with the child (socket-pair stdio is closed by child_process itself).
    child.once('exit', () => control?.destroy());
    child.once('error', () => {
      if (child.pid === undefined) for (const s of channel) s?.destroy();
    });
  }
  let key: Buffer | undefined;
  if (spec.seal) {
    // node:crypto is loaded here, once the child is on its way: in the CLI's entry, loading it
    // before the spawn held the child back by as long (tens of ms on a busy machine).
    const { randomBytes } = require('node:crypto') as typeof import('node:crypto');
    key = randomBytes(SEAL_KEY_BYTES);
    const message: KeyMessage = { type: 'key', key: key.toString('hex'), mac: spec.seal };
    control?.write(JSON.stringify(message) + '\n');
  }
  return { child, spec, channel, markers: pipes?.markers ?? [], early, key };
}

/** child_process's pipes at the places the spec gives (socket pairs: the fallback). */
function socketChannelOf(child: ChildProcess, spec: LaunchSpec): [Readable | null, Readable | null, Writable | null] {
  const stdio = child.stdio as unknown[];
  const [e, w, c] = spec.channelFds;
  return [stdio[e] as Readable | null, stdio[w] as Readable | null, stdio[c] as Writable | null];
}


/** Ends a runtime and everything in its process group at once. */
export function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * Whether a JS/TS entry will likely import ES modules (an ES module by its extension or package,
 * or a file that says import or export): a guess from the text, before it is parsed.
 */
export function likelyImports(file: string, source: string | undefined): boolean {
  const declared = declaredFormat(file);
  if (declared === 'esm') return true;
  if (declared === 'cjs' && source === undefined) return false;
  try {
    return /\b(?:import|export)\b/.test(source ?? fs.readFileSync(file, 'utf8'));
  } catch {
    return false;
  }
}

/** Tells a JS/TS child to start its module loader now, before its run request (once). */
export function hintLoader(w: WarmChild): void {
  const control = w.channel[2];
  if (w.loaderHinted || !control) return;
  w.loaderHinted = true;
  const hint: LoaderMessage = { type: 'loader' };
  control.write(JSON.stringify(hint) + '\n');
}
