// What the kernel holds for one TCP connection, read from /proc/self/net/tcp{,6} (this process's
// network namespace). The prober uses it after closing a probe at its deadline: close() is the one
// point where the kernel settles whether the handshake had completed. A connection closed in
// SYN-SENT leaves nothing behind; one that had completed leaves an orphan in FIN-WAIT or TIME-WAIT
// (60 s). getpeername before close cannot tell, since the SYN-ACK can be processed between the two.
import { readFile } from 'node:fs/promises';
import net from 'node:net';

/** Linux's TCP state numbers, as /proc/net/tcp prints them (include/net/tcp_states.h). */
export const TCP_STATES = /** @type {const} */ ({
  1: 'ESTABLISHED',
  2: 'SYN_SENT',
  3: 'SYN_RECV',
  4: 'FIN_WAIT1',
  5: 'FIN_WAIT2',
  6: 'TIME_WAIT',
  7: 'CLOSE',
  8: 'CLOSE_WAIT',
  9: 'LAST_ACK',
  10: 'LISTEN',
  11: 'CLOSING',
  12: 'NEW_SYN_RECV',
});

/** @param {number[]} bytes network order */
function hexWordsHostOrder(bytes) {
  // The kernel prints each 32-bit word of the address with %08X as a host-order integer, so on a
  // little-endian machine the bytes of each word come out reversed.
  let out = '';
  for (let i = 0; i < bytes.length; i += 4) {
    const word = bytes.slice(i, i + 4);
    const ordered = littleEndian ? word.reverse() : word;
    out += ordered.map((b) => b.toString(16).padStart(2, '0')).join('');
  }
  return out.toUpperCase();
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** @param {string} ip @returns {number[]} network-order bytes */
export function addressBytes(ip) {
  if (net.isIPv4(ip)) return ip.split('.').map(Number);
  if (!net.isIPv6(ip)) throw new Error(`not an IP address: ${ip}`);
  let text = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = v4[1].split('.').map(Number);
    text = text.slice(0, -v4[1].length) + `${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, null];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups = tail === null ? headGroups : [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  return groups.flatMap((g) => {
    const v = parseInt(g, 16);
    return [v >> 8, v & 0xff];
  });
}

/**
 * The address:port text /proc/net/tcp{,6} shows for an endpoint.
 * @param {string} ip @param {number} port
 */
export function procNetEndpoint(ip, port) {
  return `${hexWordsHostOrder(addressBytes(ip))}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * States of every socket in this namespace with the given local port and remote endpoint.
 * @param {{ family: 4|6, localPort: number, remoteIp: string, remotePort: number }} tuple
 * @returns {Promise<string[]>}
 */
export async function kernelSocketStates(tuple) {
  const file = tuple.family === 6 ? '/proc/self/net/tcp6' : '/proc/self/net/tcp';
  const text = await readFile(file, 'utf8');
  const localPortHex = `:${tuple.localPort.toString(16).toUpperCase().padStart(4, '0')}`;
  const remote = procNetEndpoint(tuple.remoteIp, tuple.remotePort);
  /** @type {string[]} */
  const states = [];
  for (const line of text.split('\n')) {
    // "  sl  local_address rem_address   st ..."
    const fields = line.trim().split(/\s+/);
    if (fields.length < 4 || !fields[1].endsWith(localPortHex) || fields[2] !== remote) continue;
    const st = parseInt(fields[3], 16);
    states.push(TCP_STATES[/** @type {keyof typeof TCP_STATES} */ (st)] ?? `state-${st}`);
  }
  return states;
}

/** States a connection reaches only after its handshake completed. */
export const PAST_HANDSHAKE = new Set(['ESTABLISHED', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSING']);
