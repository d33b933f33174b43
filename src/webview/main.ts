// Entry of the webview bundle: starts the timeline view inside VS Code (acquireVsCodeApi, ready
// handshake, messages) or inside the standalone HTML report (timeline embedded in the page).

import type { Span, Timeline } from '../shared/timeline';
import { isWireSite, message } from '../shared/webviewProtocol';
import { unpackSpans } from '../shared/spanColumns';
import { TimelineApp, type HostBridge } from './app';

export { TimelineApp, type HostBridge } from './app';

interface VsCodeApi {
  postMessage(msg: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare global {
  // Present only inside a VS Code webview.
  function acquireVsCodeApi(): VsCodeApi;
  // eslint-disable-next-line no-var
  var awaitTimeline: TimelineApp | undefined;
}

/** Id of the <script type="application/json"> that holds the timeline in a standalone report. */
export const EMBEDDED_TIMELINE_ID = 'timeline';

function isTimelineLike(x: unknown): x is Timeline {
  const t = x as Timeline;
  return typeof t === 'object' && t !== null && t.version === 1 && Array.isArray(t.spans) && Array.isArray(t.marks) && typeof t.file === 'string';
}

/** Ids of the elements of a large run's report: its site table (JSON) and its spans (gzip, base64; see src/shared/spanColumns.ts). */
export const EMBEDDED_SITES_ID = 'timeline-sites';
export const EMBEDDED_SPANS_ID = 'timeline-spans';

/**
 * The spans a large run's report packs apart from its JSON, unpacked; undefined when the report
 * has none (a small run lists them in the JSON). The page draws the run's header before this ends.
 */
export async function readPackedSpans(doc: Document = document): Promise<Span[] | undefined> {
  const packed = doc.getElementById(EMBEDDED_SPANS_ID)?.textContent;
  const sitesText = doc.getElementById(EMBEDDED_SITES_ID)?.textContent;
  if (!packed || !sitesText) return undefined;
  const sites: unknown = JSON.parse(sitesText);
  if (!Array.isArray(sites) || !sites.every(isWireSite)) throw new Error('packed spans: bad site table');
  const binary = atob(packed.trim());
  const gz = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) gz[i] = binary.charCodeAt(i);
  const stream = new Blob([gz]).stream().pipeThrough(new DecompressionStream('gzip'));
  const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  return unpackSpans(sites, bytes);
}

/** Id of the <script type="application/json"> that holds a `baseline` message in a report written with --baseline. */
export const EMBEDDED_BASELINE_ID = 'baseline';

function readEmbeddedJson(id: string): unknown {
  const text = document.getElementById(id)?.textContent;
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Reads the timeline embedded in the page, if any. */
export function readEmbeddedTimeline(doc: Document = document): Timeline | undefined {
  const node = doc.getElementById(EMBEDDED_TIMELINE_ID);
  if (!node?.textContent) return undefined;
  try {
    const parsed: unknown = JSON.parse(node.textContent);
    return isTimelineLike(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export function boot(): TimelineApp {
  const mount = document.getElementById('app') ?? document.body;
  if (typeof acquireVsCodeApi === 'function') {
    const api = acquireVsCodeApi();
    const host: HostBridge = { post: (m) => api.postMessage(m), getState: () => api.getState(), setState: (s) => api.setState(s) };
    const app = new TimelineApp(mount, host);
    window.addEventListener('message', (e: MessageEvent) => {
      if (!app.handleMessage(e.data)) console.warn('await-timeline: ignored an invalid message', e.data);
    });
    host.post(message({ type: 'ready' }));
    return app;
  }
  const app = new TimelineApp(mount, null);
  const timeline = readEmbeddedTimeline();
  if (timeline) {
    app.loadTimeline(timeline);
    // A large run: its header and totals are drawn now, its spans as soon as they are unpacked.
    readPackedSpans().then(
      (spans) => spans && app.loadTimeline({ ...timeline, spans }),
      (err: unknown) => console.error('await-timeline: could not read the report\'s spans', err),
    );
  }
  // A report written with --baseline carries the baseline as the panel's message; validated there.
  const baseline = readEmbeddedJson(EMBEDDED_BASELINE_ID);
  if (baseline !== undefined && !app.handleMessage(baseline)) console.warn('await-timeline: ignored an invalid embedded baseline');
  return app;
}

// The handle lets e2e tests and the benchmark drive the view: awaitTimeline.handleMessage(...).
globalThis.awaitTimeline = boot();
