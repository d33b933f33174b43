// The source map of instrumented code: what stack traces read to print the user's line:column.
// Every character of the user's text must map to itself exactly; the map must stay small on a
// module of many await sites (the child parses it with the code, and keeps it for the run).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { transformModule } from '../../src/engine/instrument';
import { INSERT_CLOSE, INSERT_OPEN, mapOfCode } from '../../src/runtime/moduleFormat';
import { decodeMappings, originalPosition, registerMap } from '../../src/runtime/stackTraces';
import { FIXTURES } from './helpers';

function instrument(source: string, file: string, format?: 'esm' | 'cjs'): { code: string; map: string } {
  const out = transformModule().transformSnippet(source, { file, format });
  const map = mapOfCode(out.code);
  assert.ok(map !== undefined, 'the code ends with its source map');
  return { code: out.code.slice(0, out.code.lastIndexOf('\n//# sourceMappingURL=')), map };
}

describe('source maps of instrumented code', () => {
  it("map every character of the user's text to its own line and column", () => {
    // The instrumented text is the user's with bracketed insertions: outside the brackets each
    // character is the user's next one, which is where a stack frame there must point.
    const files = ['node/ordering.js', 'node/nested.js', 'node/async-gen.mjs', 'node/thenable.js', 'node/rejections.ts',
      'parity/async-gen-order.js', 'parity/async-from-sync.js', 'parity/async-gen-destructured.js', 'parity/self-view.js',
      'parity/instrumented-throw-string.js'];
    let checked = 0;
    for (const name of files) {
      const file = path.join(FIXTURES, name);
      const source = fs.readFileSync(file, 'utf8');
      if (/\.ts$/.test(name) && /:\s*(?:string|number|Promise|void)\b/.test(source)) continue; // types removed: parity's ts-columns
      const { code, map } = instrument(source, file);
      registerMap(file, map);
      const userLines = source.split('\n');
      code.split('\n').forEach((text, i) => {
        let col = 0;
        for (let g = 0; g < text.length; g++) {
          if (text.startsWith(INSERT_OPEN, g)) {
            g = text.indexOf(INSERT_CLOSE, g) + INSERT_CLOSE.length - 1;
            continue;
          }
          assert.equal(text[g], userLines[i][col], `${name}:${i + 1}: the user's text in order`);
          assert.deepEqual(originalPosition(file, i + 1, g + 1), [i + 1, col + 1], `${name}:${i + 1}:${col + 1} (instrumented column ${g + 1})`);
          col++;
          checked++;
        }
        assert.equal(col, userLines[i].length, `${name}:${i + 1}: the whole line`);
      });
    }
    assert.ok(checked > 5000, `${checked} characters checked`);
  });

  it('have a few segments per instrumented line, not one per character (a module of many await sites)', () => {
    // 2,000 lines `  await 12345;`: the runs of the user's text on a line are the indent, `await`,
    // the operand and the `;` (before: a segment per character, 14 a line).
    let source = 'async function f() {\n';
    for (let i = 0; i < 2000; i++) source += `  await ${10000 + i};\n`;
    source += '}\nawait f();\n';
    const { map } = instrument(source, '/tmp/awt-many-sites.mjs', 'esm');
    const lines = decodeMappings(JSON.parse(Buffer.from(map, 'base64').toString('utf8')).mappings);
    const segments = lines.slice(2, 2002).map((segs) => (segs ? segs.length / 3 : 0));
    assert.ok(Math.max(...segments) <= 4, `segments on an await line: at most ${Math.max(...segments)}`);
    // The map (base64, with the user's source in it) is a few times that source, not eight (one segment per character).
    assert.ok(map.length < 4 * source.length, `map ${map.length} characters for a source of ${source.length}`);
  });
});
