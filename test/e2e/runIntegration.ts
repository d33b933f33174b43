// Runs the compiled integration suites inside code-server's extension host; called by run.mjs.
//
// Environment (set by run.mjs):
//   E2E_EXTENSION_PATH       extension under development (default: repository root)
//   E2E_INTEGRATION_FILES    JSON array of compiled *.test.js files
//   E2E_INDEX                compiled extensionHostIndex.js
//   E2E_WORKSPACE            folder to open (default: an empty scratch folder)
import * as path from 'node:path';
import { repoRoot, runExtensionTests } from './codeServer';

async function main(): Promise<number> {
  const index = process.env.E2E_INDEX;
  if (!index) throw new Error('E2E_INDEX is not set');
  const result = await runExtensionTests({
    extensionDevelopmentPath: path.resolve(process.env.E2E_EXTENSION_PATH ?? repoRoot),
    extensionTestsPath: index,
    workspace: process.env.E2E_WORKSPACE || undefined,
    env: { E2E_INTEGRATION_FILES: process.env.E2E_INTEGRATION_FILES ?? '[]', E2E_MOCHA_GREP: process.env.E2E_MOCHA_GREP ?? '' },
    timeoutMs: Number(process.env.E2E_INTEGRATION_TIMEOUT_MS ?? 300_000),
    screenshotName: 'integration-final',
  });
  process.stdout.write(result.output);
  if (result.exitCode !== 0) {
    // The workbench console carries extension host errors (activation failures, unhandled rejections).
    // Known noise on a closed network (marketplace, GitHub auth, missing icons) is left out.
    const noise = /open-vsx|ERR_NAME_NOT_RESOLVED|status of 404|authentication provider 'github'/;
    const errors = result.console
      .filter((line) => (line.startsWith('[error]') || line.startsWith('[pageerror]')) && !noise.test(line))
      .map((line) => line.split('\n').slice(0, 4).join('\n'));
    process.stdout.write(`\n[e2e] extension host exit code ${result.exitCode}; workbench console errors (last 40):\n`);
    process.stdout.write(`${errors.slice(-40).join('\n')}\n`);
  }
  process.stdout.write(`[e2e] integration suites took ${(result.durationMs / 1000).toFixed(1)} s (exit code ${result.exitCode})\n`);
  return result.exitCode === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
