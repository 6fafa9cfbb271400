#!/usr/bin/env node
/**
 * pcap-parser 0.2.1 on the same file, the way its README uses it: a 'packet' event per frame. Reads each
 * frame's TCP flags byte like the minimal loop, so both do the same work per packet.
 *
 *   node bench/pcap-parser-count.mjs FILE   → {"packets":…,"syn":…,"synAck":…,"rst":…}
 */
import { createRequire } from 'node:module';

const pcapParser = createRequire(import.meta.url)('pcap-parser');
const parser = pcapParser.parse(process.argv[2]);
let linkLength = 14;
let packets = 0;
let syn = 0;
let synAck = 0;
let rst = 0;
parser.on('globalHeader', (header) => {
  linkLength = header.linkLayerType === 276 ? 20 : 14;
});
parser.on('packet', (packet) => {
  const d = packet.data;
  const ip = linkLength;
  const tcp = d[ip] >> 4 === 4 ? ip + (d[ip] & 0x0f) * 4 : ip + 40;
  const flags = d[tcp + 13];
  if ((flags & 0x02) !== 0) {
    if ((flags & 0x10) !== 0) synAck++;
    else syn++;
  }
  if ((flags & 0x04) !== 0) rst++;
  packets++;
});
parser.on('error', (e) => {
  process.stderr.write(`pcap-parser: ${e.message}\n`);
  process.exitCode = 1;
});
parser.on('end', () => {
  process.stdout.write(`${JSON.stringify({ packets, syn, synAck, rst, maxRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`);
});
