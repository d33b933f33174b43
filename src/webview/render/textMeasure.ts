// Text widths are the slowest canvas call in a label-heavy frame: cache them per font.

/** What measuring needs of a canvas context (a CanvasRenderingContext2D). */
export interface MeasureContext {
  font: string;
  measureText(text: string): { width: number };
}

export class TextMeasure {
  /** Widths by font: the gutter switches between two fonts on every row, which must not empty the cache. */
  private readonly byFont = new Map<string, Map<string, number>>();
  private cache = new Map<string, number>();
  private font = '';

  constructor(private readonly ctx: MeasureContext) {}

  /** Sets the context's font (always: a restore() may have put another back) and picks its cache. */
  setFont(font: string): void {
    if (font !== this.font) {
      this.font = font;
      let cache = this.byFont.get(font);
      if (!cache) {
        // A theme change brings new fonts: the old ones' widths go.
        if (this.byFont.size >= 8) this.byFont.clear();
        this.byFont.set(font, (cache = new Map()));
      }
      this.cache = cache;
    }
    this.ctx.font = font;
  }

  width(text: string): number {
    let w = this.cache.get(text);
    if (w === undefined) {
      if (this.cache.size > 20_000) this.cache.clear();
      w = this.ctx.measureText(text).width;
      this.cache.set(text, w);
    }
    return w;
  }

  /** `text`, shortened with an ellipsis to fit `maxWidth`, or '' when not even a few characters fit. */
  fit(text: string, maxWidth: number, minChars = 3): string {
    if (maxWidth <= 0) return '';
    const full = this.width(text);
    if (full <= maxWidth) return text;
    // Proportional guess, then shrink: at most a few measurements.
    let n = Math.floor((text.length * maxWidth) / full);
    while (n >= minChars) {
      const candidate = text.slice(0, n).trimEnd() + '…';
      if (this.width(candidate) <= maxWidth) return candidate;
      n -= Math.max(1, Math.ceil(n * 0.1));
    }
    return '';
  }
}
