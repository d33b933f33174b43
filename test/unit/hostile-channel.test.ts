// Hostile programs against the tool's own channel (issue 10, items 8 and 9): output of any size
// reaches the terminal whole, and nothing the program writes to, reads from or closes among its
// descriptors can forge the timeline, break the run or land in its own files; the program runs
// and exits as under plain node.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import type { Timeline } from '../../src/shared/timeline';
import { FIXTURES, cli, plainNode, runFixture } from './helpers';
import { FrameDecoder, MalformedStreamError, type Frame } from '../../src/engine/frameDecoder';
import { FRAME_JSON, FRAME_SEALED } from '../../src/shared/runtimeProtocol';
import { sealTag } from '../../src/runtime/seal';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'awt-hostile-'));
const fixture = (name: string) => path.join(FIXTURES, 'node/hostile', name);
/** What a shell reports for plain node running the fixture: `$?` (128 + n after a signal). */
function shellStatus(file: string, args: string[]): number | null {
  return spawnSync('sh', ['-c', '"$0" "$@" >/dev/null 2>&1; exit $?', process.execPath, file, ...args], { cwd: path.dirname(file), timeout: 30000 }).status;
}

const INCOMPLETE = "timeline incomplete: the program closed or wrote to the tool's channel";

function runCli(name: string, args: string[], extra: string[] = [], env?: NodeJS.ProcessEnv): { stdout: string; stderr: string; status: number | null; t: Timeline } {
  const json = path.join(tmp(), 't.json');
  const r = cli(['run', fixture(name), '--no-color', '--json', json, ...extra, '--', ...args], { env });
  return { ...r, t: JSON.parse(fs.readFileSync(json, 'utf8')) as Timeline };
}

describe('hostile: output of any size', () => {
  it('a 66 MB line without a newline reaches stdout whole; the run completes; its mark is cut and says so', async function () {
    this.timeout(120000);
    const n = 66 * 1024 * 1024; // over the 64 MB a frame may hold
    const { timeline: t, stdout } = await runFixture('node/hostile/big-line.js', { args: [String(n)] });
    assert.equal(stdout.length, n, 'every byte of the line');
    assert.equal(t.status, 'completed', t.error?.message);
    assert.equal(t.exitCode, 0);
    assert.equal(t.incomplete, undefined);
    const mark = t.marks.find((m) => m.kind === 'stdout');
    assert.ok(mark, 'the line is a mark');
    assert.equal(mark.fullLength, n);
    assert.equal(mark.text, 'x'.repeat(1000) + '…');
  });

  it('the decoder takes a frame in any pieces, also one that arrives a byte at a time', () => {
    const body = Buffer.from(JSON.stringify({ type: 'mark', kind: 'stdout', text: 'é'.repeat(300), atMs: 1 }));
    const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, FRAME_JSON]), body]);
    frame.writeUInt32LE(body.length, 0);
    const two = Buffer.concat([frame, frame]);
    for (const size of [1, 3, 5, 64, two.length]) {
      const got: Frame[] = [];
      const d = new FrameDecoder();
      for (let i = 0; i < two.length; i += size) d.push(two.subarray(i, i + size), (f) => got.push(f));
      assert.equal(got.length, 2, `pieces of ${size}`);
      assert.equal(d.leftover, 0);
    }
  });
});

describe('hostile: the event channel', () => {
  it('a sealed stream takes only frames sealed with the run\'s key, in order', () => {
    const key = Buffer.alloc(32, 9);
    const body = Buffer.from(JSON.stringify({ type: 'started' }));
    const inner = Buffer.concat([Buffer.from([0, 0, 0, 0, FRAME_JSON]), body]);
    inner.writeUInt32LE(body.length, 0);
    const sealed = (seq: number, k = key) => {
      const head = Buffer.from([0, 0, 0, 0, FRAME_SEALED]);
      head.writeUInt32LE(inner.length + 16, 0);
      return Buffer.concat([head, inner, Buffer.from(sealTag('poly1305', k, 0, seq, inner))]);
    };
    const ok = new FrameDecoder({ key, mac: 'poly1305', stream: 0 });
    let n = 0;
    ok.push(Buffer.concat([sealed(0), sealed(1)]), () => n++);
    assert.equal(n, 2);
    for (const bad of [inner, sealed(0, Buffer.alloc(32, 1)), sealed(1)]) {
      const d = new FrameDecoder({ key, mac: 'poly1305', stream: 0 });
      assert.throws(() => d.push(bad, () => n++), MalformedStreamError);
    }
    assert.equal(n, 2, 'nothing unsealed, replayed or sealed with another key is believed');
    // Which it was, for a report: a frame of the run's, out of order, says where it belongs.
    const messages = [sealed(1), sealed(0, Buffer.alloc(32, 1))].map((bad) => {
      try {
        new FrameDecoder({ key, mac: 'poly1305', stream: 0 }).push(bad, () => n++);
      } catch (err) {
        return (err as Error).message;
      }
    });
    assert.match(messages[0]!, /frame 0 \(\d+ bytes\) is not sealed with the run's key \(it is sealed as frame 1\)$/);
    assert.match(messages[1]!, /frame 0 \(\d+ bytes\) is not sealed with the run's key$/);
  });

  for (const what of ['spans', 'compile-error', 'exit'] as const) {
    it(`frames the program forges (${what}) are not believed; it runs on and exits as under node`, () => {
      const plain = plainNode('node/hostile/forge.js', [what]);
      // In real time: --check grades warped by default, and the wall of a run whose channel the
      // program wrote to is the engine's own (real) clock, since no later frame is believed.
      const r = runCli('forge.js', [what], ['--check', '--time', 'real']);
      assert.equal(r.stdout.split('\n')[0], plain.stdout.trim());
      assert.ok(!r.t.spans.some((s) => s.label.includes('FORGED')), 'no forged span');
      assert.notEqual(r.t.error?.kind, 'compile', 'no forged compile error');
      assert.ok(r.t.wallMs >= 600, `the forged exit does not set the wall time (${r.t.wallMs} ms)`);
      assert.equal(r.t.exitCode, plain.status);
      assert.equal(r.t.incomplete, "the program closed or wrote to the tool's channel");
      assert.ok(r.stderr.includes(INCOMPLETE), r.stderr);
      // The wait's end came after the forgery, not believed: it must not read as never settled.
      assert.equal(r.t.stillWaiting, undefined, JSON.stringify(r.t.stillWaiting));
      assert.equal(r.t.floating, undefined, JSON.stringify(r.t.floating));
      // --check grades the run as it was: two 300 ms waits are not under 100 ms.
      assert.equal(r.status, 1, 'the expectation fails');
    });
  }

  it('a stray 28-byte write to fd 3 does as under plain node, and the timeline is whole', () => {
    const plain = plainNode('node/hostile/accidental-write.js');
    const r = runCli('accidental-write.js', []);
    assert.equal(r.stdout.split('\n\n')[0] + '\n', plain.stdout);
    assert.equal(r.status, plain.status);
    assert.equal(r.t.status, 'completed');
    assert.equal(r.t.incomplete, undefined);
    assert.ok(r.t.spans.some((s) => s.kind === 'timer'), 'the timer is recorded');
  });

  it('fs.closeSync(3) and a file opened on fd 3: the file is the program\'s, the run ends as under node', () => {
    const a = path.join(tmp(), 'out');
    const b = path.join(tmp(), 'out');
    const plain = plainNode('node/hostile/close-fd3.js', [a]);
    const r = runCli('close-fd3.js', [b]);
    assert.equal(fs.readFileSync(b, 'utf8'), 'mine\n');
    assert.equal(r.stdout.split('\n')[0] + '\n', plain.stdout);
    // Node aborts after the print (its event loop's epoll was fd 3): so must the run.
    assert.equal(r.status, shellStatus(fixture('close-fd3.js'), [path.join(tmp(), 'out')]));
  });

  it('fs.closeSync(3) and a file opened on fd 3 while a busy machine holds the watchdog thread back: the file still gets fd 3', () => {
    // The thread's first stream (its control socket) opens /dev/null, which took fd 3 when the
    // snippet started before the thread took the run: the program's file got fd 21 (CI run 49).
    const b = path.join(tmp(), 'out');
    const r = runCli('close-fd3.js', [b], [], { ...process.env, AWAIT_TIMELINE_TEST_WATCHDOG_LAG_MS: '150' });
    assert.equal(r.stdout.split('\n')[0], plainNode('node/hostile/close-fd3.js', [path.join(tmp(), 'out')]).stdout.trim());
    assert.equal(fs.readFileSync(b, 'utf8'), 'mine\n');
  });

  it('children, spawned any way, hold none of the channel: they see the descriptors they would under node (and the inert marker), cannot write to it, and the timeline is whole', () => {
    const plain = plainNode('node/hostile/descendants.js');
    const r = runCli('descendants.js', []);
    // Each child lists its descriptors and writes garbage to 60-63 (EBADF under node). Fd 60 is
    // the run's marker (a pipe's read end without a writer), which the process tree finds them by.
    const lines = r.stdout.split('\n\n')[0].split('\n');
    assert.ok(lines.slice(0, 3).every((l) => /,60[, ]/.test(l)), lines.join('\n'));
    assert.equal(lines.join('\n').replace(/,60(?=[, ])/g, '') + '\n', plain.stdout);
    assert.equal(r.status, plain.status);
    assert.equal(r.t.status, 'completed', r.t.error?.message);
    assert.equal(r.t.incomplete, undefined, 'nothing a child did reached the channel');
    assert.ok(r.t.spans.some((s) => s.kind === 'timer'), 'the timer after the children is recorded');
  });

  it('a program that closes the channel, then requires modules whose names are computed: they load at once, as under node', () => {
    // A scratch copy: the program writes the modules beside itself (local modules are instrumented).
    const dir = tmp();
    for (const f of ['close-channel-then-require.js', 'channel.js']) fs.copyFileSync(fixture(f), path.join(dir, f));
    const plain = spawnSync(process.execPath, [path.join(dir, 'close-channel-then-require.js')], { encoding: 'utf8' });
    assert.equal(plain.stdout, 'one\ntwo\n0 of 2 took seconds\n');
    const json = path.join(dir, 't.json');
    const r = cli(['run', path.join(dir, 'close-channel-then-require.js'), '--no-color', '--json', json]);
    assert.equal(r.stdout.split('\n').slice(0, 3).join('\n') + '\n', plain.stdout, r.stderr);
    assert.equal(r.status, 0);
  });

  it('a program that closes the channel at its first line while a busy machine holds the watchdog thread back: it runs as under node, no abort', () => {
    // The thread's control socket went into its loop's poll set only at the loop's next poll; a
    // descriptor closed by then made libuv abort the process (SIGABRT, CI run 53).
    const dir = tmp();
    for (const f of ['close-channel-then-require.js', 'channel.js']) fs.copyFileSync(fixture(f), path.join(dir, f));
    const plain = spawnSync(process.execPath, [path.join(dir, 'close-channel-then-require.js')], { encoding: 'utf8' });
    const r = cli(['run', path.join(dir, 'close-channel-then-require.js'), '--no-color'], { env: { ...process.env, AWAIT_TIMELINE_TEST_WATCHDOG_LAG_MS: '200' } });
    assert.equal(r.stdout.split('\n').slice(0, 3).join('\n') + '\n', plain.stdout, r.stdout.split('\n').slice(-2).join('\n'));
    assert.equal(r.status, 0);
  });

  it('a program that closes the channel and opens files on its descriptors: the files are its own, it runs to its end, the timeline says it is incomplete', () => {
    const plain = plainNode('node/hostile/close-channel.js', [tmp()]);
    const r = runCli('close-channel.js', [tmp()]);
    assert.equal(plain.stdout, '0 files hold anything else\n');
    assert.equal(r.stdout.split('\n')[0] + '\n', plain.stdout);
    assert.equal(r.status, 3);
    assert.equal(r.t.exitCode, 3);
    assert.match(r.t.incomplete ?? '', /channel/);
    assert.match(r.stderr, /timeline incomplete/);
  });

  it('a program that closes the channel just after a block, while a busy machine holds the watchdog thread between its check and its write: none of its files gets the block', () => {
    // The watchdog thread checked its descriptor and then wrote: the program closed the channel
    // and opened a file on that descriptor in between (CI run 50). Its frames now go through the
    // main thread, where no code of the program's runs between the two.
    const plain = plainNode('node/hostile/close-channel-after-block.js', [tmp()]);
    assert.equal(plain.stdout, '0 files hold anything else\n');
    const r = runCli('close-channel-after-block.js', [tmp()], [], { ...process.env, AWAIT_TIMELINE_TEST_WATCHDOG_LAG_MS: '250' });
    assert.equal(r.stdout.split('\n')[0] + '\n', plain.stdout);
    assert.equal(r.status, 0);
    assert.ok(r.t.spans.some((s) => s.kind === 'block'), 'the block went out before the channel was closed');
    assert.match(r.t.incomplete ?? '', /channel/);
  });
});
