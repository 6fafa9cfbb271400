/**
 * A fleet report in every format: the report renderers do the body (the merged report has their
 * AnalysisReport shape); this adds the fleet section — one row per node, and which nodes show each
 * finding — where each format puts its first section. JSON carries `fleet` in the contract itself; CSV
 * and NDJSON list attempts, whose input column already names the node.
 */
import { escapeHtml, escapeMarkdown, renderReport, type RenderOptions, type ReportFormat } from '../report/index.js';
import { markdownTable } from '../report/markdown.js';
import type { Rows } from '../report/rows.js';
import type { AnalysisReport, FleetSummary } from '../types.js';

export function renderFleetReport(report: AnalysisReport, format: ReportFormat, options: RenderOptions = {}): string {
  const body = renderReport(report, format, options);
  const fleet = report.fleet;
  if (fleet === undefined) return body;
  switch (format) {
    case 'table':
      return `${fleetText(fleet)}\n${body}`;
    case 'markdown': {
      const section = fleetMarkdown(fleet);
      const at = body.indexOf('\n### ');
      return at < 0 ? `${body}\n${section}\n` : `${body.slice(0, at)}\n\n${section}${body.slice(at)}`;
    }
    case 'html': {
      const section = fleetHtml(fleet);
      const at = body.indexOf('<section id="findings">');
      const end = body.lastIndexOf('</main>');
      const where = at >= 0 ? at : end;
      return where < 0 ? body + section : `${body.slice(0, where)}${section}\n${body.slice(where)}`;
    }
    default:
      return body;
  }
}

/** One row per node report given: merged, or why not, with its sysctls when known. */
export function fleetNodeRows(fleet: FleetSummary): Rows {
  const range = (r: [number, number] | null): string => (r === null ? 'unknown' : `${r[0]}-${r[1]}`);
  const reserved = (r: Array<[number, number]> | null): string =>
    r === null ? 'unknown' : r.length === 0 ? 'none' : r.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',');
  return {
    head: ['Node', 'Report', 'Status', 'Attempts', 'Failed', 'Verdict', 'ip_local_port_range', 'ip_local_reserved_ports'],
    rows: fleet.nodes.map((n) => [
      n.node,
      n.report,
      n.status,
      n.status === 'merged' ? String(n.attempts) : '',
      n.status === 'merged' ? String(n.failed) : '',
      n.verdict ?? '',
      n.status === 'merged' ? range(n.localPortRange) : '',
      n.status === 'merged' ? reserved(n.reservedPorts) : '',
    ]),
  };
}

/** Which nodes show each finding. */
export function fleetFindingRows(fleet: FleetSummary): Rows {
  return {
    head: ['Cause', 'Confidence', 'Nodes', 'Which'],
    rows: fleet.findings.map((f) => [f.cause, f.confidence, `${f.nodes.length} of ${fleet.merged}`, f.nodes.join(', ')]),
  };
}

function fleetText(fleet: FleetSummary): string {
  const lines = [`Fleet: ${fleet.merged} of ${fleet.given} node reports merged`];
  lines.push(textTable(fleetNodeRows(fleet)));
  for (const n of fleet.nodes) if (n.error !== null) lines.push(`  ${n.node}: ${n.error}`);
  lines.push('Findings by node:');
  lines.push(fleet.findings.length === 0 ? '  none' : textTable(fleetFindingRows(fleet)));
  return `${lines.join('\n')}\n`;
}

/** Plain aligned columns (no colour, no borders): the fleet part stays readable in any log. */
function textTable(rows: Rows): string {
  const all = [rows.head, ...rows.rows];
  const widths = rows.head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => `  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}`.trimEnd()).join('\n');
}

function fleetMarkdown(fleet: FleetSummary): string {
  return [
    `### Fleet: ${fleet.merged} of ${fleet.given} node reports merged`,
    markdownTable(fleetNodeRows(fleet)),
    ...fleet.nodes.filter((n) => n.error !== null).map((n) => `- **${escapeMarkdown(n.node)}** (${n.status}): ${escapeMarkdown(n.error!)}`),
    '#### Findings by node',
    markdownTable(fleetFindingRows(fleet)),
  ].join('\n\n');
}

function fleetHtml(fleet: FleetSummary): string {
  const table = (rows: Rows): string =>
    rows.rows.length === 0
      ? '<p>None.</p>'
      : `<table><thead><tr>${rows.head.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('')}</tr></thead>\n<tbody>\n${rows.rows
          .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`)
          .join('\n')}\n</tbody></table>`;
  return [
    '<section id="fleet">',
    `<h2>Fleet: ${fleet.merged} of ${fleet.given} node reports merged</h2>`,
    table(fleetNodeRows(fleet)),
    ...fleet.nodes.filter((n) => n.error !== null).map((n) => `<p class="meta">${escapeHtml(n.node)} (${n.status}): ${escapeHtml(n.error!)}</p>`),
    '<h3>Findings by node</h3>',
    table(fleetFindingRows(fleet)),
    '</section>',
  ].join('\n');
}
