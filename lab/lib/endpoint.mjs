// "10.244.1.11:8080" and "[fd00:244:1::11]:8080" as the lab writes endpoints.
import net from 'node:net';

/**
 * @param {string} text
 * @returns {{ host: string, port: number, family: 4 | 6 }}
 */
export function parseEndpoint(text) {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(text) ?? /^([0-9.]+):(\d+)$/.exec(text);
  if (!m) throw new Error(`not an endpoint: ${text} (expected 10.0.0.1:80 or [fd00::1]:80)`);
  const family = net.isIPv6(m[1]) ? 6 : net.isIPv4(m[1]) ? 4 : 0;
  const port = Number(m[2]);
  if (family === 0 || port < 1 || port > 65535) throw new Error(`not an endpoint: ${text}`);
  return { host: canonicalIp(m[1]), port, family };
}

/** @param {string} host @param {number} port */
export function formatEndpoint(host, port) {
  return net.isIPv6(host) ? `[${canonicalIp(host)}]:${port}` : `${host}:${port}`;
}

/**
 * One spelling per address, so logs from Node, tshark and synscope compare as strings:
 * IPv6 in RFC 5952 form (lower case, longest zero run compressed), IPv4 as dotted quad.
 * @param {string} ip
 */
export function canonicalIp(ip) {
  if (!net.isIPv6(ip)) return ip;
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}
