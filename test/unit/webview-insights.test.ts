// The panel's model keeps the run's insights and critical path from the end-of-run status, and
// forgets them when the next run starts.
import assert from 'node:assert/strict';

import type { Insight } from '../../src/shared/timeline';
import { TimelineModel } from '../../src/webview/model/timelineModel';

const insight: Insight = {
  kind: 'sequential-awaits', line: 8, endLine: 9, sites: [{ line: 8, column: 16 }, { line: 9, column: 17 }], spanIds: [2, 7],
  sequentialMs: 400, parallelMs: 200, savesMs: 200, message: 'these 2 awaits ran back to back (400 ms)',
};

describe('webview model: insights and critical path', () => {
  it('takes them from the final status and drops them on reset', () => {
    const m = new TimelineModel();
    m.reset({ file: 'a.mjs', language: 'javascript', status: 'running' });
    m.status_({ status: 'running', error: null, stats: null, wallMs: 10, exitCode: null, nowMs: 10 });
    assert.deepEqual(m.insights, []);
    m.status_({ status: 'completed', error: null, stats: null, wallMs: 600, exitCode: 0, nowMs: 600, insights: [insight], criticalPath: [1, 2, 7] });
    assert.deepEqual(m.insights, [insight]);
    assert.deepEqual([...m.criticalPath], [1, 2, 7]);
    // A later status without them (a tick) keeps what the end said.
    m.status_({ status: 'completed', error: null, stats: null, wallMs: 600, exitCode: 0, nowMs: 600 });
    assert.equal(m.insights.length, 1);
    m.reset({ file: 'a.mjs', language: 'javascript', status: 'running' });
    assert.deepEqual(m.insights, []);
    assert.equal(m.criticalPath.size, 0);
  });

  it('a stored timeline brings its own', () => {
    const m = new TimelineModel();
    m.load({
      version: 1, file: 'a.mjs', language: 'javascript', status: 'completed', exitCode: 0, wallMs: 600, error: null, spans: [], marks: [],
      droppedSpans: 0, stats: { wallMs: 600, awaitedMs: 0, blockedMs: 0, maxConcurrency: 0 }, insights: [insight], criticalPath: [3],
    });
    assert.equal(m.insights[0].savesMs, 200);
    assert.ok(m.criticalPath.has(3));
  });
});
