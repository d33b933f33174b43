// Where "Run with Timeline" goes (the first async line, not comments or strings) and what the lenses say.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { EDITOR_LANGUAGES, firstAsyncLine, gradeLensText, stillGraded } from '../../src/host/codeLensModel';
import { SUPPORTED_EXTENSIONS } from '../../src/engine/run';
import { REPO } from './helpers';

describe('CodeLens model', () => {
  it('puts the Run lens on the first line that awaits or declares async code', () => {
    assert.equal(firstAsyncLine('const a = 1;\nasync function main() {\n  await x();\n}\n', 'typescript'), 1);
    assert.equal(firstAsyncLine('import x from "y";\nconst f = async () => 1;\n', 'javascript'), 1);
    assert.equal(firstAsyncLine('const r = await fetch(u);\n', 'typescript'), 0);
    assert.equal(firstAsyncLine('class A {\n  async load() {}\n}\n', 'typescript'), 1);
    assert.equal(firstAsyncLine('for await (const x of xs) {}\n', 'javascript'), 0);
    assert.equal(firstAsyncLine('import asyncio\n\nasync def main():\n    await asyncio.sleep(1)\n', 'python'), 2);
  });

  it('skips comments and strings, and gives no lens to a file without async code', () => {
    assert.equal(firstAsyncLine('// await me\n/* async function x() {\n await */\nconst s = "await";\nlet t = 1; // await\nawait go();\n', 'typescript'), 5);
    assert.equal(firstAsyncLine('# await later\nprint("await")\nasync def f(): pass\n', 'python'), 2);
    assert.equal(firstAsyncLine('const x = 1;\nconsole.log(x);\n', 'javascript'), undefined);
    assert.equal(firstAsyncLine('def sync():\n    return "async def"\n', 'python'), undefined);
  });

  it('finds a line in every bundled example and workshop starter', () => {
    const files = [
      'examples/two-chefs/promise-all.ts', 'examples/two-chefs/busy-wait.ts', 'examples/python/two_chefs_gather.py',
      ...fs.readdirSync(path.join(REPO, 'examples/workshop')).filter((d) => /^\d\d-/.test(d)).map((d) => {
        const dir = path.join('examples/workshop', d);
        return path.join(dir, fs.readdirSync(path.join(REPO, dir)).find((f) => f.startsWith('starter.'))!);
      }),
    ];
    for (const file of files) {
      const source = fs.readFileSync(path.join(REPO, file), 'utf8');
      const line = firstAsyncLine(source, file.endsWith('.py') ? 'python' : 'typescript');
      assert.notEqual(line, undefined, file);
      assert.match(source.split('\n')[line!]!, /async|await/, `${file}:${line! + 1}`);
    }
  });

  it('grades an @expect line only while it still says what was graded', () => {
    const r = { line: 3, column: 4, text: 'wall < 480ms', passed: false, actual: 'wall 1.01 s' };
    assert.equal(stillGraded(r, '// @expect wall < 480ms'), true);
    assert.equal(gradeLensText(r), '✗ wall 1.01 s');
    assert.equal(gradeLensText({ ...r, passed: true, actual: 'wall 300 ms' }), '✓ wall 300 ms');
    assert.equal(stillGraded(r, '// @expect wall < 500ms'), false, 'edited since the run');
    assert.equal(stillGraded(r, 'const x = 1;'), false, 'the line moved');
  });

  it('.tsx and .jsx editors get the Run button, palette entries, keybinding and lenses as .ts and .js do', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
    const ids = Object.keys(EDITOR_LANGUAGES).sort();
    assert.ok(ids.includes('typescriptreact') && ids.includes('javascriptreact'));
    const langsIn = (when: string) => [...when.matchAll(/editorLangId == (\w+)/g)].map((m) => m[1]).sort();
    const clauses = [
      ...pkg.contributes.menus['editor/title'], ...pkg.contributes.menus.commandPalette, ...pkg.contributes.keybindings,
    ].filter((m: { command: string; when?: string }) => /editorLangId/.test(m.when ?? ''));
    assert.ok(clauses.length >= 4, 'the Run button, two palette entries and the keybinding');
    for (const c of clauses) assert.deepEqual(langsIn(c.when), ids, `${c.command}: ${c.when}`);
    assert.deepEqual(pkg.activationEvents.filter((e: string) => e.startsWith('onLanguage:')).map((e: string) => e.slice(11)).sort(), ids);
    // What an unsaved buffer of each runs as is a file the engine runs.
    for (const { ext } of Object.values(EDITOR_LANGUAGES)) assert.ok(SUPPORTED_EXTENSIONS.includes(ext), ext);
  });
});
