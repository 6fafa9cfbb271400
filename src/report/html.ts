/**
 * One self-contained HTML file: inline CSS, inline SVG charts, no script, no external resource. A
 * Content-Security-Policy forbids every fetch, so the page behaves the same offline, attached to a ticket
 * or opened from a mail. All text from the capture goes through escapeHtml.
 */
import type { AnalysisReport, Finding } from '../types.js';
import { clientPortChart, latencyChart, timelineChart } from './charts.js';
import { escapeHtml } from './html-escape.js';
import {
  DEFAULT_LIMIT,
  analysisFacts,
  clientRows,
  emptyReason,
  evidenceRows,
  failedAttemptRows,
  findingRows,
  inputRows,
  outcomeRows,
  packetRows,
  serverRows,
  verdictFinding,
  verdictParts,
  type RenderOptions,
  type Rows,
} from './rows.js';

const STYLE = `
:root { color-scheme: light; --fg: #1d2330; --muted: #5a6372; --line: #d8dde6; --all: #7f9cc4; --failed: #c7372f;
  --nodeport: #f6d9a8; --ephemeral: #9bbf8f; --latency: #6b8fbf; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: #fff; }
main { max-width: 1000px; margin: 0 auto; padding: 24px; }
h1 { font-size: 1.6em; margin: 0 0 4px; }
h2 { font-size: 1.25em; margin: 32px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 1.05em; margin: 20px 0 6px; }
.meta { color: var(--muted); margin: 0; }
.verdict { border-left: 6px solid var(--muted); background: #f5f7fa; padding: 12px 16px; margin-top: 20px; }
.verdict.bad { border-color: var(--failed); background: #fcf1f0; }
.verdict.warn { border-color: #d99a21; background: #fdf7ea; }
.verdict.good { border-color: #3c8d4a; background: #eff8f0; }
.verdict h2 { border: 0; margin: 0 0 6px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 0.92em; width: 100%; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; overflow-wrap: break-word; }
th { background: #f0f3f7; }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f0f3f7; padding: 8px 12px; overflow-x: auto; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em; }
figure { margin: 16px 0; }
figcaption { color: var(--muted); font-size: 0.9em; }
svg.chart { max-width: 100%; height: auto; font: 11px system-ui, sans-serif; }
svg .grid { stroke: #eceff4; }
svg .axis { stroke: #8a93a3; }
svg .tick, svg .legend { fill: var(--muted); }
svg .axis-label { fill: var(--fg); font-size: 12px; }
svg .bar-all { fill: var(--all); }
svg .bar-failed { fill: var(--failed); }
svg .bar-latency { fill: var(--latency); }
svg .nodeport { fill: var(--nodeport); fill-opacity: 0.6; }
svg .ephemeral { fill: none; stroke: var(--ephemeral); stroke-width: 2; stroke-dasharray: 5 3; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; }
dt { font-weight: 600; }
dd { margin: 0; overflow-wrap: break-word; min-width: 0; }
`;

const NUMERIC = /^-?[\d.,]+%?$|^<0\.1%$/;

function htmlTable(rows: Rows, caption?: string): string {
  if (rows.rows.length === 0) return '<p>None.</p>';
  // Right-align a column only when every cell in it is a number (counts, shares), not mixed evidence.
  const numeric = rows.head.map((_, i) => rows.rows.every((r) => NUMERIC.test(r[i] ?? '')));
  const head = rows.head.map((h, i) => `<th scope="col"${numeric[i] ? ' class="num"' : ''}>${escapeHtml(h)}</th>`).join('');
  const body = rows.rows
    .map((row) => `<tr>${row.map((cell, i) => `<td${numeric[i] ? ' class="num"' : ''}>${escapeHtml(cell)}</td>`).join('')}</tr>`)
    .join('\n');
  const cap = caption === undefined ? '' : `<caption class="meta">${escapeHtml(caption)}</caption>`;
  return `<table>${cap}<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table>`;
}

function fixHtml(fix: NonNullable<Finding['fix']>): string {
  const out = [`<p><strong>Fix:</strong> ${escapeHtml(fix.summary)}</p>`];
  if (fix.commands.length > 0) out.push(`<pre><code>${escapeHtml(fix.commands.join('\n'))}</code></pre>`);
  if (fix.confirm !== '') out.push(`<p><strong>Confirm it worked:</strong> ${escapeHtml(fix.confirm)}</p>`);
  if (fix.caveats.length > 0) out.push(`<ul>${fix.caveats.map((c) => `<li>${escapeHtml(c)}</li>`).join('')}</ul>`);
  return out.join('\n');
}

function findingHtml(finding: Finding, isVerdict: boolean): string {
  const out = [
    `<h3>${escapeHtml(finding.cause)} <span class="meta">(${escapeHtml(finding.confidence)}${isVerdict ? ', verdict' : ''})</span></h3>`,
    `<p>${escapeHtml(finding.summary)}</p>`,
    htmlTable(evidenceRows(finding)),
  ];
  if (!isVerdict && finding.fix !== undefined) out.push(fixHtml(finding.fix));
  if (finding.nextSteps.length > 0) {
    out.push(`<p><strong>Next steps:</strong></p><ul>${finding.nextSteps.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ul>`);
  }
  return out.join('\n');
}

function figure(svg: string, caption: string): string {
  return `<figure>\n${svg}\n<figcaption>${escapeHtml(caption)}</figcaption>\n</figure>`;
}

/** The HTML report, one file. */
export function renderHtml(report: AnalysisReport, options: RenderOptions = {}): string {
  const limit = options.limit ?? DEFAULT_LIMIT;
  const verdict = verdictParts(report);
  const top = verdictFinding(report);
  const tone = top !== undefined ? 'bad' : report.summary.failed > 0 ? 'warn' : emptyReason(report) === null ? 'good' : '';
  const facts = analysisFacts(report);
  const files = report.inputs.map((i) => (i.path === '-' ? 'standard input' : i.path)).join(', ') || 'no input';

  const body: string[] = [
    '<header>',
    '<h1>synscope report</h1>',
    `<p class="meta">${escapeHtml(files)} · ${report.summary.attempts} handshake attempts · ${report.summary.failed} failed · ${escapeHtml(report.tool.name)} ${escapeHtml(report.tool.version)}</p>`,
    '</header>',
    `<section class="verdict ${tone}" id="verdict">`,
    `<h2>${escapeHtml(verdict.headline)}</h2>`,
    `<p>${escapeHtml(verdict.text)}</p>`,
    verdict.fix === null ? '' : fixHtml(verdict.fix),
    '</section>',
  ];

  if (emptyReason(report) === null) {
    const s = report.statistics;
    body.push(
      '<section id="charts">',
      '<h2>Charts</h2>',
      figure(
        clientPortChart(s.clientPorts, report.options),
        `Client source ports over 0-65535. The shaded band is the NodePort range ${report.options.nodePortRange[0]}-${report.options.nodePortRange[1]}; failed attempts are drawn in red over all attempts.`,
      ),
      figure(timelineChart(s.timeline), 'Handshake attempts (blue) and failed attempts (red) over capture time, UTC.'),
      figure(latencyChart(s.synToSynAckLatency), 'Time from the first SYN to the first SYN-ACK, for attempts that got one.'),
      '</section>',
    );

    body.push('<section id="findings">', '<h2>Findings</h2>');
    if (report.diagnosis.findings.length === 0) body.push('<p>No finding: no cause is supported by the capture.</p>');
    else {
      body.push(htmlTable(findingRows(report)));
      const ordered = top === undefined ? report.diagnosis.findings : [top, ...report.diagnosis.findings.filter((f) => f !== top)];
      for (const finding of ordered) body.push(findingHtml(finding, finding === top));
    }
    body.push('</section>');

    body.push('<section id="outcomes">', '<h2>Outcomes</h2>', htmlTable(outcomeRows(report)), '</section>');

    const failed = failedAttemptRows(report, limit);
    const title = failed.shown < failed.total ? `Failed attempts (first ${failed.shown} of ${failed.total})` : `Failed attempts (${failed.total})`;
    body.push('<section id="failed">', `<h2>${escapeHtml(title)}</h2>`, htmlTable(failed.table), '</section>');

    if (s.servers.length > 0) body.push('<section id="servers">', '<h2>Per server endpoint</h2>', htmlTable(serverRows(report)), '</section>');
    if (s.clients.length > 0) body.push('<section id="clients">', '<h2>Per client host</h2>', htmlTable(clientRows(report)), '</section>');
  }

  body.push(
    '<section id="inputs">',
    '<h2>Inputs</h2>',
    htmlTable(inputRows(report)),
    htmlTable(packetRows(report)),
    '</section>',
    '<section id="method">',
    '<h2>How this was analysed</h2>',
    `<dl>${facts.map(([label, value]) => `<dt>${escapeHtml(label)}</dt><dd>${label === 'Flags' ? `<code>${escapeHtml(value)}</code>` : escapeHtml(value)}</dd>`).join('\n')}</dl>`,
    '</section>',
  );

  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // No fetch of any kind: the report must work offline and cannot be made to call out by capture data.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    // An inline empty icon stops browsers from asking for /favicon.ico.
    '<link rel="icon" href="data:,">',
    `<title>${escapeHtml(`synscope — ${verdict.headline}`)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<main>',
    ...body.filter((line) => line !== ''),
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
