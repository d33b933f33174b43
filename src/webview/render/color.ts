// Parsing the colours the theme gives us, to pick readable text on a bar and to mix translucent fills.

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
