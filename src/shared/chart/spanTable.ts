// Spans in columns for the chart's models: one typed array per field and a site table (each distinct
// kind, label, line and column once), so a million spans cost a few arrays, not a million objects.
// The panel keeps a run's spans this way as the host sends them (src/shared/spanColumns.ts), the
// compaction and the layout read them so, and a span is made an object only when one is asked for.

import type { Outcome, Span, SpanKind } from '../timeline';
import { SiteInterner } from '../webviewProtocol';

/** Where spans come from: what is the same for all of a site's spans. */
export interface Site {
  readonly kind: SpanKind;
  readonly label: string;
  readonly line: number;
  readonly column: number;
}

/** In `flags`: the outcome's code (pending 0, fulfilled 1, rejected 2) in the low bits, then these. */
export const OUTCOME_MASK = 3;
/** `Span.floating`. */
export const FLOATING = 4;
/** `endMs` is null (the value in `ends` means nothing). */
export const PENDING = 8;
/** `parentId` is null (the value in `parents` means nothing). */
export const NO_PARENT = 16;

const OUTCOMES: readonly Outcome[] = ['pending', 'fulfilled', 'rejected'];
const OUTCOME_CODE: Record<Outcome, number> = { pending: 0, fulfilled: 1, rejected: 2 };

/** Spans in columns; span i is row i of each column (the columns may be longer than `length`). */
export interface SpanTable {
  readonly length: number;
  readonly ids: Float64Array;
  readonly parents: Float64Array;
  readonly starts: Float64Array;
  readonly ends: Float64Array;
  /** Index in `sites`. */
  readonly site: Int32Array;
  readonly flags: Uint8Array;
  readonly sites: readonly Site[];
}

/** The flags of a span's outcome, floating, end and parent. */
export function flagsOf(s: Pick<Span, 'outcome' | 'floating' | 'endMs' | 'parentId'>): number {
  return (OUTCOME_CODE[s.outcome] ?? 0) | (s.floating ? FLOATING : 0) | (s.endMs === null ? PENDING : 0) | (s.parentId === null ? NO_PARENT : 0);
}

export const outcomeOfFlags = (f: number): Outcome => OUTCOMES[f & OUTCOME_MASK] ?? 'pending';

/** Span i as an object (a new one each call), field for field what the table was made of. */
export function spanAt(t: SpanTable, i: number): Span {
  const f = t.flags[i];
  const site = t.sites[t.site[i]];
  const s: Span = {
    id: t.ids[i], parentId: f & NO_PARENT ? null : t.parents[i], kind: site.kind, label: site.label, line: site.line, column: site.column,
    startMs: t.starts[i], endMs: f & PENDING ? null : t.ends[i], outcome: outcomeOfFlags(f),
  };
  if (f & FLOATING) s.floating = true;
  return s;
}

/** Span i's end, null while pending. */
export const endAt = (t: SpanTable, i: number): number | null => (t.flags[i] & PENDING ? null : t.ends[i]);
/** Span i's parent id, null at the top level. */
export const parentAt = (t: SpanTable, i: number): number | null => (t.flags[i] & NO_PARENT ? null : t.parents[i]);

/** Every span of the table as objects, in its order. */
export function spansOf(t: SpanTable): Span[] {
  const out: Span[] = new Array(t.length);
  for (let i = 0; i < t.length; i++) out[i] = spanAt(t, i);
  return out;
}

/** A table of these spans (sites numbered in the order they first come). */
export function tableOf(spans: readonly Span[]): SpanTable {
  const n = spans.length;
  const interner = new SiteInterner();
  const t = {
    length: n, ids: new Float64Array(n), parents: new Float64Array(n), starts: new Float64Array(n), ends: new Float64Array(n),
    site: new Int32Array(n), flags: new Uint8Array(n), sites: [] as Site[],
  };
  for (let i = 0; i < n; i++) {
    const s = spans[i];
    t.ids[i] = s.id;
    t.parents[i] = s.parentId ?? 0;
    t.starts[i] = s.startMs;
    t.ends[i] = s.endMs ?? 0;
    t.site[i] = interner.indexOf(s);
    t.flags[i] = flagsOf(s);
  }
  t.sites = interner.takeNew();
  return t;
}
