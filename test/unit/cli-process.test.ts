// The CLI as a terminal user meets it: the program runs where the user is, sees its file as typed,
// and gets Ctrl-C as it would under plain node or python3. Compared with the real runtimes.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { CLI, copyPythonRuntime, FIXTURES, PYTHON } from './helpers';

interface Ended {
  code: number | null;
  stdout: string;
  stderr: string;
  /** ms from the last signal sent to the exit. */
  afterSignalMs: number;
}

/** Starts a command, sends SIGINT once per entry of `signals` (ms after "ready" was printed). */
function interrupted(command: string, args: string[], signals: number[]): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: FIXTURES, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let lastSignal = 0;
    let armed = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (!armed && stdout.includes('ready')) {
        armed = true;
        for (const at of signals) {
          setTimeout(() => {
            lastSignal = performance.now();
            child.kill('SIGINT');
          }, at);
        }
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), 20000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      const shell = code ?? (signal === 'SIGINT' ? 130 : signal === 'SIGKILL' ? 137 : null);
      resolve({ code: shell, stdout, stderr, afterSignalMs: performance.now() - lastSignal });
    });
  });
}

const cliArgs = (file: string, ...extra: string[]) => [CLI, 'run', file, '--no-color', '--python', PYTHON, ...extra];
/** The program's own output: what the CLI printed before its chart. */
const programPart = (stdout: string) => stdout.split('\n\n')[0] + '\n';

describe('CLI: the program runs as under plain node / python3', function () {
  this.timeout(60000);
  before(copyPythonRuntime);

  it('runs in the caller\'s working directory with argv[0] as typed (python3 and node)', () => {
    for (const [runtime, file] of [[PYTHON, 'sub/where.py'], [process.execPath, 'sub/where.js']]) {
      const cwd = path.join(FIXTURES, 'cwd');
      const plain = spawnSync(runtime, [file], { cwd, encoding: 'utf8' });
      assert.equal(plain.status, 0, plain.stderr);
      const ours = spawnSync(process.execPath, cliArgs(file), { cwd, encoding: 'utf8', timeout: 30000 });
      assert.equal(ours.status, 0, ours.stderr);
      assert.equal(programPart(ours.stdout), plain.stdout, `${file}`);
    }
  });

  it('the first Ctrl-C reaches a Python program, which cleans up, says bye and exits 0', async () => {
    const plain = await interrupted(PYTHON, ['python/ctrl_c.py'], [300]);
    assert.equal(plain.code, 0);
    assert.equal(plain.stdout, 'ready\ncleaning up\nbye\n');
    const ours = await interrupted(process.execPath, cliArgs('python/ctrl_c.py'), [300]);
    assert.equal(ours.code, plain.code, ours.stderr);
    assert.equal(programPart(ours.stdout), plain.stdout);
  });

  it('the first Ctrl-C reaches a node program\'s SIGINT handler', async () => {
    const plain = await interrupted(process.execPath, ['node/ctrl-c.js'], [300]);
    assert.equal(plain.code, 0);
    const ours = await interrupted(process.execPath, cliArgs('node/ctrl-c.js'), [300]);
    assert.equal(ours.code, plain.code, ours.stderr);
    assert.equal(programPart(ours.stdout), plain.stdout);
  });

  it('a program that ignores Ctrl-C is stopped by the second one', async () => {
    const ours = await interrupted(process.execPath, cliArgs('python/ignores_ctrl_c.py'), [300, 900]);
    assert.equal(ours.code, 130);
    assert.match(ours.stderr, /stopped/);
    // Stopped at the second Ctrl-C, not after the grace period of the first or the 30 s sleep.
    assert.ok(ours.afterSignalMs < 2000, `ended ${Math.round(ours.afterSignalMs)} ms after the second Ctrl-C`);
  });
});

describe('CLI: it ends once everything it prints is written', function () {
  it('gives a slow reader of its stdout the whole chart and JSON, then exits with the program\'s code', async () => {
    // The CLI ends itself once its output is written (cliMain's exitOnceWritten): what it
    // printed to a pipe nobody has read yet must still all arrive, and the exit code stay the
    // program's. The JSON of 3,000 awaits is 700 kB, ten times a pipe's buffer.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awt-written-'));
    try {
      const file = path.join(dir, 'many.mjs');
      fs.writeFileSync(file, "for (let i = 0; i < 3000; i++) await i;\nconsole.error('done');\nprocess.exitCode = 3;\n");
      const child = spawn(process.execPath, [CLI, 'run', file, '--json', '-', '--no-color', '--max-spans-per-site', '1000000'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      let exited = false;
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('exit', () => (exited = true));
      // Nothing is read from stdout until the program has finished and the CLI is writing (or the
      // CLI ended without it: the assertions below say how).
      child.stdout.pause();
      while (!stderr.includes('done') && !exited) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 300));
      const chunks: Buffer[] = [];
      child.stdout.on('data', (d: Buffer) => chunks.push(d));
      child.stdout.resume();
      const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
      assert.equal(code, 3, stderr);
      const t = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      assert.equal(t.exitCode, 3);
      assert.ok(t.spans.filter((s: { kind: string }) => s.kind === 'await').length >= 3000, 'every await is in the JSON');
      assert.match(stderr, /exit 3/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
