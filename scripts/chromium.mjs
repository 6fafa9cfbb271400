// Drives a real headless Chromium over the Chrome DevTools Protocol on a pipe (--remote-debugging-pipe:
// the browser reads commands on fd 3 and writes replies on fd 4, NUL-terminated JSON), so no port is
// opened and no dependency is needed. Used by the HTML report test and by the README examples script
// (the report screenshot). Chromium is Debian's `chromium` package.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** Flags for a quiet, offline, reproducible browser: no sandbox (CI runs as root), no GPU, no network chatter. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-extensions',
  '--disable-default-apps',
  '--mute-audio',
  '--hide-scrollbars',
  '--font-render-hinting=none',
];

const COMMAND_TIMEOUT_MS = 30_000;

/** The Chromium executable to use ($CHROMIUM, then the usual names), or null when none runs. */
export function findChromium() {
  const candidates = [process.env.CHROMIUM, 'chromium', 'chromium-browser', 'google-chrome'].filter(Boolean);
  for (const name of candidates) {
    const r = spawnSync(name, ['--version'], { stdio: 'ignore', timeout: 20_000 });
    if (r.error === undefined && r.status === 0) return name;
  }
  return null;
}

/** A running browser and its CDP connection. */
class Browser {
  constructor(child, userDataDir) {
    this.child = child;
    this.userDataDir = userDataDir;
    this.nextId = 1;
    this.pending = new Map();
    this.listeners = new Set();
    this.buffered = '';
    this.exited = false;
    this.stderr = '';
    child.stderr.on('data', (d) => {
      // Kept for error messages; Chromium is chatty on stderr even when all is well.
      if (this.stderr.length < 20_000) this.stderr += d.toString();
    });
    child.stdio[4].on('data', (chunk) => this.receive(chunk.toString('utf8')));
    child.on('exit', () => {
      this.exited = true;
      for (const { reject } of this.pending.values()) reject(new Error(`chromium exited\n${this.stderr.slice(-2000)}`));
      this.pending.clear();
    });
  }

  receive(text) {
    this.buffered += text;
    let end;
    while ((end = this.buffered.indexOf('\0')) >= 0) {
      const message = JSON.parse(this.buffered.slice(0, end));
      this.buffered = this.buffered.slice(end + 1);
      if (message.id !== undefined) {
        const waiter = this.pending.get(message.id);
        if (waiter === undefined) continue;
        this.pending.delete(message.id);
        if (message.error) waiter.reject(new Error(`${waiter.method}: ${message.error.message}`));
        else waiter.resolve(message.result);
      } else {
        for (const listener of this.listeners) listener(message);
      }
    }
  }

  /** Sends a CDP command (to a page session when sessionId is given) and resolves with its result. */
  send(method, params = {}, sessionId) {
    if (this.exited) return Promise.reject(new Error('chromium is not running'));
    const id = this.nextId++;
    const message = { id, method, params, ...(sessionId ? { sessionId } : {}) };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no answer from chromium in ${COMMAND_TIMEOUT_MS} ms`));
      }, COMMAND_TIMEOUT_MS);
      this.pending.set(id, {
        method,
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.child.stdio[3].write(`${JSON.stringify(message)}\0`);
    });
  }

  /** Calls `listener` for every CDP event; returns a function that stops it. */
  onEvent(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves with the first event `method` (of `sessionId`) that satisfies `test`. */
  waitFor(method, sessionId, test = () => true) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        stop();
        reject(new Error(`${method}: not seen in ${COMMAND_TIMEOUT_MS} ms`));
      }, COMMAND_TIMEOUT_MS);
      const stop = this.onEvent((m) => {
        if (m.method === method && m.sessionId === sessionId && test(m.params)) {
          clearTimeout(timer);
          stop();
          resolve(m.params);
        }
      });
    });
  }

  async close() {
    if (!this.exited) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      await this.send('Browser.close').catch(() => undefined);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.userDataDir, { recursive: true, force: true });
  }
}

/** Starts headless Chromium with a new empty profile. */
export async function launchChromium(executable = findChromium()) {
  if (executable === null) throw new Error('chromium not found: install Debian\'s chromium package or set CHROMIUM');
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'synscope-chromium-'));
  const child = spawn(executable, [...CHROMIUM_FLAGS, `--user-data-dir=${userDataDir}`, '--remote-debugging-pipe', 'about:blank'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
  });
  const browser = new Browser(child, userDataDir);
  await new Promise((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  await browser.send('Browser.getVersion');
  return browser;
}

/**
 * Opens a local HTML file in a new tab, lets it load, and reports what a reader (and the console) saw:
 * console errors, uncaught exceptions, CSP violations, every network request, and the page's text.
 * With `screenshot`, also a PNG of the page at `width` CSS pixels (down to the bottom of `clipTo`, a
 * CSS selector, when given; else the whole page). `evaluate(expression)` runs more checks in the page
 * while its tab is open (see withPage).
 */
export async function inspectPage(browser, file, options = {}) {
  const width = options.width ?? 1100;
  const url = pathToFileURL(path.resolve(file)).href;
  const { targetId } = await browser.send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await browser.send('Target.attachToTarget', { targetId, flatten: true });
  const seen = { consoleErrors: [], exceptions: [], cspViolations: [], requests: [], failedRequests: [], logErrors: [] };
  const stop = browser.onEvent((m) => {
    if (m.sessionId !== sessionId) return;
    const p = m.params;
    switch (m.method) {
      case 'Runtime.consoleAPICalled':
        if (p.type === 'error' || p.type === 'assert') seen.consoleErrors.push(p.args.map((a) => a.value ?? a.description).join(' '));
        if (p.type === 'info' && p.args[0]?.value === 'securitypolicyviolation') seen.cspViolations.push(p.args[1]?.value);
        break;
      case 'Runtime.exceptionThrown':
        seen.exceptions.push(p.exceptionDetails.exception?.description ?? p.exceptionDetails.text);
        break;
      case 'Log.entryAdded':
        if (p.entry.level === 'error') seen.logErrors.push(`${p.entry.source}: ${p.entry.text}`);
        break;
      case 'Audits.issueAdded':
        if (p.issue.code === 'ContentSecurityPolicyIssue') {
          const d = p.issue.details.contentSecurityPolicyIssueDetails;
          seen.cspViolations.push(`${d?.violatedDirective ?? 'csp'} ${d?.blockedURL ?? ''}`.trim());
        }
        break;
      case 'Network.requestWillBeSent':
        seen.requests.push(p.request.url);
        break;
      case 'Network.loadingFailed':
        seen.failedRequests.push(`${p.errorText}${p.blockedReason ? ` (${p.blockedReason})` : ''}`);
        break;
      default:
        break;
    }
  });
  try {
    await Promise.all([
      browser.send('Runtime.enable', {}, sessionId),
      browser.send('Log.enable', {}, sessionId),
      browser.send('Page.enable', {}, sessionId),
      browser.send('Network.enable', {}, sessionId),
      browser.send('Audits.enable', {}, sessionId),
    ]);
    // CSP violations also as DOM events, reported through the console (the page itself has no script).
    await browser.send(
      'Page.addScriptToEvaluateOnNewDocument',
      {
        source:
          "document.addEventListener('securitypolicyviolation', (e) => console.info('securitypolicyviolation', e.violatedDirective + ' ' + e.blockedURI));",
      },
      sessionId,
    );
    await browser.send('Emulation.setDeviceMetricsOverride', { width, height: 900, deviceScaleFactor: 1, mobile: false }, sessionId);
    const loaded = browser.waitFor('Page.loadEventFired', sessionId);
    const nav = await browser.send('Page.navigate', { url }, sessionId);
    if (nav.errorText) throw new Error(`navigation to ${url} failed: ${nav.errorText}`);
    await loaded;
    const evaluate = async (expression) => {
      const r = await browser.send('Runtime.evaluate', { expression, returnByValue: true }, sessionId);
      if (r.exceptionDetails) throw new Error(`evaluate failed: ${r.exceptionDetails.text}`);
      return r.result.value;
    };
    // Two animation frames: layout and paint are done, late console messages have arrived.
    await browser.send(
      'Runtime.evaluate',
      { expression: 'new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))', awaitPromise: true },
      sessionId,
    );
    const text = await evaluate('document.body.innerText');
    const title = await evaluate('document.title');
    let png = null;
    if (options.screenshot === true) {
      const height = await evaluate(
        options.clipTo
          ? `Math.ceil(document.querySelector(${JSON.stringify(options.clipTo)}).getBoundingClientRect().bottom + window.scrollY + 16)`
          : 'Math.ceil(document.documentElement.scrollHeight)',
      );
      await browser.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false }, sessionId);
      const shot = await browser.send('Page.captureScreenshot', { format: 'png', clip: { x: 0, y: 0, width, height, scale: 1 } }, sessionId);
      png = Buffer.from(shot.data, 'base64');
    }
    return { url, targetId, title, text, png, evaluate, ...seen };
  } finally {
    stop();
  }
}

/** Opens the file, runs `use(page)` while the tab is open, closes the tab. */
export async function withPage(browser, file, options, use) {
  const page = await inspectPage(browser, file, options);
  try {
    return await use(page);
  } finally {
    await browser.send('Target.closeTarget', { targetId: page.targetId }).catch(() => undefined);
  }
}
