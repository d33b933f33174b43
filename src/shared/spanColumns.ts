// Spans packed in columns for the standalone HTML report: a site table (each distinct kind, label,
// line and column once) and one typed array per field, in one byte buffer the report stores
// gzip-compressed and the page unpacks. A million spans take about 37 bytes each before
// compression instead of about 150 as JSON, and unpack without a JSON parse.
import type { Span } from './timeline';
import type { LoopDelay, Mark, SpanAggregate } from './timeline';
import { SiteInterner, encodeAppend, type AppendMessage, type WireSite } from './webviewProtocol';

const OUTCOME_CODE = { pending: 0, fulfilled: 1, rejected: 2 } as const;
const OUTCOME = ['pending', 'fulfilled', 'rejected'] as const;
/** Set in a span's outcome byte when nobody awaited it (`Span.floating`). */
const FLOATING_BIT = 8;

export interface PackedSpans {
  sites: WireSite[];
  /** [u32 count, pad to 8] id, parent (0: none), start, end (NaN: pending) as f64; site as u32; outcome as u8 (+ FLOATING_BIT: not awaited). */
  bytes: Uint8Array;
}

/** Bytes of the packed columns for `n` spans. */
function layout(n: number) {
  const ids = 8;
  const parents = ids + 8 * n;
  const starts = parents + 8 * n;
  const ends = starts + 8 * n;
  const sites = ends + 8 * n;
  const outcomes = sites + 4 * n;
  return { ids, parents, starts, ends, sites, outcomes, total: outcomes + n };
}

export function packSpans(spans: readonly Span[]): PackedSpans {
  const interner = new SiteInterner();
  const bytes = packColumns(spans, interner);
  return { sites: interner.takeNew(), bytes };
}

/**
 * The spans' columns, their sites numbered by `interner` (a run's, across batches: the sites new to
 * it are then those `interner.takeNew()` gives). The panel's `append` carries these (`columns`).
 */
export function packColumns(spans: readonly Span[], interner: SiteInterner): Uint8Array {
  const n = spans.length;
  const at = layout(n);
  const buf = new ArrayBuffer(at.total);
  new DataView(buf).setUint32(0, n, true);
  const ids = new Float64Array(buf, at.ids, n);
  const parents = new Float64Array(buf, at.parents, n);
  const starts = new Float64Array(buf, at.starts, n);
  const ends = new Float64Array(buf, at.ends, n);
  const siteIdx = new Uint32Array(buf, at.sites, n);
  const outcomes = new Uint8Array(buf, at.outcomes, n);
  for (let i = 0; i < n; i++) {
    const s = spans[i];
    ids[i] = s.id;
    parents[i] = s.parentId ?? 0;
    starts[i] = s.startMs;
    ends[i] = s.endMs === null ? NaN : s.endMs;
    siteIdx[i] = interner.indexOf(s);
    outcomes[i] = OUTCOME_CODE[s.outcome] | (s.floating ? FLOATING_BIT : 0);
  }
  return new Uint8Array(buf);
}

/** Typed views of a packed buffer's columns (`own` starts on an 8-byte boundary). */
function columnViews(own: Uint8Array, n: number, at: ReturnType<typeof layout>) {
  const base = own.byteOffset;
  return {
    ids: new Float64Array(own.buffer, base + at.ids, n),
    parents: new Float64Array(own.buffer, base + at.parents, n),
    starts: new Float64Array(own.buffer, base + at.starts, n),
    ends: new Float64Array(own.buffer, base + at.ends, n),
    siteIdx: new Uint32Array(own.buffer, base + at.sites, n),
    outcomes: new Uint8Array(own.buffer, base + at.outcomes, n),
  };
}

/** The spans back; throws on a buffer that does not hold what its count says. */
export function unpackSpans(sites: readonly WireSite[], bytes: Uint8Array): Span[] {
  // Typed views need aligned offsets: copy when the bytes do not start on an 8-byte boundary.
  const own = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  const n = new DataView(own.buffer, own.byteOffset, own.byteLength).getUint32(0, true);
  const at = layout(n);
  if (own.byteLength !== at.total) throw new Error(`packed spans: ${own.byteLength} bytes for ${n} spans`);
  const { ids, parents, starts, ends, siteIdx, outcomes } = columnViews(own, n, at);
  const spans: Span[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const site = sites[siteIdx[i]];
    if (!site) throw new Error(`packed spans: unknown site ${siteIdx[i]}`);
    const end = ends[i];
    const span: Span = {
      id: ids[i], parentId: parents[i] === 0 ? null : parents[i], kind: site.kind, label: site.label,
      line: site.line, column: site.column, startMs: starts[i], endMs: Number.isNaN(end) ? null : end,
      outcome: OUTCOME[outcomes[i] & ~FLOATING_BIT] ?? 'pending',
    };
    if (outcomes[i] & FLOATING_BIT) span.floating = true;
    spans[i] = span;
  }
  return spans;
}

/**
 * Host side: an `append` of these spans in columns (and the marks, aggregates and delays as
 * `encodeAppend` sends them), sending only the sites new to `interner`.
 */
export function encodeAppendColumns(
  interner: SiteInterner, spans: readonly Span[], marks: readonly Mark[], droppedSpans: number,
  more: { aggregates?: readonly SpanAggregate[]; delays?: readonly LoopDelay[] } = {},
): AppendMessage {
  if (!spans.length) return encodeAppend(interner, [], marks, droppedSpans, more);
  const columns = packColumns(spans, interner);
  return { ...encodeAppend(interner, [], marks, droppedSpans, more), columns };
}
