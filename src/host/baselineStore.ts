// The pinned baseline run: kept in workspace state (it survives a reload), validated when read back,
// and turned into the panel's `baseline` message.
import { timelineProblem } from '../shared/compare';
import type { Timeline } from '../shared/timeline';
import { encodeRun, message, type BaselineMessage } from '../shared/webviewProtocol';
import { MAX_STORED_SPANS, type KeyValueStore } from './timelineMessages';

export const BASELINE_KEY = 'awaitTimeline.baseline';

export class BaselineStore {
  constructor(private readonly store: KeyValueStore) {}

  /** The pinned run, or undefined when none is pinned or what is stored is not a timeline. */
  get(): Timeline | undefined {
    const t = this.store.get<unknown>(BASELINE_KEY);
    return t !== undefined && timelineProblem(t) === null ? (t as Timeline) : undefined;
  }

  /** Pins a run; false when it is too large to keep in workspace state. */
  async pin(timeline: Timeline): Promise<boolean> {
    if (timeline.spans.length > MAX_STORED_SPANS) return false;
    // The pinned run's own comparison or insights are not part of the baseline.
    const { comparison: _c, ...rest } = timeline;
    await this.store.update(BASELINE_KEY, rest);
    return true;
  }

  async clear(): Promise<void> {
    await this.store.update(BASELINE_KEY, undefined);
  }

  /** What the panel is sent: the pinned run in wire form, or null. */
  message(): BaselineMessage {
    const t = this.get();
    return message({ type: 'baseline', baseline: t ? encodeRun(t.file, t.wallMs, t.spans) : null });
  }
}
