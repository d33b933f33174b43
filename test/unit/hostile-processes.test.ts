// Nothing a run started is left running (issue 10, item 10): a `detached` child, a `setsid`
// double fork and a `start_new_session` child whose parent exited are ended on --timeout, Stop,
// Ctrl-C and SIGKILL of the CLI, and at the end of a run whose program exited while they ran.
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { CLI, FIXTURES } from './helpers';
import { startRun } from '../../src/engine/run';

const FIXTURE = path.join(FIXTURES, 'node/hostile/escapees.js');
const NAMES = ['detached', 'setsid', 'new-session'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Running: alive and not a zombie (this container's init may not reap). */
function running(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

async function escapeesOf(dir: string, out: () => string): Promise<number[]> {
  for (let i = 0; i < 600 && !out().includes('ready'); i++) await sleep(50);
  assert.match(out(), /ready/, `the program started its three processes (files: ${fs.readdirSync(dir).join(', ')})`);
  const pids = NAMES.map((n) => Number(fs.readFileSync(path.join(dir, n), 'utf8')));
  for (const [i, pid] of pids.entries()) assert.ok(running(pid), `${NAMES[i]} (${pid}) runs before`);
  return pids;
}

async function assertEnded(pids: number[]): Promise<void> {
  for (let i = 0; i < 60 && pids.some(running); i++) await sleep(50);
  const left = pids.map((pid, i) => (running(pid) ? `${NAMES[i]} ${pid}` : '')).filter(Boolean);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL'); // a failing test leaves nothing behind either
    } catch {
      // ended
    }
  }
  assert.deepEqual(left, [], 'still running 3 s later');
}

function cliRun(dir: string, extra: string[]): { cli: ChildProcess; out: () => string } {
  let text = '';
  const cli = spawn(process.execPath, [CLI, 'run', FIXTURE, '--no-color', ...extra, '--', dir, 'wait'], { stdio: ['ignore', 'pipe', 'ignore'] });
  cli.stdout!.setEncoding('utf8').on('data', (d: string) => (text += d));
  return { cli, out: () => text };
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'awt-escapees-'));

describe('hostile: nothing the program started is left running', function () {
  this.timeout(60000);

  it('on --timeout', async () => {
    const dir = tmp();
    // Long enough for the three to start on a busy machine (pyenv's python3 alone takes seconds
    // there): the timeout must strike after they run, not before.
    const { cli, out } = cliRun(dir, ['--timeout', '10000']);
    const pids = await escapeesOf(dir, out);
    const code = await new Promise((r) => cli.once('exit', r));
    assert.equal(code, 124);
    await assertEnded(pids);
  });

  it('on Stop', async () => {
    const dir = tmp();
    const run = startRun({ file: FIXTURE, args: [dir, 'wait'], stdout: 'pipe', stderr: 'ignore' });
    let text = '';
    run.stdout?.setEncoding('utf8').on('data', (d: string) => (text += d));
    const pids = await escapeesOf(dir, () => text);
    const t = await run.cancel();
    assert.equal(t.status, 'cancelled');
    await assertEnded(pids);
  });

  it('on Ctrl-C of the CLI', async () => {
    const dir = tmp();
    const { cli, out } = cliRun(dir, []);
    const pids = await escapeesOf(dir, out);
    cli.kill('SIGINT');
    assert.equal(await new Promise((r) => cli.once('exit', r)), 130);
    await assertEnded(pids);
  });

  it('on SIGKILL of the CLI', async () => {
    const dir = tmp();
    const { cli, out } = cliRun(dir, []);
    const pids = await escapeesOf(dir, out);
    cli.kill('SIGKILL');
    await assertEnded(pids);
  });

  it('at the end of a run whose program exited while they ran', async () => {
    const dir = tmp();
    let text = '';
    const cli = spawn(process.execPath, [CLI, 'run', FIXTURE, '--no-color', '--', dir, 'exit'], { stdio: ['ignore', 'pipe', 'ignore'] });
    cli.stdout!.setEncoding('utf8').on('data', (d: string) => (text += d));
    const code = await new Promise((r) => cli.once('exit', r));
    assert.equal(code, 0);
    const pids = NAMES.map((n) => Number(fs.readFileSync(path.join(dir, n), 'utf8')));
    assert.match(text, /ready/);
    // Ended by the time the CLI has exited: nothing is left for anyone to find.
    const left = pids.filter(running);
    await assertEnded(pids);
    assert.deepEqual(left, []);
  });
});
