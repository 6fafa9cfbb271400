/**
 * Addresses as text. The decoder keeps addresses as 32-bit words; strings are built only here, once per
 * attempt or report row, never per packet.
 */

import type { PacketView } from '../types.js';

function dotted(word: number): string {
  return `${(word >>> 24) & 0xff}.${(word >>> 16) & 0xff}.${(word >>> 8) & 0xff}.${word & 0xff}`;
}

/**
 * An address as text: IPv4 dotted quad from w0; IPv6 in RFC 5952 form (lowercase, no leading zeros,
 * the longest run of two or more zero groups — the first on a tie — as `::`, IPv4-mapped as ::ffff:a.b.c.d).
 */
export function formatIp(version: number, w0: number, w1: number, w2: number, w3: number): string {
  if (version !== 6) return dotted(w0 >>> 0);
  if (w0 === 0 && w1 === 0 && w2 >>> 0 === 0x0000ffff) return `::ffff:${dotted(w3 >>> 0)}`;
  const groups = [
    (w0 >>> 16) & 0xffff,
    w0 & 0xffff,
    (w1 >>> 16) & 0xffff,
    w1 & 0xffff,
    (w2 >>> 16) & 0xffff,
    w2 & 0xffff,
    (w3 >>> 16) & 0xffff,
    w3 & 0xffff,
  ];
  let bestStart = -1;
  let bestLength = 1; // a single zero group is never compressed
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.map((g) => g.toString(16)).join(':');
  const head = groups.slice(0, bestStart).map((g) => g.toString(16)).join(':');
  const tail = groups.slice(bestStart + bestLength).map((g) => g.toString(16)).join(':');
  return `${head}::${tail}`;
}

/** The packet's (inner) source address. */
export function formatSrc(view: PacketView): string {
  return formatIp(view.ipVersion, view.src0, view.src1, view.src2, view.src3);
}

/** The packet's (inner) destination address. */
export function formatDst(view: PacketView): string {
  return formatIp(view.ipVersion, view.dst0, view.dst1, view.dst2, view.dst3);
}

/** Outer source of the innermost tunnel; '' when the packet was not tunnelled. */
export function formatOuterSrc(view: PacketView): string {
  if (view.outerIpVersion === 0) return '';
  return formatIp(view.outerIpVersion, view.outerSrc0, view.outerSrc1, view.outerSrc2, view.outerSrc3);
}

/** Outer destination of the innermost tunnel; '' when the packet was not tunnelled. */
export function formatOuterDst(view: PacketView): string {
  if (view.outerIpVersion === 0) return '';
  return formatIp(view.outerIpVersion, view.outerDst0, view.outerDst1, view.outerDst2, view.outerDst3);
}

/** "ip:port" for IPv4, "[ip]:port" for IPv6 — the endpoint spelling used across reports. */
export function formatEndpoint(version: number, ip: string, port: number): string {
  return version === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}
