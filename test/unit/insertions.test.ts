// The transform's insertions give the text and source map magic-string gives for the same calls
// (magic-string stays the reference here), and keep no object per insertion.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import MagicString from 'magic-string';

import { Insertions } from '../../src/runtime/insertions';
import { FIXTURES } from './helpers';

/** A small deterministic generator (mulberry32), so that a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('transform: insertions and their source map', () => {
  const sources = [
    '',
    'x',
    'a\nb\n\nc',
    '\n\n',
    fs.readFileSync(path.join(FIXTURES, 'node', 'ordering.js'), 'utf8'),
    fs.readFileSync(path.join(FIXTURES, 'parity', 'async-gen-order.js'), 'utf8'),
    'const s = "é ✓ 𝒳";\r\nawait f(s);\u2028x\n',
  ];
  const texts = ['(', ')', '/*\u0001*/r.b(f,1),/*\u0002*/', ';\n', '\n', 'two\nlines', '{', '}', 'x'];

  for (const hires of [false, true]) {
    it(`the same text and map as magic-string for the same calls${hires ? ', a segment per character' : ''}`, () => {
      let cases = 0;
      for (let seed = 1; seed <= 60; seed++) {
        const rnd = random(seed);
        for (const source of sources) {
          const ms = new MagicString(source);
          const ins = new Insertions(source);
          const n = Math.floor(rnd() * 40);
          for (let k = 0; k < n; k++) {
            // Positions cluster, so that many calls meet at one position.
            const at = rnd() < 0.3 ? Math.floor(rnd() * Math.min(3, source.length + 1)) : Math.floor(rnd() * (source.length + 1));
            const text = texts[Math.floor(rnd() * texts.length)];
            const op = (['appendLeft', 'prependLeft', 'appendRight'] as const)[Math.floor(rnd() * 3)];
            ms[op](at, text);
            ins[op](at, text);
          }
          const got = ins.generate({ file: '/x/y.js', hires });
          assert.equal(got.code, ms.toString(), `seed ${seed}`);
          const want = ms.generateMap({ source: '/x/y.js', includeContent: true, hires });
          assert.equal(got.map.mappings, want.mappings, `seed ${seed}: mappings`);
          assert.deepEqual(got.map.sourcesContent, [source]);
          cases++;
        }
      }
      assert.equal(cases, 60 * sources.length);
    });
  }

  it('an insertion outside the source is refused', () => {
    const ins = new Insertions('abc');
    assert.throws(() => ins.appendRight(4, 'x'), RangeError);
    assert.throws(() => ins.prependLeft(-1, 'x'), RangeError);
  });
});
