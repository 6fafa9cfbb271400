/**
 * Byte helpers for the packet builders: address parsing, the Internet checksum, concatenation.
 * Builders run in tests, fixtures, the lab and the benchmark generator — never on the read path.
 */

const ipCache = new Map<string, Uint8Array>();
const IP_CACHE_LIMIT = 1 << 16;

/**
 * '10.0.0.1' → 4 bytes, 'fd00::1' / '::ffff:1.2.3.4' → 16 bytes. Throws RangeError on anything else.
 * The result is shared by later calls with the same text: do not modify it.
 */
export function parseIp(text: string): Uint8Array {
  const cached = ipCache.get(text);
  if (cached !== undefined) return cached;
  const bytes = text.includes(':') ? parseIpv6(text) : parseIpv4(text);
  if (bytes === null) throw new RangeError(`not an IP address: '${text}'`);
  // The generator reuses a few thousand addresses millions of times; bounded so it cannot grow forever.
  if (ipCache.size >= IP_CACHE_LIMIT) ipCache.clear();
  ipCache.set(text, bytes);
  return bytes;
}

/** 4 or 6, by the address's spelling. */
export function ipVersionOf(text: string): 4 | 6 {
  return parseIp(text).length === 16 ? 6 : 4;
}

function parseIpv4(text: string): Uint8Array | null {
  // Character by character: the benchmark generator parses hundreds of thousands of distinct clients.
  const out = new Uint8Array(4);
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const code = i < text.length ? text.charCodeAt(i) : 0x2e;
    if (code === 0x2e) {
      if (digits === 0 || value > 255 || part > 3) return null;
      out[part++] = value;
      value = 0;
      digits = 0;
    } else if (code >= 0x30 && code <= 0x39 && digits < 3) {
      value = value * 10 + code - 0x30;
      digits++;
    } else {
      return null;
    }
  }
  return part === 4 ? out : null;
}

function parseIpv6(text: string): Uint8Array | null {
  let head = text;
  let tailV4: Uint8Array | null = null;
  const lastColon = text.lastIndexOf(':');
  if (text.indexOf('.', lastColon) > 0) {
    tailV4 = parseIpv4(text.slice(lastColon + 1));
    if (tailV4 === null) return null;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const groupsOf = (s: string): number[] | null => {
    if (s === '') return [];
    const groups: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      groups.push(parseInt(g, 16));
    }
    return groups;
  };
  const left = groupsOf(halves[0]!);
  const right = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (left === null || right === null) return null;
  const missing = 8 - left.length - right.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...left, ...new Array<number>(missing).fill(0), ...right];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i]! >> 8;
    out[2 * i + 1] = groups[i]! & 0xff;
  }
  if (tailV4 !== null) out.set(tailV4, 12);
  return out;
}

const macCache = new Map<string, Uint8Array>();

/** '02:00:00:00:00:01' → 6 bytes (shared: do not modify the result). */
export function parseMac(text: string): Uint8Array {
  const cached = macCache.get(text);
  if (cached !== undefined) return cached;
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new RangeError(`not a MAC address: '${text}'`);
  }
  const bytes = Uint8Array.from(parts, (p) => parseInt(p, 16));
  if (macCache.size >= IP_CACHE_LIMIT) macCache.clear();
  macCache.set(text, bytes);
  return bytes;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** One's-complement sum of 16-bit big-endian words (odd length padded with a zero byte), not yet folded. */
export function sum16(bytes: Uint8Array, start = 0, end = bytes.length, initial = 0): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i < end) sum += bytes[i]! << 8;
  return sum;
}

/** Fold a sum16 into the 16-bit Internet checksum (RFC 1071). */
export function foldChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** Sum of the TCP/UDP/ICMPv6 pseudo-header (RFC 793 / RFC 8200 §8.1). */
export function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, protocol: number, length: number): number {
  if (src.length !== dst.length) throw new RangeError('source and destination are of different IP versions');
  let sum = sum16(src) + sum16(dst) + protocol;
  sum += src.length === 16 ? Math.floor(length / 0x10000) + (length & 0xffff) : length & 0xffff;
  return sum;
}

export function writeU16(out: Uint8Array, offset: number, value: number): void {
  out[offset] = (value >>> 8) & 0xff;
  out[offset + 1] = value & 0xff;
}

export function writeU32(out: Uint8Array, offset: number, value: number): void {
  out[offset] = (value >>> 24) & 0xff;
  out[offset + 1] = (value >>> 16) & 0xff;
  out[offset + 2] = (value >>> 8) & 0xff;
  out[offset + 3] = value & 0xff;
}

export function writeU32Le(out: Uint8Array, offset: number, value: number): void {
  out[offset] = value & 0xff;
  out[offset + 1] = (value >>> 8) & 0xff;
  out[offset + 2] = (value >>> 16) & 0xff;
  out[offset + 3] = (value >>> 24) & 0xff;
}

export const EMPTY = new Uint8Array(0);
