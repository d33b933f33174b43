// The watchdog samples a stuck main thread through an inspector interrupt, which V8 takes at any
// call or loop back edge: also inside the runtime's own bookkeeping. CI run 29 and a stress run
// here (2 of ~700 gradings of 07-download-limit at load 15–40) saw a run marked "the program closed
// or wrote to the tool's channel" with its spans left open: the engine had refused "bad span id 12",
// a span sent twice. The interrupt had landed in materialize(), between taking a span's id and
// storing it, and the sample's currentId() sent the same span again.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vm from 'node:vm';

import { OP_OPEN } from '../../src/shared/runtimeProtocol';
import { Recorder } from '../../src/runtime/recorder';

/**
 * What the watchdog evaluates, as Runtime.evaluate runs it on top of the interrupted code: a script
 * of no file whose top level calls an arrow that calls the recorder (two frames of no file between
 * the handler and the interrupted code: CI run 60's "bad span id" came from a check that took the
 * second of them for the interrupted code).
 */
function watchdogEvaluate(method: string): (r: Recorder) => unknown {
  return new Function('r', `return (r => r ? r.${method} : "null")(r);`) as (r: Recorder) => unknown;
}

/** A recorder whose transport, at its first record of `op`, is interrupted by the watchdog's Runtime.evaluate calling `method` of the recorder. */
function interruptedRecorder(op: number, method: string): { rec: Recorder; records: number[][]; answers: unknown[] } {
  const records: number[][] = [];
  const answers: unknown[] = [];
  const box: { rec?: Recorder; fired: boolean } = { fired: false };
  // What the watchdog evaluates: a script of no file, on top of the interrupted code.
  const evaluate = watchdogEvaluate(method);
  // The transport's record() as the runtime's own code (its file in the runtime's directory, as the
  // bundle's is), interrupted at its entry, where V8 checks for interrupts.
  const record = new vm.Script(`(function (box, evaluate, records, answers, op) {
    return function record(o, a, b, c, t) {
      if (!box.fired && o === op) { box.fired = true; answers.push(evaluate(box.rec)); }
      records.push([o, a, b, c, t]);
    };
  })`, { filename: path.resolve(__dirname, '../../src/runtime/transport-interrupted.js') }).runInThisContext()(box, evaluate, records, answers, op);
  const transport = { busy: false, pending: 0, record, send() {}, flush() {} };
  box.rec = new Recorder(transport as any, () => 1, { maxSpansPerSite: 1000 });
  return { rec: box.rec, records, answers };
}

describe('the recorder under the watchdog\'s interrupt', () => {
  it('a sample taken while a span is being sent sends no span twice', () => {
    const { rec, records, answers } = interruptedRecorder(OP_OPEN, 'where()');
    const base = rec.sites(JSON.stringify([
      { kind: 'call', label: '(anonymous)', line: 1, column: 1, params: [] }, // a synchronous arrow: a span only once needed
      { kind: 'call', label: 'worker', line: 2, column: 1, fn: 1, params: [] }, // an async function: always a span
    ]), '/snippet/solution.js');
    const arrow = rec.enter(base);
    const worker = rec.enter(base + 1); // sends the arrow's span first, then its own: interrupted at the first
    assert.equal(answers.length, 1, "the interrupt ran");
    const opens = records.filter((r) => r[0] === OP_OPEN).map((r) => r[1]);
    assert.deepEqual(opens, [arrow.id, worker.id], 'each span opened once, with the id it keeps');
    assert.ok(arrow.id > 0 && worker.id > arrow.id);
  });

  it('a sample inside the runtime but not while it sends spans names the synchronous call it stopped in', () => {
    const { rec, records } = interruptedRecorder(-1, 'where()');
    const base = rec.sites(JSON.stringify([
      { kind: 'call', label: 'spin', line: 1, column: 1, params: [] }, // a synchronous function, not sent yet
    ]), '/snippet/spin.js');
    const spin = rec.enter(base);
    // The interrupt lands in the runtime's own code (a hook the loop calls), outside materialize().
    const evaluate = watchdogEvaluate('where()');
    const hook = new vm.Script('(function (rec, evaluate) { return evaluate(rec); })', { filename: path.resolve(__dirname, '../../src/runtime/hook-interrupted.js') }).runInThisContext();
    const answer = JSON.parse(hook(rec, evaluate));
    assert.ok(spin.id > 0, 'the call is sent');
    assert.equal(answer.id, spin.id, 'the sample names it');
    assert.deepEqual(records.filter((r) => r[0] === OP_OPEN).map((r) => r[1]), [spin.id]);
  });

  it('the stop report is declined inside the runtime\'s bookkeeping and sent when asked anyway', () => {
    const declined = interruptedRecorder(OP_OPEN, 'stopReport(false)');
    const base = declined.rec.sites(JSON.stringify([
      { kind: 'call', label: '(anonymous)', line: 1, column: 1, params: [] },
      { kind: 'call', label: 'worker', line: 2, column: 1, fn: 1, params: [] },
    ]), '/snippet/solution.js');
    declined.rec.enter(base);
    declined.rec.enter(base + 1);
    assert.deepEqual(declined.answers, [false]);
    assert.equal(declined.rec.stopReport(false), true, 'outside the runtime\'s code it is sent');
  });
});
