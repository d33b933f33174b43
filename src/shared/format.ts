// Human-readable durations and times: the panel (header, tooltips, table, axis), SVG export and editor decorations.

/** A duration in ms as the user reads it: 850 µs, 12.3 ms, 2.01 s, 1 min 05 s. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  const abs = Math.abs(ms);
  const sign = ms < 0 ? '−' : '';
  if (abs === 0) return '0 ms';
  if (abs < 1) return `${sign}${trim(abs * 1000, 3)} µs`;
  if (abs < 1000) return `${sign}${trim(abs, 3)} ms`;
  if (abs < 60_000) return `${sign}${(abs / 1000).toFixed(2)} s`;
  const min = Math.floor(abs / 60_000);
  const sec = Math.round((abs - min * 60_000) / 1000);
  return `${sign}${min} min ${String(sec).padStart(2, '0')} s`;
}

/** Three significant digits, no trailing zeros beyond what the magnitude needs. */
function trim(value: number, significant: number): string {
  if (value >= 100) return String(Math.round(value));
  return String(Number(value.toPrecision(significant)));
}

/** A point in run time, "at 1.25 s". Same units as durations. */
export function formatTime(ms: number): string {
  return formatDuration(ms);
}
