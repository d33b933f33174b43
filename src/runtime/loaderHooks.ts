// Module loader hooks (they run on Node's loader thread): serve the instrumented entry module,
// instrument the snippet's local ES modules, and let TypeScript imports resolve the way
// TypeScript users write them (`./util.js` for util.ts, or no extension).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';

import { createRequire } from 'node:module';

import { ENGINE_ANSWER_WAIT_MS } from '../shared/runtimeProtocol';
import { declaredFormat, mapOfCode } from './moduleFormat';
import type * as TransformModule from './transform';

// The transform is big: load it only when a local module needs instrumenting.
let transformModule: typeof TransformModule | undefined;
const transform = () => (transformModule ??= createRequire(import.meta.url)('./transform.js') as typeof TransformModule);

let port: MessagePort | undefined;
/** The line to the engine, through the watchdog thread (see askEngine); absent: none. */
let engine: MessagePort | undefined;
let asked = 0;
let engineSilent = false;
const waiting = new Map<number, (answer: { code?: string; format?: 'esm' | 'cjs' } | undefined) => void>();
/** The instrumented entry, as text or (moved here from the main thread) as UTF-8 bytes. */
const entries = new Map<string, string | Uint8Array>();
/** Modules the engine instrumented ahead of the run, by file URL. */
const prepared = new Map<string, { source: string; code: string; format: 'esm' | 'cjs' }>();

export function initialize(data: { port?: MessagePort } | undefined): void {
  port = data?.port;
}

/** Messages are posted before the import that needs them, so they are already queued. */
function drain(): void {
  if (!port) return;
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
    const msg = m.message as { type: string; url: string; code: string | Uint8Array; modules?: Array<{ file: string; source: string; code: string; format: 'esm' | 'cjs' }> };
    if (msg?.type === 'entry') entries.set(msg.url, msg.code);
    if (msg?.type === 'modules') for (const p of msg.modules ?? []) prepared.set(pathToFileURL(p.file).href, p);
    if (msg?.type === 'engine' && (msg as unknown as { port?: MessagePort }).port) {
      engine = (msg as unknown as { port: MessagePort }).port;
      engine.on('message', (answer: { id?: number; code?: unknown; format?: unknown }) => {
        const done = typeof answer?.id === 'number' ? waiting.get(answer.id) : undefined;
        if (!done) return; // too late: this thread instrumented the module itself
        waiting.delete(answer.id!);
        if (waiting.size === 0) engine!.unref();
        done(typeof answer.code === 'string' && (answer.format === 'esm' || answer.format === 'cjs') ? { code: answer.code, format: answer.format } : undefined);
      });
      engine.unref();
    }
  }
}

/**
 * The engine's instrumented code for a module (its transform is warm; this thread would load
 * its own first), or undefined: the engine did not instrument it, or did not answer in time.
 */
function askEngine(source: string, file: string, format: 'esm' | 'cjs' | undefined): Promise<{ code: string; format: 'esm' | 'cjs' } | undefined> {
  // An engine that did not answer once is not asked again (see askEngine in bootstrap).
  if (!engine || engineSilent) return Promise.resolve(undefined);
  const id = -++asked;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      engineSilent = true;
      waiting.delete(id);
      if (waiting.size === 0) engine!.unref();
      resolve(undefined);
    }, ENGINE_ANSWER_WAIT_MS);
    timer.unref();
    waiting.set(id, (answer) => {
      clearTimeout(timer);
      resolve(answer as { code: string; format: 'esm' | 'cjs' } | undefined);
    });
    engine!.ref();
    engine!.postMessage({ type: 'instrument', id, file, ...(format ? { format } : {}), source });
  });
}

type Next<T> = (...args: any[]) => Promise<T>;

export async function resolve(specifier: string, context: { parentURL?: string }, next: Next<any>): Promise<any> {
  drain();
  if (entries.has(specifier)) return { url: specifier, shortCircuit: true, format: 'module' };
  try {
    return await next(specifier, context);
  } catch (err: any) {
    const parent = context.parentURL;
    if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !parent?.startsWith('file:') || !/^\.{1,2}\//.test(specifier)) throw err;
    const base = fileURLToPath(new URL(specifier, parent));
    const stem = base.replace(/\.(m|c)?js$/, '');
    for (const candidate of [`${stem}.ts`, `${stem}.mts`, `${stem}.cts`, `${base}.ts`, `${base}.js`, path.join(base, 'index.ts')]) {
      if (fs.existsSync(candidate)) return { url: pathToFileURL(candidate).href, shortCircuit: true };
    }
    throw err;
  }
}

export async function load(url: string, context: { format?: string }, next: Next<any>): Promise<any> {
  drain();
  const entry = entries.get(url);
  if (entry !== undefined) {
    // Served once (node keeps the module): this thread need not hold the instrumented code, tens
    // of MB for a module of 100,000 await sites. Bytes go back to the main thread moved (node
    // transfers a source's buffer), not copied.
    entries.delete(url);
    return { format: 'module', source: entry, shortCircuit: true };
  }
  if (!url.startsWith('file:') || url.includes('/node_modules/')) return next(url, context);
  const file = fileURLToPath(url);
  if (!/\.(?:[mc]?[tj]s|[tj]sx)$/.test(file)) return next(url, context);
  const isTs = /\.(?:[mc]?ts|tsx)$/.test(file);
  const isJsx = /\.[tj]sx$/.test(file);
  const declared = declaredFormat(file);
  if (declared === 'cjs') {
    // CommonJS goes through require, where the main thread's hook instruments it.
    return { format: 'commonjs', shortCircuit: true };
  }
  if (!isTs && !isJsx && declared === undefined && context.format === 'commonjs') return next(url, context);
  const source = fs.readFileSync(file, 'utf8');
  const ready = prepared.get(url);
  let out: { code: string; format: 'esm' | 'cjs' };
  if (ready && ready.source === source) out = ready;
  else {
    // The runtime's own time: the main thread reports it apart from the snippet's.
    const startAbs = performance.timeOrigin + performance.now();
    try {
      out = (await askEngine(source, file, declared)) ?? transform().transformSnippet(source, { file, format: declared });
    } catch (err) {
      // JavaScript that does not parse: node's own loader reports its SyntaxError.
      if (err instanceof transform().CompileError && !isTs && !isJsx) return next(url, context);
      throw err;
    } finally {
      port?.postMessage({ type: 'instrumented', label: `instrumenting ${path.basename(file)}`, startAbs, endAbs: performance.timeOrigin + performance.now() });
    }
  }
  if (out.format === 'cjs') return { format: 'commonjs', shortCircuit: true };
  // Its source map, for the main thread's stack traces (posted before the module can run).
  const map = mapOfCode(out.code);
  if (map !== undefined) port?.postMessage({ type: 'map', url, map });
  return { format: 'module', source: out.code, shortCircuit: true };
}
