// Writes a real example of every report format into README.md, produced by the current build from the
// bundled capture (fixtures/demo.pcap with fixtures/demo.sysctl.txt), between the markers
// <!-- example:FORMAT:begin --> and <!-- example:FORMAT:end -->, plus docs/examples/demo.html (the whole
// HTML report) and docs/examples/demo.png (its screenshot in headless Chromium, when Chromium is there).
// `npm run examples` runs it after a build; test/readme-examples.test.ts regenerates everything in memory
// from the sources and fails when README.md or demo.html differ.
//
// Deterministic: the capture fixes every time; paths are relative to the repository; nothing depends on
// the clock, the machine or the terminal.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const EXAMPLE_FORMATS = ['table', 'json', 'ndjson', 'markdown', 'csv', 'html', 'evidence'];

/** The bundled capture and node facts, as a user would name them from the repository root. */
const CAPTURE = 'fixtures/demo.pcap';
const SYSCTL = 'fixtures/demo.sysctl.txt';
const COMMAND = `synscope analyze ${CAPTURE} --sysctl ${SYSCTL}`;
/** Rows in the table and Markdown examples (--limit), to keep the README readable. */
const LIMIT = 5;
const JSON_ATTEMPTS = 2;
const JSON_ENDPOINT_ROWS = 3;
const NDJSON_LINES = 3;
const CSV_ROWS = 3;

export const HTML_EXAMPLE = 'docs/examples/demo.html';
export const PNG_EXAMPLE = 'docs/examples/demo.png';

/**
 * JSON with objects indented and arrays of plain values on one line (the port histogram would otherwise
 * take 256 lines). Still valid JSON, the same value as JSON.stringify.
 */
export function compactJson(value, indent = '') {
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object')) return `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
    const inner = indent + '  ';
    return `[\n${value.map((v) => inner + compactJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    const inner = indent + '  ';
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${compactJson(v, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

function fence(language, text, ticks = '```') {
  return `${ticks}${language}\n${text.replace(/\n+$/, '')}\n${ticks}`;
}

function details(summary, body) {
  return `<details>\n<summary>${summary}</summary>\n\n${body}\n\n</details>`;
}

/**
 * Runs the analysis of the bundled capture with `lib` (the built package, or the sources in tests) and
 * returns the README sections by format and the files to write under docs/examples/.
 * `lib` needs analyze, renderReport, renderAttemptNdjson, toJsonContract, parseSysctl and buildEvidence.
 */
export async function generateExamples(lib) {
  const before = process.cwd();
  // Inputs are named relative to the repository, as a user in it would type them; reports echo them.
  process.chdir(repoRoot);
  try {
    const sysctl = lib.parseSysctl(readFileSync(SYSCTL, 'utf8'), SYSCTL);
    const ndjsonLines = [];
    let decided = 0;
    const report = await lib.analyze({
      inputs: [CAPTURE],
      options: { localPortRange: sysctl.localPortRange, reservedPorts: sysctl.reservedPorts },
      // As `--format ndjson` streams: every attempt, in the order they are decided.
      onAttempt: (attempt, timeBaseSec) => {
        decided++;
        if (ndjsonLines.length < NDJSON_LINES) ndjsonLines.push(lib.renderAttemptNdjson(attempt, timeBaseSec));
      },
    });
    const sections = {};

    sections.table = [
      `\`${COMMAND} --limit ${LIMIT}\` (exit status 1: failed handshakes found):`,
      '',
      fence('text', lib.renderReport(report, 'table', { color: false, limit: LIMIT })),
    ].join('\n');

    const contract = lib.toJsonContract(report);
    const shownAttempts = Math.min(JSON_ATTEMPTS, contract.attempts.length);
    const trimmed = {
      ...contract,
      attempts: contract.attempts.slice(0, JSON_ATTEMPTS),
      statistics: {
        ...contract.statistics,
        servers: contract.statistics.servers.slice(0, JSON_ENDPOINT_ROWS),
        clients: contract.statistics.clients.slice(0, JSON_ENDPOINT_ROWS),
      },
    };
    sections.json = [
      `\`${COMMAND} --format json\`, trimmed for the README: \`attempts\` shows the first ${shownAttempts} of ` +
        `${contract.attempts.length}, \`statistics.servers\` and \`statistics.clients\` the first ${JSON_ENDPOINT_ROWS} rows, ` +
        'and arrays of numbers are written on one line.',
      '',
      details('The JSON report', fence('json', compactJson(trimmed))),
    ].join('\n');

    sections.ndjson = [
      `\`${COMMAND} --format ndjson\`: the first ${ndjsonLines.length} of ${decided} lines, one per attempt as it is decided ` +
        '(established ones too), written while the capture is still being read.',
      '',
      fence('json', ndjsonLines.join('\n')),
    ].join('\n');

    const markdown = lib.renderReport(report, 'markdown', { limit: LIMIT });
    sections.markdown = [
      `\`${COMMAND} --format markdown --limit ${LIMIT}\`, the source to paste into an issue or a wiki page:`,
      '',
      details('The Markdown report', fence('markdown', markdown, '````')),
    ].join('\n');

    const csvLines = lib.renderReport(report, 'csv').replace(/\n+$/, '').split('\n');
    sections.csv = [
      `\`${COMMAND} --format csv\`: the header and the first ${Math.min(CSV_ROWS, csvLines.length - 1)} of ${csvLines.length - 1} rows.`,
      '',
      fence('csv', csvLines.slice(0, CSV_ROWS + 1).join('\n')),
    ].join('\n');

    const html = lib.renderReport(report, 'html');
    sections.html = [
      `\`${COMMAND} --format html -o demo.html\` writes one self-contained file: [${HTML_EXAMPLE}](${HTML_EXAMPLE}) ` +
        '(download it and open it in a browser). Its top, as headless Chromium renders it:',
      '',
      `![The HTML report of the demo capture: verdict, fix and charts](${PNG_EXAMPLE})`,
    ].join('\n');

    const evidence = await lib.buildEvidence(report, [CAPTURE]);
    sections.evidence = [
      `On the bundled capture, \`${COMMAND} --evidence evidence.pcap\` keeps the ${evidence.packets} packets of the ` +
        `${evidence.attempts} failed attempts out of ${report.packets.total} (${evidence.bytes} bytes; ${evidence.formatReason}); ` +
        `${evidence.divertedPackets} of them are diverted SYN-ACKs and the RSTs that answered them.`,
    ].join('\n');

    return { sections, files: { [HTML_EXAMPLE]: html } };
  } finally {
    process.chdir(before);
  }
}

function markers(format) {
  return [`<!-- example:${format}:begin -->`, `<!-- example:${format}:end -->`];
}

/** What README.md holds between the markers of `format`, or null when the markers are missing. */
export function readSection(readme, format) {
  const [begin, end] = markers(format);
  const start = readme.indexOf(begin);
  const stop = readme.indexOf(end);
  if (start < 0 || stop < start) return null;
  return readme.slice(start + begin.length, stop).replace(/^\n/, '').replace(/\n$/, '');
}

/** README.md with every section replaced. Throws when a pair of markers is missing. */
export function applyExamples(readme, sections) {
  let out = readme;
  for (const format of EXAMPLE_FORMATS) {
    const [begin, end] = markers(format);
    const start = out.indexOf(begin);
    const stop = out.indexOf(end);
    if (start < 0 || stop < start) throw new Error(`README.md has no ${begin} … ${end} markers`);
    out = `${out.slice(0, start + begin.length)}\n${sections[format]}\n${out.slice(stop)}`;
  }
  return out;
}

async function main() {
  const distIndex = path.join(repoRoot, 'dist', 'index.js');
  if (!existsSync(distIndex)) throw new Error('dist/ is missing: run `npm run build` first (npm run examples does)');
  const lib = {
    ...(await import(pathToFileURL(distIndex).href)),
    ...(await import(pathToFileURL(path.join(repoRoot, 'dist', 'report', 'evidence.js')).href)),
  };
  const { sections, files } = await generateExamples(lib);
  const readmePath = path.join(repoRoot, 'README.md');
  const before = readFileSync(readmePath, 'utf8');
  const after = applyExamples(before, sections);
  if (after !== before) writeFileSync(readmePath, after);
  console.log(after === before ? 'README.md examples already up to date' : 'README.md examples updated');
  for (const [relative, content] of Object.entries(files)) {
    const target = path.join(repoRoot, relative);
    mkdirSync(path.dirname(target), { recursive: true });
    const old = existsSync(target) ? readFileSync(target, 'utf8') : null;
    if (old !== content) writeFileSync(target, content);
    console.log(`${relative} ${old === content ? 'already up to date' : 'written'}`);
  }
  if (process.argv.includes('--no-screenshot')) return;
  const { findChromium, launchChromium, withPage } = await import('./chromium.mjs');
  const chromium = findChromium();
  if (chromium === null) {
    console.warn(`chromium not found: ${PNG_EXAMPLE} left as it is (install Debian's chromium to refresh it)`);
    return;
  }
  const browser = await launchChromium(chromium);
  try {
    // The top of the report: verdict, fix and the three charts, at a typical laptop width.
    await withPage(browser, path.join(repoRoot, HTML_EXAMPLE), { screenshot: true, clipTo: '#charts', width: 1000 }, async (page) => {
      const problems = [...page.consoleErrors, ...page.exceptions, ...page.cspViolations, ...page.failedRequests];
      if (problems.length > 0) throw new Error(`the HTML report did not render cleanly: ${problems.join('; ')}`);
      writeFileSync(path.join(repoRoot, PNG_EXAMPLE), page.png);
      console.log(`${PNG_EXAMPLE} written (${page.png.length} bytes)`);
    });
  } finally {
    await browser.close();
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  });
}
