// The CLI's --json writer: the timeline written in pieces, byte for byte what JSON.stringify writes.
import * as assert from 'node:assert/strict';

import { writeTimelineJson } from '../../src/engine/jsonWriter';
import type { Timeline } from '../../src/shared/timeline';

describe('timeline JSON written in pieces', () => {
  it('is byte for byte what JSON.stringify(timeline, null, 2) writes, for every kind of field', () => {
    const t: Timeline = {
      version: 1, file: '/w/"odd"\nname.mjs', language: 'javascript', status: 'failed', exitCode: null, wallMs: 12.5,
      error: { kind: 'exception', message: 'boom\n  at x', line: 3 },
      spans: Array.from({ length: 3000 }, (_, i) => ({ id: i + 1, parentId: i ? i : null, kind: 'await' as const, label: `x${i} "q" \u2028`, line: 2, column: 3, startMs: i / 3, endMs: i % 7 ? i + 0.25 : null, outcome: 'fulfilled' as const })),
      marks: [{ kind: 'log', text: 'a\tb', atMs: 1 }, { kind: 'exception', text: 'x', atMs: 2, line: undefined, column: 4, stack: 'E\n at y' }], droppedSpans: 5, stats: { wallMs: 12.5, awaitedMs: 1, blockedMs: 0, maxConcurrency: 1 },
      aggregates: [{ kind: 'await', label: 'y', line: 1, column: 1, parentId: null, count: 5, startMs: 1, endMs: 2 }],
      insights: undefined, criticalPath: [1, 2],
    };
    // Numbers JSON writes differently from their text (not finite, -0, exponents), booleans, a
    // field left out, and an inherited enumerable field JSON.stringify does not write.
    const odd = Object.assign(Object.create({ inherited: 1 }), { id: -0, parentId: null, kind: 'await', label: 'z', line: NaN, column: Infinity, startMs: 1e21, endMs: 1e-7, outcome: 'fulfilled', flag: true, off: false, gone: undefined, f: () => 1 });
    t.spans.push(odd, { ...t.spans[0]!, startMs: -Infinity, endMs: 123456789.123456789 });
    let out = '';
    const pieces: string[] = [];
    writeTimelineJson(t, (p) => { pieces.push(p); out += p; });
    assert.equal(out, JSON.stringify(t, null, 2) + '\n');
    assert.ok(pieces.length > 1 || out.length < (1 << 20));
  });
});
