// The chart's legend: which entries a run needs (only what its chart shows), in one fixed order,
// shared by the panel, the HTML report and the SVG. Each drawer maps an entry's swatch to its own
// colours. A new kind of bar is one more line in LEGEND.

import type { SpanKind } from '../timeline';
import { DELAY_MEANING } from './delays';

/** What the chart shows, as far as the legend cares. */
export interface LegendPresence {
  kinds: ReadonlySet<SpanKind>;
  /** Bars outlined as the critical path. */
  critical: boolean;
  /** Bars outlined dashed: awaits that ran back to back but could overlap. */
  couldOverlap: boolean;
  /** Bars still running (drawn faded, growing). */
  pending: boolean;
  /** Bars of calls or awaits that rejected. */
  rejected: boolean;
  /** Bars of spans past the run's span budget, drawn as counts (`Timeline.aggregates`). */
  aggregated?: boolean;
  /** Bands of the event loop delayed by something else than the snippet (`Timeline.delays`). */
  delayed?: boolean;
}

/** How an entry's sample is drawn. */
export type LegendSwatch =
  | { type: 'kind'; kind: SpanKind }
  | { type: 'critical' }
  | { type: 'couldOverlap' }
  | { type: 'pending' }
  | { type: 'rejected' }
  | { type: 'aggregated' }
  | { type: 'delayed' };

export interface LegendEntry {
  /** Stable id (tests, CSS classes). */
  id: string;
  /** A word or two beside the sample. */
  label: string;
  /** One sentence: what it means for the program. */
  title: string;
  swatch: LegendSwatch;
}

interface LegendRule extends LegendEntry {
  when: (p: LegendPresence) => boolean;
}

const kind = (k: SpanKind, label: string, title: string): LegendRule => ({ id: k, label, title, swatch: { type: 'kind', kind: k }, when: (p) => p.kinds.has(k) });

/** Every entry the legend can have, in the order it lists them. */
const LEGEND: readonly LegendRule[] = [
  kind('await', 'await', 'An await: the function waited here for a promise.'),
  kind('call', 'call', 'A call of a function of yours, from start until its promise settled.'),
  kind('combinator', 'Promise.all / gather', 'A combinator: waits for several things that run at once.'),
  kind('timer', 'timer', 'A timer (setTimeout, sleep) counting down.'),
  kind('task', 'task', 'A task (asyncio) or other work the program started.'),
  kind('block', 'blocked', 'Synchronous work held the event loop: nothing else could run.'),
  { id: 'rejected', label: 'rejected', title: 'It rejected or raised.', swatch: { type: 'rejected' }, when: (p) => p.rejected },
  {
    id: 'aggregated', label: '×N aggregated', swatch: { type: 'aggregated' }, when: (p) => !!p.aggregated,
    title: 'Spans past the run\'s span budget (awaitTimeline.maxSpans): counted, not listed, and drawn where they ran, e.g. "×312 awaits, 1.20–3.40 s".',
  },
  { id: 'pending', label: 'pending', title: 'Not finished: still going, or still waiting when the run ended.', swatch: { type: 'pending' }, when: (p) => p.pending },
  { id: 'critical', label: 'critical path', title: 'The spans that set the wall time: shorten these to finish sooner.', swatch: { type: 'critical' }, when: (p) => p.critical },
  { id: 'couldOverlap', label: 'could overlap', title: 'Awaits that ran back to back although they need not have.', swatch: { type: 'couldOverlap' }, when: (p) => p.couldOverlap },
  { id: 'delayed', label: 'delayed: not your code', title: DELAY_MEANING, swatch: { type: 'delayed' }, when: (p) => !!p.delayed },
];

/** The entries this chart needs, in legend order. */
export function legendEntries(p: LegendPresence): LegendEntry[] {
  return LEGEND.filter((r) => r.when(p)).map(({ when: _when, ...entry }) => entry);
}
