// The timeline JSON written in pieces: the same bytes as JSON.stringify(timeline, null, 2) + '\n',
// without one string of the whole file (a million spans make a string of a quarter of a GB).
import type { Timeline } from '../shared/timeline';

/** Top-level arrays that can be long: written item by item. */
const LONG = new Set(['spans', 'marks', 'aggregates']);
/** Pieces are handed to `write` at about this many characters. */
const PIECE = 1 << 20;

const indent = (json: string, pad: string) => json.replace(/\n/g, '\n' + pad);

export function writeTimelineJson(t: Timeline, write: (piece: string) => void): void {
  const entries = Object.entries(t).filter(([, v]) => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol');
  let buf = '{\n';
  entries.forEach(([key, value], i) => {
    buf += `  ${JSON.stringify(key)}: `;
    if (LONG.has(key) && Array.isArray(value) && value.length > 0) {
      buf += '[\n';
      for (let j = 0; j < value.length; j++) {
        buf += '    ' + indent(JSON.stringify(value[j], null, 2) ?? 'null', '    ') + (j < value.length - 1 ? ',\n' : '\n');
        if (buf.length >= PIECE) {
          write(buf);
          buf = '';
        }
      }
      buf += '  ]';
    } else {
      buf += indent(JSON.stringify(value, null, 2), '  ');
    }
    buf += i < entries.length - 1 ? ',\n' : '\n';
  });
  write(buf + '}\n');
}
