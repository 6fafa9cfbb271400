// Ground truth from the capture itself, read by tshark (not by synscope): which probe attempts are
// in the file and which of them the client completed. It proves the lab's captures hold what the
// prober saw, independently of the tool under test.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { LabError } from './proc.mjs';
import { canonicalIp } from './endpoint.mjs';

const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;

/**
 * One TCP packet as tshark prints it.
 * @typedef {object} TcpRow
 * @property {number} time   epoch seconds
 * @property {string} src
 * @property {string} dst
 * @property {number} srcPort
 * @property {number} dstPort
 * @property {number} flags
 * @property {number} seq
 * @property {number} ack
 */

/**
 * @typedef {object} OracleAttempt
 * @property {string} client
 * @property {number} clientPort
 * @property {string} server
 * @property {number} serverPort
 * @property {number} isn
 * @property {number} firstSyn
 * @property {boolean} synAckToClient   a SYN-ACK addressed to the client was captured
 * @property {boolean} established      the client sent ACK with seq = ISN + 1 (no SYN, no RST)
 * @property {boolean} clientReset      the client sent RST with seq = ISN + 1
 * @property {boolean} serverReset      the server answered with RST
 */

/**
 * @typedef {object} OracleResult
 * @property {OracleAttempt[]} attempts  in order of first SYN
 * @property {number} tcpPackets
 * @property {number} divertedSynAcks    SYN-ACKs from a probe target to someone other than the client
 * @property {number} firstPacketTime
 * @property {number} lastPacketTime
 */

/**
 * Decide handshakes from packet rows. Attempts are identified like synscope does: client and
 * server endpoints plus the client ISN, so a reused port is a new attempt.
 * @param {Iterable<TcpRow>} rows
 * @param {{ clients: Set<string>, servers: Set<string> }} scope  client IPs; server "ip|port" keys
 * @returns {OracleResult}
 */
export function decideHandshakes(rows, scope) {
  /** @type {Map<string, OracleAttempt>} */
  const byKey = new Map();
  /** @type {OracleAttempt[]} */
  const attempts = [];
  let tcpPackets = 0;
  let divertedSynAcks = 0;
  let first = Infinity;
  let last = -Infinity;
  const key = (/** @type {string} */ c, /** @type {number} */ cp, /** @type {string} */ s, /** @type {number} */ sp, /** @type {number} */ isn) =>
    `${c}|${cp}|${s}|${sp}|${isn >>> 0}`;
  for (const r of rows) {
    tcpPackets += 1;
    if (r.time < first) first = r.time;
    if (r.time > last) last = r.time;
    if (scope.clients.has(r.src) && scope.servers.has(`${r.dst}|${r.dstPort}`)) {
      if ((r.flags & (SYN | ACK)) === SYN) {
        const k = key(r.src, r.srcPort, r.dst, r.dstPort, r.seq);
        if (!byKey.has(k)) {
          /** @type {OracleAttempt} */
          const a = {
            client: r.src,
            clientPort: r.srcPort,
            server: r.dst,
            serverPort: r.dstPort,
            isn: r.seq >>> 0,
            firstSyn: r.time,
            synAckToClient: false,
            established: false,
            clientReset: false,
            serverReset: false,
          };
          byKey.set(k, a);
          attempts.push(a);
        }
      } else if (!(r.flags & SYN)) {
        const a = byKey.get(key(r.src, r.srcPort, r.dst, r.dstPort, r.seq - 1));
        if (a && r.flags & RST) a.clientReset = true;
        else if (a && r.flags & ACK) a.established = true;
      }
    } else if (scope.servers.has(`${r.src}|${r.srcPort}`)) {
      if ((r.flags & (SYN | ACK)) === (SYN | ACK)) {
        const a = byKey.get(key(r.dst, r.dstPort, r.src, r.srcPort, r.ack - 1));
        if (a) a.synAckToClient = true;
        else if (!scope.clients.has(r.dst)) divertedSynAcks += 1;
      } else if (r.flags & RST && scope.clients.has(r.dst)) {
        // A refusing server acks ISN + 1 on its RST.
        const a = byKey.get(key(r.dst, r.dstPort, r.src, r.srcPort, r.ack - 1));
        if (a && !a.established) a.serverReset = true;
      }
    }
  }
  return {
    attempts,
    tcpPackets,
    divertedSynAcks,
    firstPacketTime: attempts.length || tcpPackets ? first : 0,
    lastPacketTime: attempts.length || tcpPackets ? last : 0,
  };
}

/**
 * Parse one line of the tshark field output below; null for lines without a usable TCP header.
 * @param {string} line
 * @returns {TcpRow | null}
 */
export function parseTsharkLine(line) {
  const f = line.split('\t');
  if (f.length < 10) return null;
  const [time, src4, src6, dst4, dst6, sport, dport, flags, seq, ack] = f;
  // Tunnelled or ICMP-quoted packets list several addresses; the lab has neither, skip them.
  if (!sport || !dport) return null;
  const src = src4 || src6;
  const dst = dst4 || dst6;
  if (!src || !dst || src.includes(',') || dst.includes(',') || sport.includes(',')) return null;
  return {
    time: Number(time),
    src: canonicalIp(src),
    dst: canonicalIp(dst),
    srcPort: Number(sport),
    dstPort: Number(dport),
    flags: Number.parseInt(flags, 16),
    seq: Number(seq),
    ack: Number(ack || 0),
  };
}

/**
 * Read a capture with tshark and decide its handshakes.
 * @param {string} file
 * @param {{ clients: Set<string>, servers: Set<string> }} scope
 * @returns {Promise<OracleResult>}
 */
export async function readCaptureWithTshark(file, scope) {
  const args = [
    '-r', file, '-n',
    // Sequence analysis is what makes tshark slow and we need none of it: raw numbers only.
    '-o', 'tcp.analyze_sequence_numbers:FALSE',
    '-o', 'tcp.relative_sequence_numbers:FALSE',
    '-o', 'tcp.calculate_timestamps:FALSE',
    // No display filter (-Y): it makes tshark build the whole tree and triples the time.
    // Rows without TCP ports are dropped in parseTsharkLine; ICMP-quoted TCP lists two addresses.
    '-T', 'fields', '-E', 'separator=/t',
    '-e', 'frame.time_epoch', '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'ip.dst', '-e', 'ipv6.dst',
    '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'tcp.flags', '-e', 'tcp.seq_raw', '-e', 'tcp.ack_raw',
  ];
  const child = spawn('tshark', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b) => (stderr += b.toString('utf8')));
  const exited = new Promise((resolve) => child.on('close', (code) => resolve(code)));
  const spawnError = new Promise((_, reject) => child.on('error', (e) => reject(new LabError(`cannot run tshark: ${e.message}`))));
  const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
  /** @type {TcpRow[]} */
  const rows = [];
  const reading = (async () => {
    for await (const line of lines) {
      const row = parseTsharkLine(line);
      if (row) rows.push(row);
    }
  })();
  await Promise.race([Promise.all([reading, exited]), spawnError]);
  const code = await exited;
  if (code !== 0) throw new LabError(`tshark could not read ${file} (exit ${code})`, stderr.trim());
  return decideHandshakes(rows, scope);
}
