// Builds one bundle per process: CLI/engine, the runtime injected into the child, the extension
// host and the webview. The runtime is its own entry (as vscode-js-debug does with its bootloader)
// so that nothing of the host or engine is loaded into the user's process.
const esbuild = require('esbuild');
const fs = require('node:fs');
const path = require('node:path');

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

/** @type {import('esbuild').BuildOptions} */
const common = {
  bundle: true,
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  legalComments: 'none',
};

const builds = [
  // The CLI: a small entry that starts a run's child at once, and the rest (the engine, exports,
  // chart), loaded by the entry while node starts in the child. Plain Node.
  { ...common, entryPoints: ['src/cli.ts'], outfile: 'dist/cli.js', platform: 'node', target: 'node20', format: 'cjs',
    banner: { js: '#!/usr/bin/env node' } },
  { ...common, entryPoints: ['src/cliMain.ts'], outfile: 'dist/cliMain.js', platform: 'node', target: 'node20', format: 'cjs' },
  // The thread a big module is instrumented in (the engine's, for the CLI and the extension).
  { ...common, entryPoints: ['src/engine/instrumentWorker.ts'], outfile: 'dist/instrumentWorker.js', platform: 'node', target: 'node20', format: 'cjs' },
  // Runs inside the user's child process: the bootstrap (main thread), the module loader hooks
  // (loader thread) and the watchdog (worker thread).
  { ...common, entryPoints: ['src/runtime/bootstrap.ts'], outfile: 'dist/runtime/bootstrap.js', platform: 'node', target: 'node20', format: 'cjs' },
  { ...common, entryPoints: ['src/runtime/loaderHooks.ts'], outfile: 'dist/runtime/loaderHooks.mjs', platform: 'node', target: 'node20', format: 'esm' },
  { ...common, entryPoints: ['src/runtime/transform.ts'], outfile: 'dist/runtime/transform.js', platform: 'node', target: 'node20', format: 'cjs' },
  { ...common, entryPoints: ['src/runtime/watchdog.ts'], outfile: 'dist/runtime/watchdog.js', platform: 'node', target: 'node20', format: 'cjs' },
];
if (fs.existsSync('src/extension.ts')) {
  builds.push({ ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', platform: 'node', target: 'node20', format: 'cjs', external: ['vscode'] });
}
if (fs.existsSync('src/webview/main.ts')) {
  builds.push({ ...common, entryPoints: ['src/webview/main.ts'], outfile: 'dist/webview/main.js', platform: 'browser', target: 'es2022', format: 'iife' });
}

function copyStatic() {
  // The Python runner is not bundled: it is copied next to the Node runtime.
  const from = 'src/runtime/python';
  if (!fs.existsSync(from)) return;
  const to = 'dist/runtime/python';
  fs.mkdirSync(to, { recursive: true });
  for (const name of fs.readdirSync(from)) {
    if (name.endsWith('.py')) fs.copyFileSync(path.join(from, name), path.join(to, name));
  }
}

async function main() {
  const present = builds.filter((b) => b.entryPoints.every((e) => fs.existsSync(e)));
  if (watch) {
    for (const b of present) (await esbuild.context(b)).watch();
    copyStatic();
    return;
  }
  await Promise.all(present.map((b) => esbuild.build(b)));
  copyStatic();
  fs.chmodSync('dist/cli.js', 0o755);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
