// A runtime that is not installed: the same plain sentence for Node.js as for Python, no raw ENOENT.
import assert from 'node:assert/strict';

import { runFixture } from './helpers';

describe('a missing runtime', function () {
  this.timeout(30_000);

  it('Node.js not found: says which one and what to do, as for Python', async () => {
    const { timeline: t } = await runFixture('node/chefs-promise-all.ts', { nodePath: 'no-such-node-20' });
    assert.equal(t.error?.kind, 'spawn');
    assert.equal(t.error?.message, "Node.js 'no-such-node-20' not found: install Node.js 20 or later, or set the Node.js to use");
    assert.doesNotMatch(t.error?.message ?? '', /ENOENT|spawn/);
  });
});

describe('a missing interpreter, again and again', function () {
  this.timeout(60_000);

  it('is said as a missing interpreter every time, however the failed start is reported (30 runs)', async () => {
    const kinds = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      const { timeline: t } = await runFixture('python/chefs_gather.py', { pythonPath: '/nonexistent/python3' });
      const key = `${t.status} ${t.error?.kind}: ${t.error?.message}`;
      kinds.set(key, (kinds.get(key) ?? 0) + 1);
    }
    assert.deepEqual([...kinds.keys()], ["failed spawn: Python interpreter '/nonexistent/python3' not found: install Python 3.9 or later, or set the interpreter to use"]);
  });
});

describe('a runtime that ends before the snippet starts', function () {
  this.timeout(30_000);

  it('says so with its exit code and how far it got', async () => {
    // Seen twice under load in CI as a bare "the runtime exited before the snippet started", with
    // nothing to tell a runtime that never spoke from one that lost its run request.
    const { timeline: t } = await runFixture('node/chefs-promise-all.ts', { nodePath: '/bin/true' });
    assert.equal(t.status, 'failed');
    assert.equal(t.error?.kind, 'spawn');
    assert.equal(t.error?.message, 'the runtime exited (code 0) before the snippet started, without a word on its channel');
  });
});
