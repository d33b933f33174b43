// Runs the active editor's text with the engine and streams the run into the timeline panel, the
// output channel and the status bar. One run at a time: running again replaces the previous run.
import * as path from 'node:path';
import * as vscode from 'vscode';

import { languageOf, startRun, WarmPool, type Run } from '../engine/run';
import { formatDuration } from '../shared/format';
import type { LoopDelay, Mark, Span, TimeMode, Timeline } from '../shared/timeline';
import { SiteInterner, encodeRun, message, type WebviewToHostMessage } from '../shared/webviewProtocol';
import { encodeAppendColumns } from '../shared/spanColumns';
import { resolveTimeMode } from '../engine/timeMode';
import { BaselineStore } from './baselineStore';
import { EditorAnnotations } from './editorAnnotations';
import { exportRun, type ShownRun } from './exportRun';
import { OverlapDiagnostics } from './overlapCodeActions';
import { StillWaitingDiagnostics } from './stillWaitingDiagnostics';
import { RunStatusItem } from './runStatusItem';
import { runTargetFor, type RunTarget } from './runTarget';
import { isWorkshopCopy } from './workshop';
import { readSettings, resolvePython, SECTION, warmKey, type RunSettings } from './settings';
import { TimelinePanel, type TimelinePanelEvents } from './timelinePanel';
import { loadLastTimeline, saveLastTimeline, timelineMessages } from './timelineMessages';

/** Streamed spans are sent to the panel at most this often (ms). */
const BATCH_MS = 50;
/** How often the status bar and the panel's pending bars are refreshed while running. */
const TICK_MS = 1000;
/** Context key: a run is going (shows Stop in the editor title). */
const RUNNING_CONTEXT = 'awaitTimeline.running';

export class TimelineRunner implements vscode.Disposable {
  private readonly output = vscode.window.createOutputChannel('Await Timeline');
  private readonly statusItem = new RunStatusItem();
  private readonly annotations = new EditorAnnotations();
  private readonly overlaps = new OverlapDiagnostics();
  private readonly stillWaiting = new StillWaitingDiagnostics();
  /** A JS runtime started ahead of time, for the settings it was started with. */
  private pool: { key: string; pool: WarmPool } | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private panel: TimelinePanel | undefined;
  private run: Run | undefined;
  /** What the current run runs (its document, for the stored timeline). */
  private runTarget: RunTarget | undefined;
  private tick: NodeJS.Timeout | undefined;
  /** The finished run the panel shows: what Export writes and Pin as Baseline pins. */
  private shown: ShownRun | undefined;
  private readonly baseline: BaselineStore;
  /** The panel's Warp toggle, for this session: over the setting; undefined: the setting decides. */
  private warpOverride: boolean | undefined;
  /** Documents in live mode (URI strings): their edits re-run them, warped. */
  private readonly liveDocuments = new Set<string>();
  /** Fired when a live run ends (tests and the status bar listen). */
  private readonly liveRunEnded = new vscode.EventEmitter<Timeline>();
  readonly onDidEndLiveRun = this.liveRunEnded.event;
  /** Saved timelines open in the custom editor: they draw the pinned baseline too. */
  private readonly viewers = new Set<TimelinePanel>();
  private readonly finished = new vscode.EventEmitter<{ uri: vscode.Uri; timeline: Timeline }>();
  /** A run is over (ended or stopped): its document and final timeline (the CodeLenses and the Test Explorer listen). */
  readonly onDidFinishRun = this.finished.event;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.baseline = new BaselineStore(context.workspaceState);
    this.disposables.push(
      vscode.window.onDidChangeTextEditorSelection((e) => this.onSelection(e.textEditor)),
      vscode.window.onDidChangeActiveTextEditor((editor) => editor && this.onSelection(editor)),
    );
  }

  /**
   * "Run with Timeline": the document's current text, saved or not; by default the active editor's
   * (the editor title button passes its document's URI). Resolves to the run's final timeline
   * (undefined when nothing ran), so other extensions and tests can use the result.
   */
  async runDocument(resource?: vscode.Uri): Promise<Timeline | undefined> {
    const document = resource
      ? vscode.workspace.textDocuments.find((d) => d.uri.toString() === resource.toString()) ?? (await vscode.workspace.openTextDocument(resource))
      : vscode.window.activeTextEditor?.document;
    if (!document) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Await Timeline: open a TypeScript, JavaScript or Python file to run.'));
      return undefined;
    }
    const target = runTargetFor(document);
    if (typeof target === 'string') {
      void vscode.window.showInformationMessage(target);
      return undefined;
    }
    const settings = readSettings(document.uri);
    let pythonPath: string | undefined;
    if (languageOf(target.file) === 'python') {
      const python = await resolvePython(settings, document.uri);
      pythonPath = python.path;
      this.output.appendLine(`Python: ${python.path} (${python.source})`);
    }
    await this.stopCurrent();
    this.annotations.clear(target.uri);
    this.overlaps.clear(target.uri);
    this.stillWaiting.clear(target.uri);
    return this.start(target, settings, pythonPath, document).done;
  }

  /** Turns live mode on or off for a document; resolves to whether it is now on. */
  setLive(document: vscode.TextDocument, live: boolean): boolean {
    const key = document.uri.toString();
    if (live) this.liveDocuments.add(key);
    else this.liveDocuments.delete(key);
    if (!live && this.panel?.documentUri?.toString() === key) {
      this.panel.post(this.baseline.message()); // the pinned baseline again, not the previous live run
    }
    this.postClock();
    return live;
  }

  isLive(uri: vscode.Uri): boolean {
    return this.liveDocuments.has(uri.toString());
  }


  /**
   * A live document was edited (debounced): run it again, warped, within the live budget. A run
   * still going is cancelled without a word; the chart keeps the last good run until this one ends;
   * a file that does not compile keeps it too, with the error in the header.
   */
  async runLive(document: vscode.TextDocument): Promise<Timeline | undefined> {
    if (!this.isLive(document.uri)) return undefined;
    const target = runTargetFor(document);
    if (typeof target === 'string') return undefined;
    const settings = readSettings(document.uri);
    const pythonPath = languageOf(target.file) === 'python' ? (await resolvePython(settings, document.uri)).path : undefined;
    const previous = this.run;
    this.run = undefined;
    this.stopTicking();
    if (previous) await previous.cancel();
    if (!this.isLive(document.uri)) return undefined;
    const timeline = await this.start(target, { ...settings, timeoutMs: settings.liveBudgetMs }, pythonPath, document, { live: true }).done;
    this.liveRunEnded.fire(timeline);
    return timeline;
  }

  /** The panel's Warp toggle or the command: the next runs skip waits for timers, or do not. */
  toggleTimeWarp(warp?: boolean): boolean {
    this.warpOverride = warp ?? !this.nextRunWarped();
    this.postClock();
    void vscode.window.setStatusBarMessage(this.warpOverride
      ? vscode.l10n.t('Await Timeline: time warp on: waits for timers are skipped')
      : vscode.l10n.t('Await Timeline: time warp off: runs take their real time'), 4000);
    return this.warpOverride;
  }

  /** The clock for a run of this document: the toggle, else the setting, else the file's `@time` line, else the default. */
  private timeFor(uri: vscode.Uri, settings: RunSettings): { time?: TimeMode; defaultTime: TimeMode } {
    const time: TimeMode | undefined = this.warpOverride !== undefined ? (this.warpOverride ? 'warp' : 'real') : settings.time === 'auto' ? undefined : settings.time;
    // Workshop exercises run warped unless they say `@time real`: feedback in milliseconds, the same grade on any machine.
    return { time, defaultTime: isWorkshopCopy(uri) ? 'warp' : 'real' };
  }

  /** Whether the next run of the panel's (or the active editor's) document will be warped. */
  private nextRunWarped(): boolean {
    const uri = this.panel?.documentUri ?? vscode.window.activeTextEditor?.document.uri;
    if (!uri) return this.warpOverride ?? false;
    const { time, defaultTime } = this.timeFor(uri, readSettings(uri));
    const text = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString())?.getText();
    return resolveTimeMode(time, text, defaultTime) === 'warp';
  }

  private postClock(): void {
    const uri = this.panel?.documentUri;
    this.panel?.post(message({ type: 'clock', warp: this.nextRunWarped(), live: !!uri && this.isLive(uri) }));
  }

  /** "Stop": ends the run; what it recorded stays on the timeline. */
  async stop(): Promise<void> {
    await this.stopCurrent();
  }

  /** The serializer: VS Code brought the panel back after a reload; show the last timeline. */
  restorePanel(webviewPanel: vscode.WebviewPanel): void {
    this.panel?.dispose();
    const panel = this.newPanel((events) => TimelinePanel.restore(webviewPanel, this.context.extensionUri, events));
    const stored = loadLastTimeline(this.context.workspaceState);
    if (stored) {
      const uri = safeParseUri(stored.uri);
      panel.showStored(path.basename(uri?.path ?? 'timeline'), uri, stored.messages);
      this.shown = uri && { timeline: stored.timeline, uri };
    }
  }

  dispose(): void {
    this.stopTicking();
    void this.run?.cancel();
    this.run = undefined;
    this.pool?.pool.dispose();
    this.annotations.dispose();
    this.overlaps.dispose();
    this.stillWaiting.dispose();
    this.panel?.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
    this.statusItem.dispose();
    this.liveRunEnded.dispose();
    this.output.dispose();
    this.finished.dispose();
  }

  /** The warm runtime for these settings; a change of Node, its flags or the environment starts another. */
  private warmChild(settings: RunSettings, env: NodeJS.ProcessEnv) {
    const key = warmKey(settings);
    if (this.pool?.key !== key) {
      this.pool?.pool.dispose();
      this.pool = { key, pool: new WarmPool({ nodePath: settings.node.nodePath, runtimeArgs: settings.nodeArgs, env }) };
    }
    return this.pool.pool.take();
  }

  private start(target: RunTarget, settings: RunSettings, pythonPath: string | undefined, document: vscode.TextDocument, how: { live?: boolean } = {}): Run {
    const language = languageOf(target.file);
    const js = language !== 'python';
    const env = { ...process.env, ...settings.node.env, ...settings.env };
    const clock = how.live ? { time: 'warp' as const, defaultTime: 'warp' as const } : this.timeFor(document.uri, settings);
    const run = startRun({
      ...clock,
      file: target.file,
      source: target.source,
      cwd: target.cwd,
      args: settings.args,
      timeoutMs: settings.timeoutMs || undefined,
      blockThresholdMs: settings.blockThresholdMs,
      maxSpansPerSite: settings.maxSpansPerSite,
      maxSpans: settings.maxSpans,
      stdout: 'pipe',
      stderr: 'pipe',
      nodePath: settings.node.nodePath,
      runtimeArgs: js ? settings.nodeArgs : undefined,
      pythonPath,
      env,
      warm: js ? this.warmChild(settings, env) : undefined,
    });
    this.run = run;
    this.runTarget = target;
    const isCurrent = () => this.run === run;

    const editorColumn = editorColumnOf(target.uri);
    const created = !this.panel;
    const panel = this.panel ?? this.newPanel((events) => TimelinePanel.create(this.context.extensionUri, target.displayName, events, editorColumn));
    // A live run of the file the panel shows draws nothing until it ends: the last good chart stays
    // (and stays what Export writes and Pin pins).
    const quiet = !!how.live && panel.documentUri?.toString() === target.uri.toString() && this.shown?.uri.toString() === target.uri.toString();
    if (!quiet) this.shown = undefined;
    if (!quiet) {
      if (!created) panel.reveal(editorColumn); // a new panel is where it should be
      panel.beginRun(target.displayName, target.uri, message({ type: 'reset', file: target.displayName, language, status: 'running' }));
    }
    this.postClock();

    this.output.appendLine(`▶ ${target.displayName}`);
    for (const stream of [run.stdout, run.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (text: string) => this.output.append(text));
    }

    // Deltas are merged and sent at most every BATCH_MS: a flood of spans becomes a few messages a
    // second (a span that changed twice in between goes once, in its latest state).
    const interner = new SiteInterner();
    const pendingSpans = new Map<number, Span>();
    const pendingMarks: Mark[] = [];
    const pendingDelays: LoopDelay[] = [];
    // Spans past the budget go as the whole list of aggregates, at most as often as keeps its
    // cost (100,000 of them take a few ms) under ~5 % of the host's time.
    const aggregates = { changed: false, sentAt: -Infinity, costMs: 0 };
    let batchTimer: NodeJS.Timeout | undefined;
    const sendBatch = () => {
      batchTimer = undefined;
      if (quiet || !isCurrent()) return;
      const now = performance.now();
      const sendAggregates = aggregates.changed && now - aggregates.sentAt >= Math.max(BATCH_MS * 4, aggregates.costMs * 20);
      if (aggregates.changed && !sendAggregates) batchTimer = setTimeout(sendBatch, BATCH_MS);
      if (!pendingSpans.size && !pendingMarks.length && !pendingDelays.length && !sendAggregates) return;
      const more = { delays: pendingDelays.splice(0), ...(sendAggregates ? { aggregates: run.builder.aggregateList() } : {}) };
      this.panel?.post(encodeAppendColumns(interner, [...pendingSpans.values()], pendingMarks.splice(0), run.builder.droppedSpans, more));
      pendingSpans.clear();
      if (sendAggregates) {
        aggregates.changed = false;
        aggregates.sentAt = now;
        aggregates.costMs = performance.now() - now;
      }
    };
    run.on('update', (delta) => {
      for (const span of delta.spans) pendingSpans.set(span.id, span);
      pendingMarks.push(...delta.marks);
      pendingDelays.push(...delta.delays);
      if (delta.aggregatesChanged) aggregates.changed = true;
      batchTimer ??= setTimeout(sendBatch, BATCH_MS);
    });
    run.on('end', (timeline) => {
      clearTimeout(batchTimer); // the final timeline replaces whatever was still waiting
      if (quiet) this.onLiveEnd(run, target, timeline);
      else this.onEnd(run, target, timeline);
    });

    if (quiet) return run;
    this.statusItem.show(target.displayName);
    void vscode.commands.executeCommand('setContext', RUNNING_CONTEXT, true);
    this.tick = setInterval(() => {
      if (!isCurrent()) return;
      const now = run.elapsedMs();
      this.statusItem.update(now);
      this.panel?.post(message({ type: 'status', status: 'running', error: null, stats: null, wallMs: now, exitCode: null, nowMs: now }));
    }, TICK_MS);
    return run;
  }

  private onEnd(run: Run, target: RunTarget, timeline: Timeline): void {
    // A replaced run still ends; its timeline no longer belongs to the panel.
    if (this.run !== run) return;
    this.run = undefined;
    this.stopTicking();
    this.showFinished(target, timeline, true);
    if (timeline.error?.kind === 'spawn') void this.explainSpawnFailure(target, timeline.error.message);
    const outcome = timeline.error ? `${timeline.status}: ${timeline.error.message}` : timeline.status;
    this.output.appendLine(`■ ${target.displayName} ${outcome} (${Math.round(timeline.wallMs)} ms)`);
  }

  /** A live run ended: it replaces the chart, morphing from the previous run, which becomes its baseline. */
  private onLiveEnd(run: Run, target: RunTarget, timeline: Timeline): void {
    if (this.run !== run) return; // cancelled by a newer edit
    this.run = undefined;
    if (timeline.error?.kind === 'compile') {
      // Keep the last good chart; say where the code does not compile.
      const shown = this.shown?.timeline;
      this.panel?.post(message({
        type: 'status', status: 'failed', error: timeline.error, stats: shown?.stats ?? null,
        wallMs: shown?.wallMs ?? 0, exitCode: null, nowMs: shown?.wallMs ?? 0,
      }));
      this.annotations.show(target.uri, timeline);
      return;
    }
    const previous = this.shown?.timeline;
    if (previous) this.panel?.post(message({ type: 'baseline', baseline: encodeRun(path.basename(previous.file), previous.wallMs, previous.spans) }));
    this.showFinished(target, timeline, true);
  }

  /**
   * A run is over (ended or stopped): its final timeline goes to the panel when no other run has
   * taken it, and to the editor's annotations and the stored last run.
   */
  private showFinished(target: RunTarget, timeline: Timeline, ownsPanel: boolean): void {
    if (ownsPanel) {
      this.panel?.finishRun(timelineMessages(timeline, true));
      this.shown = { timeline, uri: target.uri };
    }
    this.annotations.show(target.uri, timeline);
    this.overlaps.show(target.uri, timeline);
    this.stillWaiting.show(target.uri, timeline);
    void saveLastTimeline(this.context.workspaceState, target.uri.toString(), timeline);
    this.finished.fire({ uri: target.uri, timeline });
  }

  private async stopCurrent(): Promise<void> {
    const run = this.run;
    const target = this.runTarget;
    if (!run) return;
    // Forgotten first, so its last deltas and its end do not reach the next run's panel.
    this.run = undefined;
    this.stopTicking();
    const timeline = await run.cancel();
    this.output.appendLine(`■ stopped after ${Math.round(timeline.wallMs)} ms`);
    // Stopped but not replaced: the panel shows how it ended.
    if (target) this.showFinished(target, timeline, !this.run);
  }

  /** Node or Python could not start: say so where the user looks, with the setting to fix it. */
  private async explainSpawnFailure(target: RunTarget, message: string): Promise<void> {
    const setting = languageOf(target.file) === 'python' ? 'pythonPath' : 'nodePath';
    const open = vscode.l10n.t('Open Settings');
    const choice = await vscode.window.showErrorMessage(vscode.l10n.t('Await Timeline could not run {0}: {1}', target.displayName, message), open);
    if (choice === open) await vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.${setting}`);
  }

  private stopTicking(): void {
    clearInterval(this.tick);
    this.tick = undefined;
    this.statusItem.hide();
    void vscode.commands.executeCommand('setContext', RUNNING_CONTEXT, false);
  }

  private newPanel(make: (events: TimelinePanelEvents) => TimelinePanel): TimelinePanel {
    const panel = make({
      onMessage: (msg) => void this.onWebviewMessage(msg),
      onDispose: () => {
        if (this.panel === panel) this.panel = undefined;
      },
    });
    this.panel = panel;
    panel.post(this.baseline.message());
    return panel;
  }

  private async onWebviewMessage(msg: Exclude<WebviewToHostMessage, { type: 'ready' }>): Promise<void> {
    switch (msg.type) {
      case 'stop':
        await this.stop();
        return;
      case 'reveal':
        await this.revealLine(msg.line, msg.column);
        return;
      case 'export':
        await exportRun(msg.kind, this.shown, !!this.run, this.context.extensionUri, this.baseline.get());
        return;
      case 'pinBaseline':
        await this.pinBaseline(msg.pin);
        return;
      case 'setTime':
        this.toggleTimeWarp(msg.warp);
        return;
    }
  }

  /**
   * A saved timeline (a `--json` file or the panel's own export) in a read-only viewer: the same
   * drawing, table, exports and baseline as the panel; `source` is the snippet it came from.
   */
  showSaved(webviewPanel: vscode.WebviewPanel, timeline: Timeline, title: string): TimelinePanel {
    const shown: ShownRun = { timeline, uri: vscode.Uri.file(timeline.file) };
    const viewer = TimelinePanel.restore(webviewPanel, this.context.extensionUri, {
      onMessage: (msg) => {
        switch (msg.type) {
          case 'reveal':
            void this.revealLine(msg.line, msg.column, shown.uri);
            return;
          case 'export':
            void exportRun(msg.kind, shown, false, this.context.extensionUri, this.baseline.get());
            return;
          case 'pinBaseline':
            void this.pinBaseline(msg.pin, shown);
            return;
        }
      },
      onDispose: () => this.viewers.delete(viewer),
    });
    this.viewers.add(viewer);
    viewer.post(this.baseline.message());
    viewer.showStored(title, shown.uri, timelineMessages(timeline, false));
    return viewer;
  }

  /** The pinned baseline changed: every view that draws it gets it. */
  private postBaseline(): void {
    const msg = this.baseline.message();
    this.panel?.post(msg);
    for (const viewer of this.viewers) viewer.post(msg);
  }

  /**
   * "Pin Run as Baseline" (pin) and "Clear Baseline": the panel compares every later run with it.
   * `which`: the run to pin (a saved timeline's viewer); by default the panel's.
   */
  async pinBaseline(pin: boolean, which?: ShownRun): Promise<void> {
    if (!pin) {
      await this.baseline.clear();
      this.postBaseline();
      return;
    }
    const shown = which ?? this.shown;
    if (!shown) {
      void vscode.window.showInformationMessage(this.run
        ? vscode.l10n.t('Await Timeline: pin the run when it has ended.')
        : vscode.l10n.t('Await Timeline: run a snippet first, then pin it as the baseline.'));
      return;
    }
    if (!(await this.baseline.pin(shown.timeline))) {
      void vscode.window.showWarningMessage(vscode.l10n.t('Await Timeline: this run has too many spans to keep as a baseline.'));
      return;
    }
    this.postBaseline();
    void vscode.window.showInformationMessage(vscode.l10n.t('Await Timeline: pinned {0} ({1}) as the baseline; the next runs are compared with it.', path.basename(shown.timeline.file), formatDuration(shown.timeline.wallMs)));
  }

  /** A bar was clicked: select that line in the run's editor, opening it again if it was closed. */
  private async revealLine(line: number, column: number, documentUri?: vscode.Uri): Promise<void> {
    const uri = documentUri ?? this.panel?.documentUri;
    if (!uri) return;
    const visible = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString());
    let document: vscode.TextDocument;
    try {
      document = visible?.document ?? (await vscode.workspace.openTextDocument(uri));
    } catch {
      // A saved timeline whose snippet is not on this machine (any more).
      void vscode.window.showInformationMessage(vscode.l10n.t('Await Timeline: {0} is not there to show line {1}.', uri.fsPath, line));
      return;
    }
    if (line > document.lineCount) return;
    const text = document.lineAt(line - 1);
    const start = Math.min(Math.max(column - 1, text.firstNonWhitespaceCharacterIndex), text.range.end.character);
    const selection = new vscode.Selection(line - 1, start, line - 1, text.range.end.character);
    const editor = await vscode.window.showTextDocument(document, {
      viewColumn: visible?.viewColumn ?? vscode.ViewColumn.One,
      selection,
      preserveFocus: false,
    });
    editor.revealRange(selection, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  /** The cursor moved: highlight that line's spans when the editor shows the run's file. */
  private onSelection(editor: vscode.TextEditor): void {
    const panel = this.panel;
    if (!panel?.documentUri) return;
    const same = editor.document.uri.toString() === panel.documentUri.toString();
    panel.postTransient(message({ type: 'cursor', line: same ? editor.selection.active.line + 1 : null }));
  }
}

/** A learner's copy of a workshop exercise (Open Workshop Exercise puts them in global storage). */
function safeParseUri(s: string): vscode.Uri | undefined {
  try {
    return vscode.Uri.parse(s, true);
  } catch {
    return undefined;
  }
}

/** The column of the editor that shows this document: the active editor's if it does, else a visible one's. */
function editorColumnOf(uri: vscode.Uri): vscode.ViewColumn | undefined {
  const key = uri.toString();
  const active = vscode.window.activeTextEditor;
  if (active?.document.uri.toString() === key) return active.viewColumn;
  return vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === key)?.viewColumn;
}
