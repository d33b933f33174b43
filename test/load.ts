// Keeps this machine busy the way a laptop compiling in the background or a shared CI runner is,
// for a test's duration: busy CPU loops, disk writes with fsync, and page-cache churn (reading a
// tree of files). Modelled on /work/shared/tools/load.sh: CPU load alone did not make the timeline
// invent blocks; this mix did.
//
//   const load = startLoad({ seconds: 60 });   // in before()
//   …
//   await load.stop();                          // in after(): every process ended, the file removed
//
// Each process stops by itself at its deadline, so nothing outlives a test run that is killed.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface LoadOptions {
  /** The longest the load lasts; each process ends itself then, whatever happens to the test. */
  seconds: number;
  /** Busy loops; default two per core. */
  cpus?: number;
  /** A writer of fsync'd files; default on. */
  disk?: boolean;
  /** A reader of many files (page-cache churn); default on. */
  churn?: boolean;
  /** Where the churn reads; default the repository's node_modules. */
  churnDir?: string;
  /**
   * Each busy loop in a session of its own, as separate programs on a real machine are. With the
   * kernel's autogroup scheduling (sched_autogroup_enabled) CPU is shared between sessions first:
   * loops all in the test's session take one share together, and the run (a session of its own)
   * keeps about half the machine however many there are. Default off.
   */
  sessions?: boolean;
}

export interface Load {
  /** Ends every process of the load and removes its file. */
  stop(): Promise<void>;
}

// Each worker is a tiny node program: the deadline comes as an argument.
const CPU = 'const end = Date.now() + Number(process.argv[1]); while (Date.now() < end) {}';
const DISK = `
const fs = require('node:fs');
const [ms, file] = [Number(process.argv[1]), process.argv[2]];
const end = Date.now() + ms;
const chunk = Buffer.alloc(1 << 20, 7);
try {
  while (Date.now() < end) {
    const fd = fs.openSync(file, 'w');
    for (let i = 0; i < 64 && Date.now() < end; i++) fs.writeSync(fd, chunk);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
} finally {
  fs.rmSync(file, { force: true });
}`;
const CHURN = `
const fs = require('node:fs');
const path = require('node:path');
const [ms, root] = [Number(process.argv[1]), process.argv[2]];
const end = Date.now() + ms;
const files = [];
(function walk(d, depth) {
  if (files.length > 20000 || depth > 8) return;
  let names = [];
  try { names = fs.readdirSync(d, { withFileTypes: true }); } catch { return; }
  for (const n of names) {
    const p = path.join(d, n.name);
    if (n.isDirectory()) walk(p, depth + 1);
    else if (n.isFile()) files.push(p);
  }
})(root, 0);
while (Date.now() < end) {
  for (const f of files) {
    if (Date.now() >= end) break;
    try { fs.readFileSync(f); } catch {}
  }
  if (files.length === 0) break;
}`;

export function startLoad(options: LoadOptions): Load {
  const ms = String(Math.round(options.seconds * 1000));
  const children: ChildProcess[] = [];
  const run = (code: string, ...args: string[]) => {
    const child = spawn(process.execPath, ['-e', code, ms, ...args], { stdio: 'ignore', detached: options.sessions === true && code === CPU });
    child.on('error', () => undefined);
    children.push(child);
  };
  const cpus = options.cpus ?? 2 * Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  for (let i = 0; i < cpus; i++) run(CPU);
  const file = path.join(os.tmpdir(), `awt-load-${process.pid}-${Date.now()}.bin`);
  if (options.disk !== false) run(DISK, file);
  if (options.churn !== false) run(CHURN, options.churnDir ?? path.resolve(__dirname, '..', 'node_modules'));
  return {
    async stop() {
      await Promise.all(children.map((c) => new Promise<void>((resolve) => {
        if (c.exitCode !== null || c.signalCode !== null) return resolve();
        c.once('exit', () => resolve());
        c.kill('SIGKILL');
      })));
      fs.rmSync(file, { force: true });
    },
  };
}
