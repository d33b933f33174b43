// The chart's colours and fonts, read from the page's CSS variables (VS Code's --vscode-* via
// media/timeline.css, which also holds the fallbacks for the standalone report), and read again
// whenever VS Code switches theme.

import type { MarkKind, SpanKind } from '../../shared/timeline';
import { luminance, over, parseColor, readableOn, textOn as textOnFill, toCss, type Rgba } from '../../shared/chart/color';

export interface Theme {
  /** 'dark' | 'light' decides a few mixes; high contrast adds outlines. */
  dark: boolean;
  highContrast: boolean;
  background: string;
  foreground: string;
  /** Secondary text: axis labels, line numbers, counts. */
  muted: string;
  grid: string;
  rowHover: string;
  rowSelected: string;
  /** Rows on the editor cursor's line. */
  rowCursor: string;
  gutterBackground: string;
  border: string;
  focus: string;
  /** High contrast outline for every bar ('' when not in high contrast). */
  contrastBorder: string;
  kind: Record<SpanKind, string>;
  /** Readable text colour on a bar of that kind. */
  kindText: Record<SpanKind, string>;
  rejected: string;
  rejectedText: string;
  blockBand: string;
  blockHatch: string;
  /** Text in the block colour on the background ("blocked 2.00 s" on the axis): 4.5:1. */
  blockText: string;
  now: string;
  mark: Record<MarkKind, string>;
  font: string;
  monoFont: string;
  fontSizePx: number;
}

const KIND_VARS: Record<SpanKind, string> = {
  await: '--at-await',
  call: '--at-call',
  block: '--at-block',
  timer: '--at-timer',
  combinator: '--at-combinator',
  task: '--at-task',
};

/** Reads the theme from computed styles of `el` (the chart's container). */
export function readTheme(el: Element): Theme {
  const style = getComputedStyle(el);
  const v = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  const body = document.body.classList;
  const highContrast = body.contains('vscode-high-contrast') || body.contains('vscode-high-contrast-light');
  const background = v('--at-bg', '#1e1e1e');
  const bg = parseColor(background) ?? { r: 30, g: 30, b: 30, a: 1 };
  const dark = body.contains('vscode-dark') || (body.contains('vscode-high-contrast') && !body.contains('vscode-high-contrast-light')) ||
    (!body.contains('vscode-light') && !body.contains('vscode-high-contrast-light') && luminance(bg) < 0.4);
  const opaqueBg = over(bg, { r: 255, g: 255, b: 255, a: 1 });
  const foreground = v('--at-fg', dark ? '#cccccc' : '#333333');
  const fgColor: Rgba = parseColor(foreground) ?? { r: 204, g: 204, b: 204, a: 1 };
  // Theme chart colours may be translucent (Modern themes' orange is 33 % transparent) or too close
  // to the background: composite them and push them apart until bars stand out 3:1 and text 4.5:1.
  const solid = (text: string, fallback: string, ratio: number) => toCss(readableOn(parseColor(text) ?? parseColor(fallback)!, opaqueBg, ratio));
  // Bars take the theme's chart colour at full strength (a 33 % transparent orange composited on
  // Dark Modern's background is a muddy brown nobody reads as "blocked").
  const bar = (text: string, fallback: string) => {
    const c = parseColor(text) ?? parseColor(fallback)!;
    return toCss(readableOn({ ...c, a: 1 }, opaqueBg, 3));
  };
  const kind = {} as Record<SpanKind, string>;
  const kindText = {} as Record<SpanKind, string>;
  for (const k of Object.keys(KIND_VARS) as SpanKind[]) {
    kind[k] = bar(v(KIND_VARS[k], '#3794ff'), '#3794ff');
    kindText[k] = textOnFill(parseColor(kind[k])!);
  }
  const rejected = bar(v('--at-rejected', '#f14c4c'), '#f14c4c');
  const blockColor = parseColor(kind.block) ?? { r: 209, g: 134, b: 22, a: 1 };
  const warn = solid(v('--at-warn', '#cca700'), '#cca700', 4.5);
  const error = solid(v('--at-error', rejected), '#f14c4c', 4.5);
  const muted = solid(v('--at-muted', toCss(fgColor, 0.7)), foreground, 4.5);
  const log = muted;
  const blockText = solid(kind.block, '#d18616', 4.5);
  // The page's own text (header figures, legend) uses the same opaque colours.
  const root = el as HTMLElement;
  for (const k of Object.keys(KIND_VARS) as SpanKind[]) root.style?.setProperty(`${KIND_VARS[k]}-solid`, kind[k]);
  root.style?.setProperty('--at-block-text', blockText);
  root.style?.setProperty('--at-muted-text', muted);
  root.style?.setProperty('--at-warn-text', warn);
  return {
    dark,
    highContrast,
    background,
    foreground,
    muted,
    grid: v('--at-grid', toCss(fgColor, dark ? 0.08 : 0.1)),
    rowHover: v('--at-row-hover', toCss(fgColor, 0.05)),
    rowSelected: v('--at-row-selected', toCss(fgColor, 0.12)),
    rowCursor: v('--at-row-cursor', toCss(parseColor(kind.await) ?? fgColor, 0.12)),
    gutterBackground: v('--at-gutter-bg', background),
    border: v('--at-border', toCss(fgColor, 0.2)),
    focus: v('--at-focus', '#007fd4'),
    contrastBorder: highContrast ? v('--at-contrast-border', '#6fc3df') : '',
    kind,
    kindText,
    rejected,
    rejectedText: textOnFill(parseColor(rejected)!),
    blockBand: toCss(blockColor, dark ? 0.1 : 0.12),
    blockHatch: toCss(blockColor, dark ? 0.35 : 0.4),
    blockText,
    now: v('--at-now', toCss(fgColor, 0.5)),
    mark: { log, info: log, stdout: log, warn, error, stderr: warn, exception: error, unhandledRejection: error },
    font: v('--at-font', 'system-ui, sans-serif'),
    monoFont: v('--at-mono-font', 'monospace'),
    fontSizePx: parseFloat(v('--at-font-size', '12')) || 12,
  };
}

/**
 * Calls `onChange` when VS Code switches theme: it changes the body's class and the variables in
 * the html element's style attribute. The standalone report follows the OS light/dark setting.
 * Returns a function that stops watching.
 */
export function watchTheme(onChange: () => void): () => void {
  const observer = new MutationObserver(onChange);
  observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
  const media = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : undefined;
  media?.addEventListener('change', onChange);
  return () => {
    observer.disconnect();
    media?.removeEventListener('change', onChange);
  };
}
