/**
 * A decoded TCP packet as a run of int32 words, so the decoder thread (decode/thread-worker.ts) can hand
 * packets to the tracking thread in shared memory without an object per packet. One source of truth
 * for the layout: packView() writes it, unpackView() reads it back into a PacketView field for field
 * (test/decode-thread.test.ts holds the round trip exact, tunnels and extreme values included). The
 * record also carries the tracker's flow key and check, so the tracking thread reads five words of a
 * packet that belongs to no pending attempt (most of them) and unpacks only the others.
 *
 * A record is BASE_WORDS words, or TUNNEL_WORDS when the packet travelled in a tunnel (the outer
 * header's fields follow).
 */
import { endpointHash, finish30 } from '../handshake/flow-key.js';
import type { PacketView, TunnelKindCode } from '../types.js';

const TS_SEC_LOW = 0; // seconds as two words: pcapng timestamps can pass 2^32 seconds
const TS_SEC_HIGH = 1;
const TS_NSEC = 2;
const INTERFACE_ID = 3;
const LINK_TYPE = 4;
/** The tracker's flow key (flow-key.ts), computed here so that the tracking thread need not hash. */
const FLOW_KEY = 5;
const SLL_PACKET_TYPE = 6;
const VLAN_ID = 7;
/** ipVersion (bits 0-3) | tunnel (bits 4-11) | hasTfoCookie | an SLL2 interface index | a tunnel id */
const KIND = 8;
const KIND_TFO = 0x1000;
const KIND_SLL_IF_INDEX = 0x2000;
const KIND_TUNNEL_ID = 0x4000;
const SRC = 9; // 4 words
const DST = 13; // 4 words
const IP_ID = 17;
const TTL = 18;
const PORTS = 19; // srcPort << 16 | dstPort
const SEQ = 20;
const ACK = 21;
const FLAGS = 22;
const WINDOW = 23;
const PAYLOAD_LENGTH = 24;
const INPUT_INDEX = 25;
/** A u32 when KIND_SLL_IF_INDEX is set; the view's -1 otherwise. */
const SLL_IF_INDEX = 26;
/** The flow check (flow-key.ts): with FLOW_KEY, all a packet of no pending attempt needs. */
const FLOW_CHECK = 27;
export const BASE_WORDS = 28;
const OUTER_IP_VERSION = 28;
const OUTER_SRC = 29; // 4 words
const OUTER_DST = 33; // 4 words
/** A u32 (VNI, GRE key) when KIND_TUNNEL_ID is set; the view's -1 otherwise. */
const TUNNEL_ID = 37;
export const TUNNEL_WORDS = 38;
/** Room a writer must leave at the end of a slot for one more record. */
export const MAX_RECORD_WORDS = TUNNEL_WORDS;

/** Signed and unsigned views of one word buffer (int32 only: float64 stores to shared memory were slow). */
export interface PackedWords {
  i32: Int32Array;
  u32: Uint32Array;
}

export function packedWords(buffer: ArrayBufferLike, byteOffset = 0, words?: number): PackedWords {
  const length = words ?? (buffer.byteLength - byteOffset) >> 2;
  return { i32: new Int32Array(buffer, byteOffset, length), u32: new Uint32Array(buffer, byteOffset, length) };
}

/** Writes `view` (and the input it came from) at word `at`; returns the word after the record. */
export function packView(view: PacketView, inputIndex: number, w: PackedWords, at: number): number {
  const i = w.i32;
  const tsSecHigh = Math.floor(view.tsSec / 4294967296);
  i[at + TS_SEC_LOW] = view.tsSec - tsSecHigh * 4294967296;
  i[at + TS_SEC_HIGH] = tsSecHigh;
  i[at + TS_NSEC] = view.tsNsec;
  i[at + INTERFACE_ID] = view.interfaceId;
  i[at + LINK_TYPE] = view.linkType;
  i[at + SLL_IF_INDEX] = view.sllIfIndex;
  i[at + SLL_PACKET_TYPE] = view.sllPacketType;
  i[at + VLAN_ID] = view.vlanId;
  const tunnel = view.tunnel;
  i[at + KIND] =
    view.ipVersion |
    (tunnel << 4) |
    (view.hasTfoCookie ? KIND_TFO : 0) |
    (view.sllIfIndex !== -1 ? KIND_SLL_IF_INDEX : 0) |
    (view.tunnelId !== -1 ? KIND_TUNNEL_ID : 0);
  i[at + SRC] = view.src0;
  i[at + SRC + 1] = view.src1;
  i[at + SRC + 2] = view.src2;
  i[at + SRC + 3] = view.src3;
  i[at + DST] = view.dst0;
  i[at + DST + 1] = view.dst1;
  i[at + DST + 2] = view.dst2;
  i[at + DST + 3] = view.dst3;
  i[at + IP_ID] = view.ipId;
  i[at + TTL] = view.ttl;
  i[at + PORTS] = (view.srcPort << 16) | view.dstPort;
  i[at + SEQ] = view.seq;
  i[at + ACK] = view.ack;
  i[at + FLAGS] = view.flags;
  i[at + WINDOW] = view.window;
  i[at + PAYLOAD_LENGTH] = view.payloadLength;
  i[at + INPUT_INDEX] = inputIndex;
  const hs = endpointHash(view.src0, view.src1, view.src2, view.src3, view.srcPort);
  const hd = endpointHash(view.dst0, view.dst1, view.dst2, view.dst3, view.dstPort);
  i[at + FLOW_KEY] = finish30((hs + hd) | 0);
  i[at + FLOW_CHECK] = hs ^ hd;
  if (tunnel === 0) return at + BASE_WORDS;
  i[at + OUTER_IP_VERSION] = view.outerIpVersion;
  i[at + OUTER_SRC] = view.outerSrc0;
  i[at + OUTER_SRC + 1] = view.outerSrc1;
  i[at + OUTER_SRC + 2] = view.outerSrc2;
  i[at + OUTER_SRC + 3] = view.outerSrc3;
  i[at + OUTER_DST] = view.outerDst0;
  i[at + OUTER_DST + 1] = view.outerDst1;
  i[at + OUTER_DST + 2] = view.outerDst2;
  i[at + OUTER_DST + 3] = view.outerDst3;
  i[at + TUNNEL_ID] = view.tunnelId;
  return at + TUNNEL_WORDS;
}

// The few fields the tracker reads before it knows whether it needs the whole packet.
export const packedTsSec = (w: PackedWords, at: number): number => w.i32[at + TS_SEC_HIGH]! * 4294967296 + w.u32[at + TS_SEC_LOW]!;
export const packedTsNsec = (w: PackedWords, at: number): number => w.i32[at + TS_NSEC]!;
export const packedFlags = (w: PackedWords, at: number): number => w.i32[at + FLAGS]!;
export const packedFlowKey = (w: PackedWords, at: number): number => w.i32[at + FLOW_KEY]!;
export const packedFlowCheck = (w: PackedWords, at: number): number => w.i32[at + FLOW_CHECK]!;
export const packedInputIndex = (w: PackedWords, at: number): number => w.i32[at + INPUT_INDEX]!;
/** The word after the record at `at`. */
export const nextPacked = (w: PackedWords, at: number): number => at + ((w.i32[at + KIND]! & 0xff0) === 0 ? BASE_WORDS : TUNNEL_WORDS);

/** Reads the record at word `at` into `view`: every field the decoder sets. */
export function unpackView(w: PackedWords, at: number, view: PacketView): void {
  const i = w.i32;
  const u = w.u32;
  view.tsSec = i[at + TS_SEC_HIGH]! * 4294967296 + u[at + TS_SEC_LOW]!;
  view.tsNsec = i[at + TS_NSEC]!;
  view.interfaceId = u[at + INTERFACE_ID]!;
  view.linkType = u[at + LINK_TYPE]!;
  view.sllPacketType = i[at + SLL_PACKET_TYPE]!;
  view.vlanId = i[at + VLAN_ID]!;
  const kind = i[at + KIND]!;
  view.sllIfIndex = (kind & KIND_SLL_IF_INDEX) !== 0 ? u[at + SLL_IF_INDEX]! : -1;
  view.ipVersion = kind & 0xf;
  const tunnel = ((kind >> 4) & 0xff) as TunnelKindCode;
  view.tunnel = tunnel;
  view.hasTfoCookie = (kind & KIND_TFO) !== 0;
  view.src0 = u[at + SRC]!;
  view.src1 = u[at + SRC + 1]!;
  view.src2 = u[at + SRC + 2]!;
  view.src3 = u[at + SRC + 3]!;
  view.dst0 = u[at + DST]!;
  view.dst1 = u[at + DST + 1]!;
  view.dst2 = u[at + DST + 2]!;
  view.dst3 = u[at + DST + 3]!;
  view.ipId = i[at + IP_ID]!;
  view.ttl = i[at + TTL]!;
  const ports = u[at + PORTS]!;
  view.srcPort = ports >>> 16;
  view.dstPort = ports & 0xffff;
  view.seq = u[at + SEQ]!;
  view.ack = u[at + ACK]!;
  view.flags = i[at + FLAGS]!;
  view.window = i[at + WINDOW]!;
  view.payloadLength = i[at + PAYLOAD_LENGTH]!;
  if (tunnel === 0) {
    view.clearTunnel();
    return;
  }
  view.outerIpVersion = i[at + OUTER_IP_VERSION]!;
  view.outerSrc0 = u[at + OUTER_SRC]!;
  view.outerSrc1 = u[at + OUTER_SRC + 1]!;
  view.outerSrc2 = u[at + OUTER_SRC + 2]!;
  view.outerSrc3 = u[at + OUTER_SRC + 3]!;
  view.outerDst0 = u[at + OUTER_DST]!;
  view.outerDst1 = u[at + OUTER_DST + 1]!;
  view.outerDst2 = u[at + OUTER_DST + 2]!;
  view.outerDst3 = u[at + OUTER_DST + 3]!;
  view.tunnelId = (kind & KIND_TUNNEL_ID) !== 0 ? u[at + TUNNEL_ID]! : -1;
}
