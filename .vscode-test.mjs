// @vscode/test-cli configuration (`npx vscode-test`), for machines that can download VS Code.
//
// Layout: integration suites are written as test/integration/**/*.test.ts with mocha's BDD globals
// (describe/it) and the real `vscode` API. Loading this file bundles each of them with esbuild into
// out/test/integration/**/*.test.js (test/e2e/compileSuites.mjs; `vscode` and `mocha` external),
// the same files test/e2e/run.mjs runs inside code-server where VS Code cannot be downloaded.
// Build the extension itself first (`npm run build`): the repository root is the extension under
// development and loads dist/extension.js.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defineConfig } from '@vscode/test-cli';
import { compileSuites, integrationOutDir, repoRoot } from './test/e2e/compileSuites.mjs';

compileSuites();

const fixtures = path.join(repoRoot, 'test', 'fixtures');

export default defineConfig({
  label: 'integration',
  files: `${path.relative(repoRoot, integrationOutDir)}/**/*.test.js`,
  extensionDevelopmentPath: repoRoot,
  ...(fs.existsSync(fixtures) ? { workspaceFolder: fixtures } : {}),
  // Other extensions would only add noise (and the marketplace is unreachable on CI anyway).
  launchArgs: ['--disable-extensions', '--disable-workspace-trust'],
  mocha: { ui: 'bdd', timeout: 60_000, color: true },
});
