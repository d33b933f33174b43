// Turns a finished timeline into the webview messages that show it (restored panels), and keeps the
// last timeline in workspace state so a window reload can bring the panel back.
import * as path from 'node:path';

import type { Timeline } from '../shared/timeline';
import { encodeAppendColumns } from '../shared/spanColumns';
import { SiteInterner, isHostToWebviewMessage, message, type HostToWebviewMessage } from '../shared/webviewProtocol';

/**
 * The messages that draw a whole run: reset, one append, the final status. `keepView` when they
 * replace the same run's streamed spans at its end (the view keeps zoom, scroll and selection).
 */
export function timelineMessages(timeline: Timeline, keepView = false): HostToWebviewMessage[] {
  return [
    message({
      type: 'reset', file: path.basename(timeline.file), language: timeline.language, status: timeline.status,
      ...(keepView ? { keepView } : {}),
      ...(timeline.time === 'warp' ? { time: 'warp' as const } : {}),
    }),
    // The spans in columns: one buffer, however many.
    encodeAppendColumns(new SiteInterner(), timeline.spans, timeline.marks, timeline.droppedSpans, {
      ...(timeline.aggregates ? { aggregates: timeline.aggregates } : {}),
      ...(timeline.delays ? { delays: timeline.delays } : {}),
    }),
    message({
      type: 'status', status: timeline.status, error: timeline.error, stats: timeline.stats,
      wallMs: timeline.wallMs, exitCode: timeline.exitCode, nowMs: timeline.wallMs,
      // What the engine found at the end of the run, when it did.
      ...(timeline.insights ? { insights: timeline.insights } : {}),
      ...(timeline.criticalPath ? { criticalPath: timeline.criticalPath } : {}),
      ...(timeline.expectations ? { expectations: timeline.expectations } : {}),
      ...(timeline.stillWaiting ? { stillWaiting: timeline.stillWaiting } : {}),
      ...(timeline.floating ? { floating: timeline.floating } : {}),
      ...(timeline.incomplete ? { incomplete: timeline.incomplete } : {}),
    }),
  ];
}

/** Where the last timeline is kept, and the document it came from. */
export const LAST_TIMELINE_KEY = 'awaitTimeline.lastTimeline';
/** Larger runs are not kept: workspace state is not meant for megabytes. */
export const MAX_STORED_SPANS = 20_000;

export interface StoredTimeline {
  /** The document the run came from, as `Uri.toString()`. */
  uri: string;
  timeline: Timeline;
}

/** Minimal storage interface (vscode.Memento), so this module stays free of 'vscode'. */
export interface KeyValueStore {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): Thenable<void>;
}

export function saveLastTimeline(store: KeyValueStore, uri: string, timeline: Timeline): Thenable<void> {
  const size = timeline.spans.length + (timeline.aggregates?.length ?? 0);
  return store.update(LAST_TIMELINE_KEY, size <= MAX_STORED_SPANS ? { uri, timeline } : undefined);
}

/** The stored run as messages, or undefined when nothing valid is stored (old versions, corruption). */
export function loadLastTimeline(store: KeyValueStore): { uri: string; timeline: Timeline; messages: HostToWebviewMessage[] } | undefined {
  const stored = store.get<StoredTimeline>(LAST_TIMELINE_KEY);
  const t = stored?.timeline;
  if (!stored || typeof stored.uri !== 'string' || !t || t.version !== 1 || !Array.isArray(t.spans) || !Array.isArray(t.marks)) return undefined;
  try {
    const messages = timelineMessages(t);
    return messages.every(isHostToWebviewMessage) ? { uri: stored.uri, timeline: t, messages } : undefined;
  } catch {
    return undefined;
  }
}
