// Which clock a run uses: real time, or the warp that skips waits for timers (see
// src/runtime/timeWarp.ts and src/runtime/python/_awtl_warp.py).
import type { TimeMode } from '../shared/timeline';

/** `// @time warp` or `# @time real` on a comment line of its own: the snippet's own choice. */
const DIRECTIVE = /^[ \t]*(?:\/\/|#)[ \t]*@time[ \t]+(warp|real)\b/m;

export function timeDirective(source: string | undefined): TimeMode | undefined {
  const m = source === undefined ? null : DIRECTIVE.exec(source);
  return m ? (m[1] as TimeMode) : undefined;
}

/**
 * The clock of a run: what the user asked for explicitly (`--time`, the panel's toggle), else what
 * the snippet says (`@time`), else the caller's default (warp when grading `@expect` lines), else real.
 */
export function resolveTimeMode(explicit: TimeMode | undefined, source: string | undefined, fallback: TimeMode = 'real'): TimeMode {
  return explicit ?? timeDirective(source) ?? fallback;
}
