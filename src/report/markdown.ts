/**
 * A self-contained incident section in GitHub-flavoured Markdown: verdict, evidence, fix, failed
 * attempts, and how the capture was analysed. Every string that came from the capture or the diagnosis
 * is escaped, so an address, a path or a warning can never break a table or inject HTML.
 */
import type { AnalysisReport, Finding } from '../types.js';
import {
  DEFAULT_LIMIT,
  analysisFacts,
  clientRows,
  emptyReason,
  evidenceRows,
  failedAttemptRows,
  flagList,
  outcomeRows,
  serverRows,
  verdictFinding,
  verdictParts,
  type RenderOptions,
  type Rows,
} from './rows.js';

/** Escapes text for a Markdown paragraph: inline markup, raw HTML and entities become literal. */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\\`*_[\]|~]/g, (c) => `\\${c}`)
    // & only needs escaping where it would start an entity (&amp; &#60;); "a && b" stays readable.
    .replace(/&(?=#?[a-zA-Z0-9]+;)/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r\n?|\n/g, ' ')
    // A line that starts like a heading, list item or setext underline would stop being a paragraph.
    .replace(/^(?:#|=|[-+](?=\s|$|[-+=]))/, (c) => `\\${c}`)
    .replace(/^(\d{1,9})([.)])(?=\s|$)/, (_m, digits: string, mark: string) => `${digits}\\${mark}`);
}

/** Escapes text for a table cell: as a paragraph, and line breaks kept as <br>. */
export function escapeMarkdownCell(text: string): string {
  return text
    .split(/\r\n?|\n/)
    .map(escapeMarkdown)
    .join('<br>');
}

/** An inline code span that survives backticks inside the text. */
export function inlineCode(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text.replace(/\r\n?|\n/g, ' ')}${pad}${fence}`;
}

/** A fenced code block whose fence is longer than any backtick run inside. */
export function codeBlock(lines: readonly string[], language = ''): string {
  const body = lines.join('\n');
  const longest = Math.max(2, ...(body.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${language}\n${body}\n${fence}`;
}

export function markdownTable(rows: Rows): string {
  if (rows.rows.length === 0) return '_None._';
  const line = (cells: readonly string[]) => `| ${cells.map(escapeMarkdownCell).join(' | ')} |`;
  return [line(rows.head), `|${rows.head.map(() => ' --- ').join('|')}|`, ...rows.rows.map(line)].join('\n');
}

function fixSection(fix: NonNullable<Finding['fix']>): string[] {
  const out = [escapeMarkdown(fix.summary)];
  if (fix.commands.length > 0) out.push(codeBlock(fix.commands, 'sh'));
  if (fix.confirm !== '') out.push(`**Confirm it worked:** ${escapeMarkdown(fix.confirm)}`);
  if (fix.caveats.length > 0) out.push(fix.caveats.map((c) => `- ${escapeMarkdown(c)}`).join('\n'));
  return out;
}

function findingSection(finding: Finding, isVerdict: boolean): string[] {
  const out = [`#### ${escapeMarkdown(finding.cause)} (${escapeMarkdown(finding.confidence)})${isVerdict ? ' — verdict' : ''}`];
  out.push(escapeMarkdown(finding.summary));
  out.push(markdownTable(evidenceRows(finding)));
  if (!isVerdict && finding.fix !== undefined) out.push('**Fix:**', ...fixSection(finding.fix));
  if (finding.nextSteps.length > 0) {
    out.push(`**Next steps:**\n${finding.nextSteps.map((s) => `- ${escapeMarkdown(s)}`).join('\n')}`);
  }
  return out;
}

/** The Markdown incident section. */
export function renderMarkdown(report: AnalysisReport, options: RenderOptions = {}): string {
  const limit = options.limit ?? DEFAULT_LIMIT;
  const verdict = verdictParts(report);
  const out: string[] = [`## synscope — ${escapeMarkdown(verdict.headline)}`, escapeMarkdown(verdict.text)];

  if (emptyReason(report) === null) {
    const top = verdictFinding(report);
    if (top?.fix !== undefined) out.push('### Fix', ...fixSection(top.fix));

    out.push('### Evidence');
    if (report.diagnosis.findings.length === 0) out.push('No finding: no cause is supported by the capture.');
    const ordered = top === undefined ? report.diagnosis.findings : [top, ...report.diagnosis.findings.filter((f) => f !== top)];
    for (const finding of ordered) out.push(...findingSection(finding, finding === top));

    out.push('### Outcomes', markdownTable(outcomeRows(report)));

    const failed = failedAttemptRows(report, limit);
    const title =
      failed.shown < failed.total
        ? `### Failed attempts (first ${failed.shown} of ${failed.total})`
        : `### Failed attempts (${failed.total})`;
    out.push(title, markdownTable(failed.table));

    if (report.statistics.servers.length > 0) out.push('### Per server endpoint', markdownTable(serverRows(report)));
    if (report.statistics.clients.length > 0) out.push('### Per client host', markdownTable(clientRows(report)));
  }

  out.push('### How this was analysed');
  out.push(
    analysisFacts(report)
      .map(([label, value]) =>
        label === 'Flags' ? `- **${label}:** ${inlineCode(flagList(report).join(' '))}` : `- **${label}:** ${escapeMarkdown(value)}`,
      )
      .join('\n'),
  );
  return `${out.join('\n\n')}\n`;
}
