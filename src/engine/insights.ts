// Joins the static "what could overlap" candidates with a run: keeps the awaits that really ran
// back to back and says how much Promise.all would save.
import type { Insight, Span, Timeline } from '../shared/timeline';
import { findOverlapCandidates, type OverlapCandidate } from './overlap';
import { criticalPath } from './criticalPath';
import { formatMs } from './terminalGantt';

/** Savings below this are noise, not advice. */
export const MIN_SAVING_MS = 5;
/** Clock slack when deciding that one await began after another ended. */
const SLACK_MS = 1;

/**
 * The insights for a finished run of `source`: what ran back to back, by how much it could shrink.
 * `candidates`: findOverlapCandidates(source, timeline.file) when it was found already (a big
 * module's, in the thread that instrumented it).
 */
export function computeInsights(source: string, timeline: Timeline, candidates?: OverlapCandidate[]): Insight[] {
  if (timeline.language === 'python') return [];
  candidates ??= findOverlapCandidates(source, timeline.file);
  if (!candidates.length) return [];
  // The ended await spans of the candidates' sites only (a run of 100,000 sites has a few).
  const bySite = new SiteSpans(candidates);
  for (const s of timeline.spans) if (s.kind === 'await' && s.endMs !== null) bySite.add(s);
  const out: Insight[] = [];
  for (const c of candidates) {
    const measured = c.kind === 'sequential-loop' ? measureLoop(c, bySite) : measureGroup(c, bySite);
    if (!measured || measured.savesMs < MIN_SAVING_MS) continue;
    const insight: Insight = {
      kind: c.kind,
      line: c.line,
      endLine: c.endLine,
      sites: c.sites,
      ...measured,
      message: insightMessage(c.kind, measured.spanIds.length, measured),
    };
    if (c.fix) {
      const { start: _s, end: _e, ...fix } = c.fix;
      insight.fix = fix;
    }
    out.push(insight);
  }
  return out.sort((a, b) => b.savesMs - a.savesMs || a.line - b.line);
}

/** Spans by their site (line and column), kept for the sites asked for only. */
class SiteSpans {
  private readonly lines = new Map<number, Map<number, Span[]>>();

  constructor(candidates: readonly OverlapCandidate[]) {
    for (const c of candidates) {
      for (const p of c.sites) {
        let columns = this.lines.get(p.line);
        if (!columns) this.lines.set(p.line, (columns = new Map()));
        if (!columns.has(p.column)) columns.set(p.column, []);
      }
    }
  }

  add(s: Span): void {
    this.lines.get(s.line)?.get(s.column)?.push(s);
  }

  get(line: number, column: number): Span[] | undefined {
    return this.lines.get(line)?.get(column);
  }
}

interface Measured {
  spanIds: number[];
  sequentialMs: number;
  parallelMs: number;
  savesMs: number;
}

const dur = (s: Span) => (s.endMs as number) - s.startMs;
const round = (ms: number) => Math.round(ms * 1000) / 1000;

function measure(spans: Span[]): Measured {
  const sequentialMs = spans.reduce((sum, s) => sum + dur(s), 0);
  const parallelMs = Math.max(...spans.map(dur));
  return { spanIds: spans.map((s) => s.id), sequentialMs: round(sequentialMs), parallelMs: round(parallelMs), savesMs: round(sequentialMs - parallelMs) };
}

const better = (a: Measured | undefined, b: Measured) => (!a || b.savesMs > a.savesMs ? b : a);

/** Each time the first await ran, the next await of the group that began after it ended in the same call. */
function measureGroup(c: OverlapCandidate, bySite: SiteSpans): Measured | undefined {
  // Per site, its spans by the call they ran in: a function called often stays linear-ish.
  const lists = c.sites.map((p) => {
    const byParent = new Map<number | null, Span[]>();
    for (const s of bySite.get(p.line, p.column) ?? []) {
      let list = byParent.get(s.parentId);
      if (!list) byParent.set(s.parentId, (list = []));
      list.push(s);
    }
    return byParent;
  });
  let best: Measured | undefined;
  for (const first of [...lists[0].values()].flat()) {
    const chain = [first];
    for (let k = 1; k < lists.length; k++) {
      const prev = chain[chain.length - 1];
      let next: Span | undefined;
      for (const s of lists[k].get(first.parentId) ?? []) {
        if (s.startMs < (prev.endMs as number) - SLACK_MS) continue;
        if (!next || s.startMs < next.startMs) next = s;
      }
      if (!next) break;
      chain.push(next);
    }
    if (chain.length === lists.length) best = better(best, measure(chain));
  }
  return best;
}

/** The loop's await spans in one call, one iteration after another. */
function measureLoop(c: OverlapCandidate, bySite: SiteSpans): Measured | undefined {
  const spans = bySite.get(c.sites[0].line, c.sites[0].column) ?? [];
  const byParent = new Map<number | null, Span[]>();
  for (const s of spans) {
    let list = byParent.get(s.parentId);
    if (!list) byParent.set(s.parentId, (list = []));
    list.push(s);
  }
  let best: Measured | undefined;
  for (const list of byParent.values()) {
    list.sort((a, b) => a.startMs - b.startMs);
    let run: Span[] = [];
    const close = () => {
      if (run.length >= 2) best = better(best, measure(run));
    };
    for (const s of list) {
      if (run.length && s.startMs < (run[run.length - 1].endMs as number) - SLACK_MS) {
        close();
        run = [];
      }
      run.push(s);
    }
    close();
  }
  return best;
}

/** "these 2 awaits ran back to back (4.00 s); with Promise.all about 2.00 s (saves 2.00 s)". */
export function insightMessage(kind: Insight['kind'], count: number, m: Pick<Measured, 'sequentialMs' | 'parallelMs' | 'savesMs'>): string {
  const what = kind === 'sequential-loop'
    ? `this await ran ${count} times back to back in the loop (${formatMs(m.sequentialMs)})`
    : `these ${count} awaits ran back to back (${formatMs(m.sequentialMs)})`;
  const how = kind === 'sequential-loop' ? 'with Promise.all over the items' : 'together with Promise.all';
  return `${what}; ${how} they would take about ${formatMs(m.parallelMs)} (saves ${formatMs(m.savesMs)})`;
}

/**
 * Adds the critical path and, for JS/TS with its source, the insights to a finished timeline.
 * Analysis must never cost the user their run: a failure here leaves the fields out.
 * `candidates`: the source's overlap candidates when they were found already (null: finding them
 * failed there, the insights are left out), else they are found here.
 */
export function attachInsights(timeline: Timeline, source: string | undefined, candidates?: OverlapCandidate[] | null, turnOf?: (id: number) => number): void {
  try {
    timeline.criticalPath = criticalPath(timeline, turnOf);
  } catch {
    // leave it out
  }
  if (source === undefined || timeline.language === 'python' || candidates === null) return;
  try {
    timeline.insights = computeInsights(source, timeline, candidates);
  } catch {
    // leave it out
  }
}
