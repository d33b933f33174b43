// The files a run exports to (Chrome trace JSON, SVG image, HTML report, OTLP/JSON traces): their text and the
// name they get by default, for the CLI and the panel's Export buttons alike.
import * as path from 'node:path';

import type { Timeline } from '../shared/timeline';
import { htmlReportFrom } from './exportHtml';
import { renderSvg } from './exportSvg';
import { toChromeTrace } from './exportTrace';
import { toOtlp } from './exportOtlp';

export type ExportKind = 'trace' | 'svg' | 'html' | 'otlp';

export interface ExportFormat {
  /** What the save dialog's filter calls it. */
  name: string;
  /** File extensions for the filter, without dots. */
  extensions: string[];
  /** Added to the snippet's base name for the default file name. */
  suffix: string;
}

export const EXPORT_FORMATS: Record<ExportKind, ExportFormat> = {
  trace: { name: 'Chrome trace JSON (Perfetto)', extensions: ['json'], suffix: '.trace.json' },
  svg: { name: 'SVG image', extensions: ['svg'], suffix: '.timeline.svg' },
  html: { name: 'HTML report', extensions: ['html', 'htm'], suffix: '.timeline.html' },
  otlp: { name: 'OTLP/JSON traces (Jaeger, Tempo, any OpenTelemetry viewer)', extensions: ['json'], suffix: '.otlp.json' },
};

/**
 * The export's text. `root` holds dist/webview/main.js and media/timeline.css (the HTML report's
 * renderer); the HTML report also draws `baseline` when given, as the panel does. `all`: the SVG
 * shows every span on its own row instead of the compacted rows.
 */
export function exportText(kind: ExportKind, timeline: Timeline, root: string, baseline?: Timeline, options: { all?: boolean } = {}): string {
  switch (kind) {
    case 'trace':
      return JSON.stringify(toChromeTrace(timeline)) + '\n';
    case 'svg':
      return renderSvg(timeline, { all: options.all });
    case 'html':
      return htmlReportFrom(root, timeline, baseline);
    case 'otlp':
      return JSON.stringify(toOtlp(timeline)) + '\n';
  }
}

/** Next to the snippet: `dir/chefs.ts` → `dir/chefs.trace.json`. */
export function defaultExportPath(file: string, kind: ExportKind): string {
  const base = path.basename(file, path.extname(file)) || 'timeline';
  return path.join(path.dirname(file), base + EXPORT_FORMATS[kind].suffix);
}
