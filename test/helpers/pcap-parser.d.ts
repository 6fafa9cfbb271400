// The npm package 'pcap-parser' ships no types; this is the part the oracle test uses.
declare module 'pcap-parser' {
  import type { EventEmitter } from 'node:events';
  import type { Readable } from 'node:stream';
  export interface PcapParserPacket {
    header: { timestampSeconds: number; timestampMicroseconds: number; capturedLength: number; originalLength: number };
    data: Buffer;
  }
  export function parse(input: string | Readable): EventEmitter;
}
