/**
 * CSV: one row per attempt, RFC 4180 (CRLF line ends, fields with a comma, quote or line break quoted,
 * quotes doubled). Column names are the JSON contract's field names, flattened with dots, so a script
 * can move between the two formats without a mapping table.
 */
import { listedAttempts } from '../listed-attempts.js';
import type { AnalysisReport, InputSummary } from '../types.js';
import { attemptToJson, type JsonAttempt } from './json.js';

type Cell = string | number | boolean | null;

/** Column name → how to read it from the contract object. The one list of CSV columns. */
const COLUMNS: ReadonlyArray<readonly [string, (a: JsonAttempt, inputs: readonly InputSummary[]) => Cell]> = [
  ['id', (a) => a.id],
  ['ipVersion', (a) => a.ipVersion],
  ['client.ip', (a) => a.client.ip],
  ['client.port', (a) => a.client.port],
  ['server.ip', (a) => a.server.ip],
  ['server.port', (a) => a.server.port],
  ['outcome', (a) => a.outcome],
  ['firstSyn', (a) => a.firstSyn],
  ['firstSynAck', (a) => a.firstSynAck],
  ['ack', (a) => a.ack],
  ['rst', (a) => a.rst],
  ['synToSynAckMs', (a) => a.synToSynAckMs],
  ['synAckToAckMs', (a) => a.synAckToAckMs],
  ['synRetransmits', (a) => a.synRetransmits],
  ['synAckRetransmits', (a) => a.synAckRetransmits],
  ['synAckAckMatches', (a) => a.synAckAckMatches],
  ['clientIsn', (a) => a.clientIsn],
  ['serverIsn', (a) => a.serverIsn],
  // Lists inside one cell are space-separated: no quoting needed, and a spreadsheet can split them.
  ['interfaces', (a) => a.interfaces.join(' ')],
  ['divertedTo', (a) => a.divertedTo.map((e) => (e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`)).join(' ')],
  ['synWithData', (a) => a.synWithData],
  ['simultaneousOpen', (a) => a.simultaneousOpen],
  ['tunnel.kind', (a) => a.tunnel?.kind ?? null],
  ['tunnel.outerSrc', (a) => a.tunnel?.outerSrc ?? null],
  ['tunnel.outerDst', (a) => a.tunnel?.outerDst ?? null],
  ['tunnel.id', (a) => a.tunnel?.id ?? null],
  ['inputIndex', (a) => a.inputIndex],
  ['input', (a, inputs) => inputs[a.inputIndex]?.path ?? null],
];

export const CSV_COLUMNS: readonly string[] = COLUMNS.map(([name]) => name);

/** One RFC 4180 field. Null is the empty field. */
export function csvField(value: Cell): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The CSV report: a header row, then one row per attempt kept in the report. */
export function renderCsv(report: AnalysisReport): string {
  const lines = [CSV_COLUMNS.map(csvField).join(',')];
  for (const attempt of listedAttempts(report)) {
    const json = attemptToJson(attempt, report.timeBaseSec);
    lines.push(COLUMNS.map(([, read]) => csvField(read(json, report.inputs))).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}
