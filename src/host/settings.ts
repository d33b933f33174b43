// The extension's settings (package.json `contributes.configuration`), read for one document's scope.
import * as vscode from 'vscode';

import { DEFAULT_BLOCK_THRESHOLD_MS } from '../engine/run';
import { findNode } from './runTarget';

export const SECTION = 'awaitTimeline';

/**
 * Settings that choose what runs (executables, flags, environment). Restricted in an untrusted
 * workspace: package.json lists them under `capabilities.untrustedWorkspaces.restrictedConfigurations`.
 */
export const RESTRICTED_SETTINGS = ['nodePath', 'nodeArgs', 'pythonPath', 'args', 'env'] as const;

export interface RunSettings {
  /** 0: no time limit. */
  timeoutMs: number;
  blockThresholdMs: number;
  maxSpansPerSite: number | undefined;
  /** The run's span budget; undefined: the engine's default. */
  maxSpans: number | undefined;
  /** Node for JS/TS runs, and the environment it needs (ELECTRON_RUN_AS_NODE for the host's own runtime). */
  node: { nodePath: string; env?: NodeJS.ProcessEnv };
  nodeArgs: string[];
  /** An explicit interpreter, or undefined: the Python extension's choice, else python3. */
  pythonPath: string | undefined;
  args: string[];
  /** Added to the extension host's environment for the snippet. */
  env: Record<string, string>;
  /** `auto`: warped for workshop exercises and files that say `@time warp`, real otherwise. */
  time: 'auto' | 'real' | 'warp';
  /** Live mode stops a run that takes longer than this in real time (ms). */
  liveBudgetMs: number;
}

const strings = (x: unknown): string[] => (Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : []);

function stringRecord(x: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return out;
  for (const [k, v] of Object.entries(x)) {
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
  }
  return out;
}

/** Resolves `~` and `${workspaceFolder}` in a path setting. */
function expandPath(value: string, scope: vscode.Uri | undefined): string {
  let v = value.trim();
  const folder = (scope && vscode.workspace.getWorkspaceFolder(scope)) ?? vscode.workspace.workspaceFolders?.[0];
  if (folder) v = v.replace(/\$\{workspaceFolder\}/g, folder.uri.fsPath);
  if (v === '~' || v.startsWith('~/')) v = (process.env.HOME ?? '') + v.slice(1);
  return v;
}

export function readSettings(scope: vscode.Uri | undefined): RunSettings {
  const c = vscode.workspace.getConfiguration(SECTION, scope);
  const timeoutSeconds = c.get<number>('timeoutSeconds', 0);
  const threshold = c.get<number>('blockThresholdMs', DEFAULT_BLOCK_THRESHOLD_MS);
  const maxSpans = c.get<number>('maxSpansPerSite', 0);
  const budget = c.get<number>('maxSpans', 0);
  const nodePath = expandPath(c.get<string>('nodePath', '') ?? '', scope);
  const pythonPath = expandPath(c.get<string>('pythonPath', '') ?? '', scope);
  const time = c.get<string>('time', 'auto');
  const liveBudget = c.get<number>('liveBudgetSeconds', 5);
  return {
    time: time === 'real' || time === 'warp' ? time : 'auto',
    liveBudgetMs: Number.isFinite(liveBudget) && liveBudget > 0 ? liveBudget * 1000 : 5000,
    timeoutMs: Number.isFinite(timeoutSeconds) && timeoutSeconds > 0 ? timeoutSeconds * 1000 : 0,
    blockThresholdMs: Number.isFinite(threshold) && threshold > 0 ? threshold : DEFAULT_BLOCK_THRESHOLD_MS,
    maxSpansPerSite: Number.isInteger(maxSpans) && maxSpans > 0 ? maxSpans : undefined,
    maxSpans: Number.isInteger(budget) && budget > 0 ? budget : undefined,
    node: nodePath ? { nodePath } : findNode(),
    nodeArgs: strings(c.get('nodeArgs')),
    pythonPath: pythonPath || undefined,
    args: strings(c.get('args')),
    env: stringRecord(c.get('env')),
  };
}

/** A key for what a warm runtime was started with: a change of these needs a new one. */
export function warmKey(s: RunSettings): string {
  return JSON.stringify([s.node.nodePath, s.nodeArgs, s.env]);
}

/**
 * The interpreter for a .py run: the setting, else the one selected in the Python extension
 * (ms-python.python) for this file, else python3 on PATH.
 */
export async function resolvePython(settings: RunSettings, scope: vscode.Uri | undefined): Promise<{ path: string; source: string }> {
  if (settings.pythonPath) return { path: settings.pythonPath, source: `the setting ${SECTION}.pythonPath` };
  const fromExtension = await pythonFromExtension(scope).catch(() => undefined);
  if (fromExtension) return { path: fromExtension, source: 'the interpreter selected in the Python extension' };
  return { path: 'python3', source: 'python3 on PATH' };
}

interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string } | undefined;
    resolveEnvironment(env: { path: string } | string): Promise<{ executable?: { uri?: vscode.Uri } } | undefined>;
  };
  settings?: { getExecutionDetails?(resource?: vscode.Uri): { execCommand?: string[] } | undefined };
}

async function pythonFromExtension(scope: vscode.Uri | undefined): Promise<string | undefined> {
  const ext = vscode.extensions.getExtension<PythonExtensionApi>('ms-python.python');
  if (!ext) return undefined;
  const api = await withTimeout(ext.isActive ? Promise.resolve(ext.exports) : ext.activate(), 5000);
  if (!api) return undefined;
  const active = api.environments?.getActiveEnvironmentPath(scope);
  if (active) {
    const resolved = await withTimeout(api.environments!.resolveEnvironment(active), 5000);
    const exe = resolved?.executable?.uri?.fsPath;
    if (exe) return exe;
  }
  // Older versions of the Python extension.
  return api.settings?.getExecutionDetails?.(scope)?.execCommand?.[0];
}

function withTimeout<T>(p: Thenable<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    Promise.resolve(p).then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      () => {
        clearTimeout(timer);
        resolve(undefined);
      },
    );
  });
}
