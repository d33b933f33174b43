// What to run for an editor: its current text, under a path that makes imports resolve and lines map.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';

import { EDITOR_LANGUAGES } from './codeLensModel';


export interface RunTarget {
  /** Path given to the engine; for an untitled buffer a path that need not exist. */
  file: string;
  /** The buffer's text, saved or not. */
  source: string;
  /** The name shown in the panel title and header. */
  displayName: string;
  /** Where `reveal` goes. */
  uri: vscode.Uri;
  /**
   * The program's working directory: the workspace folder that holds the file (as VS Code's own
   * Run Python File and a terminal opened there), else the file's folder for a loose file.
   */
  cwd: string;
}

/** The run for this document, or a sentence saying why it cannot run. */
export function runTargetFor(document: vscode.TextDocument): RunTarget | string {
  const ext = EDITOR_LANGUAGES[document.languageId]?.ext;
  if (!ext) return vscode.l10n.t('Await Timeline runs TypeScript, JavaScript and Python files, not {0}.', document.languageId);
  const source = document.getText();
  if (document.uri.scheme === 'file') {
    const folder = vscode.workspace.getWorkspaceFolder(document.uri);
    const cwd = folder?.uri.scheme === 'file' ? folder.uri.fsPath : path.dirname(document.uri.fsPath);
    return { file: document.uri.fsPath, source, displayName: path.basename(document.uri.fsPath), uri: document.uri, cwd };
  }
  // Untitled (or virtual) buffers: imports resolve from the first workspace folder.
  const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file')?.uri.fsPath ?? os.tmpdir();
  const base = path.basename(document.uri.path) || 'Untitled';
  const name = path.extname(base) ? base : `${base}${ext}`;
  return { file: path.join(folder, name), source, displayName: name, uri: document.uri, cwd: folder };
}

/**
 * The Node executable for JS/TS runs: `node` on PATH, else the extension host's own runtime
 * (Electron, which behaves as Node only with ELECTRON_RUN_AS_NODE).
 */
export function findNode(): { nodePath: string; env?: NodeJS.ProcessEnv } {
  const names = process.platform === 'win32' ? ['node.exe', 'node.cmd'] : ['node'];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    for (const name of names) {
      const candidate = path.join(dir, name);
      try {
        fs.accessSync(candidate, fs.constants.X_OK);
        if (fs.statSync(candidate).isFile()) return { nodePath: candidate };
      } catch {
        // not here
      }
    }
  }
  return { nodePath: process.execPath, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } };
}
