import * as assert from 'node:assert/strict';

import { goalTable, takeGoals, verdict } from '../../bench/goals.mjs';

// `npm run bench` ends with issue 14's table: each row met, or by how much it is not.
describe('bench: the table of goals', () => {
  it('says met, or how far a row is from its goal, for ceilings and floors', () => {
    assert.equal(verdict({ measured: 1.4, limit: 1.5, unit: 'x', shown: '' }), 'met');
    assert.equal(verdict({ measured: 3.36, limit: 2, unit: 'x', shown: '' }), 'not met: 3.36x against ≤ 2.00x (1.7 times the goal)');
    assert.equal(verdict({ measured: 5100, limit: 1000, unit: 'ms', shown: '' }), 'not met: 5100 ms against ≤ 1000 ms (5.1 times the goal)');
    assert.equal(verdict({ measured: 9, limit: 9, unit: 'runs', atLeast: true, shown: '' }), 'met');
    assert.equal(verdict({ measured: 0, limit: 9, unit: 'runs', atLeast: true, shown: '' }), 'not met: 0 where the goal is 9');
    assert.equal(verdict({ measured: Number.NaN, limit: 2, unit: 'x', shown: '' }), 'not measured');
  });

  it("takes a bench's GOAL lines out of what it prints and lists rows it did not measure", () => {
    const out = 'W1 row as printed\nGOAL\t{"row":"W1, default","measured":3.8,"limit":1.5,"unit":"x","shown":"inner 3.80x (3.1–4.2, n=5)"}\nlast line\n';
    const { text, rows } = takeGoals(out);
    assert.equal(text, 'W1 row as printed\nlast line\n');
    const table = goalTable(rows, ['W1, default', 'W2, default']).split('\n');
    assert.match(table[1]!, /W1, default +inner 3\.80x \(3\.1–4\.2, n=5\) +-> +not met: 3\.80x against ≤ 1\.50x \(2\.5 times the goal\)/);
    assert.match(table[2]!, /W2, default +not measured in this run/);
  });
});
