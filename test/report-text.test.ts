import { describe, expect, it } from 'vitest';
import {
  CSV_COLUMNS,
  REPORT_FORMATS,
  escapeMarkdown,
  renderCsv,
  renderJson,
  renderMarkdown,
  renderReport,
  renderTable,
  toJsonContract,
} from '../src/report/index.js';
import { csvField } from '../src/report/csv.js';
import { codeBlock, inlineCode } from '../src/report/markdown.js';
import { FAILED_OUTCOMES, type AnalysisReport } from '../src/types.js';
import { emptyReport, sampleIncidentReport } from './helpers/sample-report.js';

const ANSI = /\u001b\[/;

/** A report whose capture-derived strings try every trick against the text formats. */
function hostileReport(): AnalysisReport {
  const report = sampleIncidentReport();
  report.inputs[0]!.path = 'caps/a|b `x` *bold* <img src=x onerror=alert(1)>\nsecond-line.pcap';
  report.inputs[0]!.warnings.push('weird | warning with "quotes", commas');
  report.diagnosis.findings[0]!.summary = '41 | of 42 <b>failed</b> _on_ [ports](javascript:alert(1))';
  report.diagnosis.findings[0]!.fix!.commands.push('echo ``` && echo done');
  report.statistics.servers[0]!.endpoint = '10.0.0.1:80|x';
  return report;
}

/** RFC 4180 reader for the round-trip test (independent of the writer). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  if (field !== '' || row.length > 0) throw new Error('CSV does not end with CRLF');
  return rows;
}

describe('renderReport dispatcher', () => {
  it('renders every format it lists, for an incident and an empty capture', () => {
    expect([...REPORT_FORMATS]).toEqual(['table', 'json', 'ndjson', 'markdown', 'html', 'csv']);
    for (const format of REPORT_FORMATS) {
      const incident = renderReport(sampleIncidentReport(), format, { color: false, limit: 5 });
      expect(incident.length, format).toBeGreaterThan(100);
      expect(() => renderReport(emptyReport(), format, {})).not.toThrow();
    }
    expect(renderReport(sampleIncidentReport(), 'json')).toBe(renderJson(sampleIncidentReport()));
  });

  it('is pure: the report is not modified and the output is the same twice', () => {
    const report = sampleIncidentReport();
    const before = structuredClone(report);
    for (const format of REPORT_FORMATS) {
      expect(renderReport(report, format, { limit: 3 })).toBe(renderReport(report, format, { limit: 3 }));
    }
    expect(report).toEqual(before);
  });
});

describe('table', () => {
  it('opens with the verdict paragraph: cause, confidence, fix', () => {
    const out = renderTable(sampleIncidentReport(), { color: false });
    const firstParagraph = out.split('\n\n')[0]!;
    expect(firstParagraph.split('\n')[0]).toBe('Verdict: nodeport-collision (confirmed)');
    expect(firstParagraph).toContain('failed');
    expect(firstParagraph.replace(/\n/g, ' ')).toContain('sysctl -w net.ipv4.ip_local_reserved_ports=30000-32767');
    expect(out.indexOf('Verdict')).toBeLessThan(out.indexOf('Outcomes'));
  });

  it('writes no colour codes unless asked, and colour when asked', () => {
    const plain = renderTable(sampleIncidentReport(), { color: false });
    expect(plain).not.toMatch(ANSI);
    expect(renderTable(sampleIncidentReport())).not.toMatch(ANSI);
    expect(renderTable(emptyReport(), { color: false })).not.toMatch(ANSI);
    expect(renderTable(sampleIncidentReport(), { color: true })).toMatch(ANSI);
  });

  it('lists the first --limit failed attempts and says how many there are', () => {
    const report = sampleIncidentReport();
    const failed = report.attempts.filter((a) => FAILED_OUTCOMES.includes(a.outcome));
    const out = renderTable(report, { color: false, limit: 3 });
    expect(out).toContain(`Failed attempts (first 3 of ${failed.length}`);
    for (const a of failed.slice(0, 3)) expect(out).toContain(`${a.client.ip}:${a.client.port}`);
    expect(out).not.toContain(`${failed[3]!.client.ip}:${failed[3]!.client.port} `);
    expect(out).toContain('Per server endpoint');
    expect(out).toContain('Per client host');
    expect(out).toContain('10.96.14.200:8080');
  });

  it('says plainly when there is no TCP or no handshake', () => {
    const out = renderTable(emptyReport(), { color: false });
    expect(out).toContain('No TCP was found in the 12 packets read');
    expect(out).not.toContain('Failed attempts');
    const noPackets = emptyReport();
    noPackets.packets.total = 0;
    expect(renderTable(noPackets, { color: false })).toContain('No packets were read');
    const noSyn = emptyReport();
    noSyn.packets.tcp = 5;
    expect(renderTable(noSyn, { color: false })).toContain('No TCP handshake attempt (no SYN) was seen in the 5 TCP packets');
  });

  it('says when nothing failed', () => {
    const report = emptyReport();
    report.packets.tcp = 30;
    report.summary.attempts = 10;
    report.summary.byOutcome.established = 10;
    const out = renderTable(report, { color: false });
    expect(out.split('\n')[0]).toBe('Verdict: no failed handshake');
    expect(out).toContain('Failed attempts\nNone.');
  });
});

describe('markdown', () => {
  it('has the incident sections in order', () => {
    const md = renderMarkdown(sampleIncidentReport(), { limit: 5 });
    const sections = ['## synscope', '### Fix', '### Evidence', '### Outcomes', '### Failed attempts', '### How this was analysed'];
    const positions = sections.map((s) => md.indexOf(s));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(md).toContain('```sh\nsysctl -w net.ipv4.ip_local_reserved_ports=30000-32767');
    expect(md).toContain('synscope 0.1.0');
    expect(md).toContain('`--ack-timeout 3 --max-pending 500000');
    expect(md).toContain('--nodeport-range 30000-32767');
    expect(md).toContain('captures/node-a.pcap1.gz (pcapng, gzip, 2702 packets, truncated)');
    expect(md).toContain('2024-03-07 10:15:00.000000000 UTC to');
  });

  it('keeps every table row at its column count, whatever the data holds', () => {
    const md = renderMarkdown(hostileReport(), { limit: 50 });
    const lines = md.split('\n');
    let i = 0;
    let tables = 0;
    while (i < lines.length) {
      if (lines[i]!.startsWith('| ') && lines[i + 1]?.startsWith('| --- ')) {
        tables++;
        // Unescaped pipes only: an escaped \| stays inside its cell.
        const columns = (line: string) => line.replace(/\\\\/g, '').replace(/\\\|/g, '').split('|').length;
        const width = columns(lines[i]!);
        while (i < lines.length && lines[i]!.startsWith('|')) {
          expect(columns(lines[i]!), lines[i]).toBe(width);
          i++;
        }
      } else i++;
    }
    expect(tables).toBeGreaterThanOrEqual(5);
  });

  it('escapes markup and HTML that came from the capture', () => {
    const md = renderMarkdown(hostileReport());
    expect(md).not.toContain('<img');
    expect(md).not.toContain('<b>');
    expect(md).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(md).toContain('41 \\| of 42 &lt;b&gt;failed&lt;/b&gt; \\_on\\_ \\[ports\\](javascript:alert(1))');
    expect(md).toContain('10.0.0.1:80\\|x');
    // The fence grows past the backticks inside the commands.
    expect(md).toContain('````sh\n');
    expect(escapeMarkdown('# not a heading')).toBe('\\# not a heading');
    expect(escapeMarkdown('1. not a list')).toBe('1\\. not a list');
    expect(escapeMarkdown('a\\b')).toBe('a\\\\b');
    expect(inlineCode('a `b` c')).toBe('``a `b` c``');
    expect(codeBlock(['x'])).toBe('```\nx\n```');
  });

  it('renders an empty capture without evidence tables', () => {
    const md = renderMarkdown(emptyReport());
    expect(md).toContain('No TCP was found');
    expect(md).not.toContain('### Evidence');
    expect(md).toContain('### How this was analysed');
  });
});

describe('csv', () => {
  it('quotes as RFC 4180 says', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\r')).toBe('"cr\r"');
    expect(csvField(null)).toBe('');
    expect(csvField(false)).toBe('false');
    expect(csvField(0)).toBe('0');
  });

  it('writes a header and one row per attempt that round-trip through a CSV reader', () => {
    const report = hostileReport();
    report.inputs[1]!.path = 'odd, "name"\r\n.pcapng';
    const csv = renderCsv(report);
    expect(csv.endsWith('\r\n')).toBe(true);
    const rows = parseCsv(csv);
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    expect(rows).toHaveLength(report.attempts.length + 1);
    const json = toJsonContract(report);
    const col = (name: string) => CSV_COLUMNS.indexOf(name);
    for (let i = 0; i < json.attempts.length; i++) {
      const row = rows[i + 1]!;
      const a = json.attempts[i]!;
      expect(row).toHaveLength(CSV_COLUMNS.length);
      expect(row[col('id')]).toBe(String(a.id));
      expect(row[col('client.ip')]).toBe(a.client.ip);
      expect(row[col('client.port')]).toBe(String(a.client.port));
      expect(row[col('outcome')]).toBe(a.outcome);
      expect(row[col('firstSyn')]).toBe(a.firstSyn);
      expect(row[col('firstSynAck')]).toBe(a.firstSynAck ?? '');
      expect(row[col('divertedTo')]).toBe(a.divertedTo.map((e) => `${e.ip}:${e.port}`).join(' '));
      expect(row[col('input')]).toBe(report.inputs[a.inputIndex]!.path);
    }
  });

  it('writes only the header for an empty capture', () => {
    expect(renderCsv(emptyReport())).toBe(`${CSV_COLUMNS.join(',')}\r\n`);
  });
});
