// Compares two runs await site by await site: pure, used by the CLI (--baseline) and the panel.
//
// Sites are paired in two passes. First by the whole site (kind, label, line, column): the same
// file run again. Then what is left by kind and label text alone, in source order: lines moved
// after an edit, or the baseline is another file (the starter next to its solution), where the
// label is the only thing the two have in common. What is still left is added or removed.

import { formatDuration } from './format';
import type { Comparison, SiteComparison, SiteSummary, Span, SpanKind, Timeline } from './timeline';

/** What a comparison needs of a run. */
export interface ComparedRun {
  file: string;
  wallMs: number;
  spans: readonly Span[];
}

/** A site and its spans summed, in one run. */
interface Site {
  /** `siteKey` of the site in its run. */
  key: string;
  kind: SpanKind;
  label: string;
  summary: SiteSummary;
}

/** Identifies a site within one run: the key the host's site table and the panel's rows use too. */
export function siteKey(s: Pick<Span, 'kind' | 'label' | 'line' | 'column'>): string {
  return `${s.kind}\u0000${s.line}\u0000${s.column}\u0000${s.label}`;
}

/** The key for pairing across files: kind and label, whitespace runs folded. */
function labelKey(s: Pick<Span, 'kind' | 'label'>): string {
  return `${s.kind}\u0000${s.label.replace(/\s+/g, ' ').trim()}`;
}

/** Sums each site's spans; a pending span counts up to `endMs` (the run's end). */
export function summarizeSites(spans: readonly Span[], endMs: number): Map<string, Site> {
  const sites = new Map<string, Site>();
  for (const s of spans) {
    const key = siteKey(s);
    let site = sites.get(key);
    if (!site) {
      site = { key, kind: s.kind, label: s.label, summary: { line: s.line, column: s.column, count: 0, totalMs: 0, meanMs: 0, firstStartMs: s.startMs } };
      sites.set(key, site);
    }
    const sum = site.summary;
    sum.count++;
    sum.totalMs += Math.max(0, (s.endMs ?? Math.max(endMs, s.startMs)) - s.startMs);
    sum.firstStartMs = Math.min(sum.firstStartMs, s.startMs);
  }
  for (const site of sites.values()) site.summary.meanMs = site.summary.totalMs / site.summary.count;
  return sites;
}

const bySource = (a: Site, b: Site) => a.summary.line - b.summary.line || a.summary.column - b.summary.column;

export function compareRuns(baseline: ComparedRun, current: ComparedRun): Comparison {
  return compareRunsBySite(baseline, current).comparison;
}

/** A site of this run paired with the baseline: the comparison and the baseline site's key. */
export interface PairedSite {
  site: SiteComparison;
  /** `siteKey` of the paired baseline site; null when only this run has the site. */
  baselineKey: string | null;
}

/** The comparison, and each site of this run (by `siteKey`) with what it was paired with. */
export function compareRunsBySite(baseline: ComparedRun, current: ComparedRun): { comparison: Comparison; byCurrentSite: Map<string, PairedSite> } {
  const before = summarizeSites(baseline.spans, baseline.wallMs);
  const after = summarizeSites(current.spans, current.wallMs);
  const sites: SiteComparison[] = [];
  const byCurrentSite = new Map<string, PairedSite>();
  const pair = (b: Site | undefined, a: Site | undefined, match: SiteComparison['match']) => {
    const site = compareSite(b, a, match);
    sites.push(site);
    if (a) byCurrentSite.set(a.key, { site, baselineKey: b?.key ?? null });
  };

  // Pass 1: the very same site.
  const leftBefore = new Map<string, Site[]>();
  const leftAfter = new Map<string, Site[]>();
  for (const [key, a] of after) {
    const b = before.get(key);
    if (b) pair(b, a, 'site');
    else push(leftAfter, labelKey(a), a);
  }
  for (const [key, b] of before) if (!after.has(key)) push(leftBefore, labelKey(b), b);

  // Pass 2: same kind and label elsewhere, paired in source order.
  for (const [key, afters] of leftAfter) {
    const befores = (leftBefore.get(key) ?? []).sort(bySource);
    afters.sort(bySource);
    afters.forEach((a, i) => (i < befores.length ? pair(befores[i], a, 'label') : pair(undefined, a, 'added')));
    for (const b of befores.slice(afters.length)) pair(b, undefined, 'removed');
    leftBefore.delete(key);
  }
  for (const befores of leftBefore.values()) for (const b of befores) pair(b, undefined, 'removed');

  sites.sort((x, y) => weight(y) - weight(x) || firstStart(x) - firstStart(y));
  const deltaWallMs = current.wallMs - baseline.wallMs;
  const comparison: Comparison = {
    baselineFile: baseline.file,
    baselineWallMs: baseline.wallMs,
    wallMs: current.wallMs,
    deltaWallMs,
    wallChange: baseline.wallMs > 0 ? deltaWallMs / baseline.wallMs : null,
    wallText: formatChange(baseline.wallMs, current.wallMs),
    sites,
  };
  return { comparison, byCurrentSite };
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function compareSite(b: Site | undefined, a: Site | undefined, match: SiteComparison['match']): SiteComparison {
  const site = (a ?? b)!;
  const cur = a?.summary ?? null;
  const base = b?.summary ?? null;
  return {
    kind: site.kind,
    label: site.label,
    match,
    current: cur,
    baseline: base,
    deltaTotalMs: (cur?.totalMs ?? 0) - (base?.totalMs ?? 0),
    deltaMeanMs: cur && base ? cur.meanMs - base.meanMs : null,
    deltaFirstStartMs: cur && base ? cur.firstStartMs - base.firstStartMs : null,
    deltaCount: (cur?.count ?? 0) - (base?.count ?? 0),
  };
}

/** How much a site changed: in time spent there, or in when it began (what parallelising moves). */
export function weight(s: SiteComparison): number {
  return Math.max(Math.abs(s.deltaTotalMs), Math.abs(s.deltaFirstStartMs ?? 0));
}

const firstStart = (s: SiteComparison) => (s.current ?? s.baseline)!.firstStartMs;

/** "4.01 s → 2.01 s, −50 %"; without the percentage when the first is 0. */
export function formatChange(beforeMs: number, afterMs: number): string {
  const arrow = `${formatDuration(beforeMs)} → ${formatDuration(afterMs)}`;
  if (!(beforeMs > 0)) return arrow;
  return `${arrow}, ${formatPercent((afterMs - beforeMs) / beforeMs)}`;
}

/** −50 %, +12 %, 0 %: whole percent, a real minus sign. */
export function formatPercent(ratio: number): string {
  const pct = Math.sign(ratio) * Math.round(Math.abs(ratio * 100));
  if (pct === 0) return '0 %';
  return `${pct < 0 ? '−' : '+'}${Math.abs(pct)} %`;
}

/** A signed duration: "+12 ms", "−199 ms", "±0". */
export function formatDelta(ms: number): string {
  if (Math.abs(ms) < 0.0005) return '±0';
  return ms < 0 ? formatDuration(ms) : `+${formatDuration(ms)}`;
}

// ---------------------------------------------------------------- validating a stored timeline

const SPAN_KINDS: readonly string[] = ['await', 'call', 'block', 'timer', 'combinator', 'task'];
const OUTCOMES: readonly string[] = ['fulfilled', 'rejected', 'pending'];

/** Why `x` is not a version-1 timeline with usable spans, or null when it is one. */
export function timelineProblem(x: unknown): string | null {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return Array.isArray(x) ? 'an array, not an object' : `a ${x === null ? 'null' : typeof x}, not an object`;
  const t = x as Record<string, unknown>;
  if ('traceEvents' in t) return 'a Chrome trace; a baseline is the timeline --json writes';
  if (t.version === undefined) return 'no "version" field';
  if (t.version !== 1) return `version ${JSON.stringify(t.version)}; this await-timeline reads version 1`;
  if (typeof t.file !== 'string') return '"file" is not a string';
  if (!isFiniteNonNegative(t.wallMs)) return '"wallMs" is not a duration';
  if (!Array.isArray(t.spans)) return '"spans" is not an array';
  if (!Array.isArray(t.marks)) return '"marks" is not an array';
  for (let i = 0; i < t.spans.length; i++) {
    const problem = spanProblem(t.spans[i]);
    if (problem) return `spans[${i}]${problem}`;
  }
  return null;
}

function spanProblem(x: unknown): string | null {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return ' is not an object';
  const s = x as Record<string, unknown>;
  if (!Number.isInteger(s.id)) return '.id is not a whole number';
  if (s.parentId !== null && !Number.isInteger(s.parentId)) return '.parentId is neither null nor a whole number';
  if (!SPAN_KINDS.includes(s.kind as string)) return `.kind is ${JSON.stringify(s.kind)}, not one of ${SPAN_KINDS.join(', ')}`;
  if (typeof s.label !== 'string') return '.label is not a string';
  // 0: not located (a block the watchdog could not place).
  if (!isLineNumber(s.line)) return '.line is not a line number';
  if (!isLineNumber(s.column)) return '.column is not a column number';
  if (typeof s.startMs !== 'number' || !Number.isFinite(s.startMs)) return '.startMs is not a number';
  if (s.endMs !== null && !(typeof s.endMs === 'number' && Number.isFinite(s.endMs) && s.endMs >= s.startMs)) return '.endMs is neither null nor a time after startMs';
  if (!OUTCOMES.includes(s.outcome as string)) return `.outcome is ${JSON.stringify(s.outcome)}`;
  return null;
}

const isLineNumber = (x: unknown) => Number.isInteger(x) && (x as number) >= 0;
const isFiniteNonNegative = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x >= 0;

/** Parses a stored timeline; throws `not an await-timeline timeline (why)` for anything else. */
export function parseTimelineJson(text: string): Timeline {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`not an await-timeline timeline (not JSON: ${(err as Error).message})`);
  }
  const problem = timelineProblem(parsed);
  if (problem) throw new Error(`not an await-timeline timeline (${problem})`);
  return parsed as Timeline;
}
