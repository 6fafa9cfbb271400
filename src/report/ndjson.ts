/**
 * NDJSON: one attempt per line, the same object as in the JSON report's attempts[], so a consumer can
 * switch between the streamed and the whole-report form without a second parser.
 */
import { listedAttempts } from '../listed-attempts.js';
import type { AnalysisReport, Attempt } from '../types.js';
import { attemptToJson } from './json.js';

/** One attempt as one line of JSON, without the trailing newline (the writer adds it). */
export function renderAttemptNdjson(attempt: Attempt, timeBaseSec: number): string {
  return JSON.stringify(attemptToJson(attempt, timeBaseSec));
}

/** Every attempt kept in a finished report, one per line (the CLI streams instead, as they are decided). */
export function renderNdjson(report: AnalysisReport): string {
  let out = '';
  for (const attempt of listedAttempts(report)) out += `${renderAttemptNdjson(attempt, report.timeBaseSec)}\n`;
  return out;
}
