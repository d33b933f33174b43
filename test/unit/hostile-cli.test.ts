// Hostile programs and hostile command lines (issue 10, items 11 and 12): a program a signal ends
// exits the CLI as a shell reports it, exports that cannot be written are told in a line while the
// rest is written, odd --timeout values are refused plainly, and the program's text (labels,
// output) cannot break the SVG or drive the terminal.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import type { Timeline } from '../../src/shared/timeline';
import { FIXTURES, cli, plainNode, runFixture } from './helpers';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'awt-hostile-'));

/** What a shell reports for plain node running the fixture: `$?`. */
function shellStatus(file: string, args: string[]): number | null {
  const r = spawnSync('sh', ['-c', '"$0" "$@"; exit $?', process.execPath, file, ...args], { encoding: 'utf8', timeout: 30000 });
  return r.status;
}

/** A well-formedness check by a real XML parser (Python's expat), not by our own escaping rules. */
function xmlError(file: string): string {
  const r = spawnSync('python3', ['-c', 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])', file], { encoding: 'utf8' });
  return r.status === 0 ? '' : r.stderr.trim().split('\n').pop() ?? 'not well-formed';
}

describe('hostile: a program a signal ends', () => {
  for (const [arg, signal, code] of [['SIGTERM', 'SIGTERM', 143], ['SIGKILL', 'SIGKILL', 137], ['abort', 'SIGABRT', 134]] as const) {
    it(`exits the CLI with ${code} as the shell reports plain node (${arg}), and the JSON names ${signal}`, () => {
      const file = path.join(FIXTURES, 'node/hostile/dies-by-signal.js');
      assert.equal(shellStatus(file, [arg]), code, 'plain node under sh');
      const json = path.join(tmp(), 't.json');
      const r = cli(['run', file, '--no-color', '--json', json, '--', arg]);
      assert.equal(r.status, code, r.stderr);
      assert.match(r.stdout, /about to die/);
      const t = JSON.parse(fs.readFileSync(json, 'utf8')) as Timeline;
      assert.equal(t.status, 'failed');
      assert.equal(t.exitCode, code);
      assert.equal(t.signal, signal);
      assert.match(t.error?.message ?? '', new RegExp(signal));
      assert.match(r.stdout, new RegExp(`failed \\(${signal}, exit ${code}\\)`), 'the summary line names it');
    });
  }
});

describe('hostile: a program that recurses until its stack overflows', () => {
  it('an async recursion thousands of calls deep: the exit code is node\'s, the chart and every export are written', function () {
    this.timeout(120000);
    const file = path.join(FIXTURES, 'node/hostile/async-overflow.js');
    const plain = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 60000 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awt-overflow-'));
    const out = (ext: string) => path.join(dir, `run.${ext}`);
    const r = cli(['run', file, '--no-color', '--all', '--json', out('json'), '--svg', out('svg'), '--html', out('html'), '--trace', out('trace')], { timeout: 120000 });
    assert.equal(r.status, plain.status, r.stderr.slice(-2000));
    assert.doesNotMatch(r.stderr, /internal error/);
    assert.match(r.stderr, /RangeError: Maximum call stack size exceeded/);
    const t = JSON.parse(fs.readFileSync(out('json'), 'utf8')) as Timeline;
    assert.equal(t.status, 'failed');
    assert.equal(t.exitCode, 1);
    // The recursion is in the timeline as deep as it went: thousands of nested calls.
    const byId = new Map(t.spans.map((s) => [s.id, s]));
    let deepest = 0;
    for (const s of t.spans) {
      let d = 0;
      for (let p = s.parentId; p !== null && byId.has(p); p = byId.get(p)!.parentId) d++;
      deepest = Math.max(deepest, d);
    }
    assert.ok(deepest > 1000, `nested ${deepest} deep`);
    for (const ext of ['svg', 'html', 'trace']) assert.ok(fs.statSync(out(ext)).size > 0, ext);
    assert.match(r.stdout, /^ *dive\(10\) /m, 'the chart is printed');
  });
});

describe('hostile: what a program that overflows its stack prints', () => {
  it("return dive(n + 1) forever: node's one 'Exception in PromiseRejectCallback' (not one per level), and its RangeError at the user's frames", async function () {
    this.timeout(120000);
    const want = plainNode('node/hostile/async-overflow.js');
    const got = await runFixture('node/hostile/async-overflow.js');
    const blocks = (text: string) => text.split('Exception in PromiseRejectCallback:').length - 1;
    assert.equal(blocks(got.stderr), blocks(want.stderr), got.stderr.slice(0, 3000));
    assert.equal(got.stdout, want.stdout);
    assert.equal(got.timeline.exitCode, want.status);
    // The fatal report, after the last block: node's text, frames and all (ten frames of dive, the
    // first at the function's own line, an instrumented one: the user's text of it, no blank line more).
    const END_OF_BLOCK = 'RangeError: Maximum call stack size exceeded\n\n';
    const fatal = (text: string) => text.slice(text.lastIndexOf(END_OF_BLOCK) + END_OF_BLOCK.length);
    assert.equal(fatal(got.stderr), fatal(want.stderr));
    // Every call of the recursion ended in the timeline, though many left with the stack full.
    const open = got.timeline.spans.filter((s) => s.endMs === null);
    assert.equal(open.length, 0, `${open.length} spans left open`);
    assert.ok(got.timeline.spans.length > 1000, `${got.timeline.spans.length} spans`);
  });
});

describe('hostile: an exit listener that throws', () => {
  for (const name of ['exit-listener-throws.js', 'exit-listener-throws-handled.js']) {
    it(`${name}: node's output and exit code, and a whole timeline with the error as its mark`, async () => {
      const want = plainNode(`node/hostile/${name}`);
      const got = await runFixture(`node/hostile/${name}`);
      assert.equal(got.stdout, want.stdout);
      assert.equal(got.stderr, want.stderr);
      assert.equal(got.timeline.exitCode, want.status);
      // The channel was the tool's to close: the program ran to its end through node's exit.
      assert.equal(got.timeline.incomplete, undefined, got.timeline.incomplete);
      const main = got.timeline.spans.find((s) => s.kind === 'call' && s.label === 'main()');
      assert.equal(main?.outcome, 'fulfilled');
      assert.deepEqual(got.timeline.spans.filter((s) => s.endMs === null).map((s) => s.label), []);
      assert.ok(got.timeline.marks.some((m) => m.kind === 'exception' && m.text === 'Error: boom in exit'), 'the error is a mark');
    });
  }
});

describe('hostile: exports that cannot be written', () => {
  const fixture = path.join(FIXTURES, 'node/nested.js');

  it('--json into a missing folder: one line, exit 2, and the chart and the other exports are still written', () => {
    const dir = tmp();
    const svg = path.join(dir, 'chart.svg');
    const r = cli(['run', fixture, '--no-color', '--json', '/nonexistent/dir/x.json', '--svg', svg]);
    assert.equal(r.status, 2, r.stderr);
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, 'no stack');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^await-timeline: --json \/nonexistent\/dir\/x\.json: cannot write: no such directory/);
    assert.ok(fs.existsSync(svg), 'the SVG is written');
    assert.match(r.stdout, /wall .* completed \(exit 0\)/, 'the chart is printed');
  });

  it('a directory as --html: one line, exit 2, and --json is still written', () => {
    const dir = tmp();
    const json = path.join(dir, 't.json');
    const r = cli(['run', fixture, '--no-color', '--html', dir, '--json', json]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr.trim(), /^await-timeline: --html .*: cannot write: is a directory$/);
    assert.equal(JSON.parse(fs.readFileSync(json, 'utf8')).status, 'completed');
  });
});

describe('hostile: --timeout values', () => {
  const fixture = path.join(FIXTURES, 'node/nested.js');

  it('--timeout 99999999999 is refused plainly (it cannot be waited for), not a timeout at once', () => {
    const r = cli(['run', fixture, '--timeout', '99999999999']);
    assert.equal(r.status, 2);
    assert.doesNotMatch(r.stderr, /TimeoutOverflowWarning|timed out/);
    assert.match(r.stderr.split('\n')[0], /^await-timeline: --timeout 99999999999 is longer than .*2147483647 ms/);
  });

  it('--timeout -1 says what is wrong with it', () => {
    for (const args of [['--timeout', '-1'], ['--timeout=-1']]) {
      const r = cli(['run', fixture, ...args]);
      assert.equal(r.status, 2);
      assert.equal(r.stderr.split('\n')[0], "await-timeline: --timeout needs a positive number of milliseconds, got '-1'");
    }
  });
});

describe('hostile: the program\'s text in the exports and the terminal', () => {
  // Raw control characters in the source (a label is the source text) and in the output (marks).
  const source = 'const w = (s) => new Promise((r) => setTimeout(r, 10, s));\n'
    + 'async function main() {\n'
    + '  console.log("\\x1b[32mPASS\\x1b[0m");\n'
    + '  console.log("nul\\x00 bell\\x07 rlo\\u202eevil");\n'
    + '  await w("\u001b[2J\u0000\u202eabc");\n'
    + '}\nmain();\n';

  it('the SVG is well-formed XML and the chart prints no ESC, NUL or bidi override, even with --no-color', () => {
    const dir = tmp();
    const file = path.join(dir, 'controls.js');
    fs.writeFileSync(file, source);
    const svg = path.join(dir, 'c.svg');
    // --all: every span on its own row, so every label is in the chart (compact rows fold the await into main()).
    const r = cli(['run', file, '--no-color', '--all', '--svg', svg]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(xmlError(svg), '');
    const text = fs.readFileSync(svg, 'utf8');
    assert.match(text, /␛\[32mPASS/, 'the ESC is shown, not dropped');
    const chart = r.stdout.slice(r.stdout.indexOf('evil') + 5);
    assert.match(chart, /await w\(/);
    assert.doesNotMatch(chart, /[\u0000\u0007\u001b\u202e]/, 'the chart holds no raw control characters');
    assert.match(chart, /await w\("␛\[2J␀<U\+202E>abc"\)/);
    // The program's own output still reaches the terminal byte for byte.
    assert.ok(r.stdout.startsWith('\u001b[32mPASS\u001b[0m\nnul\u0000 bell\u0007 rlo\u202eevil\n'));
  });

  it('a getter is labelled get o.x and a setter set o.v = 5, not o.x()', () => {
    const json = path.join(tmp(), 't.json');
    const r = cli(['run', path.join(FIXTURES, 'node/hostile/getter.js'), '--json', json]);
    assert.equal(r.status, 0, r.stderr);
    const labels = (JSON.parse(fs.readFileSync(json, 'utf8')) as Timeline).spans.map((s) => s.label);
    assert.ok(labels.includes('get o.x'), labels.join(' | '));
    assert.ok(labels.includes('set o.v = 5'), labels.join(' | '));
    assert.ok(!labels.some((l) => /^o\.[xv]\(/.test(l)), labels.join(' | '));
  });
});

