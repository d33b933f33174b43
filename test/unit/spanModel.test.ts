// One span model for both languages (src/shared/timeline.ts): the same lesson written in TypeScript
// and in Python, line for line, gives the same rows — kinds, nesting, labels modulo syntax, lines.
import * as assert from 'node:assert/strict';

import type { Span, Timeline } from '../../src/shared/timeline';
import { copyPythonRuntime, PYTHON, runFixture } from './helpers';

interface Row {
  depth: number;
  kind: string;
  label: string;
  line: number;
}

/** The tree as rows, children in start order; a Python task that stands for a call reads as the call. */
function rows(t: Timeline, stopAt: (s: Span) => boolean): Row[] {
  const children = new Map<number | null, Span[]>();
  for (const s of t.spans) {
    if (!children.has(s.parentId)) children.set(s.parentId, []);
    children.get(s.parentId)!.push(s);
  }
  const out: Row[] = [];
  const walk = (parent: number | null, depth: number) => {
    for (const s of [...(children.get(parent) ?? [])].sort((a, b) => a.startMs - b.startMs || a.id - b.id)) {
      out.push({ depth, kind: s.kind === 'task' ? 'call' : s.kind, label: s.kind === 'combinator' || s.kind === 'await' && /gather|Promise\.all/.test(s.label) ? '(combinator)' : s.label, line: s.line });
      if (!stopAt(s)) walk(s.id, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

describe('span model: one lesson, both languages', function () {
  this.timeout(30000);
  before(copyPythonRuntime);

  it('two chefs: TypeScript and Python draw the same rows at the same lines', async () => {
    const [ts, py] = await Promise.all([
      runFixture('model/two-chefs.ts'),
      runFixture('model/two_chefs.py', { pythonPath: PYTHON }),
    ]);
    assert.equal(ts.timeline.status, 'completed');
    assert.equal(py.timeline.status, 'completed');
    assert.equal(py.stdout, ts.stdout);
    // Down to the call of the helper sleep(): below it, a timer in JS and asyncio.sleep in Python.
    const helper = (s: Span) => s.label.startsWith('sleep(') && (s.kind === 'call' || s.kind === 'task');
    const tsRows = rows(ts.timeline, helper);
    const pyRows = rows(py.timeline, helper);
    assert.deepEqual(pyRows, tsRows);
    // main() → await → combinator → cook("soup", 2) → await sleep(minutes * 100) → sleep(200)
    assert.deepEqual(tsRows.slice(0, 6).map((r) => `${r.depth} ${r.kind} ${r.line}`), [
      '0 call 12', '1 await 13', '2 combinator 13', '3 call 5', '4 await 7', '5 call 3',
    ]);
    assert.equal(py.timeline.stats.maxConcurrency, ts.timeline.stats.maxConcurrency);
  });
});
