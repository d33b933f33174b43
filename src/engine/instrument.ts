// Instruments ahead of the run what can be known before it: the entry and the local modules it
// loads by a literal specifier, transitively. The engine is warm (its parser is loaded, its cache
// kept between runs); the child would otherwise load the transform and parse on the user's time.
// Results are cached by content, so an unchanged module is never parsed twice by one engine.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { PreparedModule } from '../shared/runtimeProtocol';
import type * as TransformModule from '../runtime/transform';
import type { TransformResult } from '../runtime/transform';
import type { ModuleFormat } from '../runtime/moduleFormat';
import { declaredFormat } from '../runtime/moduleFormat';
import { runtimeDir } from './runtimeDir';
import { requireWithCodeCache } from './codeCache';

let loaded: typeof TransformModule | undefined;
let saveCodeCache: (() => void) | undefined;
/**
 * The transform (the parser and TypeScript's compiler: most of the engine's weight), loaded on
 * first use from the runtime's own bundle (dist/runtime/transform.js) rather than bundled again:
 * a process that runs nothing instrumented never parses it, a run spawns its child before it is
 * loaded, and the .vsix carries it once; compiled from V8's code cache after the first time
 * (codeCache.ts). From the sources (tests, via tsx), the sources'.
 */
export function transformModule(): typeof TransformModule {
  if (loaded) return loaded;
  if (__filename.endsWith('.ts')) return (loaded = require(path.join(__dirname, '..', 'runtime', 'transform.ts')) as typeof TransformModule);
  const { exports, save } = requireWithCodeCache(path.join(runtimeDir(), 'transform.js'));
  saveCodeCache = save;
  return (loaded = exports as typeof TransformModule);
}

/** Cached transforms, keyed by file, format and content; the oldest go first past the limit. */
const cache = new Map<string, TransformResult>();
const CACHE_LIMIT = 500;

/** `transformSnippet` through the content-keyed cache (a CompileError is not cached: it is thrown again). */
export function transformCached(source: string, file: string, format: ModuleFormat | undefined): TransformResult {
  const key = createHash('sha1').update(file).update('\0').update(format ?? '').update('\0').update(source).digest('hex');
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit); // most recently used last
    return hit;
  }
  const out = transformModule().transformSnippet(source, { file, format });
  if (saveCodeCache) {
    // Written once the transform has worked (its functions are compiled by then), off this turn.
    setImmediate(saveCodeCache).unref();
    saveCodeCache = undefined;
  }
  cache.set(key, out);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  return out;
}

/** At most this many modules, and this much source, are prepared for one run. */
const MAX_MODULES = 100;
const MAX_SOURCE_CHARS = 4_000_000;
const LOADABLE = /\.(m|c)?(j|t)s$/;

/** Files a relative specifier may name, the way `require` and the runtime's ESM resolver look. */
export function candidates(fromFile: string, specifier: string): string[] {
  const base = path.resolve(path.dirname(fromFile), specifier);
  const stem = base.replace(/\.(m|c)?js$/, '');
  const list = [base, `${base}.js`, `${base}.ts`, `${base}.mjs`, `${base}.cjs`, `${base}.mts`, `${base}.cts`,
    `${stem}.ts`, `${stem}.mts`, `${stem}.cts`, path.join(base, 'index.js'), path.join(base, 'index.ts')];
  return [...new Set(list)].filter((f) => LOADABLE.test(f) && !f.includes(`${path.sep}node_modules${path.sep}`) && isFile(f));
}

function isFile(f: string): boolean {
  try {
    return fs.statSync(f).isFile();
  } catch {
    return false;
  }
}

/**
 * The local modules `entry` loads by literal specifier, transitively, instrumented as the child
 * would instrument them: for `require` (CommonJS) and for `import` (the format the file declares).
 * A module that does not compile is left out: the child reports its error as node would.
 */
export function prepareLocalModules(entry: string, entryResult: TransformResult): PreparedModule[] {
  const out: PreparedModule[] = [];
  const seen = new Set<string>([entry]);
  let chars = 0;
  const queue: Array<{ from: string; specifiers: string[] }> = [{ from: entry, specifiers: entryResult.localImports }];
  while (queue.length > 0 && out.length < MAX_MODULES) {
    const { from, specifiers } = queue.shift()!;
    for (const spec of specifiers) {
      for (const file of candidates(from, spec)) {
        if (seen.has(file) || out.length >= MAX_MODULES) continue;
        seen.add(file);
        let source: string;
        try {
          source = fs.readFileSync(file, 'utf8');
        } catch {
          continue;
        }
        chars += source.length;
        if (chars > MAX_SOURCE_CHARS) return out;
        const declared = declaredFormat(file);
        const imports = new Set<string>();
        // The require hook instruments as CommonJS; the ESM loader as the file declares.
        for (const [as, format] of [['require', 'cjs'], ['import', declared]] as const) {
          if ((as === 'require' && declared === 'esm') || (as === 'import' && declared === 'cjs')) continue;
          try {
            const r = transformCached(source, file, format);
            out.push({ file, as, source, code: r.code, format: r.format });
            for (const s of r.localImports) imports.add(s);
          } catch {
            // not valid as such: the child finds out when (if) it loads it
          }
        }
        queue.push({ from: file, specifiers: [...imports] });
      }
    }
  }
  return out;
}
