/**
 * The HTML report in a real browser: the bundled demo's report is loaded in headless Chromium (driven
 * over the DevTools protocol on a pipe, scripts/chromium.mjs). It must render with no console error, no
 * exception, no CSP violation and no request beyond the file itself; the verdict and the counts must be
 * on the page; the charts must be laid out as drawn (failed bars inside the shaded NodePort band). The
 * screenshot is kept in test-artifacts/ for a human to look at.
 *
 * In CI (.ci/run installs Debian's chromium) the test runs; elsewhere without Chromium it is skipped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { analyze } from '../src/analyze.js';
import { parseSysctl } from '../src/diagnose/index.js';
import { renderReport } from '../src/report/index.js';
import { OUTCOME_NAMES } from '../src/types.js';
import { findChromium, launchChromium, withPage, type Browser } from '../scripts/chromium.mjs';
import { repoRoot } from './helpers/capture-feed.js';

const artifacts = path.resolve(repoRoot, 'test-artifacts');
const chromium = findChromium();

async function demoReport() {
  const sysctl = parseSysctl(readFileSync(path.resolve(repoRoot, 'fixtures/demo.sysctl.txt'), 'utf8'), 'demo.sysctl.txt');
  return analyze({
    inputs: [path.resolve(repoRoot, 'fixtures/demo.pcap')],
    options: { localPortRange: sysctl.localPortRange, reservedPorts: sysctl.reservedPorts },
  });
}

describe('HTML report in headless Chromium', () => {
  if (chromium === null) {
    if (process.env.CI) {
      it('needs chromium in CI', () => {
        expect.fail('chromium not found: .ci/run must install Debian\'s chromium package');
      });
    } else {
      it.skip('chromium not installed (apt-get install chromium): skipped outside CI', () => {});
    }
    return;
  }

  let browser: Browser;
  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    browser = await launchChromium(chromium);
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('renders the demo report cleanly, with the verdict, the counts and the charts', async () => {
    const report = await demoReport();
    const file = path.join(artifacts, 'report-html-chromium.html');
    writeFileSync(file, renderReport(report, 'html'));
    await withPage(browser, file, { screenshot: true }, async (page) => {
      writeFileSync(path.join(artifacts, 'report-html-chromium.png'), page.png!);
      expect(page.consoleErrors).toEqual([]);
      expect(page.exceptions).toEqual([]);
      expect(page.logErrors).toEqual([]);
      expect(page.cspViolations).toEqual([]);
      expect(page.failedRequests).toEqual([]);
      // Self-contained: the only request is the file itself (the icon is an inline data: URL).
      expect(page.requests.filter((u) => !u.startsWith('data:'))).toEqual([page.url]);

      expect(page.title).toBe('synscope — Verdict: nodeport-collision (confirmed)');
      expect(page.text).toContain('Verdict: nodeport-collision (confirmed)');
      expect(page.text).toContain(`${report.summary.attempts} handshake attempts · ${report.summary.failed} failed`);
      expect(page.text).toContain(`Failed attempts (${report.summary.failed})`);
      // The outcome table as the reader sees it: one row per outcome with its count.
      const outcomeRows: string[][] = await page.evaluate(
        "[...document.querySelectorAll('#outcomes tbody tr')].map((tr) => [...tr.cells].map((td) => td.innerText))",
      );
      for (const outcome of OUTCOME_NAMES) {
        expect(outcomeRows).toContainEqual(expect.arrayContaining([outcome, String(report.summary.byOutcome[outcome])]));
      }

      // Three charts, laid out with real size.
      const charts: Array<{ id: string; width: number; height: number }> = await page.evaluate(
        "[...document.querySelectorAll('svg.chart')].map((s) => { const r = s.getBoundingClientRect(); return { id: s.querySelector('title').id, width: r.width, height: r.height }; })",
      );
      expect(charts.map((c) => c.id)).toEqual(['chart-ports-title', 'chart-time-title', 'chart-latency-title']);
      for (const c of charts) {
        expect(c.width).toBeGreaterThan(500);
        expect(c.height).toBeGreaterThan(150);
      }
      // Every failed bar of the port chart (bars sit in <g>, legend swatches do not) lies inside the shaded
      // NodePort band, as on the demo's node.
      const geometry: { band: { left: number; right: number }; failed: Array<{ left: number; right: number; height: number }> } =
        await page.evaluate(`(() => {
          const svg = document.querySelector('svg.chart');
          const box = (e) => { const r = e.getBoundingClientRect(); return { left: r.left, right: r.right, height: r.height }; };
          // The band carries a <title>; the legend swatch of the same class does not.
          const band = [...svg.querySelectorAll('rect.nodeport')].find((r) => r.querySelector('title') !== null);
          return { band: box(band), failed: [...svg.querySelectorAll('g > rect.bar-failed')].map(box) };
        })()`);
      expect(geometry.failed.length).toBeGreaterThan(0);
      for (const bar of geometry.failed) {
        expect(bar.left).toBeGreaterThanOrEqual(geometry.band.left - 0.5);
        expect(bar.right).toBeLessThanOrEqual(geometry.band.right + 0.5);
        expect(bar.height).toBeGreaterThanOrEqual(2);
      }
      // The screenshot is a real PNG of the whole page at 1100 px.
      const png = page.png!;
      expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
      expect(png.readUInt32BE(16)).toBe(1100);
      expect(png.readUInt32BE(20)).toBeGreaterThan(2000);
    });
  });

  it('would notice a CSP violation, a console error and a network request (the harness can fail)', async () => {
    // The report's own Content-Security-Policy, on a page that breaks it on purpose.
    const html = renderReport(await demoReport(), 'html');
    const csp = /<meta http-equiv="Content-Security-Policy"[^>]*>/.exec(html)![0];
    const file = path.join(artifacts, 'report-html-chromium-control.html');
    writeFileSync(
      file,
      `<!DOCTYPE html><html><head>${csp}</head><body><p>control</p>` +
        '<img src="http://127.0.0.1:9/blocked.png"><script>console.error("inline script ran")</script></body></html>',
    );
    await withPage(browser, file, {}, async (page) => {
      expect(page.cspViolations.length).toBeGreaterThan(0);
      expect(page.cspViolations.join('\n')).toMatch(/img-src|script-src|default-src/);
      // The inline script was blocked by the policy, so it never logged.
      expect(page.consoleErrors.join('\n')).not.toContain('inline script ran');
    });
    const loose = path.join(artifacts, 'report-html-chromium-control2.html');
    writeFileSync(loose, '<!DOCTYPE html><html><body><script>console.error("visible error")</script></body></html>');
    await withPage(browser, loose, {}, async (page) => {
      expect(page.consoleErrors).toEqual(['visible error']);
    });
  });
});
