// JUnit XML from a run's @expect grading (`--check --junit <file>`): one testcase per expectation,
// so CI systems (GitHub, GitLab, Jenkins, Azure) list workshop grading as tests.
import type { Timeline } from '../shared/timeline';

/** Text and attribute values escaped for XML 1.0; characters XML cannot carry at all are dropped. */
export function xmlEscape(text: string): string {
  return text
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const seconds = (ms: number) => (Math.max(0, ms) / 1000).toFixed(3);

interface Suite {
  xml: string;
  tests: number;
  failures: number;
  errors: number;
  wallMs: number;
}

/**
 * One graded run as a testsuite. `file` is the snippet as the user named it (relative to the
 * working directory), used as the suite name, the testcases' classname and their `file` attribute.
 * A run that did not compile, timed out or was stopped fails every expectation with what happened;
 * a malformed line is an `<error>` (the expectation could not be checked), a failed one a `<failure>`.
 * A file without `@expect` lines gives a suite with no testcases and an error in `<system-err>`.
 */
function suiteOf(timeline: Timeline, file: string): Suite {
  const results = timeline.expectations ?? [];
  const failures = results.filter((r) => !r.passed && r.error === undefined).length;
  const errors = results.filter((r) => r.error !== undefined).length;
  const time = seconds(timeline.wallMs);
  const name = xmlEscape(file);
  const cases = results.map((r) => {
    const attrs = `name="${xmlEscape(`line ${r.line}: @expect ${r.text}`)}" classname="${name}" file="${name}" line="${r.line}" time="0"`;
    if (r.passed) return `    <testcase ${attrs}>\n      <system-out>${xmlEscape(r.actual)}</system-out>\n    </testcase>`;
    const at = `${file}:${r.line}:${r.column}`;
    const element = r.error !== undefined ? 'error' : 'failure';
    const message = r.error !== undefined ? `malformed @expect: ${r.error}` : `expected ${r.text}, the run showed ${r.actual}`;
    return `    <testcase ${attrs}>\n      <${element} message="${xmlEscape(message)}" type="${r.error !== undefined ? 'malformed' : 'expectation'}">${xmlEscape(`${at}: ${message}`)}</${element}>\n    </testcase>`;
  });
  const problem = !results.length
    ? `${file} has no @expect comments to check`
    : timeline.error && timeline.error.kind !== 'exception' && timeline.error.kind !== 'exit'
      ? `${timeline.status}: ${timeline.error.message}`
      : undefined;
  const suiteErrors = !results.length ? 1 : errors;
  const xml = [
    `  <testsuite name="${name}" tests="${results.length}" failures="${failures}" errors="${suiteErrors}" skipped="0" time="${time}" file="${name}">`,
    `    <properties>\n      <property name="status" value="${xmlEscape(timeline.status)}"/>\n      <property name="wallMs" value="${timeline.wallMs.toFixed(1)}"/>\n    </properties>`,
    ...cases,
    ...(problem ? [`    <system-err>${xmlEscape(problem)}</system-err>`] : []),
    '  </testsuite>',
  ].join('\n');
  return { xml, tests: results.length, failures, errors: suiteErrors, wallMs: timeline.wallMs };
}

/** The JUnit report of graded runs (`run --check` gives one, `check` one per file), a testsuite each. */
export function toJUnitXmlMany(runs: ReadonlyArray<{ timeline: Timeline; file: string }>): string {
  const suites = runs.map((r) => suiteOf(r.timeline, r.file));
  const sum = (key: 'tests' | 'failures' | 'errors' | 'wallMs') => suites.reduce((n, s) => n + s[key], 0);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="await-timeline" tests="${sum('tests')}" failures="${sum('failures')}" errors="${sum('errors')}" time="${seconds(sum('wallMs'))}">`,
    ...suites.map((s) => s.xml),
    '</testsuites>',
    '',
  ].join('\n');
}

/** The JUnit report of one graded run (see suiteOf). */
export function toJUnitXml(timeline: Timeline, file: string): string {
  return toJUnitXmlMany([{ timeline, file }]);
}
