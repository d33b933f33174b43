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

/** Runtime global; unlikely to clash with user code and never enumerable. */
export const RUNTIME_GLOBAL = '__awt$';

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
