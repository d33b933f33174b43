// Where the built runtime (the child's bootstrap, loader hooks, watchdog and transform) lives.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Where the built runtime lives: next to the bundle that contains this code. */
export function runtimeDir(): string {
  // dist/cli.js and dist/extension.js sit next to dist/runtime; tests run from src/ via tsx.
  const here = typeof __dirname === 'string' && path.isAbsolute(__dirname) ? __dirname : process.cwd();
  const candidates = [path.join(here, 'runtime'), path.join(here, '..', '..', 'dist', 'runtime'), path.resolve('dist', 'runtime')];
  return candidates.find((c) => fs.existsSync(path.join(c, 'bootstrap.js'))) ?? candidates[0];
}

