/**
 * Reading node reports for `synscope merge`: each file must be a synscope JSON report (the versioned
 * contract, schemaVersion 1). A file that cannot be read is "missing", one that is not such a report is
 * "invalid"; both are named with the reason and the rest are merged.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { ERROR_CODES, SynscopeError } from '../errors.js';
import type { JsonReport } from '../report/index.js';
import { OUTCOME_NAMES, SCHEMA_VERSION } from '../types.js';

export interface LoadedReport {
  path: string;
  /** The report's `node` stamp, else the file name without .json. */
  node: string;
  report: JsonReport;
}

export interface RejectedReport {
  path: string;
  node: string;
  status: 'missing' | 'invalid';
  error: SynscopeError;
}

/** Node name when the report carries none: the file name, e.g. /reports/node-a.json → node-a. */
export function nodeNameFromPath(path: string): string {
  return basename(path).replace(/\.json$/i, '') || path;
}

/** Reads and checks one report file; never throws for a bad file. */
export async function loadNodeReport(path: string): Promise<LoadedReport | RejectedReport> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const error = new SynscopeError(ERROR_CODES.INPUT_UNREADABLE, code === 'ENOENT' ? 'no such report file' : `cannot read: ${(e as Error).message}`, {
      file: path,
      hint: "the node's synscope run may not have finished or uploaded yet; the other reports were merged",
    });
    return { path, node: nodeNameFromPath(path), status: 'missing', error };
  }
  try {
    const report = parseNodeReport(text, path);
    return { path, node: report.node ?? nodeNameFromPath(path), report };
  } catch (e) {
    if (!(e instanceof SynscopeError)) throw e;
    return { path, node: nodeNameFromPath(path), status: 'invalid', error: e };
  }
}

/**
 * Parses and checks the fields merge relies on; throws SynscopeError BAD_REPORT naming the first field
 * that is wrong. Not a full schema validation (that is schema/report.schema.json's job in the tests).
 */
export function parseNodeReport(text: string, path: string): JsonReport {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw bad(path, `not JSON (${(e as Error).message})`, 'a JSON report written by `synscope analyze --format json`');
  }
  const r = value as Record<string, unknown>;
  if (typeof r !== 'object' || r === null || Array.isArray(r)) throw bad(path, 'not a JSON object', 'a synscope JSON report');
  const tool = r.tool as Record<string, unknown> | undefined;
  if (tool?.name !== 'synscope') throw bad(path, 'not a synscope report (tool.name is not "synscope")', 'tool.name "synscope"');
  if (r.schemaVersion !== SCHEMA_VERSION) {
    throw bad(path, `schemaVersion ${String(r.schemaVersion)} is not ${SCHEMA_VERSION}`, `schemaVersion ${SCHEMA_VERSION}`, 'write the node reports with the same synscope version as merge');
  }
  if (r.fleet !== undefined) throw bad(path, 'is a fleet report already', 'a node report', 'merge the node reports themselves, not an earlier merge');
  if (r.node !== undefined && (typeof r.node !== 'string' || r.node === '')) throw bad(path, 'node is not a non-empty string', 'node: "NAME"');
  need(path, r, 'timeBase', isIso);
  need(path, r, 'options', isObject);
  need(path, r, 'inputs', Array.isArray);
  need(path, r, 'packets', isObject);
  need(path, r, 'summary', isObject);
  need(path, r, 'attempts', Array.isArray);
  need(path, r, 'diagnosis', isObject);
  need(path, r, 'statistics', isObject);
  const summary = r.summary as Record<string, unknown>;
  for (const field of ['attempts', 'failed', 'midstreamPackets', 'orphanSynAcks', 'evicted', 'peakPending']) {
    need(path, summary, field, isCount, 'summary.');
  }
  need(path, summary, 'byOutcome', isObject, 'summary.');
  const byOutcome = summary.byOutcome as Record<string, unknown>;
  for (const o of OUTCOME_NAMES) need(path, byOutcome, o, isCount, 'summary.byOutcome.');
  const diagnosis = r.diagnosis as Record<string, unknown>;
  need(path, diagnosis, 'verdict', (v) => typeof v === 'string', 'diagnosis.');
  need(path, diagnosis, 'findings', Array.isArray, 'diagnosis.');
  const attempts = r.attempts as unknown[];
  attempts.forEach((a, i) => {
    const at = a as Record<string, unknown>;
    if (!isObject(a) || !isIso(at.firstSyn) || !isObject(at.client) || !isObject(at.server) || typeof at.outcome !== 'string') {
      throw bad(path, `attempts[${i}] is not an attempt`, 'objects with firstSyn, client, server, outcome');
    }
  });
  return value as JsonReport;
}

function need(path: string, obj: Record<string, unknown>, field: string, ok: (v: unknown) => boolean, prefix = ''): void {
  if (!ok(obj[field])) throw bad(path, `${prefix}${field} is missing or has the wrong type`, `${prefix}${field} as in schema/report.schema.json`);
}

function bad(path: string, message: string, expected: string, hint = 'pass the files written by `synscope analyze --format json`'): SynscopeError {
  return new SynscopeError(ERROR_CODES.BAD_REPORT, message, { file: path, expected, hint });
}

function isObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

const ISO = /^[+-]?\d{4,6}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

function isIso(v: unknown): boolean {
  return typeof v === 'string' && ISO.test(v) && !Number.isNaN(Date.parse(v.replace(/\.\d+Z$/, 'Z')));
}

/** An ISO 8601 UTC instant as whole epoch seconds and nanoseconds, exactly (no float rounding). */
export function parseIsoNs(iso: string): { sec: number; nsec: number } {
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/.exec(iso);
  if (m === null) return { sec: Number.NaN, nsec: 0 };
  const sec = Date.parse(`${m[1]}Z`) / 1000;
  const nsec = m[2] === undefined ? 0 : Number(m[2].padEnd(9, '0'));
  return { sec, nsec };
}
