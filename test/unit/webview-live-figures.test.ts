// While a run goes on, the header's Blocked reads what the chart draws, not the engine's last figure.
import assert from 'node:assert/strict';

import { TimelineModel } from '../../src/webview/model/timelineModel';

describe('webview live figures', () => {
  it('Blocked while running is the drawn block bands up to now; after the run, the engine\'s figure', () => {
    const m = new TimelineModel();
    m.reset({ file: 'busy.ts', language: 'typescript', status: 'running' });
    m.append({
      sites: [{ kind: 'call', label: 'main()', line: 1, column: 1 }, { kind: 'block', label: 'while (x) {}', line: 3, column: 3 }],
      // A finished 300 ms block and one still going since 500 ms.
      spans: [[1, 0, 0, 0, null, 0], [2, 1, 1, 100, 400, 1], [3, 1, 1, 500, null, 0]],
      marks: [], droppedSpans: 0,
    });
    // The engine's stats came with an earlier status and lag behind.
    m.status_({ status: 'running', error: null, stats: { wallMs: 700, awaitedMs: 0, blockedMs: 300, maxConcurrency: 0 }, wallMs: 900, exitCode: null, nowMs: 900 });
    // The run clock keeps going between reads: the pending block counts up to whenever it is read.
    const before = m.nowMs();
    const blocked = m.blockedMsNow();
    const after = m.nowMs();
    assert.ok(before >= 900);
    assert.ok(blocked >= 300 + (before - 500) && blocked <= 300 + (after - 500), `${blocked} for now ${before}..${after}`);
    assert.equal(m.stats().blockedMs, 300, 'the engine figure is still there for after the run');
  });
});
