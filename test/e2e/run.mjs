#!/usr/bin/env node
// One entry point for the tests in a real VS Code: setup, build, integration suites in the extension host, e2e specs in chromium.
//
//   node test/e2e/run.mjs [options]
//
//   --skip-setup        do not run test/e2e/setup.sh (E2E_SKIP_SETUP=1)
//   --skip-build        do not run `npm run build` / `npm run package`
//   --vsix              e2e specs use a .vsix built by `npm run package` instead of the development path
//   --only=integration  run only the integration suites (or --only=e2e)
//   --example=DIR       run against another extension laid out like the repo's tests (E2E_EXAMPLE):
//                       DIR is the extension, DIR/test/**/*.test.{ts,js} its integration suites,
//                       DIR/e2e/*.e2e.ts its e2e specs. Used to check the harness itself.
//   --grep=TEXT         only tests whose title matches (both kinds)
//
// Integration suites: test/integration/**/*.test.ts, bundled by esbuild (vscode and mocha external)
// to out/test/integration/**/*.test.js, the layout .vscode-test.mjs reads too. They run inside
// code-server's extension host via test/e2e/extensionHostIndex.ts, with the repo as the extension
// under development and test/fixtures (when present) as the workspace.
// E2E specs: test/e2e/*.e2e.ts, run by mocha under tsx in this process's Node; they start their own
// code-server and chromium through test/e2e/codeServer.ts (launchWorkbench()).
//
// Exit code 0 only if every stage that ran passed; zero suites and zero specs is a pass.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileExtensionHostIndex, compileSuites, findSuites, integrationOutDir } from './compileSuites.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');

const args = new Map(
  process.argv.slice(2).map((arg) => {
    const [key, ...value] = arg.replace(/^--/, '').split('=');
    return [key, value.length ? value.join('=') : true];
  }),
);
const known = new Set(['skip-setup', 'skip-build', 'vsix', 'only', 'example', 'grep']);
for (const key of args.keys()) {
  if (!known.has(key)) {
    console.error(`unknown option --${key}; see the top of test/e2e/run.mjs`);
    process.exit(2);
  }
}
const skipSetup = args.has('skip-setup') || process.env.E2E_SKIP_SETUP === '1';
const skipBuild = args.has('skip-build');
const only = args.get('only');
const example = args.get('example') ?? process.env.E2E_EXAMPLE;
const grep = typeof args.get('grep') === 'string' ? args.get('grep') : process.env.E2E_MOCHA_GREP;

const extensionPath = example ? path.resolve(example) : root;
const suitesDir = example ? path.join(extensionPath, 'test') : path.join(root, 'test', 'integration');
const specsDir = example ? path.join(extensionPath, 'e2e') : path.join(root, 'test', 'e2e');
const outDir = example ? path.join(root, '.cache', 'e2e', 'out-example') : integrationOutDir;
const workspace = !example && fs.existsSync(path.join(root, 'test', 'fixtures')) ? path.join(root, 'test', 'fixtures') : '';

const t0 = Date.now();
const seconds = (since) => ((Date.now() - since) / 1000).toFixed(1);
const say = (message) => console.log(`[e2e] ${message}`);

/** Runs a command with inherited stdio, or captured and echoed when `capture`; resolves to { code, output }. */
function run(command, commandArgs, { env = {}, capture = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, commandArgs, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    });
    let output = '';
    if (capture) {
      for (const stream of [child.stdout, child.stderr]) {
        stream.on('data', (chunk) => {
          output += chunk;
          (stream === child.stdout ? process.stdout : process.stderr).write(chunk);
        });
      }
    }
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
    child.on('error', (error) => {
      console.error(error);
      resolve({ code: 1, output });
    });
  });
}

function findSpecs(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((name) => name.endsWith('.e2e.ts')).map((name) => path.join(dir, name)).sort();
}

/** Mocha's closing lines, "N passing" / "N failing" / "N pending", as numbers. */
function mochaCounts(output) {
  const count = (word) => [...output.matchAll(new RegExp(`^\\s*(\\d+) ${word}\\b`, 'gm'))].reduce((sum, m) => sum + Number(m[1]), 0);
  return { passed: count('passing'), failed: count('failing'), pending: count('pending') };
}

async function main() {
  const totals = { passed: 0, failed: 0, pending: 0 };
  let failedStages = [];

  if (!skipSetup) {
    const setup = await run('bash', [path.join(here, 'setup.sh')]);
    if (setup.code !== 0) {
      say(`setup.sh failed with exit code ${setup.code}`);
      return 1;
    }
  }

  const suites = only === 'e2e' ? [] : findSuites(suitesDir);
  const specs = only === 'integration' ? [] : findSpecs(specsDir);
  say(`extension: ${extensionPath}`);
  const show = (dir) => (path.relative(root, dir).startsWith('..') ? dir : path.relative(root, dir));
  say(`integration suites: ${suites.length} in ${show(suitesDir)}; e2e specs: ${specs.length} in ${show(specsDir)}`);
  if (suites.length === 0 && specs.length === 0) {
    say('there were no integration suites and no e2e specs to run: nothing to do');
    return 0;
  }

  // Build the extension (dist/) so the development path and a vsix carry current code.
  let vsix;
  if (!example && !skipBuild) {
    const t = Date.now();
    const build = await run('npm', ['run', 'build']);
    if (build.code !== 0) {
      say('npm run build failed');
      return 1;
    }
    say(`built the extension in ${seconds(t)} s`);
    if (args.has('vsix') && specs.length > 0) {
      const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
      if (!pkg.scripts?.package) {
        say('--vsix: package.json has no "package" script');
        return 1;
      }
      const before = Date.now();
      const packaged = await run('npm', ['run', 'package']);
      const built = fs.readdirSync(root).filter((name) => name.endsWith('.vsix')).map((name) => path.join(root, name))
        .filter((file) => fs.statSync(file).mtimeMs >= before - 1000);
      if (packaged.code !== 0 || built.length === 0) {
        say('npm run package did not produce a .vsix');
        return 1;
      }
      vsix = built[0];
      say(`packaged ${path.basename(vsix)} (${(fs.statSync(vsix).size / 1024).toFixed(0)} KiB) in ${seconds(before)} s`);
    }
  }

  // (a) Integration suites inside the extension host.
  if (suites.length > 0) {
    const t = Date.now();
    const index = compileExtensionHostIndex();
    const compiled = compileSuites({ sourceDir: suitesDir, outDir, suites });
    say(`compiled ${compiled.length} integration suite(s) into ${path.relative(root, outDir)} in ${seconds(t)} s`);
    const result = await run(process.execPath, ['--import', 'tsx', path.join(here, 'runIntegration.ts')], {
      capture: true,
      env: {
        E2E_EXTENSION_PATH: extensionPath,
        E2E_INDEX: index,
        E2E_INTEGRATION_FILES: JSON.stringify(compiled),
        E2E_WORKSPACE: workspace,
        E2E_MOCHA_GREP: typeof grep === 'string' ? grep : '',
      },
    });
    const counts = mochaCounts(result.output);
    if (result.code !== 0 && counts.failed === 0) counts.failed = 1; // the host crashed or timed out
    for (const key of Object.keys(totals)) totals[key] += counts[key];
    if (result.code !== 0) failedStages.push('integration');
    say(`integration stage: exit code ${result.code} in ${seconds(t)} s`);
  } else {
    say(`no integration suites (*.test.ts) in ${suitesDir}`);
  }

  // (b) End-to-end specs driving the workbench in chromium.
  if (specs.length > 0) {
    const t = Date.now();
    const mocha = path.join(root, 'node_modules', 'mocha', 'bin', 'mocha.js');
    const mochaArgs = ['--no-config', '--node-option', 'import=tsx', '--timeout', '300000', '--reporter', 'spec', '--exit'];
    if (typeof grep === 'string' && grep) mochaArgs.push('--grep', grep);
    const result = await run(process.execPath, [mocha, ...mochaArgs, ...specs], {
      capture: true,
      env: {
        E2E_EXTENSION_PATH: extensionPath,
        ...(vsix ? { E2E_VSIX: vsix } : {}),
      },
    });
    const counts = mochaCounts(result.output);
    if (result.code !== 0 && counts.failed === 0) counts.failed = 1;
    for (const key of Object.keys(totals)) totals[key] += counts[key];
    if (result.code !== 0) failedStages.push('e2e');
    say(`e2e stage: exit code ${result.code} in ${seconds(t)} s`);
  } else {
    say(`no e2e specs (*.e2e.ts) in ${specsDir}`);
  }

  say(`done in ${seconds(t0)} s${failedStages.length ? `; failed: ${failedStages.join(', ')}` : ''}; screenshots in test-results/`);
  // The plain closing line CI reads.
  console.log(`e2e: ${totals.passed} passed, ${totals.failed} failed${totals.pending ? `, ${totals.pending} skipped` : ''}`);
  return failedStages.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
