// What loading the transform costs: plain JavaScript never loads Sucrase (TypeScript and JSX
// only), which is a third of the transform bundle's start-up CPU.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

import { REPO } from './helpers';

/** In a fresh process: instruments `file` and says whether Sucrase was loaded, and whether it ran. */
function sucraseLoadedFor(file: string, source: string): { loaded: boolean; ran: boolean } {
  const script = `
    const t = require(${JSON.stringify(path.join(REPO, 'src', 'runtime', 'transform.ts'))});
    const out = t.transformSnippet(${JSON.stringify(source)}, { file: ${JSON.stringify(file)} });
    const loaded = Object.keys(require.cache).some((k) => k.includes('/node_modules/sucrase/'));
    console.log(JSON.stringify({ loaded, ran: out.code.includes('__awt') }));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: REPO, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

describe('transform: what it loads', function () {
  this.timeout(60000);

  it('instruments plain JavaScript without loading Sucrase', () => {
    // Failed before: Sucrase was imported with the transform, for every file.
    assert.deepEqual(sucraseLoadedFor('/tmp/plain.mjs', 'await new Promise((r) => setTimeout(r, 1));\n'), { loaded: false, ran: true });
  });

  it('loads it for TypeScript, and strips the types', () => {
    assert.deepEqual(sucraseLoadedFor('/tmp/typed.ts', 'const n: number = await Promise.resolve(1);\n'), { loaded: true, ran: true });
  });
});
