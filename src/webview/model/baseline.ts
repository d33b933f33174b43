// The pinned baseline run in the panel: its spans by await site, and the comparison with the run
// on screen, recomputed when asked (on status messages), never inside a frame.

import { compareRunsBySite, formatDelta, siteKey, type PairedSite } from '../../shared/compare';
import { formatDuration } from '../../shared/format';
import type { Comparison, SiteComparison, Span } from '../../shared/timeline';

/** Above this many spans on screen a running comparison waits for the end of the run. */
export const LIVE_COMPARE_LIMIT = 50_000;

/** What a row needs for its ghosts: its site and the row it sits under (depth < 0: the root). */
export interface RowSite {
  kind: Span['kind'];
  label: string;
  line: number;
  column: number;
  depth: number;
  parent: RowSite | null;
}

/** Ancestor levels compared when a site has baseline spans under several parents. */
const MAX_CONTEXT_DEPTH = 6;

/** What the panel shows of a site's baseline: its spans (drawn as ghosts) and the comparison. */
export interface SiteBaseline {
  spans: readonly Span[];
  site: SiteComparison;
}

export class BaselineRun {
  readonly file: string;
  readonly wallMs: number;
  readonly spans: readonly Span[];
  /** The comparison with the run on screen as of the last `compareWith`; null before. */
  comparison: Comparison | null = null;
  private readonly spansBySite = new Map<string, Span[]>();
  private readonly byId = new Map<number, Span>();
  private byCurrentSite = new Map<string, PairedSite>();
  private rowSpans = new WeakMap<RowSite, readonly Span[]>();

  constructor(run: { file: string; wallMs: number; spans: readonly Span[] }) {
    this.file = run.file;
    this.wallMs = run.wallMs;
    this.spans = run.spans;
    for (const s of run.spans) this.byId.set(s.id, s);
    for (const s of [...run.spans].sort((a, b) => a.startMs - b.startMs)) {
      const key = siteKey(s);
      const list = this.spansBySite.get(key);
      if (list) list.push(s);
      else this.spansBySite.set(key, [s]);
    }
  }

  /** Pairs the baseline's sites with the current run's spans (pending ones count up to `wallMs`). */
  compareWith(current: { file: string; wallMs: number; spans: readonly Span[] }): void {
    const { comparison, byCurrentSite } = compareRunsBySite(this, current);
    this.comparison = comparison;
    this.byCurrentSite = byCurrentSite;
    this.rowSpans = new WeakMap();
  }

  /**
   * The baseline spans to draw behind a row: those of its paired site, narrowed to the ones under
   * the same callers as far up as the callers are paired too (the sleep inside cook("soup") is not
   * the one inside cook("pasta")); a level that would leave none is not applied.
   */
  spansForRow(row: RowSite): readonly Span[] {
    const cached = this.rowSpans.get(row);
    if (cached) return cached;
    // Each candidate with the ancestor it has been compared up to.
    let candidates = (this.forSite(row)?.spans ?? []).map((span) => ({ span, at: span as Span | undefined }));
    for (let level = 0, up = row.parent; level < MAX_CONTEXT_DEPTH && up && up.depth >= 0 && candidates.length > 1; level++, up = up.parent) {
      const paired = this.byCurrentSite.get(siteKey(up))?.baselineKey;
      if (!paired) break;
      const next = candidates
        .map((c) => ({ span: c.span, at: c.at && c.at.parentId !== null ? this.byId.get(c.at.parentId) : undefined }))
        .filter((c) => c.at !== undefined && siteKey(c.at) === paired);
      if (!next.length) break;
      candidates = next;
    }
    const spans = candidates.map((c) => c.span);
    this.rowSpans.set(row, spans);
    return spans;
  }

  /** A current site's baseline, or undefined when the baseline has no such site (or none paired yet). */
  forSite(site: Pick<Span, 'kind' | 'label' | 'line' | 'column'>): SiteBaseline | undefined {
    const paired = this.byCurrentSite.get(siteKey(site));
    if (!paired?.baselineKey) return undefined;
    return { spans: this.spansBySite.get(paired.baselineKey) ?? [], site: paired.site };
  }
}

/** Tooltip rows for a site compared with the baseline: what it was, and what changed. */
export function describeSiteChange(site: SiteComparison): [string, string][] {
  const b = site.baseline;
  const c = site.current;
  if (!b || !c) return [['Baseline', 'not at this site']];
  const times = (n: number) => (n === 1 ? '' : `${n}× `);
  const where = b.line === c.line ? '' : ` (line ${b.line})`;
  const rows: [string, string][] = [['Baseline', `${times(b.count)}${formatDuration(b.totalMs)}, from ${formatDuration(b.firstStartMs)}${where}`]];
  const start = site.deltaFirstStartMs ?? 0;
  const moved = Math.abs(start) >= 0.5 ? `, starts ${formatDuration(Math.abs(start))} ${start < 0 ? 'earlier' : 'later'}` : '';
  rows.push(['Change', `${formatDelta(site.deltaTotalMs)}${site.deltaCount ? `, ${site.deltaCount > 0 ? '+' : '−'}${Math.abs(site.deltaCount)} spans` : ''}${moved}`]);
  return rows;
}
