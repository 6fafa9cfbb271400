// A kubelet-like TCP prober. Each target is probed every --interval-ms (targets staggered evenly),
// each probe a fresh connect with a --timeout-ms deadline (kubelet's default timeoutSeconds is 1).
// Source ports are the kernel's own ephemeral choice (no bind). For each attempt it logs one JSON
// line: the source port read with getsockname right after the non-blocking connect — while the
// handshake is still in flight — and the result: ok, timeout or refused.
//
// Usage: node lab/prober.mjs --target 10.244.1.11:8080 [--target ...] --log FILE
//          [--interval-ms 100] [--timeout-ms 1000] [--min-seconds 10] [--max-seconds 10] [--until-timeouts 0]
//        node lab/prober.mjs --warm --target ...   (one connect per target, fail unless all succeed)
// Probing stops at --max-seconds, or after --min-seconds once --until-timeouts timeouts were seen.
// On SIGTERM/SIGINT it stops starting probes, lets the outstanding ones finish, and exits.
// The last stdout line is a JSON summary.
import net from 'node:net';
import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { exitWhenOrphaned } from './lib/orphan.mjs';
import { canonicalIp, formatEndpoint, parseEndpoint } from './lib/endpoint.mjs';
import { PAST_HANDSHAKE, kernelSocketStates } from './lib/kernel-sockets.mjs';

const { values } = parseArgs({
  options: {
    target: { type: 'string', multiple: true, default: [] },
    log: { type: 'string' },
    'interval-ms': { type: 'string', default: '100' },
    'timeout-ms': { type: 'string', default: '1000' },
    'min-seconds': { type: 'string', default: '10' },
    'max-seconds': { type: 'string' },
    'until-timeouts': { type: 'string', default: '0' },
    warm: { type: 'boolean', default: false },
  },
});

const targets = values.target.map(parseEndpoint);
if (targets.length === 0) fail('no --target given');
const intervalMs = Number(values['interval-ms']);
const timeoutMs = Number(values['timeout-ms']);
const minMs = Number(values['min-seconds']) * 1000;
const maxMs = Number(values['max-seconds'] ?? values['min-seconds']) * 1000;
const untilTimeouts = Number(values['until-timeouts']);

/** @param {string} message @returns {never} */
function fail(message) {
  process.stderr.write(`prober: ${message}\n`);
  process.exit(2);
}

/**
 * @typedef {object} ProbeRecord
 * @property {number} seq
 * @property {string} start        ISO time the connect was issued
 * @property {number} startMs      same, epoch milliseconds
 * @property {4|6} family
 * @property {string} src
 * @property {number} srcPort      from getsockname right after connect()
 * @property {string} dst
 * @property {number} dstPort
 * @property {'ok'|'timeout'|'refused'|'error'} result
 * @property {number} ms           time to the result
 * @property {boolean} portSeenInFlight  getsockname gave the port while the connect was still pending
 * @property {boolean} [lateOk]    the kernel had completed the handshake when the deadline fired
 * @property {boolean} [completedAtClose]  ...found only after closing: the socket outlived close() in
 *                                 a post-handshake state (FIN-WAIT/TIME-WAIT)
 * @property {string} [error]
 */

/**
 * Probe one target once.
 * @param {{ host: string, port: number, family: 4|6 }} target
 * @param {number} seq
 * @returns {Promise<ProbeRecord>}
 */
function probe(target, seq) {
  return new Promise((resolve) => {
    const startMs = Date.now();
    const t0 = performance.now();
    const socket = net.connect({ host: target.host, port: target.port });
    /** @type {ProbeRecord} */
    const rec = {
      seq,
      start: new Date(startMs).toISOString(),
      startMs,
      family: target.family,
      src: '',
      srcPort: 0,
      dst: target.host,
      dstPort: target.port,
      result: 'error',
      ms: 0,
      portSeenInFlight: false,
    };
    // net.connect issues the non-blocking connect() on the next tick for a literal address; this
    // tick is queued after it, so getsockname runs right after connect() returned EINPROGRESS.
    process.nextTick(() => {
      const addr = socket.address();
      if ('port' in addr && addr.port > 0) {
        rec.src = canonicalIp(addr.address);
        rec.srcPort = addr.port;
        rec.portSeenInFlight = socket.connecting;
      }
    });
    let settled = false;
    /** @param {ProbeRecord['result']} result @param {string} [error] */
    const settle = (result, error) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      rec.result = result;
      rec.ms = Math.round((performance.now() - t0) * 10) / 10;
      if (error) rec.error = error;
      socket.destroy();
      resolve(rec);
    };
    const deadline = setTimeout(() => {
      // The timer phase can run before the poll phase delivers a completion that the kernel has
      // already made: ask the kernel (getpeername works only once connected) so the log says what
      // went over the wire, not which callback Node ran first.
      /** @type {any} */ const handle = /** @type {any} */ (socket)._handle;
      const peer = {};
      if (handle && handle.getpeername(peer) === 0) {
        rec.lateOk = true;
        settle('ok');
        return;
      }
      // The SYN-ACK can still be processed between getpeername and close (kubelet's deadline and
      // the kernel's first SYN retransmission both fall at 1 s). close() settles it: a socket closed
      // in SYN-SENT leaves nothing, one that had completed stays as an orphan in FIN-WAIT/TIME-WAIT.
      settled = true;
      rec.ms = Math.round((performance.now() - t0) * 10) / 10;
      const tuple = { family: target.family, localPort: rec.srcPort || socket.localPort || 0, remoteIp: target.host, remotePort: target.port };
      socket.destroy();
      kernelSocketStates(tuple).then(
        (states) => {
          if (states.some((s) => PAST_HANDSHAKE.has(s))) {
            rec.result = 'ok';
            rec.lateOk = true;
            rec.completedAtClose = true;
          } else rec.result = 'timeout';
          resolve(rec);
        },
        (/** @type {Error} */ e) => {
          rec.result = 'error';
          rec.error = `cannot read the kernel's socket table after the deadline: ${e.message}`;
          resolve(rec);
        },
      );
    }, timeoutMs);
    socket.once('connect', () => {
      if (socket.localPort !== rec.srcPort) rec.portSeenInFlight = false;
      // A kubelet TCP probe closes right after connecting.
      settle('ok');
    });
    socket.once('error', (/** @type {NodeJS.ErrnoException} */ e) => {
      settle(e.code === 'ECONNREFUSED' ? 'refused' : 'error', e.code ?? e.message);
    });
  });
}

if (values.warm) {
  // Neighbour-table warm-up: one connect per target, all must succeed.
  const results = await Promise.all(targets.map((t, i) => probe(t, i + 1)));
  const bad = results.filter((r) => r.result !== 'ok');
  if (bad.length > 0) fail(`warm-up failed: ${bad.map((r) => `${formatEndpoint(r.dst, r.dstPort)} ${r.result}`).join(', ')}`);
  process.stdout.write(`${JSON.stringify({ warmed: results.length })}\n`);
  process.exit(0);
}

if (!values.log) fail('--log FILE is required');
const log = createWriteStream(values.log);
exitWhenOrphaned();

const counts = { attempts: 0, ok: 0, timeout: 0, refused: 0, error: 0, lateOk: 0, completedAtClose: 0, portNotSeenInFlight: 0 };
let firstStartMs = 0;
let lastStartMs = 0;
let seq = 0;
let stopping = false;
const outstanding = new Set();
const startedAt = Date.now();

/** @param {{ host: string, port: number, family: 4|6 }} target */
function launch(target) {
  if (stopping) return;
  const elapsed = Date.now() - startedAt;
  if (elapsed >= maxMs || (elapsed >= minMs && counts.timeout >= untilTimeouts)) {
    stop();
    return;
  }
  seq += 1;
  const p = probe(target, seq).then((rec) => {
    outstanding.delete(p);
    counts.attempts += 1;
    counts[rec.result] += 1;
    if (rec.lateOk) counts.lateOk += 1;
    if (rec.completedAtClose) counts.completedAtClose += 1;
    if (!rec.portSeenInFlight) counts.portNotSeenInFlight += 1;
    log.write(`${JSON.stringify(rec)}\n`);
  });
  outstanding.add(p);
  lastStartMs = Date.now();
  if (firstStartMs === 0) firstStartMs = lastStartMs;
}

/** @type {NodeJS.Timeout[]} */
const timers = [];
targets.forEach((target, i) => {
  // Stagger targets across one interval, as kubelet's probe workers start at different times.
  const offset = Math.round((intervalMs * i) / targets.length);
  timers.push(
    setTimeout(() => {
      launch(target);
      timers.push(setInterval(() => launch(target), intervalMs));
    }, offset),
  );
});

async function stop() {
  if (stopping) return;
  stopping = true;
  for (const t of timers) clearTimeout(t);
  await Promise.all([...outstanding]);
  await new Promise((resolve) => log.end(resolve));
  const summary = {
    ...counts,
    targets: targets.length,
    firstStart: firstStartMs ? new Date(firstStartMs).toISOString() : null,
    lastStart: lastStartMs ? new Date(lastStartMs).toISOString() : null,
    lastStartMs,
    seconds: Math.round((Date.now() - startedAt) / 100) / 10,
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
