// Words for the run's checked @expect comments, kept apart from the DOM so they are tested in Node.

import type { ExpectationResult } from '../../shared/timeline';

/** The one-line summary above the list, e.g. "Expectations: 2 of 3 hold". */
export function expectationsSummary(results: readonly ExpectationResult[]): string {
  if (!results.length) return '';
  const passed = results.filter((r) => r.passed).length;
  if (passed === results.length) return results.length === 1 ? 'Expectation: holds' : `Expectations: all ${results.length} hold`;
  return `Expectations: ${passed} of ${results.length} hold`;
}

/** What one item says: the expectation and what the run showed, or why the line is malformed. */
export function expectationText(r: ExpectationResult): string {
  return r.error !== undefined ? `line ${r.line}: malformed @expect: ${r.error}` : `${r.text} — ${r.actual}`;
}
