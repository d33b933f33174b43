// Time-axis ticks: a 1-2-5 step that leaves room for labels, labelled in µs, ms or s to match the step.

export interface Tick {
  /** Time of the tick, ms since the snippet started. */
  ms: number;
  /** What is written next to it. */
  label: string;
}

const STEPS = [1, 2, 5];

/** The smallest 1-2-5 × 10^k step (in ms) that is at least `minStepMs`. */
export function niceStep(minStepMs: number): number {
  if (!(minStepMs > 0) || !Number.isFinite(minStepMs)) return 1;
  let magnitude = Math.pow(10, Math.floor(Math.log10(minStepMs)));
  for (;;) {
    for (const m of STEPS) {
      const step = m * magnitude;
      // Tolerance: log10 of e.g. 0.001 lands a hair off.
      if (step >= minStepMs * (1 - 1e-9)) return step;
    }
    magnitude *= 10;
  }
}

/**
 * Label of a tick at `ms` when ticks are `stepMs` apart. The unit follows the step (s from 1 s
 * steps), but µs only while the times themselves (`magnitudeMs`) are under 1 ms: 12.5 ms, not 12500 µs.
 */
export function formatTick(ms: number, stepMs: number, magnitudeMs = Math.abs(ms)): string {
  if (Math.abs(ms) < stepMs * 1e-6) return '0';
  let unit: string;
  let scale: number;
  if (stepMs < 1 && magnitudeMs < 1) {
    unit = 'µs';
    scale = 1000;
  } else if (stepMs < 1000) {
    unit = 'ms';
    scale = 1;
  } else {
    unit = 's';
    scale = 1 / 1000;
  }
  const stepInUnit = stepMs * scale;
  const decimals = Math.max(0, -Math.floor(Math.log10(stepInUnit) + 1e-9));
  return `${(ms * scale).toFixed(decimals)} ${unit}`;
}

/** Ticks for the window [fromMs, toMs] drawn across `widthPx`, at least `minSpacingPx` apart. */
export function timeTicks(fromMs: number, toMs: number, widthPx: number, minSpacingPx = 80): { stepMs: number; ticks: Tick[] } {
  const span = toMs - fromMs;
  if (!(span > 0) || !(widthPx > 0)) return { stepMs: 1, ticks: [] };
  const stepMs = niceStep((span * minSpacingPx) / widthPx);
  const ticks: Tick[] = [];
  const first = Math.ceil(fromMs / stepMs);
  const last = Math.floor(toMs / stepMs);
  const magnitude = Math.max(Math.abs(fromMs), Math.abs(toMs));
  for (let i = first; i <= last && ticks.length < 1000; i++) {
    const ms = i * stepMs;
    ticks.push({ ms, label: formatTick(ms, stepMs, magnitude) });
  }
  return { stepMs, ticks };
}
