// `await-timeline check <file|folder>…`: many snippets graded in one go, each with the verdict
// `run --check` gives it, a line per file in the order given, a summary, one JUnit suite per file.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { cli } from './helpers';

const ours = (stdout: string) => stdout.split('\n').filter((l) => /^[✓✗] /.test(l));

describe('CLI check: many files graded at once', function () {
  this.timeout(120_000);

  it('grades a folder: each snippet with @expect below it, in path order, the failed expectations under their file', () => {
    const junit = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'awt-check-')), 'report.xml');
    const r = cli(['check', 'test/fixtures/check', '--no-color', '--junit', junit]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.deepEqual(ours(r.stdout).map((l) => l.replace(/ {2}\S+ m?s warped$/, '')), [
      '✗ test/fixtures/check/fail.js  2 of 2 failed',
      '✓ test/fixtures/check/nested/pass.py  all 2 hold',
      '✓ test/fixtures/check/pass.ts  all 2 hold',
    ]);
    assert.match(r.stdout, /^ {4}✗ overlap "first" "second" {2}— no overlap: first\(\) \(line 5\) ended at .*\(line 2\)$/m);
    assert.match(r.stdout, /^3 files graded in .*: 2 pass, 1 fail$/m);
    const xml = fs.readFileSync(junit, 'utf8');
    assert.equal(xml.match(/<testsuite /g)?.length, 3);
    assert.match(xml, /<testsuites name="await-timeline" tests="6" failures="2" errors="0"/);
    assert.match(xml, /<testsuite name="test\/fixtures\/check\/nested\/pass.py" tests="2" failures="0"/);
  });

  it('gives each file the verdict run --check gives it', () => {
    const files = ['test/fixtures/check/fail.js', 'test/fixtures/check/pass.ts', 'test/fixtures/check/nested/pass.py'];
    const many = ours(cli(['check', ...files, '--no-color']).stdout).map((l) => l[0]);
    const one = files.map((f) => (cli(['run', f, '--check', '--no-color']).status === 0 ? '✓' : '✗'));
    assert.deepEqual(many, one);
    assert.deepEqual(one, ['✗', '✓', '✓']);
  });

  it('exits 2 for a named file with nothing to grade or that does not compile, and says where', () => {
    const r = cli(['check', 'test/fixtures/check/no-expect.ts', 'test/fixtures/check-broken.ts', 'test/fixtures/check/pass.ts', '--no-color', '--jobs', '1']);
    assert.equal(r.status, 2);
    assert.deepEqual(ours(r.stdout).map((l) => l.replace(/ {2}\S+ m?s warped$/, '')), [
      '✗ test/fixtures/check/no-expect.ts  no @expect comments to check',
      '✗ test/fixtures/check-broken.ts  does not compile: test/fixtures/check-broken.ts:2:19: SyntaxError: Unexpected token',
      '✓ test/fixtures/check/pass.ts  all 2 hold',
    ]);
    assert.match(r.stdout, /^3 files graded in .*: 1 pass, 0 fail, 2 could not be graded$/m);
  });

  it('says what it cannot find, in one line, and exits 2', () => {
    const missing = cli(['check', 'test/fixtures/check/nope', '--no-color']);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /^await-timeline: test\/fixtures\/check\/nope: no such file or folder$/m);
    const empty = cli(['check', 'test/fixtures/cwd', '--no-color']);
    assert.equal(empty.status, 2);
    assert.match(empty.stderr, /^await-timeline: test\/fixtures\/cwd: no file with @expect comments in this folder$/m);
    const jobs = cli(['check', 'test/fixtures/check', '--jobs', '0']);
    assert.equal(jobs.status, 2);
    assert.match(jobs.stderr, /--jobs needs a positive whole number, got '0'/);
  });
});
