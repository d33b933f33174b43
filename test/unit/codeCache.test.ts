// The CLI starts like node: the transform (the engine's heaviest part) loads from V8's code cache
// after the first time, and a cache that is missing, stale or damaged costs a compile, never a run.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { codeCacheDir, requireWithCodeCache } from '../../src/engine/codeCache';
import { runtimeDir } from '../../src/engine/runtimeDir';

describe('engine: the transform through the code cache', () => {
  const saved = process.env.XDG_CACHE_HOME;
  let home: string;
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'awt-cache-'));
    process.env.XDG_CACHE_HOME = home;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
    fs.rmSync(home, { recursive: true, force: true });
  });

  // The built bundle, as the CLI and the extension load it (npm run build first), each load in a
  // fresh process (within one, V8 reuses what it compiled and never looks at the cache).
  const bundle = path.join(runtimeDir(), 'transform.js');
  const snippet = "const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));\nawait sleep(1);\n";
  const load = (): { cacheUsed: boolean; code: string } => {
    const script = `const { requireWithCodeCache } = require(${JSON.stringify(path.resolve('src/engine/codeCache.ts'))});
      const m = requireWithCodeCache(${JSON.stringify(bundle)});
      const code = m.exports.transformSnippet(${JSON.stringify(snippet)}, { file: '/tmp/x.ts' }).code;
      m.save();
      process.stdout.write(JSON.stringify({ cacheUsed: m.cacheUsed, code }));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: home } });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
  };

  it('is written after the first load, used by the next, and transforms alike', () => {
    const first = load();
    assert.equal(first.cacheUsed, false);
    const files = fs.readdirSync(codeCacheDir()!);
    assert.equal(files.length, 1);
    assert.equal(fs.statSync(codeCacheDir()!).mode & 0o777, 0o700, "the cache folder is the user's alone");
    const second = load();
    assert.ok(second.cacheUsed, 'the second load compiles from the cache');
    assert.equal(second.code, first.code);
  });

  it('a damaged cache is rejected, the bundle compiled, and the cache written again', () => {
    const first = load();
    const [file] = fs.readdirSync(codeCacheDir()!);
    fs.writeFileSync(path.join(codeCacheDir()!, file), Buffer.alloc(4096, 7));
    const damaged = load();
    assert.equal(damaged.cacheUsed, false);
    assert.equal(damaged.code, first.code);
    assert.ok(load().cacheUsed, 'written again');
  });

  it('without a cache folder it loads as require does', () => {
    process.env.AWAIT_TIMELINE_CODE_CACHE = '0';
    try {
      const loaded = requireWithCodeCache(bundle);
      loaded.save();
      assert.equal(loaded.cacheUsed, false);
      assert.match(loaded.exports.transformSnippet(snippet, { file: '/tmp/x.ts' }).code, /sleep/);
      assert.deepEqual(fs.readdirSync(home), []);
    } finally {
      delete process.env.AWAIT_TIMELINE_CODE_CACHE;
    }
  });
});
