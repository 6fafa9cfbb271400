import { describe, expect, it } from 'vitest';
import { escapeHtml, renderHtml } from '../src/report/index.js';
import { latencyBinLabels, niceTicks } from '../src/report/charts.js';
import { FAILED_OUTCOMES } from '../src/types.js';
import { emptyReport, sampleIncidentReport } from './helpers/sample-report.js';

const VOID = new Set(['meta', 'link', 'br', 'hr', 'img', 'input', 'col', 'wbr']);

/**
 * Checks that every element is closed in order (self-closing SVG elements allowed). A broken nesting is
 * what makes a browser re-parent content and log nothing, so it is checked here rather than in Chromium.
 */
function unbalancedTags(html: string): string[] {
  const problems: string[] = [];
  const stack: string[] = [];
  const withoutStyle = html.replace(/<style>[\s\S]*?<\/style>/, '<style></style>');
  for (const m of withoutStyle.matchAll(/<(\/?)([a-zA-Z][\w-]*)([^>]*?)(\/?)>/g)) {
    const [, closing, rawName, , selfClosing] = m;
    const name = rawName!.toLowerCase();
    if (VOID.has(name) || selfClosing === '/') continue;
    if (closing === '') stack.push(name);
    else if (stack.pop() !== name) problems.push(`</${name}> at ${m.index}`);
  }
  return [...problems, ...stack.map((s) => `<${s}> not closed`)];
}

describe('html', () => {
  const report = sampleIncidentReport();
  const html = renderHtml(report, { limit: 10 });

  it('is one well-formed document', () => {
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    expect(unbalancedTags(html)).toEqual([]);
    expect(unbalancedTags(renderHtml(emptyReport()))).toEqual([]);
  });

  it('fetches nothing: no URL, no script, no external reference, and a CSP that forbids fetches', () => {
    for (const page of [html, renderHtml(emptyReport())]) {
      expect(page).not.toMatch(/https?:\/\//i);
      expect(page).not.toMatch(/<script/i);
      expect(page).not.toMatch(/\bsrc\s*=/i);
      expect(page).not.toMatch(/url\(/i);
      expect(page).not.toMatch(/@import/i);
      for (const href of page.matchAll(/href="([^"]*)"/g)) expect(href[1]).toBe('data:,');
      expect(page).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
    }
  });

  it('shows the verdict, the fix and the counts', () => {
    expect(html).toContain('Verdict: nodeport-collision (confirmed)');
    expect(html).toContain('sysctl -w net.ipv4.ip_local_reserved_ports=30000-32767');
    expect(html).toContain(`${report.summary.attempts} handshake attempts`);
    expect(html).toContain(`${report.summary.failed} failed`);
    expect(html.indexOf('id="verdict"')).toBeLessThan(html.indexOf('id="charts"'));
    for (const id of ['findings', 'outcomes', 'failed', 'servers', 'clients', 'inputs', 'method']) {
      expect(html).toContain(`<section id="${id}">`);
    }
  });

  it('draws three accessible charts with axis labels and legends', () => {
    const svgs = [...html.matchAll(/<svg [^>]*>[\s\S]*?<\/svg>/g)].map((m) => m[0]);
    expect(svgs).toHaveLength(3);
    for (const svg of svgs) {
      expect(svg).toMatch(/role="img" aria-labelledby="([\w-]+)-title \1-desc"/);
      expect(svg).toMatch(/<title id="[\w-]+-title">[^<]+<\/title>/);
      expect(svg).toMatch(/<desc id="[\w-]+-desc">[^<]+<\/desc>/);
      expect(svg).toContain('class="axis-label"');
      expect(svg).toContain('class="legend"');
    }
    expect(svgs[0]).toContain('Client source ports');
    expect(svgs[1]).toContain('over time');
    expect(svgs[2]).toContain('SYN to SYN-ACK latency');
  });

  it('shades the NodePort range and highlights failed ports on the port histogram', () => {
    const ports = html.match(/<svg [^>]*aria-labelledby="chart-ports-title[\s\S]*?<\/svg>/)![0];
    // The band spans the plot height (from y = 34); the legend swatch has the same class at y = 10.
    const band = ports.match(/<rect class="nodeport" x="([\d.]+)" y="34" width="([\d.]+)"/)!;
    // Plot is 670 px wide from x = 60: 30000/65536 and 2768/65536 of it.
    expect(Number(band[1])).toBeCloseTo(60 + (30000 / 65536) * 670, 1);
    expect(Number(band[2])).toBeCloseTo((2768 / 65536) * 670, 1);
    const failedBins = report.statistics.clientPorts.failed.filter((n) => n > 0).length;
    // Bars only: the legend swatch of the same class sits at y = 10.
    expect(ports.match(/<rect class="bar-failed" x="[\d.]+" y="(?!10")/g)).toHaveLength(failedBins);
    expect(ports).toContain('NodePort range 30000-32767');
    // Every failed bar of this incident lies inside the shaded band.
    const bandStart = Number(band[1]);
    const bandEnd = bandStart + Number(band[2]);
    const failedAttempts = report.attempts.filter((a) => FAILED_OUTCOMES.includes(a.outcome) && a.outcome === 'synack-unanswered');
    expect(failedAttempts.length).toBeGreaterThan(0);
    for (const m of ports.matchAll(/<title>client ports (\d+)-(\d+): \d+ attempts, (\d+) failed<\/title><rect class="bar-all" x="([\d.]+)"/g)) {
      if (Number(m[3]) > 0 && Number(m[1]) >= 30000 && Number(m[2]) <= 32767) {
        expect(Number(m[4])).toBeGreaterThanOrEqual(bandStart - 0.01);
        expect(Number(m[4])).toBeLessThanOrEqual(bandEnd);
      }
    }
  });

  it('escapes all text from the capture', () => {
    const hostile = sampleIncidentReport();
    hostile.inputs[0]!.path = '"><script>alert(1)</script><img src=x onerror=alert(2)>.pcap';
    hostile.inputs[0]!.warnings.push("it's <b>bold</b> & https://example.invalid/x");
    hostile.statistics.clients[0]!.host = '<svg onload=alert(3)>';
    hostile.diagnosis.findings[0]!.summary = '</p><iframe src="//evil"></iframe>';
    const page = renderHtml(hostile);
    expect(page).not.toContain('<script>');
    expect(page).not.toContain('<img');
    expect(page).not.toContain('<iframe');
    expect(page).not.toContain('<svg onload');
    expect(page).not.toContain('<b>bold');
    expect(page).toContain('&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).toContain('it&#39;s &lt;b&gt;bold&lt;/b&gt; &amp; https://example.invalid/x');
    expect(unbalancedTags(page)).toEqual([]);
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('says plainly that an empty capture has nothing to chart', () => {
    const page = renderHtml(emptyReport());
    expect(page).toContain('No TCP was found in the 12 packets read');
    expect(page).not.toContain('<svg');
  });
});

describe('chart helpers', () => {
  it('picks round ticks that cover the maximum', () => {
    expect(niceTicks(0)).toEqual([0, 1]);
    expect(niceTicks(7)).toEqual([0, 2, 4, 6, 8]);
    expect(niceTicks(100)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(1234).at(-1)).toBeGreaterThanOrEqual(1234);
    expect(niceTicks(3)).toEqual([0, 1, 2, 3]);
  });

  it('labels latency bins from their bounds', () => {
    expect(latencyBinLabels([1, 10, 100], 4)).toEqual(['< 1 ms', '1-10 ms', '10-100 ms', '≥ 100 ms']);
  });

  it('keeps latency tick labels apart when there are many bins', () => {
    const report = sampleIncidentReport();
    const bounds = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000];
    report.statistics.synToSynAckLatency = { boundsMs: bounds, counts: bounds.map((_, i) => i).concat([3]) };
    const svg = renderHtml(report).match(/<svg [^>]*aria-labelledby="chart-latency-title[\s\S]*?<\/svg>/)![0];
    const ticks = [...svg.matchAll(/<text class="tick" x="([\d.]+)" y="216" text-anchor="middle">([^<]+)<\/text>/g)];
    expect(ticks.length).toBeGreaterThan(3);
    expect(ticks.length).toBeLessThan(bounds.length + 1);
    for (let i = 1; i < ticks.length; i++) {
      const gap = Number(ticks[i]![1]) - Number(ticks[i - 1]![1]);
      const halfWidths = (ticks[i]![2]!.length + ticks[i - 1]![2]!.length) * 3.1;
      expect(gap).toBeGreaterThan(halfWidths);
    }
    // Every bin still has its bar and an accessible title.
    expect(svg.match(/<g><title>/g)).toHaveLength(bounds.length + 1);
  });
});
