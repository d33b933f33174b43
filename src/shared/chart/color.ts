// Colours for the chart (panel and SVG): parsing theme colours, compositing translucent ones, and
// WCAG contrast, to pick readable text on a bar and bars that stand out from the background.

export interface Rgba {
  r: number;
  g: number;
  b: number;
  a: number;
}

/** Parses #rgb, #rgba, #rrggbb, #rrggbbaa and rgb()/rgba(); undefined for anything else. */
export function parseColor(text: string): Rgba | undefined {
  const s = text.trim().toLowerCase();
  if (s.startsWith('#')) {
    const hex = s.slice(1);
    const full = hex.length <= 4 ? [...hex].map((c) => c + c).join('') : hex;
    if (!/^[0-9a-f]{6}([0-9a-f]{2})?$/.test(full)) return undefined;
    const n = (i: number) => parseInt(full.slice(i, i + 2), 16);
    return { r: n(0), g: n(2), b: n(4), a: full.length === 8 ? n(6) / 255 : 1 };
  }
  const m = /^rgba?\(([^)]+)\)$/.exec(s);
  if (!m) return undefined;
  const parts = m[1].split(/[\s,/]+/).filter(Boolean).map((p) => (p.endsWith('%') ? (parseFloat(p) / 100) * 255 : parseFloat(p)));
  if (parts.length < 3 || parts.slice(0, 3).some((v) => !Number.isFinite(v))) return undefined;
  const alphaPart = m[1].split(/[\s,/]+/).filter(Boolean)[3];
  const a = alphaPart === undefined ? 1 : alphaPart.endsWith('%') ? parseFloat(alphaPart) / 100 : parseFloat(alphaPart);
  return { r: parts[0], g: parts[1], b: parts[2], a: Number.isFinite(a) ? a : 1 };
}

export function toCss(c: Rgba, alpha = c.a): string {
  return `rgba(${Math.round(c.r)}, ${Math.round(c.g)}, ${Math.round(c.b)}, ${+alpha.toFixed(3)})`;
}

/** Relative luminance (WCAG), 0 black .. 1 white. */
export function luminance(c: Rgba): number {
  const ch = (v: number) => {
    const x = v / 255;
    return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4);
  };
  return 0.2126 * ch(c.r) + 0.7152 * ch(c.g) + 0.0722 * ch(c.b);
}

/** `c` laid over `under` at its own alpha: the opaque colour the eye sees. */
export function over(c: Rgba, under: Rgba): Rgba {
  return { r: c.r * c.a + under.r * (1 - c.a), g: c.g * c.a + under.g * (1 - c.a), b: c.b * c.a + under.b * (1 - c.a), a: 1 };
}

/** WCAG contrast ratio of two opaque colours, 1 .. 21. */
export function contrast(a: Rgba, b: Rgba): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/**
 * `c` composited over `bg` (themes give translucent chart colours), then moved toward black on a
 * light background or white on a dark one until it stands out from `bg` by `ratio` (WCAG: 3 for
 * bars, 4.5 for text). An opaque colour that already does is returned as it is.
 */
export function readableOn(c: Rgba, bg: Rgba, ratio: number): Rgba {
  const base = over(c, bg);
  if (contrast(base, bg) >= ratio) return base;
  const target = luminance(bg) > 0.18 ? { r: 0, g: 0, b: 0, a: 1 } : { r: 255, g: 255, b: 255, a: 1 };
  for (let t = 0.05; t <= 1; t += 0.05) {
    const mixed = { r: base.r + (target.r - base.r) * t, g: base.g + (target.g - base.g) * t, b: base.b + (target.b - base.b) * t, a: 1 };
    if (contrast(mixed, bg) >= ratio) return mixed;
  }
  return target;
}

/** Black or white, whichever reads better on the opaque `fill` (always at least 4.5:1). */
export function textOn(fill: Rgba): string {
  const black = { r: 0, g: 0, b: 0, a: 1 };
  const white = { r: 255, g: 255, b: 255, a: 1 };
  return contrast(fill, black) >= contrast(fill, white) ? '#000000' : '#ffffff';
}
