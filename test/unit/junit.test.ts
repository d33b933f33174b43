// JUnit XML from @expect grading: well-formed XML a CI reads (checked with a real XML parser), one
// testcase per expectation with failure/error as the grade says, and the CLI's --check --junit.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

import type { ExpectationResult, Timeline } from '../../src/shared/timeline';
import { toJUnitXml } from '../../src/engine/junit';
import { cli, REPO } from './helpers';

function timeline(expectations: ExpectationResult[] | undefined, more: Partial<Timeline> = {}): Timeline {
  return {
    version: 1, file: '/x/snippet.ts', language: 'typescript', status: 'completed', exitCode: 0, wallMs: 1234.6, error: null,
    spans: [], marks: [], droppedSpans: 0, stats: { wallMs: 1234.6, awaitedMs: 0, blockedMs: 0, maxConcurrency: 1 },
    ...(expectations ? { expectations } : {}), ...more,
  };
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => name === 'testcase' || name === 'property' });

function parse(xml: string) {
  assert.equal(XMLValidator.validate(xml), true, 'well-formed XML');
  return parser.parse(xml).testsuites;
}

describe('JUnit XML from @expect grading', () => {
  it('writes one testcase per expectation: passed, failed with what the run showed, malformed as an error', () => {
    const xml = toJUnitXml(timeline([
      { line: 3, column: 4, text: 'wall < 480ms', passed: false, actual: 'wall 1.01 s' },
      { line: 4, column: 4, text: 'overlap "a & b" "<c>"', passed: true, actual: 'overlap 12.0 ms' },
      { line: 5, column: 18, text: 'wall < fast', passed: false, actual: 'malformed @expect: needs a time', error: 'needs a time' },
    ]), 'examples/chefs.ts');
    const suites = parse(xml);
    assert.equal(suites.tests, '3');
    assert.equal(suites.failures, '1');
    assert.equal(suites.errors, '1');
    const suite = suites.testsuite;
    assert.equal(suite.name, 'examples/chefs.ts');
    assert.equal(suite.time, '1.235');
    const [failed, passed, malformed] = suite.testcase;
    assert.equal(failed.name, 'line 3: @expect wall < 480ms');
    assert.equal(failed.line, '3');
    assert.equal(failed.failure.message, 'expected wall < 480ms, the run showed wall 1.01 s');
    assert.match(failed.failure['#text'], /^examples\/chefs\.ts:3:4: /);
    assert.equal(passed.name, 'line 4: @expect overlap "a & b" "<c>"', 'quotes, & and < survive escaping');
    assert.equal(passed.failure, undefined);
    assert.equal(passed.error, undefined);
    assert.equal(malformed.error.message, 'malformed @expect: needs a time');
    assert.equal(malformed.error.type, 'malformed');
  });

  it('says why every expectation failed when the run timed out, and reports a file without @expect', () => {
    const timedOut = parse(toJUnitXml(timeline(
      [{ line: 2, column: 4, text: 'wall < 1s', passed: false, actual: 'the run timed out' }],
      { status: 'timeout', error: { kind: 'timeout', message: 'timed out after 30000 ms' } },
    ), 'a.ts'));
    assert.equal(timedOut.testsuite['system-err'], 'timeout: timed out after 30000 ms');
    const none = parse(toJUnitXml(timeline(undefined), 'b.ts'));
    assert.equal(none.tests, '0');
    assert.equal(none.errors, '1', 'no @expect is an error, not a green suite');
    assert.equal(none.testsuite['system-err'], 'b.ts has no @expect comments to check');
  });

  it('drops characters XML 1.0 cannot carry instead of writing a file no CI can read', () => {
    const xml = toJUnitXml(timeline([{ line: 1, column: 1, text: 'span "a\u0001b" < 1s', passed: true, actual: 'x\u001b[31m' }]), 'c.ts');
    assert.equal(parse(xml).testsuite.testcase[0].name, 'line 1: @expect span "ab" < 1s');
  });

  it('the CLI writes it with --check --junit for a real graded run, matching the exit code', function () {
    this.timeout(60_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'at-junit-'));
    try {
      const out = path.join(dir, 'report.xml');
      const starter = path.join('examples', 'workshop', '01-two-chefs', 'starter.ts');
      const r = cli(['run', starter, '--check', '--junit', out]);
      assert.equal(r.status, 1, `the starter fails its grading: ${r.stderr}`);
      const suites = parse(fs.readFileSync(out, 'utf8'));
      const expectLines = fs.readFileSync(path.join(REPO, starter), 'utf8').split('\n').filter((l) => /^\s*\/\/\s*@expect\s/.test(l)).length;
      assert.equal(suites.testsuite.testcase.length, expectLines, 'one testcase per @expect line');
      assert.ok(Number(suites.failures) >= 1, 'the failing expectations are failures');
      assert.equal(suites.testsuite.name, starter);
      for (const tc of suites.testsuite.testcase) assert.equal(tc.file, starter);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
