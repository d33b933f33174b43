// The runtime's control pipe reader: the run's key, then a run request that can be megabytes long
// (a large module's instrumented code), read line by line across the pieces it arrives in.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { ControlReader } from '../../src/runtime/controlReader';

describe('control reader', () => {
  it('gives each line whole, however many pieces it spans, and keeps what follows it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awt-control-'));
    const file = path.join(dir, 'control');
    const long = `{"type":"run","code":"${'é\\n'.repeat(1_500_000)}"}`; // ~4.5 MB: 70 pieces of 64 KiB
    fs.writeFileSync(file, `{"type":"key"}\n${long}\n{"type":"stop"}\n{"type":"tail"`);
    const fd = fs.openSync(file, 'r');
    try {
      const reader = new ControlReader(fd);
      assert.equal(reader.line(), '{"type":"key"}');
      assert.equal(reader.line(), long);
      assert.equal(reader.line(), '{"type":"stop"}');
      assert.equal(reader.line(), undefined, 'an unfinished last line is not a line');
    } finally {
      fs.closeSync(fd);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads the bytes a line announced whole (code sent raw after the run request), then the lines after them', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awt-control-'));
    const file = path.join(dir, 'control');
    // Multi-byte characters and newlines, across many pieces of 64 KiB: bytes, not lines or characters.
    const code = Buffer.from('const é = "\u{1F600}";\n'.repeat(40_000));
    const head = `{"type":"run","codeBytes":${code.length}}`;
    fs.writeFileSync(file, Buffer.concat([Buffer.from(`{"type":"key"}\n${head}\n`), code, Buffer.from('{"type":"stop"}\n')]));
    const fd = fs.openSync(file, 'r');
    try {
      const reader = new ControlReader(fd);
      assert.equal(reader.line(), '{"type":"key"}');
      assert.equal(reader.line(), head);
      assert.ok(reader.bytes(code.length)?.equals(code), 'the code, byte for byte');
      assert.equal(reader.line(), '{"type":"stop"}');
      assert.equal(reader.bytes(1), undefined, 'nothing more to read');
    } finally {
      fs.closeSync(fd);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('waits on a pipe that has nothing yet (a warm child), saying it is idle, then reads what comes', async function () {
    this.timeout(20_000);
    // A writer that sends its line in two parts, 300 ms apart, into a non-blocking pipe.
    const writer = spawn(process.execPath, ['-e', `
      process.stdout.write('{"type":"run","a":');
      setTimeout(() => process.stdout.write('1}\\n'), 300);
    `], { stdio: ['ignore', 'pipe', 'inherit'] });
    const fd = (writer.stdout as any)._handle.fd as number;
    (writer.stdout as any).pause();
    let idle = 0;
    const reader = new ControlReader(fd, () => idle++);
    assert.equal(reader.line(), '{"type":"run","a":1}');
    assert.ok(idle > 0, 'it said it was idle while the pipe was empty');
    await new Promise((r) => writer.on('exit', r));
  });
});
