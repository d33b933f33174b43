// The CLI starts a run's child before it loads the rest of itself (cli.ts, cliEarly.ts): node's
// start in the child and the CLI's loading overlap. A child started for a command line the run
// then does not take (a bad option, another stdout) is ended, and the run is as without it.
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { earlyRunGuess } from '../../src/cliEarly';
import { CLI, REPO } from './helpers';

/** Processes whose environment holds `marker` (the runtime children the CLI started with it). */
function holding(marker: string): number[] {
  const found: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (fs.readFileSync(`/proc/${name}/environ`, 'latin1').includes(marker)) found.push(Number(name));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

describe('CLI: the run\'s child starts before the CLI has loaded', function () {
  this.timeout(60000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awt-early-'));
    fs.writeFileSync(path.join(dir, 'hello.mjs'), "console.log('hello', process.argv.slice(2).join(' '));\n");
    // Sums the bytes of the CLI's own code compiled when the runtime's child is spawned.
    fs.writeFileSync(path.join(dir, 'hook.cjs'), `
      const Module = require('node:module');
      const cp = require('node:child_process');
      const dist = ${JSON.stringify(path.join(REPO, 'dist') + path.sep)};
      let compiled = 0;
      const compile = Module.prototype._compile;
      Module.prototype._compile = function (code, filename) {
        if (filename.startsWith(dist)) compiled += Buffer.byteLength(code);
        return compile.apply(this, arguments);
      };
      const spawn = cp.spawn;
      cp.spawn = function (command, args) {
        if (Array.isArray(args) && args.some((a) => String(a).endsWith('bootstrap.js'))) {
          process.stderr.write('SPAWNED AFTER ' + compiled + '\\n');
          if (process.moduleLoadList.includes('NativeModule crypto')) process.stderr.write('CRYPTO LOADED BEFORE THE SPAWN\\n');
        }
        return spawn.apply(this, arguments);
      };
    `);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('spawns the child before the bulk of the CLI is compiled, and the run is the same', () => {
    // Failed before: the whole CLI (250 kB) was compiled before the child was spawned.
    const r = spawnSync(process.execPath, ['-r', path.join(dir, 'hook.cjs'), CLI, 'run', 'hello.mjs', '--no-color', '--', 'a', 'b'], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const spawned = [...r.stderr.matchAll(/SPAWNED AFTER (\d+)/g)].map((m) => Number(m[1]));
    assert.equal(spawned.length, 1, `one runtime child: ${r.stderr}`);
    assert.ok(spawned[0] < 32 * 1024, `${spawned[0]} bytes of the CLI compiled before its child was spawned`);
    // Failed before: node:crypto (for the run's key, made after the spawn) was loaded first.
    assert.doesNotMatch(r.stderr, /CRYPTO LOADED BEFORE THE SPAWN/);
    assert.match(r.stdout, /^hello a b\n/);
    assert.match(r.stdout, /completed \(exit 0\)/);
  });

  it('ends the child it started when the command line is refused, and leaves nothing running', () => {
    const marker = `AWT_EARLY_TEST_${randomBytes(6).toString('hex')}`;
    const r = spawnSync(process.execPath, [CLI, 'run', 'hello.mjs', '--no-such-option'], { cwd: dir, encoding: 'utf8', env: { ...process.env, [marker]: '1' } });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /await-timeline: Unknown option '--no-such-option'/);
    assert.deepEqual(holding(marker), []);
  });

  it('takes --json - (stdout carries the JSON, the program\'s output goes to stderr)', () => {
    const r = spawnSync(process.execPath, [CLI, 'run', 'hello.mjs', '--json', '-'], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).status, 'completed');
    assert.match(r.stderr, /^hello \n/);
  });

  it('guesses only from a plain `run <file>` of JS or TS that exists', () => {
    const file = path.join(dir, 'hello.mjs');
    assert.deepEqual(earlyRunGuess(['run', 'hello.mjs'], dir), { file, stdout: 'inherit' });
    assert.deepEqual(earlyRunGuess(['run', 'hello.mjs', '--json', '-'], dir), { file, stdout: 2 });
    assert.deepEqual(earlyRunGuess(['run', 'hello.mjs', '--json=-', '--', '--json', 'x'], dir), { file, stdout: 2 });
    assert.deepEqual(earlyRunGuess(['run', 'hello.mjs', '--', '--json', '-'], dir), { file, stdout: 'inherit' });
    assert.equal(earlyRunGuess(['run', 'missing.mjs'], dir), undefined);
    assert.equal(earlyRunGuess(['run', 'x.py'], dir), undefined);
    assert.equal(earlyRunGuess(['check', 'hello.mjs'], dir), undefined);
    assert.equal(earlyRunGuess(['--json', '-', 'run', 'hello.mjs'], dir), undefined);
  });
});
