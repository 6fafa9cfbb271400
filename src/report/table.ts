/**
 * The terminal report: the verdict first, in one paragraph, then cli-table3 tables. Colour is the
 * caller's decision (the CLI weighs TTY, NO_COLOR and --color); without it no escape code is written.
 */
import Table from 'cli-table3';
import type { AnalysisReport } from '../types.js';
import {
  DEFAULT_LIMIT,
  clientRows,
  emptyReason,
  failedAttemptRows,
  findingRows,
  inputRows,
  outcomeRows,
  packetRows,
  serverRows,
  verdictParts,
  type RenderOptions,
  type Rows,
} from './rows.js';

type Paint = (text: string) => string;

interface Palette {
  bold: Paint;
  red: Paint;
  green: Paint;
  yellow: Paint;
  dim: Paint;
}

const sgr =
  (open: number, close: number): Paint =>
  (text) =>
    `\u001b[${open}m${text}\u001b[${close}m`;

const COLOURS: Palette = {
  bold: sgr(1, 22),
  red: sgr(31, 39),
  green: sgr(32, 39),
  yellow: sgr(33, 39),
  dim: sgr(2, 22),
};
const identity: Paint = (text) => text;
const PLAIN: Palette = { bold: identity, red: identity, green: identity, yellow: identity, dim: identity };

/** Wraps a paragraph at `width` columns on spaces (long words stay whole). */
export function wrapParagraph(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line === '') line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line !== '') lines.push(line);
  return lines.join('\n');
}

/** Terminal width the tables are fitted to; long cells wrap inside their column. */
const TABLE_WIDTH = 110;

/**
 * Column widths (content + 2 padding) that fit `maxWidth` where the text allows: the widest columns give
 * up space first, and no column shrinks below its longest word, because cli-table3 truncates a word that
 * does not fit (an address cut to "10.244.2.7:…" would hide the evidence). A table of long unbreakable
 * cells stays wider than `maxWidth`, and the terminal wraps it.
 */
export function fitColumnWidths(rows: Rows, maxWidth: number): number[] {
  const cells = (i: number) => [rows.head[i] ?? '', ...rows.rows.map((r) => r[i] ?? '')];
  const widths = rows.head.map((_, i) => Math.max(...cells(i).map((c) => c.length)) + 2);
  const floors = rows.head.map((_, i) => Math.max(...cells(i).flatMap((c) => c.split(/\s+/)).map((w) => w.length)) + 2);
  let excess = widths.reduce((a, b) => a + b, 0) + widths.length + 1 - maxWidth;
  while (excess > 0) {
    // The column with the most room above its floor gives one character at a time.
    let best = -1;
    for (let i = 0; i < widths.length; i++) {
      if (widths[i]! > floors[i]! && (best < 0 || widths[i]! - floors[i]! > widths[best]! - floors[best]!)) best = i;
    }
    if (best < 0) break;
    widths[best]!--;
    excess--;
  }
  return widths;
}

function section(title: string, rows: Rows, paint: Palette, color: boolean): string {
  const table = new Table({
    head: rows.head,
    colWidths: fitColumnWidths(rows, TABLE_WIDTH),
    wordWrap: true,
    // No rule between body rows: denser, and wrapped cells still read as one row.
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    // cli-table3 colours headers and borders by default; an empty style list writes plain text.
    style: { head: color ? ['cyan'] : [], border: color ? ['grey'] : [] },
  });
  for (const row of rows.rows) table.push(row);
  return `${paint.bold(title)}\n${table.toString()}`;
}

/** The terminal report: verdict paragraph, then the tables. */
export function renderTable(report: AnalysisReport, options: RenderOptions = {}): string {
  const color = options.color === true;
  const paint = color ? COLOURS : PLAIN;
  const limit = options.limit ?? DEFAULT_LIMIT;
  const out: string[] = [];

  const verdict = verdictParts(report);
  const verdictColour =
    report.diagnosis.verdict !== 'none' ? paint.red : report.summary.failed > 0 ? paint.yellow : paint.green;
  let paragraph = verdict.text;
  if (verdict.fix !== null) paragraph += ` Fix: ${verdict.fix.summary}`;
  const verdictBlock = [paint.bold(verdictColour(verdict.headline)), wrapParagraph(paragraph, 100)];
  if (verdict.fix !== null) {
    // Commands on their own lines, so they can be copied as they are.
    for (const command of verdict.fix.commands) verdictBlock.push(`    ${paint.bold(command)}`);
    if (verdict.fix.confirm !== '') verdictBlock.push(wrapParagraph(`Confirm: ${verdict.fix.confirm}`, 100));
  }
  out.push(verdictBlock.join('\n'));

  out.push(section('Inputs', inputRows(report), paint, color));
  out.push(section('Packets', packetRows(report), paint, color));
  if (emptyReason(report) !== null) return `${out.join('\n\n')}\n`;

  out.push(section('Outcomes', outcomeRows(report), paint, color));
  if (report.diagnosis.findings.length > 0) out.push(section('Findings', findingRows(report), paint, color));

  const failed = failedAttemptRows(report, limit);
  if (failed.total === 0) {
    out.push(`${paint.bold('Failed attempts')}\nNone.`);
  } else {
    const title =
      failed.shown < failed.total
        ? `Failed attempts (first ${failed.shown} of ${failed.total}; --limit to see more, --format json for all)`
        : `Failed attempts (${failed.total})`;
    out.push(failed.shown > 0 ? section(title, failed.table, paint, color) : `${paint.bold(title)}`);
  }
  if (report.statistics.servers.length > 0) out.push(section('Per server endpoint', serverRows(report, limit), paint, color));
  if (report.statistics.clients.length > 0) out.push(section('Per client host', clientRows(report, limit), paint, color));
  if (report.attemptsOmitted > 0) {
    out.push(paint.dim(`${report.attemptsOmitted} attempts were counted but not kept (--max-attempts).`));
  }
  return `${out.join('\n\n')}\n`;
}

