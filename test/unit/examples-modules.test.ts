// The examples open without red squiggles from sharing one global scope: each file is a module.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

import { REPO } from './helpers';

describe('examples as the editor sees them', function () {
  this.timeout(60_000);

  it('no "Duplicate function implementation" or "Cannot redeclare" across the examples (examples/tsconfig.json)', () => {
    const tsc = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', path.join(REPO, 'examples', 'tsconfig.json')], { cwd: REPO, encoding: 'utf8' });
    const clashes = r.stdout.split('\n').filter((l) => /TS2393|TS2451|TS2300/.test(l));
    assert.deepEqual(clashes, []);
    assert.ok(!/error TS5\d{3}/.test(r.stdout), `the tsconfig itself is valid: ${r.stdout}`);
  });
});
