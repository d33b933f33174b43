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
