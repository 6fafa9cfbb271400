#!/usr/bin/env node
/**
 * The yardstick: the least a Node program can do to look at every packet of a classic little-endian pcap.
 * readSync into one reused 1 MiB buffer, walk the record headers, read each frame's TCP flags byte
 * (Ethernet or LINUX_SLL2, IPv4 or IPv6 without extension headers), count SYNs. No checks beyond that.
 *
 *   node bench/minimal-loop.mjs FILE   → {"packets":…,"syn":…,"synAck":…,"rst":…}
 */
import { closeSync, openSync, readSync } from 'node:fs';

const fd = openSync(process.argv[2], 'r');
const buf = new Uint8Array(1 << 20);
let filled = readSync(fd, buf, 0, buf.length, null);
const linkType = buf[20] | (buf[21] << 8);
const linkLength = linkType === 276 ? 20 : 14;
let pos = 24;
let packets = 0;
let syn = 0;
let synAck = 0;
let rst = 0;
for (;;) {
  if (filled - pos < 16 || filled - pos < 16 + (buf[pos + 8] | (buf[pos + 9] << 8) | (buf[pos + 10] << 16))) {
    // Move the partial record to the front and refill.
    buf.copyWithin(0, pos, filled);
    filled -= pos;
    pos = 0;
    const n = readSync(fd, buf, filled, buf.length - filled, null);
    if (n === 0) break;
    filled += n;
    continue;
  }
  const caplen = buf[pos + 8] | (buf[pos + 9] << 8) | (buf[pos + 10] << 16) | (buf[pos + 11] << 24);
  const ip = pos + 16 + linkLength;
  const tcp = (buf[ip] >> 4) === 4 ? ip + (buf[ip] & 0x0f) * 4 : ip + 40;
  const flags = buf[tcp + 13];
  if ((flags & 0x02) !== 0) {
    if ((flags & 0x10) !== 0) synAck++;
    else syn++;
  }
  if ((flags & 0x04) !== 0) rst++;
  packets++;
  pos += 16 + caplen;
}
closeSync(fd);
process.stdout.write(`${JSON.stringify({ packets, syn, synAck, rst, maxRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`);
