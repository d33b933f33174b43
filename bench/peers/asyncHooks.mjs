// A peer for the benches: the tracer a developer writes with async_hooks to see every await. Each
// async resource's creation (its type and the resource that caused it), its callbacks and a
// promise's resolution, each with the time, kept in memory in flat arrays (no object per event).
// Usage: node --import ./bench/peers/asyncHooks.mjs program.mjs
import { createHook } from 'node:async_hooks';

const INIT = 0;
const RESOLVE = 1;
const BEFORE = 2;
const AFTER = 3;
const types = new Map();
const events = [];
const now = performance.now.bind(performance);
createHook({
  init(id, type, trigger) {
    let t = types.get(type);
    if (t === undefined) types.set(type, (t = types.size));
    events.push(INIT, id, trigger, t, now());
  },
  promiseResolve(id) {
    events.push(RESOLVE, id, 0, 0, now());
  },
  before(id) {
    events.push(BEFORE, id, 0, 0, now());
  },
  after(id) {
    events.push(AFTER, id, 0, 0, now());
  },
}).enable();
process.on('exit', () => process.stderr.write(`PEER async_hooks ${events.length / 5} events\n`));
