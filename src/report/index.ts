/**
 * Report renderers: pure functions from an AnalysisReport to a string. REPORT_FORMATS is the one list of
 * formats; the CLI's --format choices come from it.
 */
import type { AnalysisReport } from '../types.js';
import { renderCsv } from './csv.js';
import { renderHtml } from './html.js';
import { renderJson, renderJsonPieces } from './json.js';
import { renderMarkdown } from './markdown.js';
import { renderNdjson } from './ndjson.js';
import type { RenderOptions } from './rows.js';
import { renderTable } from './table.js';

import { REPORT_FORMATS, type ReportFormat } from './formats.js';

export { REPORT_FORMATS, type ReportFormat };

const RENDERERS: Record<ReportFormat, (report: AnalysisReport, options: RenderOptions) => string> = {
  table: renderTable,
  json: (report) => renderJson(report),
  ndjson: (report) => renderNdjson(report),
  markdown: renderMarkdown,
  html: renderHtml,
  csv: (report) => renderCsv(report),
};

export function isReportFormat(name: string): name is ReportFormat {
  return (REPORT_FORMATS as readonly string[]).includes(name);
}

/**
 * renderReport's text in pieces whose concatenation is that text: the CLI writes them as they come, so a
 * report listing many attempts is never one string in memory.
 */
export function* renderReportPieces(report: AnalysisReport, format: ReportFormat, options: RenderOptions = {}): Generator<string> {
  if (format === 'json') yield* renderJsonPieces(report);
  else yield renderReport(report, format, options);
}

/** Renders `report` in `format`. Pure: no I/O, the same report always gives the same string. */
export function renderReport(report: AnalysisReport, format: ReportFormat, options: RenderOptions = {}): string {
  return RENDERERS[format](report, options);
}

export type { RenderOptions } from './rows.js';
export { DEFAULT_LIMIT } from './rows.js';
export { renderTable } from './table.js';
export { renderJson, renderJsonPieces, toJsonContract, attemptToJson } from './json.js';
export type { JsonReport, JsonAttempt, JsonInput, JsonFinding, JsonEndpoint } from './json.js';
export { renderAttemptNdjson, renderNdjson } from './ndjson.js';
export { renderMarkdown, escapeMarkdown, escapeMarkdownCell } from './markdown.js';
export { renderHtml } from './html.js';
export { escapeHtml } from './html-escape.js';
export { renderCsv, csvField, CSV_COLUMNS } from './csv.js';
export { formatEpochNs, formatRelativeNs } from '../time.js';
