// How Node would load a file (ES module or CommonJS), decided the way Node decides it, and the
// name of the runtime global. Small on purpose: the child loads it before anything else.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The package.json node reads for a file in `dir`, if there is one. */
export function nearestPackageJson(dir: string): string | undefined {
  for (let d = dir; ; d = path.dirname(d)) {
    const p = path.join(d, 'package.json');
    if (fs.existsSync(p)) return p;
    if (path.dirname(d) === d) return undefined;
  }
}

export function nearestPackageType(dir: string): 'module' | 'commonjs' | undefined {
  const p = nearestPackageJson(dir);
  if (!p) return undefined;
  try {
    const type = JSON.parse(fs.readFileSync(p, 'utf8')).type;
    return type === 'module' ? 'module' : type === 'commonjs' ? 'commonjs' : undefined;
  } catch {
    return undefined;
  }
}

export type ModuleFormat = 'esm' | 'cjs';

/**
 * Where the recorder lives: a property of globalThis under this registered symbol, never a named
 * global (a program enumerating globals or checking for leaks sees what it sees under node).
 */
export const RUNTIME_KEY = 'await-timeline.runtime';
/** The module-local binding instrumented code calls; each module reads it from RUNTIME_KEY. */
export const RUNTIME_LOCAL = '__awt$r';

/** Node's own rule, applied to the source: the extension decides, then package.json, then syntax. */
export function formatFromExtension(file: string, packageType: 'module' | 'commonjs' | undefined): ModuleFormat | undefined {
  if (/\.m(j|t)s$/i.test(file)) return 'esm';
  if (/\.c(j|t)s$/i.test(file)) return 'cjs';
  if (packageType === 'module') return 'esm';
  if (packageType === 'commonjs') return 'cjs';
  return undefined;
}

/** The format a file declares by extension or package.json; undefined: decided by its syntax. */
export function declaredFormat(file: string): ModuleFormat | undefined {
  return formatFromExtension(file, nearestPackageType(path.dirname(file)));
}

/**
 * Brackets around every text the transform inserts (comments holding a control character no
 * source contains): removing what they enclose gives back the user's text of a function.
 */
export const INSERT_OPEN = '/*\u0001*/';
export const INSERT_CLOSE = '/*\u0002*/';
/**
 * Matches one inserted text with its brackets. A function's text can end inside one (an arrow
 * function's expression body is closed by an inserted `…}`, before the closing bracket).
 */
export const INSERTED = /\/\*\u0001\*\/[\s\S]*?(?:\/\*\u0002\*\/|$)/g;

const MAP_URL_PREFIX = '//# sourceMappingURL=data:application/json;charset=utf-8;base64,';

/** mapOfCode for code as UTF-8 bytes (the map is ASCII), read before any of the program's code runs. */
export function mapOfBytes(code: Buffer): string | undefined {
  const at = code.lastIndexOf(MAP_URL_PREFIX);
  if (at < 0) return undefined;
  return code.toString('latin1', at + MAP_URL_PREFIX.length).trimEnd();
}

/** The base64 source map at the end of instrumented code (the transform writes it there). */
export function mapOfCode(code: string): string | undefined {
  const at = code.lastIndexOf(MAP_URL_PREFIX);
  if (at < 0) return undefined;
  return code.slice(at + MAP_URL_PREFIX.length).trimEnd();
}
