// The comparison with a baseline run as terminal text: the wall-time change, then the await sites
// that changed most (time spent there, or when they began), one line each.
import { visibleLine } from '../shared/safeText';
import { formatDelta, weight } from '../shared/compare';
import { formatDuration } from '../shared/format';
import type { Comparison, SiteComparison } from '../shared/timeline';

export interface ComparisonTextOptions {
  /** Total width in columns. */
  width?: number;
  color?: boolean;
  /** Sites at most (default 8). */
  maxSites?: number;
  /** How the baseline is named (the path the user gave); defaults to its file. */
  baselineName?: string;
}

/** Changes smaller than this are noise between two runs of the same code: 1 % of the wall time, at least 1 ms. */
export function noiseMs(c: Comparison): number {
  return Math.max(1, 0.01 * Math.max(c.baselineWallMs, c.wallMs));
}

export function renderComparison(c: Comparison, options: ComparisonTextOptions = {}): string {
  const width = Math.max(60, options.width ?? 100);
  const color = options.color ?? false;
  const maxSites = options.maxSites ?? 8;
  const noise = noiseMs(c);
  const paint = (code: string, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const signed = (ms: number, text = formatDelta(ms)): string => (ms <= -noise ? paint('32', text) : ms >= noise ? paint('31', text) : text);
  const lines: string[] = [];
  const name = options.baselineName ?? baseName(c.baselineFile);
  const wall = c.deltaWallMs <= -noise ? paint('32', c.wallText) : c.deltaWallMs >= noise ? paint('31', c.wallText) : c.wallText;
  lines.push(`vs baseline ${name}: wall ${wall}`);
  const changed = c.sites.filter((s) => weight(s) >= noise);
  // Sites found in both runs say most; new and gone ones (a restructure) come after them.
  const matched = changed.filter((s) => s.current && s.baseline);
  const other = changed.filter((s) => !(s.current && s.baseline));
  const otherCount = Math.min(other.length, Math.max(maxSites - matched.length, Math.ceil(maxSites / 3)));
  const shown = [...matched.slice(0, maxSites - otherCount), ...other.slice(0, otherCount)];
  const labelWidth = Math.min(40, Math.max(16, width - 70));
  for (const s of shown) lines.push(`  ${siteLine(s, labelWidth, signed, noise)}`);
  const same = c.sites.length - changed.length;
  const rest = changed.length - shown.length;
  const tail = [rest ? `${rest} more changed` : '', same ? `${same} changed by less than ${formatDuration(noise)}` : ''].filter(Boolean).join(', ');
  if (tail) lines.push(paint('2', `  … ${tail}: every site is in --json under "comparison"`));
  return lines.join('\n') + '\n';
}

function siteLine(s: SiteComparison, labelWidth: number, signed: (ms: number, text?: string) => string, noise: number): string {
  const mark = s.match === 'added' ? '+' : s.match === 'removed' ? '−' : ' ';
  // As the chart names rows: an await shows the word.
  const label = fit(visibleLine(s.kind === 'await' ? `await ${s.label}` : s.label), labelWidth).padEnd(labelWidth);
  const where = s.current && s.baseline && s.current.line !== s.baseline.line
    ? `:${s.baseline.line}→${s.current.line}`
    : `:${(s.current ?? s.baseline)!.line}`;
  const w = where.padEnd(9);
  if (s.match === 'added') {
    const c = s.current!;
    return `${mark} ${label} ${w} new: ${count(c.count)}${formatDuration(c.totalMs)}, starts at ${formatDuration(c.firstStartMs)}`;
  }
  if (s.match === 'removed') {
    const b = s.baseline!;
    return `${mark} ${label} ${w} gone: was ${count(b.count)}${formatDuration(b.totalMs)}, started at ${formatDuration(b.firstStartMs)}`;
  }
  const b = s.baseline!;
  const c = s.current!;
  const counts = b.count === c.count ? count(c.count) : `${b.count}→${c.count}× `;
  const total = `${counts}${formatDuration(b.totalMs)} → ${formatDuration(c.totalMs)} (${signed(s.deltaTotalMs)})`;
  const start = Math.abs(s.deltaFirstStartMs!) >= noise
    ? `, starts ${formatDuration(c.firstStartMs)} (${signed(s.deltaFirstStartMs!, s.deltaFirstStartMs! < 0 ? `${formatDuration(-s.deltaFirstStartMs!)} earlier` : `${formatDuration(s.deltaFirstStartMs!)} later`)})`
    : '';
  return `${mark} ${label} ${w} ${total}${start}`;
}

const count = (n: number) => (n === 1 ? '' : `${n}× `);

function fit(text: string, width: number): string {
  const one = text.replace(/\s+/g, ' ');
  return one.length <= width ? one : `${one.slice(0, width - 1)}…`;
}

function baseName(file: string): string {
  const parts = file.split(/[\\/]/);
  return parts[parts.length - 1] || file;
}
