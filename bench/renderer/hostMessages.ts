// The host's encoders, bundled for the benchmark's page (bench/renderer.mjs): the messages a
// finished run is sent to the panel in, built as src/host/timelineMessages.ts builds them.
import { encodeAppendColumns } from '../../src/shared/spanColumns';
import { encodeAppend, SiteInterner } from '../../src/shared/webviewProtocol';
import type { Span } from '../../src/shared/timeline';

/** `columns`: this build's host form; `tuples`: an array per span, the form before columns (main's). */
export function appendMessage(spans: readonly Span[], form: 'columns' | 'tuples') {
  return form === 'columns' ? encodeAppendColumns(new SiteInterner(), spans, [], 0) : encodeAppend(new SiteInterner(), spans, [], 0);
}
