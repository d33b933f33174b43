// Shared by the engine tests: run a fixture through the engine or the CLI, and look at spans.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

import type { Span, Timeline } from '../../src/shared/timeline';
import { startRun, type RunOptions, type WarmPool } from '../../src/engine/run';
import type { WarmChild } from '../../src/engine/spawnRuntime';

export const FIXTURES = path.resolve(__dirname, '..', 'fixtures');
export const REPO = path.resolve(__dirname, '..', '..');
export const CLI = path.join(REPO, 'dist', 'cli.js');

export interface Ran {
  timeline: Timeline;
  stdout: string;
  stderr: string;
}

export async function runFixture(name: string, options: Partial<RunOptions> = {}): Promise<Ran> {
  const run = startRun({ file: path.join(FIXTURES, name), stdout: 'pipe', stderr: 'pipe', ...options });
  let stdout = '';
  let stderr = '';
  run.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  run.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timeline = await run.done;
  return { timeline, stdout, stderr };
}

/** The same file under plain node, for output parity. */
export function plainNode(name: string, args: string[] = []): { stdout: string; stderr: string; status: number | null } {
  const file = path.join(FIXTURES, name);
  const r = spawnSync(process.execPath, [file, ...args], { cwd: path.dirname(file), encoding: 'utf8', timeout: 30000 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

export function cli(args: string[], options: { cwd?: string; timeout?: number; env?: NodeJS.ProcessEnv } = {}): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: options.cwd ?? REPO, encoding: 'utf8', timeout: options.timeout ?? 60000, env: options.env });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

export const byLabel = (t: Timeline, kind: Span['kind'], text: string): Span[] =>
  t.spans.filter((s) => s.kind === kind && s.label.includes(text));

export const one = (t: Timeline, kind: Span['kind'], text: string): Span => {
  const found = byLabel(t, kind, text);
  if (found.length !== 1) {
    throw new Error(`expected one ${kind} span with "${text}", found ${found.length}: ${t.spans.map((s) => `${s.kind}:${s.label}`).join(' | ')}`);
  }
  return found[0];
};

export const endOf = (s: Span): number => {
  if (s.endMs === null) throw new Error(`span ${s.label} is still pending`);
  return s.endMs;
};

export const overlaps = (a: Span, b: Span): boolean => a.startMs < endOf(b) && b.startMs < endOf(a);

export const duration = (s: Span): number => endOf(s) - s.startMs;

/** Walks parent links from a span to the top. */
export function ancestors(t: Timeline, s: Span): Span[] {
  const byId = new Map(t.spans.map((x) => [x.id, x]));
  const out: Span[] = [];
  for (let p = s.parentId === null ? undefined : byId.get(s.parentId); p; p = p.parentId === null ? undefined : byId.get(p.parentId)) out.push(p);
  return out;
}

export const PYTHON = process.env.AWAIT_TIMELINE_PYTHON ?? 'python3';

/**
 * The engine starts dist/runtime/python/runner.py; the build copies the Python runtime there. Tests
 * copy it the same way so that they never run a stale runner.
 */
export function copyPythonRuntime(): void {
  const fs = require('node:fs') as typeof import('node:fs');
  const dist = path.join(REPO, 'dist', 'runtime', 'python');
  const src = path.join(REPO, 'src', 'runtime', 'python');
  fs.mkdirSync(dist, { recursive: true });
  for (const name of fs.readdirSync(src)) {
    if (name.endsWith('.py')) fs.copyFileSync(path.join(src, name), path.join(dist, name));
  }
}

/** A synthetic finished run of `n` spans under one call (large-report tests). */
export function bigTimeline(n: number): Timeline {
  const spans: Span[] = [{ id: 1, parentId: null, kind: 'call', label: 'main()', line: 1, column: 1, startMs: 0, endMs: null, outcome: 'pending' }];
  for (let i = 2; i <= n; i++) {
    spans.push({
      id: i, parentId: 1, kind: i % 11 ? 'await' : 'timer', label: i % 11 ? `fetch(${i % 5})` : 'setTimeout(r, 1)', line: 2 + (i % 5), column: 3,
      startMs: i * 0.01, endMs: i % 997 ? i * 0.01 + 0.5 : null, outcome: i % 997 ? (i % 13 ? 'fulfilled' : 'rejected') : 'pending',
    });
  }
  return {
    version: 1, file: '/w/big.mjs', language: 'javascript', status: 'completed', exitCode: 0, wallMs: n * 0.01 + 1, error: null,
    spans, marks: [], droppedSpans: 0, stats: { wallMs: n * 0.01 + 1, awaitedMs: 1, blockedMs: 0, maxConcurrency: 50 },
  };
}

/** The pool's warm child once it has said hello (started: node and the runtime loaded), taken. */
export async function warmChildOf(pool: WarmPool): Promise<WarmChild> {
  const since = performance.now();
  for (;;) {
    const warm = (pool as unknown as { warm?: WarmChild }).warm;
    if (warm && warm.early.length > 0) return pool.take()!;
    if (performance.now() - since > 30_000) throw new Error('no warm child said hello within 30 s');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** `n` results of `one()`, `width` at a time (runs of a fixture beside each other). */
export async function concurrently<T>(n: number, width: number, one: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) {
      next++;
      out.push(await one());
    }
  }));
  return out;
}
