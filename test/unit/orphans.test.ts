// A run whose engine dies (the editor or the CLI killed) must not live on as an orphan: an endless
// loop would spin forever with nobody to see it or stop it.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { CLI, FIXTURES } from './helpers';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function killEngineAndWatch(fixture: string): Promise<void> {
  const pidFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'awt-orphan-')), 'pid');
  const cli = spawn(process.execPath, [CLI, 'run', path.join(FIXTURES, fixture), '--', pidFile], { stdio: 'ignore' });
  let pid = 0;
  for (let i = 0; i < 200 && !pid; i++) {
    await new Promise((r) => setTimeout(r, 50));
    if (fs.existsSync(pidFile)) pid = Number(fs.readFileSync(pidFile, 'utf8')) || 0;
  }
  assert.ok(pid > 0, 'the snippet started and wrote its pid');
  assert.ok(alive(pid));
  cli.kill('SIGKILL');
  let gone = false;
  for (let i = 0; i < 100 && !gone; i++) {
    await new Promise((r) => setTimeout(r, 50));
    gone = !alive(pid);
  }
  if (!gone) process.kill(pid, 'SIGKILL');
  assert.ok(gone, 'the snippet ended within 5 s of its engine');
}

describe('a run whose engine is killed', () => {
  it('ends (node snippet in an endless loop)', async () => {
    await killEngineAndWatch('node/pid-then-spin.js');
  });

  it('ends (python snippet in an endless loop)', async () => {
    await killEngineAndWatch('python/pid_then_spin.py');
  });
});
