// Composes the two source maps of a TypeScript or JSX file: sucrase's (its output to the
// instrumented text) after the transform's (the instrumented text to the user's, insertions.ts). Sucrase keeps
// every line, but its map places a line's columns from a few segments (sometimes one, at a wrong
// column), and a generic composition (remapping) traces only the segments a map has: an error in
// `for (const p of people) check(p)` on a line after a removed type was said to be at column 85,
// not 25. Here each line is aligned on its own (see composeLineMaps).
import { decodeMappings } from './stackTraces';
import { vlq } from './vlq';

/**
 * `outText` is the final code, `inText` the instrumented text it was made from (the same lines),
 * `outer` sucrase's mappings between them, `inner` the transform's from the instrumented text to
 * the user's file. Returns the mappings from the final code to the user's file, as a source map's
 * `mappings` string.
 *
 * A line sucrase only removed text from (types, the common case) is aligned character by
 * character: the final line is a subsequence of the instrumented one. Sucrase's own map is used
 * for a line it rewrote (JSX, an enum); its segments are too few to place each column otherwise.
 */
export function composeLineMaps(outText: string, inText: string, outer: string, inner: string): string {
  const o = decodeMappings(outer);
  const n = decodeMappings(inner);
  const outLines = outText.split('\n');
  const inLines = inText.split('\n');
  const lines: string[] = [];
  let prevSrcLine = 0;
  let prevSrcCol = 0;
  for (let line = 0; line < outLines.length; line++) {
    const segs = n[line];
    const out: Array<[number, number, number]> = [];
    if (segs) {
      const inverse = alignLine(outLines[line], inLines[line] ?? '');
      for (let s = 0; s < segs.length; s += 3) {
        const gen = inverse ? inverse.get(segs[s]) : throughPieces(o[line], line, segs[s]);
        if (gen !== undefined) out.push([gen, segs[s + 1], segs[s + 2]]);
      }
    }
    out.sort((a, b) => a[0] - b[0]);
    let text = '';
    let prevGen = 0;
    let lastGen = -1;
    let lastLine = -1;
    let seenGen = -1;
    for (const [gen, srcLine, srcCol] of out) {
      if (gen === seenGen) continue; // the first for a column is the one
      seenGen = gen;
      // Said by the segment before it (same line, as far on in both): a position maps as the last
      // segment at or before it plus the distance (originalPosition), so it is left out.
      if (lastGen >= 0 && srcLine === lastLine && srcCol - prevSrcCol === gen - lastGen) continue;
      text += (text ? ',' : '') + vlq(gen - prevGen) + vlq(0) + vlq(srcLine - prevSrcLine) + vlq(srcCol - prevSrcCol);
      prevGen = gen;
      lastGen = gen;
      lastLine = srcLine;
      prevSrcLine = srcLine;
      prevSrcCol = srcCol;
    }
    lines.push(text);
  }
  return lines.join(';');
}

/** Instrumented column to final column, when the final line is the instrumented one less some text. */
function alignLine(outLine: string, inLine: string): Map<number, number> | undefined {
  const inverse = new Map<number, number>();
  let j = 0;
  for (let g = 0; g < outLine.length; g++) {
    while (j < inLine.length && inLine.charCodeAt(j) !== outLine.charCodeAt(g)) j++;
    if (j === inLine.length) return undefined;
    inverse.set(j, g);
    j++;
  }
  return inverse;
}

/** Through sucrase's piecewise offsets: the last piece that starts at or before the column. */
function throughPieces(pieces: number[] | undefined, line: number, instrCol: number): number | undefined {
  if (!pieces) return undefined;
  let best = -1;
  for (let p = 0; p < pieces.length; p += 3) {
    if (pieces[p + 1] !== line) continue;
    if (pieces[p + 2] <= instrCol && (best < 0 || pieces[p + 2] >= pieces[best + 2])) best = p;
  }
  if (best < 0) return undefined;
  return pieces[best] + (instrCol - pieces[best + 2]);
}
