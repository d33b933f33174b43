// The panel keeps the run's checked @expect comments from the end-of-run status (or a stored
// timeline), forgets them when the next run starts, and sums them up in one line.
import assert from 'node:assert/strict';

import type { ExpectationResult } from '../../src/shared/timeline';
import { TimelineModel } from '../../src/webview/model/timelineModel';
import { expectationText, expectationsSummary } from '../../src/webview/model/expectations';

const holds: ExpectationResult = { line: 5, column: 4, text: 'wall < 480ms', passed: true, actual: 'wall 312.0 ms' };
const fails: ExpectationResult = { line: 6, column: 4, text: 'blocked < 50ms', passed: false, actual: 'blocked 598.9 ms' };

describe('webview model: expectations', () => {
  it('takes them from the final status, keeps them through later ticks and drops them on reset', () => {
    const m = new TimelineModel();
    m.reset({ file: 'starter.ts', language: 'typescript', status: 'running' });
    m.status_({ status: 'running', error: null, stats: null, wallMs: 10, exitCode: null, nowMs: 10 });
    assert.deepEqual(m.expectations, []);
    m.status_({ status: 'completed', error: null, stats: null, wallMs: 600, exitCode: 0, nowMs: 600, expectations: [holds, fails] });
    assert.deepEqual(m.expectations, [holds, fails]);
    m.status_({ status: 'completed', error: null, stats: null, wallMs: 600, exitCode: 0, nowMs: 600 });
    assert.equal(m.expectations.length, 2);
    m.reset({ file: 'starter.ts', language: 'typescript', status: 'running' });
    assert.deepEqual(m.expectations, []);
  });

  it('a stored timeline brings its own', () => {
    const m = new TimelineModel();
    m.load({
      version: 1, file: 'solution.ts', language: 'typescript', status: 'completed', exitCode: 0, wallMs: 300, error: null, spans: [], marks: [],
      droppedSpans: 0, stats: { wallMs: 300, awaitedMs: 0, blockedMs: 0, maxConcurrency: 0 }, expectations: [holds],
    });
    assert.deepEqual(m.expectations, [holds]);
  });

  it('sums them up: all hold, or how many of them', () => {
    assert.equal(expectationsSummary([]), '');
    assert.equal(expectationsSummary([holds]), 'Expectation: holds');
    assert.equal(expectationsSummary([holds, holds]), 'Expectations: all 2 hold');
    assert.equal(expectationsSummary([holds, fails, { ...fails, line: 7 }]), 'Expectations: 1 of 3 hold');
    assert.equal(expectationText(fails), 'blocked < 50ms — blocked 598.9 ms');
    assert.equal(expectationText({ ...fails, error: 'expected a number' }), 'line 6: malformed @expect: expected a number');
  });
});
