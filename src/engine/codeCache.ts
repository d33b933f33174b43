// Loads one of the tool's own CommonJS bundles through V8's code cache, as node 22's
// module.enableCompileCache() does (node 20 has none): the transform is 1.4 MB of parser and
// compiler that every run loads, and compiling it anew each time is most of what loading costs.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import Module, { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';

/** Where the code caches live: the user's own cache folder (never a shared temp folder). */
export function codeCacheDir(): string | undefined {
  if (process.env.AWAIT_TIMELINE_CODE_CACHE === '0') return undefined;
  const home = os.homedir();
  const base = process.env.XDG_CACHE_HOME || (home ? path.join(home, '.cache') : '');
  return base ? path.join(base, 'await-timeline') : undefined;
}

/**
 * `require(file)` for a bundle of ours, compiled from the code cache when there is one for this
 * exact text, node and architecture. The cache is written after the module has done its first
 * work (call the returned `save` then): V8 then keeps the functions that work compiled too.
 * `cacheUsed`: a cache was there and V8 took it.
 */
export function requireWithCodeCache(file: string): { exports: any; save: () => void; cacheUsed: boolean } {
  const source = fs.readFileSync(file, 'utf8');
  const dir = codeCacheDir();
  const key = createHash('sha1').update(`${process.version}\0${process.arch}\0`).update(source).digest('hex').slice(0, 20);
  // One cache per installed copy: two installs (or checkouts) never evict each other's.
  const stem = `${path.basename(file)}-${createHash('sha1').update(file).digest('hex').slice(0, 8)}-`;
  const cacheFile = dir ? path.join(dir, `${stem}${key}.v8`) : undefined;
  let cachedData: Buffer | undefined;
  try {
    if (cacheFile) cachedData = fs.readFileSync(cacheFile);
  } catch {
    // no cache yet
  }
  const script = new vm.Script((Module as any).wrap(source), { filename: file, cachedData });
  const used = cachedData !== undefined && script.cachedDataRejected === false;
  const module = { exports: {} as any, id: file, filename: file, loaded: false };
  const compiled = script.runInThisContext() as (exports: unknown, require: NodeRequire, module: unknown, filename: string, dirname: string) => void;
  compiled.call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file));
  module.loaded = true;
  let saved = used || !cacheFile;
  const save = () => {
    if (saved) return;
    saved = true;
    try {
      fs.mkdirSync(dir!, { recursive: true, mode: 0o700 });
      // Caches of other builds of this file go: one per bundle is kept.
      for (const old of fs.readdirSync(dir!)) if (old.startsWith(stem) && old !== path.basename(cacheFile!)) fs.rmSync(path.join(dir!, old), { force: true });
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
      fs.renameSync(tmp, cacheFile!);
    } catch {
      // a read-only home: every load compiles, as without the cache
    }
  };
  return { exports: module.exports, save, cacheUsed: used };
}
