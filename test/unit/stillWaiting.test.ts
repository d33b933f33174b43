// "Why is it still waiting?": each classic hang runs for real and must give its answer, the cause
// at its line, in the timeline JSON and the CLI; observing must not change how the program ends.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

import type { PendingMessage } from '../../src/shared/runtimeProtocol';
import type { Span, Timeline } from '../../src/shared/timeline';
import { shownLinks } from '../../src/shared/stillWaitingText';
import { isStillWaiting } from '../../src/shared/webviewProtocol';
import { explainNode } from '../../src/engine/stillWaiting';
import { startRun } from '../../src/engine/run';
import { cli, FIXTURES, plainNode, PYTHON, runFixture } from './helpers';

interface Answer {
  /** The line the cause points at (the never-called resolver, the listener, the clearTimeout…). */
  line: number;
  /** What the cause must say. */
  says: RegExp;
  exitCode?: number | null;
  status?: Timeline['status'];
  cycle?: boolean;
  /** Stopped (as Stop does) once it printed this: it would never end. */
  stopAt?: string;
}

const HANGS: Record<string, Answer> = {
  'forgotten-resolve.ts': { line: 5, says: /resolve was stored in this\.waiters at line 5; nothing called it/, exitCode: 13 },
  'once-after-emit.ts': { line: 10, says: /'ready' never came \(it was emitted at .+, before the listener was added\)/, exitCode: 13 },
  'cleared-timer.ts': { line: 5, says: /the timer at line 4 that calls resolve was cleared at line 5/, exitCode: 13 },
  'deadlock.ts': { line: 6, says: /user\(\) waits on itself/, exitCode: 13, cycle: true },
  'never-promise.ts': { line: 4, says: /the executor takes no resolve, so nothing can settle it/, exitCode: 13 },
  'tla-exit13.ts': { line: 8, says: /'loaded' was never emitted after the listener at line 8 was added/, exitCode: 13 },
  'gather-one-stuck.ts': { line: 10, says: /resolve was stored in listeners at line 10/, exitCode: 13 },
  'stopped-endless.ts': { line: 2, says: /the timer at line 2 that calls resolve had not fired yet/, exitCode: null, status: 'cancelled', stopAt: 'polling' },
  'never-scheduled.ts': { line: 4, says: /the timer at line 4 that calls resolve was never scheduled/, exitCode: 13 },
  'listener-never-emitted.ts': { line: 13, says: /'listening' was never emitted after the listener at line 13/, exitCode: 13 },
  'conditional-resolve.ts': { line: 5, says: /the timer at line 4 fired, but resolve\(\) at line 5 did not run/, exitCode: 13 },
  'floating-pending.mjs': { line: 6, says: /resolve was stored in jobs at line 6/, exitCode: 0 },
};

describe('still waiting: every classic hang gives its answer (Node)', function () {
  this.timeout(60000);
  for (const [name, answer] of Object.entries(HANGS)) {
    it(`${name}: ${answer.says.source.replace(/\\/g, '').slice(0, 70)}`, async () => {
      const t = answer.stopAt ? await stopWhenStuck(name, answer.stopAt) : (await runFixture(`hangs/${name}`)).timeline;
      const still = t.stillWaiting ?? [];
      assert.equal(still.length, 1, `one thing still waiting, got: ${JSON.stringify(still, null, 1)}`);
      const w = still[0];
      assert.match(w.cause.message, answer.says);
      assert.equal(w.cause.line, answer.line);
      assert.equal(w.cycle, !!answer.cycle);
      assert.ok(w.id > 0 && t.spans.some((s) => s.id === w.id && s.kind === 'await' && s.endMs === null), 'starts at a pending await span');
      assert.equal(w.chain[w.chain.length - 1].line, answer.line);
      if (answer.exitCode !== undefined) assert.equal(t.exitCode, answer.exitCode);
      if (answer.status) assert.equal(t.status, answer.status);
    });
  }

  it('a run where everything settled has no still-waiting list', async () => {
    const { timeline: t } = await runFixture('node/chefs-promise-all.ts');
    assert.equal(t.stillWaiting, undefined);
    assert.equal(t.floating, undefined);
  });
});

describe('still waiting: floating promises', function () {
  this.timeout(60000);

  it('a floating promise that rejects later: listed as rejected, and the program fails exactly as under node', async () => {
    const plain = plainNode('hangs/floating-rejects.mjs');
    const { timeline: t, stdout, stderr } = await runFixture('hangs/floating-rejects.mjs');
    assert.equal(t.exitCode, plain.status);
    assert.equal(plain.status, 1);
    assert.equal(stdout, plain.stdout);
    // (How node prints an ES module's uncaught error differs in its file:// prefix under the runtime,
    // with or without this tracking: the message and the line are what matter here.)
    assert.match(plain.stderr, /floating-rejects\.mjs:6\n[^]*Error: disk full/);
    assert.match(stderr, /floating-rejects\.mjs:6\n[^]*Error: disk full/);
    const f = t.floating ?? [];
    assert.equal(f.length, 1);
    assert.equal(f[0].state, 'rejected');
    assert.equal(f[0].line, 10);
    assert.match(f[0].message, /not awaited: saveDraft\(\) rejected later \(Error: disk full\) with no handler/);
    assert.ok(f[0].spanId && t.spans.some((s) => s.id === f[0].spanId && s.label === 'saveDraft()'), 'linked to its call span');
  });

  it('a floating call still running at exit: listed as pending, exit code 0 as under node', async () => {
    const plain = plainNode('hangs/floating-pending.mjs');
    const { timeline: t, stdout } = await runFixture('hangs/floating-pending.mjs');
    assert.equal(t.exitCode, plain.status);
    assert.equal(stdout, plain.stdout);
    const f = t.floating ?? [];
    assert.equal(f.length, 1);
    assert.equal(f[0].state, 'pending');
    assert.match(f[0].message, /not awaited: the run ended before main\(\) finished/);
  });
});

describe('still waiting: the CLI', function () {
  this.timeout(60000);

  it('prints "Still waiting (N)" after the chart, with the chain down to the cause, and keeps exit code 13', () => {
    const r = cli(['run', path.join(FIXTURES, 'hangs', 'forgotten-resolve.ts'), '--no-color']);
    assert.equal(r.status, 13);
    const section = r.stdout.slice(r.stdout.indexOf('Still waiting (1):'));
    assert.ok(r.stdout.indexOf('Still waiting (1):') > r.stdout.indexOf('wall '), 'after the chart');
    assert.match(section, /line 18: await main\(\)/);
    assert.match(section, /→ line 15: await gate\.wait\(\)/);
    assert.match(section, /✗ line 5: resolve was stored in this\.waiters at line 5; nothing called it/);
    assert.match(section, /exit code 13/);
  });

  it('the JSON carries the list', () => {
    const r = cli(['run', path.join(FIXTURES, 'hangs', 'deadlock.ts'), '--json', '-']);
    const t = JSON.parse(r.stdout) as Timeline;
    assert.equal(t.stillWaiting?.length, 1);
    assert.equal(t.stillWaiting?.[0].cycle, true);
    assert.deepEqual(t.stillWaiting?.[0].chain.map((l) => l.kind), ['await', 'combinator', 'call', 'await', 'call', 'await', 'cycle']);
  });
});

interface PythonAnswer {
  /** Printed just before the program hangs: the run is stopped once it appears. */
  marker: string;
  line: number;
  says: RegExp;
  cycle?: boolean;
}

const PYTHON_HANGS: Record<string, PythonAnswer> = {
  'queue-never-filled.py': { marker: 'consuming', line: 12, says: /queue jobs is empty and nothing calls jobs\.put\(\)/ },
  'event-never-set.py': { marker: 'waiting for ready', line: 8, says: /Event ready is never set \(nothing calls ready\.set\(\)\)/ },
  'lock-never-released.py': { marker: 'second worker', line: 8, says: /lock is held and never released \(nothing calls lock\.release\(\)\)/ },
  'gather-one-stuck.py': { marker: 'waiting for orders', line: 12, says: /future fut is never set/ },
  'tasks-deadlock.py': { marker: 'prefs needs user', line: 15, says: /back to task user: these tasks wait on each other/, cycle: true },
  'future-never-set.py': { marker: 'requested config', line: 11, says: /future fut is never set \(nothing calls fut\.set_result\(\)\)/ },
  'stopped-endless.py': { marker: 'polling', line: 10, says: /asyncio\.sleep, .+ left when the run ended/ },
  'timer-handle-cancelled.py': { marker: 'waiting for pong', line: 11, says: /future reply is never set/ },
  'wait-for-missed-event.py': { marker: 'waiting for done', line: 10, says: /Event done is never set/ },
  'semaphore-exhausted.py': { marker: 'third worker', line: 16, says: /slots is held and never released/ },
  'condition-never-notified.py': { marker: 'waiting for items', line: 16, says: /Condition changed that nobody notified/ },
  'join-never-done.py': { marker: 'did 1', line: 16, says: /jobs\.join\(\): task_done\(\) was called for fewer items than were put \(2 unfinished\)/ },
};

/** Runs a Python hang and stops it (as Stop does) once it printed that it is about to wait. */
async function stopWhenStuck(name: string, marker: string): Promise<Timeline> {
  const run = startRun({ file: path.join(FIXTURES, 'hangs', name), stdout: 'pipe', stderr: 'pipe', timeoutMs: 30000, pythonPath: process.env.AWAIT_TIMELINE_PYTHON ?? 'python3' });
  let out = '';
  run.stderr?.resume();
  run.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    // The await follows the print in the same synchronous stretch: a moment later it is suspended.
    if (out.includes(marker)) setTimeout(() => void run.cancel(), 100);
  });
  return run.done;
}

describe('still waiting: every classic hang gives its answer (Python)', function () {
  this.timeout(60000);
  for (const [name, answer] of Object.entries(PYTHON_HANGS)) {
    it(`${name}: ${answer.says.source.replace(/\\/g, '').slice(0, 70)}`, async () => {
      const t = await stopWhenStuck(name, answer.marker);
      // Says why when it is not (a 'failed' here once went unexplained: see the commit that added this).
      assert.equal(t.status, 'cancelled', `${name} ended ${t.status} (exit ${t.exitCode}): ${JSON.stringify(t.error)}`);
      const still = t.stillWaiting ?? [];
      const w = still.find((x) => answer.says.test(x.cause.message));
      assert.ok(w, `an entry saying ${answer.says}: ${JSON.stringify(still.map((x) => x.message), null, 1)}`);
      assert.equal(w.cause.line, answer.line);
      assert.equal(w.cycle, !!answer.cycle);
      assert.ok(w.chain[0].kind === 'task', 'starts at a task');
    });
  }
});

describe('still waiting: the model (pure)', () => {
  const span = (id: number, parentId: number | null, kind: Span['kind'], label: string, line: number, endMs: number | null = null): Span =>
    ({ id, parentId, kind, label, line, column: 1, startMs: id, endMs, outcome: endMs === null ? 'pending' : 'fulfilled' });
  const timeline = (spans: Span[]): Timeline => ({
    version: 1, file: '/x/a.ts', language: 'typescript', status: 'failed', exitCode: 13, wallMs: 100, error: null,
    spans, marks: [], droppedSpans: 0, stats: { wallMs: 100, awaitedMs: 0, blockedMs: 0, maxConcurrency: 0 },
  });
  const report = (waits: PendingMessage['waits']): PendingMessage => ({ type: 'pending', at: 'exit', waits, returns: [], cleared: [], floating: [] });

  it('follows an await through the calls it started down to the new Promise, and reads the executor from the source', () => {
    const source = 'let ok = false;\nasync function f() {\n  await new Promise((done) => { setTimeout(() => { if (ok) done(); }, 10); });\n}\nawait f();\n';
    const timer = { ...span(4, 2, 'timer', 'setTimeout(…)', 3, 5), column: source.split('\n')[2].indexOf('setTimeout') + 1 };
    const t = timeline([span(1, null, 'await', 'f()', 5), span(2, 1, 'call', 'f()', 2), span(3, 2, 'await', 'new Promise(…)', 3), timer]);
    const [w] = explainNode(t, report([{ id: 3, on: { kind: 'promise', line: 3, column: 9 } }]), source);
    assert.deepEqual(w.chain.map((l) => l.kind), ['await', 'call', 'await', 'promise', 'promise']);
    assert.match(w.cause.message, /the timer at line 3 fired, but done\(\) at line 3 did not run/);
  });

  it('reports a cycle once, however many awaits lead into it', () => {
    const t = timeline([span(1, null, 'call', 'a()', 1), span(2, 1, 'await', 'pb', 2), span(3, null, 'call', 'b()', 3), span(4, 3, 'await', 'pa', 4)]);
    const still = explainNode(t, report([{ id: 2, on: { kind: 'call', id: 3 } }, { id: 4, on: { kind: 'call', id: 1 } }]), undefined);
    assert.equal(still.length, 1);
    assert.equal(still[0].cycle, true);
    assert.equal(still[0].chain[still[0].chain.length - 1].kind, 'cycle');
  });

  it('an awaited Promise.all branches to each member still pending', () => {
    const t = timeline([span(1, null, 'await', 'Promise.all([x(), y()])', 1), span(2, 1, 'combinator', 'Promise.all([x(), y()])', 1), span(3, 2, 'call', 'x()', 1), span(4, 2, 'call', 'y()', 1)]);
    const still = explainNode(t, report([{ id: 1, on: { kind: 'members', of: [{ kind: 'promise', line: 7, column: 3 }, { kind: 'event', event: 'ready', line: 9, column: 1 }] } }]), undefined);
    assert.deepEqual(still.map((w) => w.cause.line), [7, 9]);
    assert.match(still[1].cause.message, /'ready' never came \(it was never emitted\)/);
  });

  it('with no report (a child killed before it could answer) the span tree still gives the chain', () => {
    const t = timeline([span(1, null, 'await', 'main()', 5), span(2, 1, 'call', 'main()', 1), span(3, 2, 'await', 'fetch(url)', 2)]);
    const [w] = explainNode(t, undefined, undefined);
    assert.deepEqual(w.chain.map((l) => l.text), ['await main()', 'main()', 'await fetch(url)', 'a promise from outside the snippet, never settled']);
  });

  it('the chain the CLI and the panel show skips the call under its own await', () => {
    const t = timeline([span(1, null, 'await', 'main()', 5), span(2, 1, 'call', 'main()', 1), span(3, 2, 'await', 'fetch(url)', 2)]);
    const [w] = explainNode(t, undefined, undefined);
    assert.deepEqual(shownLinks(w).map((l) => l.text), ['await main()', 'await fetch(url)', 'a promise from outside the snippet, never settled']);
    assert.ok(isStillWaiting(w), 'valid for the webview protocol');
  });
});

describe('still waiting: Python at a normal end, and what nobody awaited', function () {
  this.timeout(60000);
  const plainPython = (name: string) => {
    const file = path.join(FIXTURES, 'hangs', name);
    const r = spawnSync(PYTHON, [file], { cwd: path.dirname(file), encoding: 'utf8', timeout: 30000 });
    return { stdout: r.stdout, stderr: r.stderr, status: r.status };
  };

  it('main() returns while a task still waits: what it waited on before asyncio.run cancelled it', async () => {
    const plain = plainPython('main-returns-early.py');
    const { timeline: t, stdout, stderr } = await runFixture('hangs/main-returns-early.py', { pythonPath: PYTHON });
    assert.equal(stdout, plain.stdout);
    assert.equal(stderr, plain.stderr);
    assert.equal(t.exitCode, plain.status);
    assert.equal(t.status, 'completed');
    const still = t.stillWaiting ?? [];
    assert.equal(still.length, 1, JSON.stringify(still, null, 1));
    assert.equal(still[0].chain[0].kind, 'task');
    assert.equal(still[0].cause.line, 8);
    assert.match(still[0].cause.message, /Event ready is never set \(nothing calls ready\.set\(\)\)/);
    const f = t.floating ?? [];
    assert.equal(f.length, 1);
    assert.equal(f[0].line, 14);
    assert.match(f[0].message, /not awaited: the run ended before asyncio\.create_task\(worker\(ready\)\) finished/);
    const worker = t.spans.find((s) => s.id === f[0].spanId);
    assert.equal(worker?.floating, true, 'the task is drawn in the lane');
    const r = cli(['run', path.join(FIXTURES, 'hangs', 'main-returns-early.py'), '--no-color']);
    assert.match(r.stdout, /Still waiting \(1\):\n {2}\(the program ended while these still waited: asyncio\.run cancels what is left\)\n {2}line 8: task worker\(\): await ready\.wait\(\)/);
  });

  it('a task that fails later, one still running at the end and a coroutine never awaited, as python3 runs them', async () => {
    const plain = plainPython('floating-tasks.py');
    const { timeline: t, stdout, stderr } = await runFixture('hangs/floating-tasks.py', { pythonPath: PYTHON });
    // python3's own words stay: the never-awaited warning and "Task exception was never retrieved".
    assert.match(plain.stderr, /RuntimeWarning: coroutine 'log_visit' was never awaited/);
    assert.match(plain.stderr, /Task exception was never retrieved/);
    assert.equal(stdout, plain.stdout);
    assert.equal(stderr, plain.stderr);
    assert.equal(t.exitCode, plain.status);
    const by = (line: number) => (t.floating ?? []).find((x) => x.line === line);
    assert.equal(by(23)?.neverRan, true);
    assert.match(by(23)!.message, /not awaited: log_visit\(\) never ran \(calling it only made a coroutine\)/);
    assert.equal(by(24)?.state, 'rejected');
    assert.match(by(24)!.message, /rejected later \(ConnectionError\) with no handler/);
    assert.equal(by(25)?.state, 'pending');
    assert.equal((t.floating ?? []).length, 3, 'the TaskGroup\'s task is awaited by the group');
    assert.deepEqual(t.spans.filter((s) => s.floating).map((s) => s.label.replace(/ →.*/, '')).sort(), ['flush_logs()', 'send_metrics()']);
  });
});
