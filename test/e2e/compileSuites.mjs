// Bundles integration suites for the extension host: test/integration/**/*.test.ts -> out/test/integration/**/*.test.js.
//
// Shared by run.mjs (code-server) and .vscode-test.mjs (@vscode/test-cli), so both run the same files.
// Each suite is bundled with what it imports from src/; `vscode` and `mocha` stay external (the
// extension host provides the first, the repository's node_modules the second).
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const integrationSourceDir = path.join(repoRoot, 'test', 'integration');
export const integrationOutDir = path.join(repoRoot, 'out', 'test', 'integration');

const require = createRequire(import.meta.url);
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'inline',
  external: ['vscode', 'mocha'],
  logLevel: 'warning',
};

/** Suite files (`*.test.ts` or `*.test.js`) under dir, sorted; none when dir does not exist. */
export function findSuites(dir = integrationSourceDir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.test\.(ts|js)$/.test(entry.name))
    .map((entry) => path.join(entry.parentPath ?? entry.path, entry.name))
    .filter((file) => !file.split(path.sep).includes('node_modules'))
    .sort();
}

/** Bundles each suite to outDir, keeping its path relative to sourceDir; returns the outputs. */
export function compileSuites({ sourceDir = integrationSourceDir, outDir = integrationOutDir, suites = findSuites(sourceDir) } = {}) {
  const esbuild = require('esbuild');
  fs.rmSync(outDir, { recursive: true, force: true });
  return suites.map((suite) => {
    const outfile = path.join(outDir, path.relative(sourceDir, suite).replace(/\.(ts|js)$/, '.js'));
    esbuild.buildSync({ ...common, entryPoints: [suite], outfile });
    return outfile;
  });
}

/** Bundles test/e2e/extensionHostIndex.ts, the mocha entry code-server's extension host loads. */
export function compileExtensionHostIndex() {
  const esbuild = require('esbuild');
  const outfile = path.join(repoRoot, 'out', 'test', 'e2e', 'extensionHostIndex.js');
  esbuild.buildSync({ ...common, entryPoints: [path.join(repoRoot, 'test', 'e2e', 'extensionHostIndex.ts')], outfile });
  return outfile;
}
