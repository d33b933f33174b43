// What the editor shows after a run: time per line (inline decorations) and problems (diagnostics),
// from real runs of fixtures.
import * as assert from 'node:assert/strict';

import { lineSummaries, runProblems } from '../../src/host/lineSummaries';
import { runFixture } from './helpers';

describe('editor annotations after a run', () => {
  it('sums a loop line as ×N and shows a single await as its time', async () => {
    const { timeline } = await runFixture('node/sequential-loop.mjs');
    const loop = lineSummaries(timeline).find((s) => s.line === 4);
    assert.ok(loop, 'the awaited line in the loop has a summary');
    const m = /^([\d.]+) (ms|s) ×3$/.exec(loop.text);
    assert.ok(m, `loop line reads total ×3: ${loop.text}`);
    const totalMs = Number(m[1]) * (m[2] === 's' ? 1000 : 1);
    assert.ok(totalMs >= 290 && totalMs < 1500, `three 100 ms waits add up: ${loop.text}`);
    assert.deepEqual(lineSummaries(timeline).map((s) => s.line), [4], 'only lines that awaited get a summary');
  });

  it('counts awaits that overlapped (Promise.all) once: the line took 300 ms, not 600', async () => {
    const { timeline } = await runFixture('node/chefs-promise-all.ts');
    const sleep = lineSummaries(timeline).find((s) => s.line === 4);
    const m = /^([\d.]+) ms ×2$/.exec(sleep?.text ?? '');
    assert.ok(m, `two awaits on the line: ${sleep?.text}`);
    assert.ok(Number(m[1]) >= 290 && Number(m[1]) < 500, `the time they overlapped, once: ${sleep?.text}`);
    assert.match(sleep!.hover, /at the same time/);
  });

  it('marks the spinning line of a busy-wait as blocked', async () => {
    const { timeline } = await runFixture('node/chefs-busy.ts');
    const spin = lineSummaries(timeline).find((s) => s.line === 4);
    assert.ok(spin, `the while loop's line has a summary: ${JSON.stringify(lineSummaries(timeline))}`);
    assert.match(spin.text, /^blocked [\d.]+ (ms|s) ×2$/, 'two stretches of blocking on one line');
    assert.match(spin.hover, /event loop/);
  });

  it('puts an uncaught exception at the line that threw', async () => {
    const { timeline } = await runFixture('node/uncaught.js');
    const problems = runProblems(timeline);
    assert.deepEqual(problems.map((p) => [p.line, p.column, p.severity]), [[3, 9, 'error']]);
    assert.match(problems[0]!.message, /boom/);
  });

  it('puts a compile error at its line and column', async () => {
    const { timeline } = await runFixture('node/syntax-error.ts');
    const problems = runProblems(timeline);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.line, timeline.error!.line);
    assert.ok(problems[0]!.line > 0 && problems[0]!.column > 0);
  });

  it('leaves an error thrown in an imported file to the output channel', () => {
    const problems = runProblems({
      version: 1, file: '/w/main.ts', language: 'typescript', status: 'failed', exitCode: 1, wallMs: 5,
      error: { kind: 'exception', message: 'Error: x', line: 2, column: 3, stack: 'Error: x\n    at f (/w/lib.ts:2:3)' },
      spans: [], droppedSpans: 0, stats: { wallMs: 5, awaitedMs: 0, blockedMs: 0, maxConcurrency: 0 },
      marks: [{ kind: 'exception', text: 'Error: x', atMs: 4, line: 2, column: 3, stack: 'Error: x\n    at f (/w/lib.ts:2:3)' }],
    });
    assert.deepEqual(problems, []);
  });
});
