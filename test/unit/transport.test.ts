// The child's side of the event channel, in a real child process on a real socket: the program
// never waits for the engine to read, and nothing is lost or reordered when the engine is late.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import type { Readable } from 'node:stream';

import { FrameDecoder } from '../../src/engine/frameDecoder';
import { RECORD_WORDS } from '../../src/shared/runtimeProtocol';

const CHILD = `
const fs = require('node:fs');
const { ChildTransport, createSharedChannel, makeNonBlocking } = require(${JSON.stringify(path.resolve(__dirname, '../../src/runtime/transport.ts'))});
const st = fs.fstatSync(3);
const t = new ChildTransport({ fd: 3, dev: st.dev, ino: st.ino }, { key: Buffer.from(process.argv[1], 'hex'), mac: 'poly1305' }, createSharedChannel(), makeNonBlocking(3));
const n = Number(process.argv[2]);
for (let i = 0; i < n; i++) {
  t.record(1, i + 1, 0, 0, i);
  if (i % 10000 === 0) t.flush();
}
t.flush();
// Everything is recorded while the engine has read nothing: the program went on.
process.stdout.write('recorded ' + t.pending + '\\n');
t.flush(true);
`;

/** Records `n` records in a child while the engine reads nothing, then reads them all and checks them. */
async function heldBackAndWhole(n: number): Promise<void> {
    const key = randomBytes(32);
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', CHILD, key.toString('hex'), String(n)], {
      stdio: ['ignore', 'pipe', 'inherit', 'pipe'],
    });
    const events = child.stdio[3] as Readable;
    events.pause();
    let out = '';
    const recorded = await new Promise<string>((resolve, reject) => {
      // Before the transport held frames back, the child blocked in write() with the socket full and
      // never got here: the engine, not reading, waited for it.
      const timer = setTimeout(() => reject(new Error(`the child waited for the engine to read (stdout: ${JSON.stringify(out)})`)), 30_000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d;
        if (out.includes('\n')) {
          clearTimeout(timer);
          resolve(out);
        }
      });
      child.on('exit', (code) => reject(new Error(`child exited ${code} before it recorded everything`)));
    });
    assert.match(recorded, /^recorded \d+\n$/);
    assert.ok(Number(/\d+/.exec(recorded)![0]) > 0, 'frames were held back for the engine');
    // Now the engine reads: every record arrives, sealed frames in sequence, records in order.
    const decoder = new FrameDecoder({ key, mac: 'poly1305', stream: 0 });
    let next = 1;
    let bad = '';
    events.on('data', (chunk: Buffer) => {
      decoder.push(chunk, (f) => {
        if (f.type !== 'events') return;
        for (let i = 0; i < f.records.length; i += RECORD_WORDS) {
          if (f.records[i + 1] !== next && !bad) bad = `record ${next} came as ${f.records[i + 1]}`;
          next++;
        }
      });
    });
    events.resume();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0);
    assert.equal(bad, '');
    assert.equal(next - 1, n);
}

/**
 * A recursion that overflows the stack, recording and flushing at every depth (as the hooks of a
 * recursion do), while the engine reads nothing: near the bottom the channel is full and node
 * cannot even make the EAGAIN error of a write. What could not go stays for a later flush; what
 * went, went whole: the engine reads every record the program kept, sealed frames in sequence.
 */
const DEEP_CHILD = `
const fs = require('node:fs');
const { ChildTransport, createSharedChannel, makeNonBlocking } = require(${JSON.stringify(path.resolve(__dirname, '../../src/runtime/transport.ts'))});
const st = fs.fstatSync(3);
const t = new ChildTransport({ fd: 3, dev: st.dev, ino: st.ino }, { key: Buffer.from(process.argv[1], 'hex'), mac: 'poly1305' }, createSharedChannel(), makeNonBlocking(3));
let kept = 0;
let threw = 0;
function dive(depth) {
  try {
    t.record(1, kept + 1, 0, 0, depth);
    kept++;
  } catch {
    threw++; // not kept: record() keeps a record whole or not at all
  }
  try {
    t.flush();
  } catch {
    threw++;
  }
  dive(depth + 1);
}
for (let round = 0; round < 2; round++) {
  try {
    dive(0);
  } catch {
    // the stack overflowed: the next round
  }
}
process.stdout.write('kept ' + kept + ' threw ' + threw + '\\n');
t.flush(true);
if (process.env.AWT_DBG) fs.writeSync(2, 'end pending ' + t.pending + ' state ' + Array.from(t.state).join(',') + '\\n');
`;

describe('child transport', () => {
  it('flushes at every depth of a recursion that overflows, the engine not reading: every record kept arrives, whole and in order', async function () {
    this.timeout(60_000);
    const key = randomBytes(32);
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', DEEP_CHILD, key.toString('hex')], { stdio: ['ignore', 'pipe', 'inherit', 'pipe'] });
    const events = child.stdio[3] as Readable;
    events.pause();
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d;
        if (out.includes('\n')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`child exited ${code}: ${out}`)));
    });
    const m = /^kept (\d+) threw (\d+)\n$/.exec(out);
    assert.ok(m, out);
    const kept = Number(m[1]);
    const decoder = new FrameDecoder({ key, mac: 'poly1305', stream: 0 });
    let next = 1;
    let bad = '';
    events.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk, (f) => {
          if (f.type !== 'events') return;
          for (let i = 0; i < f.records.length; i += RECORD_WORDS) {
            if (f.records[i + 1] !== next && !bad) bad = `record ${next} came as ${f.records[i + 1]}`;
            next++;
          }
        });
      } catch (err) {
        if (!bad) bad = String(err);
      }
    });
    events.resume();
    assert.equal(await new Promise<number | null>((resolve) => child.on('close', resolve)), 0);
    assert.equal(bad, '');
    assert.equal(next - 1, kept, `${out.trim()}: arrived ${next - 1}`);
  });

  it('a program never waits for an engine that is not reading: what it records is held back and arrives whole and in order', async function () {
    this.timeout(60_000);
    // 400,000 records are 16 MB: far more than a socket holds before the engine reads.
    await heldBackAndWhole(400_000);
  });

  it('a million awaits with every span kept never wait for an engine that is behind', async function () {
    this.timeout(120_000);
    // An await span is two records (open, close): 2 M records, 80 MB. With 32 MB held back at
    // most, the program waited for the engine mid-run, and that wait went into its spans.
    await heldBackAndWhole(2_000_000);
  });

  it('a full channel is tried at most once per flush: each refused write costs the program a thrown error', async function () {
    this.timeout(60_000);
    // The transport takes fs.writeSync when it loads: counted from before that.
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', `
const fs = require('node:fs');
const write = fs.writeSync;
let refused = 0;
fs.writeSync = function () {
  try { return write.apply(this, arguments); } catch (e) { if (e.code === 'EAGAIN') refused++; throw e; }
};
const { ChildTransport, createSharedChannel, makeNonBlocking, RECORD_CAPACITY } = require(${JSON.stringify(path.resolve(__dirname, '../../src/runtime/transport.ts'))});
const st = fs.fstatSync(3);
const t = new ChildTransport({ fd: 3, dev: st.dev, ino: st.ino }, undefined, createSharedChannel(), makeNonBlocking(3));
const n = 400000;
let flushes = Math.ceil(n / RECORD_CAPACITY);
for (let i = 0; i < n; i++) {
  t.record(1, i + 1, 0, 0, i);
  if (i % 1000 === 0) { t.flush(); flushes++; }
}
process.stdout.write(JSON.stringify({ refused, flushes, pending: t.pending }) + '\\n');
process.exit(0);
`], { stdio: ['ignore', 'pipe', 'inherit', 'pipe'] });
    (child.stdio[3] as Readable).pause(); // the engine reads nothing
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d));
    assert.equal(await new Promise((resolve) => child.on('close', resolve)), 0);
    const { refused, flushes, pending } = JSON.parse(out);
    assert.ok(pending > 0, 'frames were held back for the engine');
    assert.ok(refused >= 1, 'the channel filled');
    // Before: the held-back frames were tried, then tried again with the new ones, at every flush.
    assert.ok(refused <= flushes, `${refused} refused writes in ${flushes} flushes`);
  });
});

describe("transport: the watchdog's frames written by the main thread", () => {
  // In-process, on files: relayWatchdog checks the descriptor and writes on the calling thread.
  const { ChildTransport, createSharedChannel, RELAY_GONE, ST_RELAY, ST_RELAY_BYTES } = require('../../src/runtime/transport') as typeof import('../../src/runtime/transport');
  const fs = require('node:fs') as typeof import('node:fs');
  const os = require('node:os') as typeof import('node:os');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awt-relay-'));

  function setUp(bytes: Buffer) {
    const file = path.join(dir, `channel-${Math.random()}`);
    const fd = fs.openSync(file, 'w');
    const st = fs.fstatSync(fd);
    const channel = createSharedChannel();
    const t = new ChildTransport({ fd, dev: st.dev, ino: st.ino }, undefined, channel);
    t.watchdogEnd = { fd, dev: st.dev, ino: st.ino };
    new Uint8Array(channel.relay).set(bytes);
    Atomics.store(t.state, ST_RELAY_BYTES, bytes.length);
    return { t, fd, file };
  }

  it('writes a waiting batch once, and says so in the shared state', () => {
    const { t, fd, file } = setUp(Buffer.from('frames'));
    Atomics.store(t.state, ST_RELAY, 7);
    assert.equal(t.relayWatchdog(6), 'late', 'another batch: nothing written');
    assert.equal(t.relayWatchdog(7), 'sent');
    assert.equal(Atomics.load(t.state, ST_RELAY), 0);
    assert.equal(t.relayWatchdog(7), 'late', 'taken once');
    fs.closeSync(fd);
    assert.equal(fs.readFileSync(file, 'utf8'), 'frames');
  });

  it('a batch the watchdog took back is not written', () => {
    const { t, fd, file } = setUp(Buffer.from('frames'));
    Atomics.store(t.state, ST_RELAY, 3);
    Atomics.compareExchange(t.state, ST_RELAY, 3, 0); // the watchdog's take-back after its wait
    assert.equal(t.relayWatchdog(3), 'late');
    fs.closeSync(fd);
    assert.equal(fs.readFileSync(file, 'utf8'), '');
  });

  it("a descriptor the program closed and opened a file on: nothing goes in the program's file, the channel is gone", () => {
    const { t, fd } = setUp(Buffer.from('frames'));
    fs.closeSync(fd);
    const theirs = path.join(dir, 'theirs');
    const reused = fs.openSync(theirs, 'w');
    assert.equal(reused, fd, 'the program got the channel\'s number');
    Atomics.store(t.state, ST_RELAY, 9);
    assert.equal(t.relayWatchdog(9), 'gone');
    assert.equal(Atomics.load(t.state, ST_RELAY), RELAY_GONE);
    fs.closeSync(reused);
    assert.equal(fs.readFileSync(theirs, 'utf8'), '');
  });
});
