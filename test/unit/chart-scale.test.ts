// The chart's models scale with the run: compacting and laying out a run's spans need memory for
// the chains that merge and the rows, not objects, strings or map entries per span (a 1 M-span run
// in the panel).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const CHILD = path.join(__dirname, 'children', 'chartHeap.ts');

/** Runs the child; its JSON line, or null when it ran out of heap. */
function child(what: 'build' | 'compact' | 'layout', count: number, heapMb?: number): { inputMb: number } | null {
  const args = ['--expose-gc', '--import', 'tsx', ...(heapMb ? [`--max-old-space-size=${heapMb}`] : []), CHILD, what, String(count)];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 120_000 });
  if (r.status === 0) return JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.match(r.stderr, /heap out of memory/, `the child failed otherwise: ${r.stderr.slice(-2000)}`);
  return null;
}

describe('chart models at scale', () => {
  /** Heap the 300,000 spans take, MB. */
  let inputMb = 0;
  before(function () {
    this.timeout(240_000);
    const input = child('build', 300_000);
    assert.ok(input, 'building the spans needs no more than the default heap');
    inputMb = input.inputMb;
  });

  it('lays out 300,000 spans with 16 MB of heap beside them (no string key or map entry per span)', function () {
    this.timeout(240_000);
    // Before: a site key string and two map entries per span, about 100 bytes each (30 MB here).
    const limit = Math.ceil(inputMb) + 16;
    assert.ok(child('layout', 300_000, limit), `the layout ran out of heap with ${limit} MB (the spans take ${inputMb.toFixed(0)} MB)`);
  });

  it('compacts 300,000 spans that do not merge with 24 MB of heap beside them (no object or map entry per span)', function () {
    this.timeout(240_000);
    // Before: a node object, its arrays and two map entries per span, about 120 bytes each (36 MB here).
    const limit = Math.ceil(inputMb) + 24;
    assert.ok(child('compact', 300_000, limit), `compaction ran out of heap with ${limit} MB (the spans take ${inputMb.toFixed(0)} MB)`);
  });
});
