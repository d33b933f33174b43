// The timeline webview beside the editor: HTML and CSP, the ready handshake, the run's messages kept
// for replay, and validation of everything the webview sends.
import * as vscode from 'vscode';

import {
  isWebviewToHostMessage, type HostToWebviewMessage, type StatusMessage, type WebviewToHostMessage,
} from '../shared/webviewProtocol';
import { panelColumnFor } from './panelColumn';
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

  /** A new panel, next to the editor being run (`editorColumn`: see panelColumnFor). */
  static create(extensionUri: vscode.Uri, fileName: string, events: TimelinePanelEvents, editorColumn?: vscode.ViewColumn): TimelinePanel {
    const column = panelColumnFor(undefined, editorColumn, openColumns());
    const panel = vscode.window.createWebviewPanel(
      TIMELINE_VIEW_TYPE,
      panelTitle(fileName),
      { viewColumn: column === 'beside' ? vscode.ViewColumn.Beside : column, preserveFocus: true },
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
   * Shows the panel without covering the code being run (see panelColumnFor): where it is, unless
   * that is the column of the editor being run (`editorColumn`); then in the group next to it.
   * Called before the run's first message; the kept page draws on through a move.
   */
  reveal(editorColumn?: vscode.ViewColumn): void {
    const current = this.panel.viewColumn;
    // (A panel just created with ViewColumn.Beside reads -2 until VS Code says where it went.)
    const column = current !== undefined && current < 1 ? current : panelColumnFor(current, editorColumn, openColumns());
    if (column === current) {
      this.panel.reveal(current, true);
      return;
    }
    void this.moveKept(column === 'beside' ? vscode.ViewColumn.Beside : column, editorColumn);
  }

  /**
   * Moves the panel to another group as a kept (pinned) tab, like the one it was created as. VS Code
   * shows a webview it reveals in another group as a preview tab, which the next file opened there
   * with a single click replaces: the chart would close. Only the active editor can be kept, so the
   * panel has the focus for a moment; then it goes back to the group of the code being run.
   */
  private async moveKept(column: vscode.ViewColumn, editorColumn: vscode.ViewColumn | undefined): Promise<void> {
    const moved = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => { listener.dispose(); resolve(false); }, 10_000);
      const listener = this.panel.onDidChangeViewState(() => {
        if (!this.panel.active) return;
        clearTimeout(timer);
        listener.dispose();
        resolve(true);
      });
    });
    this.panel.reveal(column, false);
    // Not seen active: the focus is left where VS Code puts it (taking it back before the move is
    // done would leave it in the panel's group, and the next file opened there would cover it).
    if (!(await moved) || this.disposed) return;
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
    if (this.panel.active && tab?.isPreview && tab.input instanceof vscode.TabInputWebview && tab.input.viewType.endsWith(TIMELINE_VIEW_TYPE)) {
      await vscode.commands.executeCommand('workbench.action.keepEditor');
    }
    const focus = editorColumn === undefined ? undefined : FOCUS_GROUP[editorColumn - 1];
    if (focus) await vscode.commands.executeCommand(focus);
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

/** The columns of the editor groups open now. */
function openColumns(): vscode.ViewColumn[] {
  return vscode.window.tabGroups.all.map((g) => g.viewColumn);
}

/** The commands that focus editor group 1, 2, … (VS Code has them up to the eighth). */
const FOCUS_GROUP = [
  'workbench.action.focusFirstEditorGroup', 'workbench.action.focusSecondEditorGroup', 'workbench.action.focusThirdEditorGroup',
  'workbench.action.focusFourthEditorGroup', 'workbench.action.focusFifthEditorGroup', 'workbench.action.focusSixthEditorGroup',
  'workbench.action.focusSeventhEditorGroup', 'workbench.action.focusEighthEditorGroup',
];

function panelTitle(fileName: string): string {
  return vscode.l10n.t('{0} — Timeline', fileName);
}
