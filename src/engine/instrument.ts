// Instruments ahead of the run what can be known before it: the entry and the local modules it
// loads by a literal specifier, transitively. The engine is warm (its parser is loaded, its cache
// kept between runs); the child would otherwise load the transform and parse on the user's time.
// Results are cached by content, so an unchanged module is never parsed twice by one engine.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

import type { PreparedModule } from '../shared/runtimeProtocol';
import type * as TransformModule from '../runtime/transform';
import type { TransformResult } from '../runtime/transform';
import type { ModuleFormat } from '../runtime/moduleFormat';
import { declaredFormat } from '../runtime/moduleFormat';
import { runtimeDir } from './runtimeDir';
import { requireWithCodeCache } from './codeCache';
import type { OverlapCandidate } from './overlap';

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

/**
 * Cached transforms, keyed by file, format and content; the oldest go first past 500 entries or
 * 16 M characters of instrumented code (the engine lives as long as the extension host: a
 * few big modules must not stay in its memory for that long). A result larger than a quarter of
 * that is not kept.
 */
const cache = new Map<string, TransformResult>();
/** The cache's bounds (tests lower them to see them hold without transforming megabytes). */
export const transformCacheLimits = { entries: 500, chars: 16_000_000 };
let cachedChars = 0;

function cacheKey(source: string, file: string, format: ModuleFormat | undefined): string {
  return createHash('sha1').update(file).update('\0').update(format ?? '').update('\0').update(source).digest('hex');
}

function remember(key: string, out: TransformResult): void {
  if (out.code.length > transformCacheLimits.chars / 4) return;
  cache.set(key, out);
  cachedChars += out.code.length;
  while (cache.size > transformCacheLimits.entries || cachedChars > transformCacheLimits.chars) {
    const [oldest, entry] = cache.entries().next().value!;
    cache.delete(oldest);
    cachedChars -= entry.code.length;
  }
}

/** Cached transforms now kept: how many, and their instrumented code's length. */
export function transformCacheSize(): { entries: number; chars: number } {
  return { entries: cache.size, chars: cachedChars };
}

/** Whether the cache holds this transform (it was done here, and not since let go). */
export function isTransformCached(source: string, file: string, format: ModuleFormat | undefined): boolean {
  return cache.has(cacheKey(source, file, format));
}

/** `transformSnippet` through the content-keyed cache (a CompileError is not cached: it is thrown again). */
export function transformCached(source: string, file: string, format: ModuleFormat | undefined): TransformResult {
  const key = cacheKey(source, file, format);
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
  remember(key, out);
  return out;
}

/**
 * Sources at least this long are instrumented in a worker thread that is ended afterwards. The
 * transform's garbage is some hundred times the source (a 1.9 MB module of 100,000 awaits peaked
 * at 420 MB with 49 MB of it live at the end), and V8 left it in the engine's heap, uncollected,
 * while the run's events came in on top of it: a worker's heap goes with the worker.
 */
export const WORKER_SOURCE_CHARS = 512 * 1024;

/**
 * What a transform in a worker thread gives: what the run needs of its result (its code, format
 * and local imports) and the overlap candidates the insights need (null: the analysis failed), or
 * where the code does not compile.
 */
export type WorkerTransform =
  | { result: WorkerResult; candidates: OverlapCandidate[] | null }
  | { compileError: { message: string; line: number; column: number } };

/**
 * What the run needs of a transform done in a worker: the code as UTF-8 bytes (handed over, not
 * copied: a module of 100,000 awaits instruments to 25 MB of code, which as a string would be
 * serialised by the worker, copied into the engine's heap and encoded again to be sent).
 */
export type WorkerResult = Pick<TransformResult, 'format' | 'localImports'> & { code: Uint8Array };

/** What one task of instrumentWorker answers. */
export type WorkerAnswer =
  | { result: WorkerResult }
  | { compileError: { message: string; line: number; column: number } }
  | { candidates: OverlapCandidate[] | null };

/** Loads the worker's entry (instrumentWorker): built, its bundle; from the sources, through tsx's require hook. */
const WORKER_CODE = `
const { tsx, entry } = require('node:worker_threads').workerData;
if (tsx) require(tsx);
require(entry);`;

/** One task of instrumentWorker in a thread of its own, ended once it has answered. */
function inWorker(task: 'transform' | 'overlap', source: string, file: string, format: ModuleFormat | undefined): Promise<WorkerAnswer> {
  const fromSources = __filename.endsWith('.ts');
  const entry = path.join(__dirname, fromSources ? 'instrumentWorker.ts' : 'instrumentWorker.js');
  const tsx = fromSources ? require.resolve('tsx/cjs') : undefined;
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_CODE, { eval: true, workerData: { tsx, entry, task, source, file, format }, stdout: true, stderr: true });
    let answered = false;
    worker.once('message', (m: WorkerAnswer) => {
      answered = true;
      resolve(m);
      void worker.terminate();
    });
    worker.once('error', (err) => {
      answered = true;
      reject(err);
    });
    worker.once('exit', (code) => {
      if (!answered) reject(new Error(`the instrumenting thread ended (code ${code}) without a result`));
    });
  });
}

/**
 * `transformSnippet` in a worker thread of its own, for sources of WORKER_SOURCE_CHARS or more
 * (see there); then, in another (a second parse in the first would pile on the first's garbage),
 * the overlap candidates the insights need, which the engine would otherwise find by parsing the
 * module again at the end of the run, on top of the run's timeline. Not cached (see
 * transformCacheLimits). A fault of a worker (not a CompileError) rejects with it.
 */
export async function transformInWorker(source: string, file: string, format: ModuleFormat | undefined): Promise<WorkerTransform> {
  const transformed = await inWorker('transform', source, file, format);
  if ('compileError' in transformed) return transformed;
  if (!('result' in transformed)) throw new Error('the instrumenting thread answered without a result');
  // Analysis must never cost the user their run: a thread that fails leaves the insights out.
  const overlap = await inWorker('overlap', source, file, format).catch(() => undefined);
  return { result: transformed.result, candidates: overlap && 'candidates' in overlap ? overlap.candidates : null };
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
export function prepareLocalModules(entry: string, entryResult: Pick<TransformResult, 'localImports'>): PreparedModule[] {
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
