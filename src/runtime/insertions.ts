// Text inserted into a source at positions, and the source map of the result: what the transform
// asked of magic-string (it only inserts, never removes or moves), without magic-string's object
// per edit. On a module of 100,000 await sites magic-string's chunks, split at 300,000 positions,
// took some 130 MB of the instrumenting thread's peak; here an insertion is two numbers and its
// characters in a shared flat string, and the result is put together once, in order.
//
// The same text and map as magic-string for the same calls (test/unit/insertions.test.ts holds
// them side by side): at one position, the texts inserted to the left (`appendLeft`,
// `prependLeft`) come before those inserted to the right (`appendRight`).

import { vlq } from './vlq';

/** Texts are kept in flat strings of about this many characters (an insertion refers into one). */
const POOL_CHARS = 64 * 1024;

export interface InsertedMap {
  version: 3;
  sources: string[];
  sourcesContent: string[];
  names: string[];
  mappings: string;
}

export class Insertions {
  /** Per insertion: its position in the source. */
  private readonly at: number[] = [];
  /**
   * Per insertion, its place among those at the same position: the left side first, then the
   * right; `prependLeft` before every earlier left text, the others after the earlier ones.
   */
  private readonly order: number[] = [];
  /** Per insertion: where its text starts in `pools` (pool index * 2^32 + offset) and its length. */
  private readonly where: number[] = [];
  private readonly length: number[] = [];
  private readonly pools: string[] = [];
  private pending: string[] = [];
  private pendingChars = 0;
  private count = 0;

  constructor(private readonly source: string) {}

  /** `text` at `index`, after the texts already inserted to the left of it. */
  appendLeft(index: number, text: string): void {
    this.add(index, 2 ** 30 + this.count, text);
  }

  /** `text` at `index`, before the texts already inserted to the left of it. */
  prependLeft(index: number, text: string): void {
    this.add(index, 2 ** 30 - this.count, text);
  }

  /** `text` at `index`, after the texts already inserted to the right of it. */
  appendRight(index: number, text: string): void {
    this.add(index, 2 ** 31 + this.count, text);
  }

  private add(index: number, order: number, text: string): void {
    if (text.length === 0) return;
    if (!(index >= 0 && index <= this.source.length)) throw new RangeError(`Character is out of bounds: ${index}`);
    this.count++;
    this.at.push(index);
    this.order.push(order);
    this.where.push(this.pools.length * 2 ** 32 + this.pendingChars);
    this.length.push(text.length);
    this.pending.push(text);
    this.pendingChars += text.length;
    if (this.pendingChars >= POOL_CHARS) this.seal();
  }

  private seal(): void {
    if (this.pending.length === 0) return;
    this.pools.push(this.pending.join(''));
    this.pending = [];
    this.pendingChars = 0;
  }

  private text(i: number): string {
    const w = this.where[i];
    const pool = this.pools[Math.floor(w / 2 ** 32)];
    const from = w % 2 ** 32;
    return pool.slice(from, from + this.length[i]);
  }

  /** The insertions in the order they appear in the result. */
  private sorted(): Uint32Array {
    this.seal();
    const idx = new Uint32Array(this.count);
    for (let i = 0; i < idx.length; i++) idx[i] = i;
    const { at, order } = this;
    // An empty source is one empty chunk to magic-string: what goes to its right comes first.
    if (this.source.length === 0) {
      const right = (i: number) => (order[i] >= 2 ** 31 ? 1 : 0);
      return idx.sort((a, b) => right(b) - right(a) || order[a] - order[b]);
    }
    return idx.sort((a, b) => at[a] - at[b] || order[a] - order[b]);
  }

  /**
   * The source with every insertion, and its source map: a segment where each run of the source's
   * text starts on a line, or with `hires` one per character (as magic-string's `hires: true`).
   * `trailer`: text to end the code with, made from the map (a source map comment), unmapped.
   */
  generate(options: { file: string; hires: boolean; trailer?: (map: InsertedMap) => string }): { code: string; map: InsertedMap } {
    const { source } = this;
    const order = this.sorted();
    // Pieces are joined a few thousand at a time: no array of a piece per insertion at the end.
    const code = new Joined('');
    const lines = new Joined(';');
    let line = '';
    let genCol = 0;
    let prevGenCol = 0;
    let srcLine = 0;
    let srcCol = 0;
    let prevSrcLine = 0;
    let prevSrcCol = 0;
    const segment = () => {
      line += (line ? ',' : '') + vlq(genCol - prevGenCol) + 'A' + vlq(srcLine - prevSrcLine) + vlq(srcCol - prevSrcCol);
      prevGenCol = genCol;
      prevSrcLine = srcLine;
      prevSrcCol = srcCol;
    };
    const newLine = () => {
      lines.push(line);
      line = '';
      genCol = 0;
      prevGenCol = 0;
    };
    /** The source's text from `from` to `to`, mapped. */
    const original = (from: number, to: number) => {
      if (to <= from) return;
      code.push(source.slice(from, to));
      let i = from;
      while (i < to) {
        let nl = source.indexOf('\n', i);
        if (nl < 0 || nl > to) nl = to;
        if (nl > i) {
          if (options.hires) {
            for (let k = i; k < nl; k++, genCol++, srcCol++) segment();
          } else {
            segment();
            genCol += nl - i;
            srcCol += nl - i;
          }
        }
        if (nl === to) break;
        srcLine++;
        srcCol = 0;
        newLine();
        i = nl + 1;
      }
    };
    /** Inserted text: no segment; the lines and columns it takes. */
    const inserted = (text: string) => {
      code.push(text);
      let last = -1;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', nl + 1)) {
        newLine();
        last = nl;
      }
      genCol += text.length - last - 1;
    };
    let from = 0;
    for (let k = 0; k < order.length; k++) {
      const i = order[k];
      original(from, this.at[i]);
      from = this.at[i];
      inserted(this.text(i));
    }
    original(from, source.length);
    lines.push(line);
    const map: InsertedMap = { version: 3, sources: [options.file], sourcesContent: [source], names: [], mappings: lines.join() };
    if (options.trailer) code.push(options.trailer(map));
    return { code: code.join(), map };
  }
}

/** Strings joined with a separator, a few thousand at a time as they come. */
class Joined {
  private readonly done: string[] = [];
  private pending: string[] = [];

  constructor(private readonly separator: string) {}

  push(text: string): void {
    this.pending.push(text);
    if (this.pending.length >= 4096) this.seal();
  }

  private seal(): void {
    if (this.pending.length === 0) return;
    this.done.push(this.pending.join(this.separator));
    this.pending = [];
  }

  join(): string {
    this.seal();
    return this.done.join(this.separator);
  }
}
