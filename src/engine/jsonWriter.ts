// The timeline JSON written in pieces: the same bytes as JSON.stringify(timeline, null, 2) + '\n',
// without one string of the whole file (a million spans make a string of a quarter of a GB).
import type { Timeline } from '../shared/timeline';

/** Top-level arrays that can be long: written item by item. */
const LONG = new Set(['spans', 'marks', 'aggregates']);
/** Pieces are handed to `write` at about this many characters. */
const PIECE = 1 << 20;

const indent = (json: string, pad: string) => json.replace(/\n/g, '\n' + pad);

/** `"key": ` with the item's indent before it, made once per key name. */
const keyText = new Map<string, string>();
function keyOf(key: string): string {
  let text = keyText.get(key);
  if (text === undefined) keyText.set(key, (text = ',\n      ' + JSON.stringify(key) + ': '));
  return text;
}

/** Short strings repeat (kinds, outcomes, a site's label): their JSON made once, up to a bound. */
const stringText = new Map<string, string>();
function stringOf(x: string): string {
  let text = stringText.get(x);
  if (text === undefined) {
    text = JSON.stringify(x);
    if (x.length <= 64 && stringText.size < 4096) stringText.set(x, text);
  }
  return text;
}

/** A field's JSON as JSON.stringify writes it; undefined where it leaves the field out. */
function scalar(x: unknown): string | undefined {
  switch (typeof x) {
    case 'number': return Number.isFinite(x) ? String(x) : 'null'; // what JSON.stringify writes, without its call
    case 'boolean': return x ? 'true' : 'false';
    case 'string': return stringOf(x);
    default: return JSON.stringify(x);
  }
}

/** An item of a long array at depth 2: a flat object (a span, a mark) written directly, else re-indented. */
function item(v: unknown): string {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return indent(JSON.stringify(v, null, 2) ?? 'null', '    ');
  let out = '';
  for (const key in v) {
    if (!Object.hasOwn(v, key)) continue;
    const x = (v as Record<string, unknown>)[key];
    if (x !== null && typeof x === 'object') return indent(JSON.stringify(v, null, 2), '    ');
    const json = scalar(x);
    if (json === undefined) continue; // undefined, functions: left out, as JSON.stringify does
    out += out ? keyOf(key) + json : '{\n      ' + JSON.stringify(key) + ': ' + json;
  }
  return out ? out + '\n    }' : '{}';
}

export function writeTimelineJson(t: Timeline, write: (piece: string) => void): void {
  const entries = Object.entries(t).filter(([, v]) => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol');
  let buf = '{\n';
  entries.forEach(([key, value], i) => {
    buf += `  ${JSON.stringify(key)}: `;
    if (LONG.has(key) && Array.isArray(value) && value.length > 0) {
      buf += '[\n';
      for (let j = 0; j < value.length; j++) {
        buf += '    ' + item(value[j]) + (j < value.length - 1 ? ',\n' : '\n');
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
