/** The `synscope merge` command: read node reports, print the fleet report, choose the exit status. */
import { EXIT_CODES } from '../cli/options.js';
import { ReportOutput } from '../cli/output.js';
import { FAILED_OUTCOMES } from '../types.js';
import type { ReportFormat } from '../report/index.js';
import { mergeReportFiles } from './index.js';
import { renderFleetReport } from './render.js';

export interface MergeCommand {
  reports: string[];
  format: ReportFormat;
  output: string | undefined;
  limit: number;
  color: boolean;
  stderr: { write(text: string): unknown };
}

/**
 * Exit status: 2 when any report was missing or invalid (named on stderr; the others are still merged
 * and printed), else 1 when the fleet saw failed handshakes, else 0 — the same order as analyze, where a
 * bad input outranks findings.
 */
export async function runMerge(command: MergeCommand): Promise<number> {
  const { report, rejected } = await mergeReportFiles(command.reports);
  for (const r of rejected) command.stderr.write(`synscope: merge: ${r.status} report for node ${r.node}: ${r.error}\n`);
  if (report === null) {
    command.stderr.write('synscope: merge: no report could be merged\n');
    return EXIT_CODES.USAGE_OR_INPUT;
  }
  const output = new ReportOutput(command.output);
  output.write(renderFleetReport(report, command.format, { color: command.color, limit: command.limit }));
  output.close();
  if (output.closed) return EXIT_CODES.OK;
  if (rejected.length > 0) return EXIT_CODES.USAGE_OR_INPUT;
  return FAILED_OUTCOMES.some((o) => report.summary.byOutcome[o] > 0) ? EXIT_CODES.FAILURES : EXIT_CODES.OK;
}
