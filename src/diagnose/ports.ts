/**
 * Port ranges, port lists and address text shared by the evidence parsers, the checks and the findings.
 */
import type { Endpoint } from '../types.js';
import { formatIp } from '../decode/format.js';

export type PortRange = [number, number];

/** Sorted, merged copy of a list of inclusive ranges. */
export function normalizeRanges(ranges: readonly PortRange[]): PortRange[] {
  const sorted = ranges.map((r): PortRange => [Math.min(r[0], r[1]), Math.max(r[0], r[1])]).sort((x, y) => x[0] - y[0]);
  const merged: PortRange[] = [];
  for (const r of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return merged;
}

/** Sorted port numbers as merged ranges: [30000, 30001, 30002, 31044] → [[30000, 30002], [31044, 31044]]. */
export function portsToRanges(ports: Iterable<number>): PortRange[] {
  return normalizeRanges([...ports].map((p): PortRange => [p, p]));
}

/** The kernel's list syntax (ip_local_reserved_ports): "30000-32767,40000". */
export function formatPortList(ranges: readonly PortRange[]): string {
  return normalizeRanges(ranges)
    .map(([lo, hi]) => (lo === hi ? String(lo) : `${lo}-${hi}`))
    .join(',');
}

export function rangeSize(ranges: readonly PortRange[]): number {
  let n = 0;
  for (const [lo, hi] of normalizeRanges(ranges)) n += hi - lo + 1;
  return n;
}

export function intersectRanges(a: readonly PortRange[], b: readonly PortRange[]): PortRange[] {
  const out: PortRange[] = [];
  const x = normalizeRanges(a);
  const y = normalizeRanges(b);
  let i = 0;
  let j = 0;
  while (i < x.length && j < y.length) {
    const lo = Math.max(x[i]![0], y[j]![0]);
    const hi = Math.min(x[i]![1], y[j]![1]);
    if (lo <= hi) out.push([lo, hi]);
    if (x[i]![1] < y[j]![1]) i++;
    else j++;
  }
  return out;
}

/** a minus b. */
export function subtractRanges(a: readonly PortRange[], b: readonly PortRange[]): PortRange[] {
  const out: PortRange[] = [];
  const cut = normalizeRanges(b);
  for (const [lo0, hi] of normalizeRanges(a)) {
    let lo = lo0;
    for (const [clo, chi] of cut) {
      if (chi < lo || clo > hi) continue;
      if (clo > lo) out.push([lo, clo - 1]);
      lo = Math.max(lo, chi + 1);
      if (lo > hi) break;
    }
    if (lo <= hi) out.push([lo, hi]);
  }
  return out;
}

export function inRanges(port: number, ranges: readonly PortRange[]): boolean {
  for (const [lo, hi] of ranges) if (port >= lo && port <= hi) return true;
  return false;
}

export function formatRange([lo, hi]: PortRange): string {
  return lo === hi ? String(lo) : `${lo}-${hi}`;
}

// ───────────────────────────── addresses ─────────────────────────────

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function ipv4Octets(text: string): number[] | null {
  const m = IPV4.exec(text);
  if (m === null) return null;
  const octets = m.slice(1, 5).map(Number);
  return octets.every((o) => o <= 255) ? octets : null;
}

/** Eight 16-bit groups of an IPv6 address, or null when the text is not one. */
function ipv6Groups(text: string): number[] | null {
  let body = text;
  if (body.includes('.')) {
    // A trailing dotted quad (::ffff:10.0.0.5) stands for the last two groups.
    const lastColon = body.lastIndexOf(':');
    const v4 = lastColon < 0 ? null : ipv4Octets(body.slice(lastColon + 1));
    if (v4 === null) return null;
    body = `${body.slice(0, lastColon + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const halves = body.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const head = parse(halves[0]!);
  if (head === null) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const rest = parse(halves[1]!);
  if (rest === null || head.length + rest.length >= 8) return null;
  return [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
}

/**
 * An address in the form the handshake stage prints (RFC 5952; IPv4-mapped IPv6 as ::ffff:a.b.c.d),
 * or null when the text is no IP address. A zone (%eth0) is dropped.
 */
export function canonicalIp(text: string): string | null {
  const bare = text.replace(/%[^%]*$/, '');
  if (ipv4Octets(bare) !== null) return bare.split('.').map(Number).join('.');
  const groups = ipv6Groups(bare);
  if (groups === null) return null;
  // One formatter for every address synscope prints: the decoder's, from the same 32-bit words.
  const word = (i: number): number => ((groups[i]! << 16) | groups[i + 1]!) >>> 0;
  return formatIp(6, word(0), word(2), word(4), word(6));
}

/**
 * The address a socket table and a packet agree on: IPv4-mapped IPv6 (a dual-stack socket carrying IPv4)
 * becomes plain IPv4, so `[::ffff:10.0.0.5]:31044` in ss matches 10.0.0.5:31044 in the capture.
 */
export function matchIp(text: string): string {
  const c = canonicalIp(text) ?? text.toLowerCase();
  return c.startsWith('::ffff:') && c.includes('.') ? c.slice(7) : c;
}

export function isIpv6(ip: string): boolean {
  return ip.includes(':');
}

/** "10.0.0.5:31044" or "[2001:db8::5]:31044". */
export function formatEndpoint(e: Endpoint): string {
  return isIpv6(e.ip) ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`;
}

/** A Wireshark display filter that shows exactly one connection's packets (both directions). */
export function wiresharkFilter(client: Endpoint, server: Endpoint): string {
  const field = isIpv6(client.ip) ? 'ipv6.addr' : 'ip.addr';
  const addresses =
    client.ip === server.ip ? `${field}==${client.ip}` : `${field}==${client.ip} && ${field}==${server.ip}`;
  return `${addresses} && tcp.port==${client.port} && tcp.port==${server.port}`;
}
