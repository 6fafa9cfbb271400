/**
 * Inline SVG charts for the HTML report, built from report.statistics. Plain SVG with CSS classes (the
 * page's stylesheet colours them), an accessible <title>/<desc> per chart and per bar, axis labels and a
 * legend. No script, no external resource.
 */
import { formatEpochNs } from '../time.js';
import type { AnalysisOptions, Statistics } from '../types.js';
import { escapeHtml } from './html-escape.js';

const WIDTH = 760;
const HEIGHT = 250;
// The right margin leaves room for the last x tick label, centred on the plot's edge.
const MARGIN = { left: 60, right: 30, top: 34, bottom: 52 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;
const BASELINE = MARGIN.top + PLOT_H;

/** 0 and round steps (1, 2, 5 × 10^k) up to at least `max`. */
export function niceTicks(max: number, targetCount = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const rough = max / targetCount;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? 10 * magnitude;
  const wholeStep = Math.max(1, Math.round(step)); // counts are integers: no 0.5 ticks
  const ticks: number[] = [];
  for (let v = 0; v < max + wholeStep; v += wholeStep) {
    ticks.push(v);
    if (v >= max) break;
  }
  return ticks;
}

function fmt(n: number): string {
  return Number(n.toFixed(2)).toString();
}

interface ChartFrame {
  id: string;
  title: string;
  description: string;
  xLabel: string;
  yLabel: string;
  yMax: number;
  legend: Array<{ cls: string; label: string }>;
}

function yScale(yMax: number): (v: number) => number {
  return (v) => (yMax <= 0 ? 0 : (v / yMax) * PLOT_H);
}

/** The frame every chart shares: title, description, y axis with grid, axis labels, legend. */
function frame(f: ChartFrame, body: string, xAxis: string): string {
  const ticks = niceTicks(f.yMax);
  const top = ticks[ticks.length - 1]!;
  const grid = ticks
    .map((t) => {
      const y = BASELINE - (t / top) * PLOT_H;
      return `<line class="grid" x1="${MARGIN.left}" x2="${MARGIN.left + PLOT_W}" y1="${fmt(y)}" y2="${fmt(y)}"/><text class="tick" x="${MARGIN.left - 6}" y="${fmt(y + 4)}" text-anchor="end">${t}</text>`;
    })
    .join('');
  let legendX = MARGIN.left;
  const legend = f.legend
    .map((item) => {
      const g = `<rect class="${item.cls}" x="${legendX}" y="10" width="12" height="12"/><text class="legend" x="${legendX + 17}" y="20">${escapeHtml(item.label)}</text>`;
      legendX += 30 + item.label.length * 7;
      return g;
    })
    .join('');
  return [
    `<svg class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-labelledby="${f.id}-title ${f.id}-desc">`,
    `<title id="${f.id}-title">${escapeHtml(f.title)}</title>`,
    `<desc id="${f.id}-desc">${escapeHtml(f.description)}</desc>`,
    legend,
    grid,
    body,
    `<line class="axis" x1="${MARGIN.left}" x2="${MARGIN.left + PLOT_W}" y1="${BASELINE}" y2="${BASELINE}"/>`,
    `<line class="axis" x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${BASELINE}"/>`,
    xAxis,
    `<text class="axis-label" x="${MARGIN.left + PLOT_W / 2}" y="${HEIGHT - 8}" text-anchor="middle">${escapeHtml(f.xLabel)}</text>`,
    `<text class="axis-label" transform="translate(14 ${MARGIN.top + PLOT_H / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(f.yLabel)}</text>`,
    '</svg>',
  ].join('\n');
}

/** Rounds the y maximum up to the last tick, so bars and grid share one scale. */
function axisTop(max: number): number {
  const ticks = niceTicks(max);
  return ticks[ticks.length - 1]!;
}

/** A bar of `value` at x..x+w; failed bars get a minimum height so a single failure stays visible. */
function bar(cls: string, x: number, w: number, value: number, scale: (v: number) => number, minHeight = 0): string {
  if (value <= 0) return '';
  const h = Math.max(minHeight, scale(value));
  return `<rect class="${cls}" x="${fmt(x)}" y="${fmt(BASELINE - h)}" width="${fmt(w)}" height="${fmt(h)}"/>`;
}

/** Client-port histogram over 0-65535, NodePort range shaded, failed attempts highlighted. */
export function clientPortChart(stats: Statistics['clientPorts'], options: AnalysisOptions): string {
  const { binSize, all, failed } = stats;
  const [npLow, npHigh] = options.nodePortRange;
  const xOf = (port: number) => MARGIN.left + (port / 65536) * PLOT_W;
  const yMax = axisTop(Math.max(0, ...all));
  const scale = yScale(yMax);
  const binW = Math.max(1, (binSize / 65536) * PLOT_W - 0.5);
  const parts: string[] = [];
  parts.push(
    `<rect class="nodeport" x="${fmt(xOf(npLow))}" y="${MARGIN.top}" width="${fmt(Math.max(1, xOf(npHigh + 1) - xOf(npLow)))}" height="${PLOT_H}"><title>NodePort range ${npLow}-${npHigh}</title></rect>`,
  );
  if (options.localPortRange !== null) {
    const [lo, hi] = options.localPortRange;
    parts.push(
      `<rect class="ephemeral" x="${fmt(xOf(lo))}" y="${MARGIN.top}" width="${fmt(Math.max(1, xOf(hi + 1) - xOf(lo)))}" height="${PLOT_H}"><title>Ephemeral port range ${lo}-${hi}</title></rect>`,
    );
  }
  let failedTotal = 0;
  let inRangeFailed = 0;
  for (let i = 0; i < all.length; i++) {
    const count = all[i] ?? 0;
    const fail = failed[i] ?? 0;
    failedTotal += fail;
    const lo = i * binSize;
    const hi = Math.min(65535, lo + binSize - 1);
    if (lo <= npHigh && hi >= npLow) inRangeFailed += fail;
    if (count === 0 && fail === 0) continue;
    const x = xOf(lo);
    parts.push(
      `<g><title>client ports ${lo}-${hi}: ${count} attempts, ${fail} failed</title>${bar('bar-all', x, binW, count, scale)}${bar('bar-failed', x, binW, fail, scale, 2)}</g>`,
    );
  }
  const xTicks = [0, 10000, 20000, 30000, 40000, 50000, 60000, 65535]
    .map((p) => `<line class="axis" x1="${fmt(xOf(p))}" x2="${fmt(xOf(p))}" y1="${BASELINE}" y2="${BASELINE + 5}"/><text class="tick" x="${fmt(xOf(p))}" y="${BASELINE + 18}" text-anchor="middle">${p}</text>`)
    .join('');
  const attemptsTotal = all.reduce((s, n) => s + n, 0);
  return frame(
    {
      id: 'chart-ports',
      title: 'Client source ports of handshake attempts',
      description: `Histogram of ${attemptsTotal} attempts over client ports 0-65535 in bins of ${binSize} ports; ${failedTotal} failed, ${inRangeFailed} of them in bins touching the NodePort range ${npLow}-${npHigh}, which is shaded.`,
      xLabel: 'client source port',
      yLabel: `attempts per ${binSize} ports`,
      yMax,
      legend: [
        { cls: 'bar-all', label: 'all attempts' },
        { cls: 'bar-failed', label: 'failed attempts' },
        { cls: 'nodeport', label: `NodePort range ${npLow}-${npHigh}` },
        ...(options.localPortRange !== null ? [{ cls: 'ephemeral', label: 'ephemeral port range' }] : []),
      ],
    },
    parts.join('\n'),
    xTicks,
  );
}

/** "10:15:02" (UTC) for a time-axis tick. */
function clock(epochMs: number): string {
  const iso = formatEpochNs(Math.floor(epochMs / 1000), 0);
  return iso.slice(iso.indexOf('T') + 1, iso.indexOf('T') + 9);
}

/** Attempts and failures per time bin. */
export function timelineChart(timeline: Statistics['timeline']): string {
  const { attempts, failed, binSeconds } = timeline;
  const startMs = timeline.start === null ? NaN : Date.parse(timeline.start);
  const n = attempts.length;
  const yMax = axisTop(Math.max(0, ...attempts));
  const scale = yScale(yMax);
  const binW = n === 0 ? PLOT_W : PLOT_W / n;
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const count = attempts[i] ?? 0;
    const fail = failed[i] ?? 0;
    if (count === 0 && fail === 0) continue;
    const x = MARGIN.left + i * binW;
    const when = Number.isNaN(startMs) ? `bin ${i}` : `${clock(startMs + i * binSeconds * 1000)} UTC`;
    parts.push(
      `<g><title>${escapeHtml(when)}, ${binSeconds} s: ${count} attempts, ${fail} failed</title>${bar('bar-all', x, Math.max(1, binW - 1), count, scale)}${bar('bar-failed', x, Math.max(1, binW - 1), fail, scale, 2)}</g>`,
    );
  }
  const tickEvery = Math.max(1, Math.ceil(n / 6));
  const xTicks: string[] = [];
  for (let i = 0; i <= n; i += tickEvery) {
    const x = MARGIN.left + i * binW;
    const label = Number.isNaN(startMs) ? `${fmt(i * binSeconds)} s` : clock(startMs + i * binSeconds * 1000);
    xTicks.push(
      `<line class="axis" x1="${fmt(x)}" x2="${fmt(x)}" y1="${BASELINE}" y2="${BASELINE + 5}"/><text class="tick" x="${fmt(x)}" y="${BASELINE + 18}" text-anchor="middle">${escapeHtml(label)}</text>`,
    );
  }
  const total = attempts.reduce((s, v) => s + v, 0);
  const totalFailed = failed.reduce((s, v) => s + v, 0);
  return frame(
    {
      id: 'chart-time',
      title: 'Attempts and failures over time',
      description: `${total} attempts and ${totalFailed} failures in ${n} bins of ${binSeconds} seconds${timeline.start === null ? '' : ` from ${timeline.start}`}.`,
      xLabel: 'capture time (UTC)',
      yLabel: `attempts per ${binSeconds} s`,
      yMax,
      legend: [
        { cls: 'bar-all', label: 'attempts' },
        { cls: 'bar-failed', label: 'failed' },
      ],
    },
    parts.join('\n'),
    xTicks.join(''),
  );
}

/** Bin labels: "< 1 ms", "1-10 ms", "≥ 1000 ms". */
export function latencyBinLabels(boundsMs: readonly number[], binCount: number): string[] {
  const labels: string[] = [];
  for (let i = 0; i < binCount; i++) {
    if (i < boundsMs.length) labels.push(i === 0 ? `< ${boundsMs[0]} ms` : `${boundsMs[i - 1]}-${boundsMs[i]} ms`);
    else labels.push(`≥ ${boundsMs[boundsMs.length - 1] ?? 0} ms`);
  }
  return labels;
}

/** Rough width of an 11 px label, to decide how many tick labels fit under the bars. */
function labelWidth(text: string): number {
  return text.length * 6.2;
}

/** SYN→SYN-ACK latency distribution, one bar per bin. */
export function latencyChart(latency: Statistics['synToSynAckLatency']): string {
  const { counts, boundsMs } = latency;
  const labels = latencyBinLabels(boundsMs, counts.length);
  const yMax = axisTop(Math.max(0, ...counts));
  const scale = yScale(yMax);
  const slot = counts.length === 0 ? PLOT_W : PLOT_W / counts.length;
  const parts: string[] = [];
  const xTicks: string[] = [];
  // Label every `stride`-th bin so the labels never overlap; each bar's <title> still names its bin.
  const stride = Math.max(1, Math.ceil((Math.max(0, ...labels.map(labelWidth)) + 8) / slot));
  for (let i = 0; i < counts.length; i++) {
    const x = MARGIN.left + i * slot;
    parts.push(`<g><title>${escapeHtml(labels[i]!)}: ${counts[i]} attempts</title>${bar('bar-latency', x + slot * 0.1, slot * 0.8, counts[i] ?? 0, scale)}</g>`);
    if (i % stride === 0) {
      xTicks.push(`<text class="tick" x="${fmt(x + slot / 2)}" y="${BASELINE + 18}" text-anchor="middle">${escapeHtml(labels[i]!)}</text>`);
    }
  }
  const total = counts.reduce((s, v) => s + v, 0);
  return frame(
    {
      id: 'chart-latency',
      title: 'SYN to SYN-ACK latency',
      description: `Distribution of ${total} SYN to SYN-ACK times in ${counts.length} bins: ${labels.map((l, i) => `${l}: ${counts[i]}`).join(', ')}.`,
      xLabel: 'time from first SYN to first SYN-ACK',
      yLabel: 'attempts',
      yMax,
      legend: [{ cls: 'bar-latency', label: 'attempts that got a SYN-ACK' }],
    },
    parts.join('\n'),
    xTicks.join(''),
  );
}
