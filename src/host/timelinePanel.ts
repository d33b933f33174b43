// The timeline webview beside the editor: HTML and CSP, the ready handshake, the run's messages kept
// for replay, and validation of everything the webview sends.
import * as vscode from 'vscode';

import {
  isWebviewToHostMessage, type HostToWebviewMessage, type StatusMessage, type WebviewToHostMessage,
} from '../shared/webviewProtocol';
import { renderWebviewHtml } from './webviewHtml';

export const TIMELINE_VIEW_TYPE = 'awaitTimeline.panel';

export interface TimelinePanelEvents {
  /** The webview sent a valid message other than `ready`. */
  onMessage(msg: Exclude<WebviewToHostMessage, { type: 'ready' }>): void;
  onDispose(): void;
}

/** Options a panel needs both when created and when restored by the serializer. */
export function timelineWebviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: true,
    // The page lives on while the panel is hidden behind a tab or moved to another group (VS Code
    // loads a moved or re-shown page anew otherwise): a run in progress keeps drawing instead of
    // going blank for the seconds a reload and replay take. One page, holding what the host holds.
    retainContextWhenHidden: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

export class TimelinePanel implements vscode.Disposable {
  /** The document whose run is shown: `reveal` goes there. */
  documentUri: vscode.Uri | undefined;
  /**
   * A page has said `ready` since the HTML was set: messages go out now. A page VS Code loads anew
   * (a crash, a window reload) says `ready` again and gets everything replayed, so a message it
   * missed meanwhile is not lost.
   */
  private ready = false;
  /** The current run as sent so far (reset and appends, in order): replayed after every `ready`. */
  private runMessages: HostToWebviewMessage[] = [];
  /** Index in runMessages of the append with the latest aggregates; -1: none. */
  private aggregatesAt = -1;
  /** Only the latest status matters on replay. */
  private lastStatus: StatusMessage | undefined;
  /** The pinned baseline outlives runs: replayed first after every `ready`. */
  private baseline: HostToWebviewMessage | undefined;
  /** The Warp toggle and Live badge outlive runs too. */
  private clock: HostToWebviewMessage | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;

  static create(extensionUri: vscode.Uri, fileName: string, events: TimelinePanelEvents): TimelinePanel {
    const panel = vscode.window.createWebviewPanel(
      TIMELINE_VIEW_TYPE,
      panelTitle(fileName),
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      timelineWebviewOptions(extensionUri),
    );
    return new TimelinePanel(panel, extensionUri, events);
  }

  /** Wraps a panel VS Code restored after a reload (the serializer). */
  static restore(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, events: TimelinePanelEvents): TimelinePanel {
    panel.webview.options = timelineWebviewOptions(extensionUri);
    return new TimelinePanel(panel, extensionUri, events);
  }

  private constructor(readonly panel: vscode.WebviewPanel, private readonly extensionUri: vscode.Uri, private readonly events: TimelinePanelEvents) {
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => this.onWebviewMessage(raw)),
      panel.onDidDispose(() => this.dispose()),
    );
    this.loadPage();
  }

  /** Starts showing a new run: forgets the previous one's messages. */
  beginRun(fileName: string, documentUri: vscode.Uri, reset: HostToWebviewMessage): void {
    this.panel.title = panelTitle(fileName);
    this.documentUri = documentUri;
    this.runMessages = [];
    this.aggregatesAt = -1;
    this.lastStatus = undefined;
    this.post(reset);
  }

  /** Shows a whole stored run (restored panel). */
  showStored(fileName: string, documentUri: vscode.Uri | undefined, messages: HostToWebviewMessage[]): void {
    this.panel.title = panelTitle(fileName);
    this.documentUri = documentUri;
    this.runMessages = [];
    this.aggregatesAt = -1;
    this.lastStatus = undefined;
    for (const m of messages) this.post(m);
  }

  /**
   * The run ended: its final timeline replaces what was streamed (blocks are refined at the end,
   * spans may move or go), and is what a later `ready` replays.
   */
  finishRun(messages: HostToWebviewMessage[]): void {
    this.runMessages = [];
    this.aggregatesAt = -1;
    this.lastStatus = undefined;
    for (const m of messages) this.post(m);
  }

  /** A message of the current run: kept for replay and sent if the webview listens. */
  post(msg: HostToWebviewMessage): void {
    if (this.disposed) return;
    if (msg.type === 'status') this.lastStatus = msg;
    else if (msg.type === 'reset' || msg.type === 'append') {
      // Aggregates replace those sent before: a replay needs only the latest list.
      const before = this.runMessages[this.aggregatesAt];
      if (msg.type === 'append' && msg.aggregates && before?.type === 'append') {
        const { aggregates: _replaced, ...rest } = before;
        this.runMessages[this.aggregatesAt] = rest;
      }
      if (msg.type === 'append' && msg.aggregates) this.aggregatesAt = this.runMessages.length;
      this.runMessages.push(msg);
    }
    else if (msg.type === 'baseline') this.baseline = msg;
    else if (msg.type === 'clock') this.clock = msg;
    if (this.ready) void this.panel.webview.postMessage(msg);
  }

  /** A message that only matters now (the cursor): dropped when the webview does not listen. */
  postTransient(msg: HostToWebviewMessage): void {
    if (this.ready && !this.disposed) void this.panel.webview.postMessage(msg);
  }

  /**
   * Shows the panel without covering the code being run: where it is, unless that is the column of
   * the editor being run (`editorColumn`); then beside that editor. Called before the run's first
   * message: nothing moves while the run draws, and the kept page draws on after the move.
   */
  reveal(editorColumn?: vscode.ViewColumn): void {
    const current = this.panel.viewColumn;
    if (current !== undefined && current !== editorColumn) this.panel.reveal(current, true);
    else this.panel.reveal(vscode.ViewColumn.Beside, true);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.ready = false;
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
    this.events.onDispose();
  }

  private loadPage(): void {
    const webview = this.panel.webview;
    this.ready = false;
    webview.html = renderWebviewHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview', 'main.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'timeline.css')).toString(),
      title: this.panel.title,
    });
  }

  private onWebviewMessage(raw: unknown): void {
    if (!isWebviewToHostMessage(raw)) return; // anything else is not from our page, or from another version
    if (raw.type === 'ready') {
      this.ready = true;
      if (this.baseline) void this.panel.webview.postMessage(this.baseline);
      if (this.clock) void this.panel.webview.postMessage(this.clock);
      for (const m of this.runMessages) void this.panel.webview.postMessage(m);
      if (this.lastStatus) void this.panel.webview.postMessage(this.lastStatus);
      return;
    }
    this.events.onMessage(raw);
  }
}

function panelTitle(fileName: string): string {
  return vscode.l10n.t('{0} — Timeline', fileName);
}
