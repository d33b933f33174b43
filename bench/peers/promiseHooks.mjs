// A peer for the benches: the tracer a developer writes with v8.promiseHooks to see every await.
// Each promise gets an id (a WeakMap, as a tracer needs to name it later), and its creation (with
// its parent's id), settling and reactions are kept with the time in flat arrays.
// Usage: node --import ./bench/peers/promiseHooks.mjs program.mjs
import { promiseHooks } from 'node:v8';

const INIT = 0;
const SETTLED = 1;
const BEFORE = 2;
const AFTER = 3;
const ids = new WeakMap();
let next = 1;
const events = [];
const now = performance.now.bind(performance);
const idOf = (p) => ids.get(p) ?? 0;
promiseHooks.createHook({
  init(promise, parent) {
    const id = next++;
    ids.set(promise, id);
    events.push(INIT, id, parent === undefined ? 0 : idOf(parent), now());
  },
  settled(promise) {
    events.push(SETTLED, idOf(promise), 0, now());
  },
  before(promise) {
    events.push(BEFORE, idOf(promise), 0, now());
  },
  after(promise) {
    events.push(AFTER, idOf(promise), 0, now());
  },
});
process.on('exit', () => process.stderr.write(`PEER promiseHooks ${events.length / 4} events\n`));
