/** `synscope merge`: node reports in, one fleet report out. */
import type { AnalysisReport, FleetNode } from '../types.js';
import { loadNodeReport, type LoadedReport, type RejectedReport } from './load.js';
import { mergeReports } from './merge.js';

export interface MergeResult {
  /** The fleet report, or null when no report could be merged. */
  report: AnalysisReport | null;
  /** Reports that were missing or invalid, in the order given (also in report.fleet.nodes). */
  rejected: Array<Pick<FleetNode, 'node' | 'report' | 'status' | 'error'>>;
}

/** Reads every report (in the order given), merges the valid ones, names the rest. Never throws for a bad file. */
export async function mergeReportFiles(paths: string[]): Promise<MergeResult> {
  const results = await Promise.all(paths.map(loadNodeReport));
  const loaded = results.filter((r): r is LoadedReport => !('error' in r));
  const rejected = results.filter((r): r is RejectedReport => 'error' in r);
  return {
    report: loaded.length === 0 ? null : mergeReports(loaded, rejected, paths),
    rejected: rejected.map((r) => ({ node: r.node, report: r.path, status: r.status, error: r.error.describe() })),
  };
}

export { mergeReports } from './merge.js';
export { loadNodeReport, parseNodeReport, parseIsoNs, nodeNameFromPath } from './load.js';
export type { LoadedReport, RejectedReport } from './load.js';
export { renderFleetReport, fleetNodeRows, fleetFindingRows } from './render.js';
