// Child processes of the lab: every one is started here, remembered by pid, and ended by pid.
import { spawn } from 'node:child_process';

/** A failed lab step: what was run and what it said. Thrown by the lab, caught by run.mjs. */
export class LabError extends Error {
  /** @param {string} message @param {string} [detail] */
  constructor(message, detail) {
    super(detail ? `${message}\n${detail}` : message);
    this.name = 'LabError';
  }
}

/**
 * Run a short command to completion (ip, nft, sysctl, tshark) and return its output.
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ input?: string, allowFailure?: boolean, maxBuffer?: number }} [opts]
 * @returns {Promise<{ code: number, stdout: string, stderr: string }>}
 */
export function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    /** @type {Buffer[]} */ const out = [];
    /** @type {Buffer[]} */ const err = [];
    child.stdout.on('data', (b) => out.push(b));
    child.stderr.on('data', (b) => err.push(b));
    child.on('error', (e) => reject(new LabError(`cannot run ${cmd}: ${e.message}`)));
    child.on('close', (code, signal) => {
      const result = {
        code: code ?? 128,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      };
      if (result.code !== 0 && !opts.allowFailure) {
        const why = signal ? `killed by ${signal}` : `exit ${result.code}`;
        reject(new LabError(`${cmd} ${args.join(' ')} failed (${why})`, result.stderr.trim()));
      } else resolve(result);
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/**
 * @typedef {object} LabProcess
 * @property {string} label
 * @property {number} pid
 * @property {import('node:child_process').ChildProcess} child
 * @property {Promise<{ code: number | null, signal: string | null }>} exited
 * @property {() => string} stderrText
 * @property {(pattern: RegExp, timeoutMs: number) => Promise<string>} waitForOutput
 */

/** Keeps every long-running child (servers, prober, tcpdump) so the lab can end each by its pid. */
export class ProcessRegistry {
  constructor() {
    /** @type {Map<number, LabProcess>} */
    this.live = new Map();
  }

  /**
   * Start a long-running child in its own process group, so a Ctrl-C on the terminal reaches only
   * the lab, which then stops children in the right order (prober first, tcpdump last).
   * @param {string} label
   * @param {string} cmd
   * @param {string[]} args
   * @returns {LabProcess}
   */
  spawn(label, cmd, args) {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    if (child.pid === undefined) throw new LabError(`cannot start ${label}: ${cmd} did not start`);
    const pid = child.pid;
    let stdout = '';
    let stderr = '';
    /** @type {Array<() => void>} */
    const watchers = [];
    child.stdout?.on('data', (b) => {
      stdout += b.toString('utf8');
      for (const w of watchers.slice()) w();
    });
    child.stderr?.on('data', (b) => {
      stderr += b.toString('utf8');
      if (stderr.length > 1 << 20) stderr = stderr.slice(-(1 << 19));
      for (const w of watchers.slice()) w();
    });
    /** @type {Promise<{ code: number | null, signal: string | null }>} */
    const exited = new Promise((resolve) => {
      child.on('error', () => resolve({ code: 127, signal: null }));
      child.on('close', (code, signal) => {
        this.live.delete(pid);
        resolve({ code, signal });
        for (const w of watchers.slice()) w();
      });
    });
    let done = false;
    exited.then(() => (done = true));
    /** @type {LabProcess} */
    const proc = {
      label,
      pid,
      child,
      exited,
      stderrText: () => stderr,
      waitForOutput: (pattern, timeoutMs) =>
        new Promise((resolve, reject) => {
          const check = () => {
            const m = pattern.exec(stdout) ?? pattern.exec(stderr);
            if (m) return finish(null, m[0]);
            if (done) finish(new LabError(`${label} exited before printing ${pattern}`, stderr.trim()));
          };
          const timer = setTimeout(
            () => finish(new LabError(`${label} did not print ${pattern} within ${timeoutMs} ms`, stderr.trim())),
            timeoutMs,
          );
          /** @param {Error | null} err @param {string} [text] */
          const finish = (err, text) => {
            clearTimeout(timer);
            const i = watchers.indexOf(check);
            if (i >= 0) watchers.splice(i, 1);
            if (err) reject(err);
            else resolve(text ?? '');
          };
          watchers.push(check);
          check();
        }),
    };
    Object.defineProperty(proc, 'stdout', { get: () => stdout });
    this.live.set(pid, proc);
    return proc;
  }

  /**
   * Signal one child by pid and wait for it; SIGKILL after the grace period.
   * @param {LabProcess} proc
   * @param {NodeJS.Signals} [signal]
   * @param {number} [graceMs]
   */
  async stop(proc, signal = 'SIGTERM', graceMs = 3000) {
    if (!this.live.has(proc.pid)) return proc.exited;
    try {
      process.kill(proc.pid, signal);
    } catch {
      // already gone
    }
    let timer;
    const timedOut = new Promise((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
    const first = await Promise.race([proc.exited, timedOut]);
    clearTimeout(timer);
    if (first === 'timeout') {
      try {
        process.kill(proc.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    return proc.exited;
  }

  /** End every child still running, each by its own pid. */
  async stopAll() {
    await Promise.all([...this.live.values()].map((p) => this.stop(p, 'SIGTERM', 2000)));
  }

  /** Synchronous last resort for process 'exit': SIGKILL each remaining pid. */
  killAllNow() {
    for (const pid of this.live.keys()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}
