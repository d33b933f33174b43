// Where the panel goes when a run starts: never over the code being run, never a third column when
// a second is open.
import * as assert from 'node:assert/strict';

import { panelColumnFor } from '../../src/host/panelColumn';

describe('the panel column for a run', () => {
  it('stays where it is when that is not the column of the code being run', () => {
    assert.equal(panelColumnFor(2, 1, [1, 2]), 2);
    assert.equal(panelColumnFor(1, 2, [1, 2]), 1, 'left of the code, if the user put it there');
    assert.equal(panelColumnFor(3, 1, [1, 2, 3]), 3);
  });

  it('leaves the column of the code being run for the group to its right', () => {
    assert.equal(panelColumnFor(1, 1, [1, 2]), 2);
    assert.equal(panelColumnFor(2, 2, [1, 2, 3]), 3);
  });

  it('goes to the group on the left when the code is in the last one, instead of opening a third column', () => {
    assert.equal(panelColumnFor(2, 2, [1, 2]), 1);
    assert.equal(panelColumnFor(3, 3, [1, 2, 3]), 2, 'the nearest one');
  });

  it('opens a group beside the code only when there is no other', () => {
    assert.equal(panelColumnFor(1, 1, [1]), 'beside');
    assert.equal(panelColumnFor(undefined, 1, [1]), 'beside');
    assert.equal(panelColumnFor(undefined, 1, [1, 2]), 2, 'a panel with no column yet goes next to the code too');
  });

  it('keeps its column when the code being run is not shown in any', () => {
    assert.equal(panelColumnFor(2, undefined, [1, 2]), 2);
    assert.equal(panelColumnFor(undefined, undefined, []), 'beside');
  });
});
