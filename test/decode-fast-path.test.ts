// The decoder's fast paths (Ethernet II or LINUX_SLL2 + IPv4/IPv6 + TCP written out in one pass) must say
// exactly what the general path says. The general path is reachable for the same IP packet through the
// IPv4 / IPv6 link types (the IP header first, read as the Ethernet type says), so every frame is decoded both ways and every PacketView field compared — on real
// TCP packets, and on thousands of them with bytes flipped, lengths lied about and captures cut short.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DecodeStatus, PacketView, type CaptureRecord } from '../src/types.js';
import { Decoder } from '../src/decode/index.js';
import { ethernet, ipv4, ipv6, sll2, tcp, tcpOptions } from '../src/craft/index.js';

const LINKTYPE_ETHERNET = 1;
/** LINKTYPE_IPV4 / LINKTYPE_IPV6: the general ipv4() / ipv6() whatever the version nibble says, as after an Ethernet type. */
const LINKTYPE_IPV4 = 228;
const LINKTYPE_IPV6 = 229;

function record(frame: Uint8Array, linkType: number, caplen: number): CaptureRecord {
  return { data: frame, offset: 0, caplen, origLen: frame.length, tsSec: 1_700_000_000, tsNsec: 5, linkType, interfaceId: 0, recordNumber: 1, fileOffset: 0 };
}

const FIELDS = Object.keys(new PacketView()).filter((k) => k !== 'linkType') as Array<keyof PacketView>;

/** Decodes `packet` as the payload of an Ethernet frame and as a raw IP packet; both views and statuses. */
function both(packet: Uint8Array, cut: number, etherType: number) {
  const frame = ethernet({ payload: packet, etherType });
  const fast = new PacketView();
  const general = new PacketView();
  // Fresh decoders: the link decoder is chosen per decoder.
  const fastStatus = new Decoder().decode(record(frame, LINKTYPE_ETHERNET, Math.max(0, frame.length - cut)), fast);
  const generalStatus = new Decoder().decode(record(packet, etherType === 0x86dd ? LINKTYPE_IPV6 : LINKTYPE_IPV4, Math.max(0, packet.length - cut)), general);
  return { fast, general, fastStatus, generalStatus };
}

/**
 * One decoder and view reused for every frame, as the pipeline does, and first given a VXLAN frame with a
 * VLAN tag (tunnel, VLAN and outer fields all set): the fast path must not leave any of them behind.
 */
const sharedDecoder = new Decoder();
const sharedView = new PacketView();
let dirtyingFrame: Uint8Array | null = null;
const dirtying = (): Uint8Array => (dirtyingFrame ??= ethernet({
  vlans: [42],
  payload: ipv4({
    src: '192.168.0.1',
    dst: '192.168.0.2',
    protocol: 17,
    payload: vxlanPacketPayload(),
  }),
}));

function vxlanPacketPayload(): Uint8Array {
  const inner = ethernet({ payload: V4_INNER });
  const udp = new Uint8Array(8 + 8 + inner.length);
  udp[2] = 0x12; // destination port 4789
  udp[3] = 0xb5;
  udp[4] = (udp.length >> 8) & 0xff;
  udp[5] = udp.length & 0xff;
  udp[8] = 0x08; // VXLAN flags: VNI present
  udp[12] = 0;
  udp[13] = 0x10; // VNI 4096
  udp.set(inner, 16);
  return udp;
}

function expectSame(packet: Uint8Array, cut: number, etherType: number): void {
  const r = both(packet, cut, etherType);
  const frame = ethernet({ payload: packet, etherType });
  expect(sharedDecoder.decode(record(dirtying(), LINKTYPE_ETHERNET, dirtying().length), sharedView)).toBe(DecodeStatus.TCP);
  expect(sharedView.tunnel).not.toBe(0);
  expect(sharedView.vlanId).toBe(42);
  const reusedStatus = sharedDecoder.decode(record(frame, LINKTYPE_ETHERNET, Math.max(0, frame.length - cut)), sharedView);
  expect(reusedStatus).toBe(r.fastStatus);
  for (const f of FIELDS) expect([f, sharedView[f]]).toEqual([f, r.fast[f]]);
  // A frame cut inside the Ethernet header cannot be compared with an IP packet cut by as much.
  if (packet.length - cut < 0) return;
  expect(r.fastStatus).toBe(r.generalStatus);
  for (const f of FIELDS) expect([f, r.fast[f]]).toEqual([f, r.general[f]]);
}

/**
 * 3000 runs (fixed seed) of: one of `originals`, up to six bytes overwritten anywhere, then `check` with the
 * mutated copy, the original and how many bytes to cut off the end (never more than its length).
 */
function forMutated(originals: Uint8Array[], seed: number, check: (mutated: Uint8Array, original: Uint8Array, cut: number) => void): void {
  fc.assert(
    fc.property(
      fc.constantFrom(...originals),
      fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 6 }),
      fc.nat({ max: 80 }),
      (original, edits, cut) => {
        const mutated = original.slice();
        for (const e of edits) mutated[e.at % mutated.length] = e.value;
        check(mutated, original, Math.min(cut, mutated.length));
      },
    ),
    { numRuns: 3000, seed },
  );
}

const segment = (src: string, dst: string, payload = 0): Uint8Array =>
  tcp({ src, dst, srcPort: 40000, dstPort: 443, seq: 0xfffffff0, ack: 0x80000001, flags: 'SA', window: 64240, options: tcpOptions({ mss: 1460, fastOpenCookie: Uint8Array.of(1, 2, 3, 4) }), payload: new Uint8Array(payload).fill(7) });

const V4_INNER = ipv4({ src: '10.244.1.5', dst: '10.244.2.6', protocol: 6, payload: segment('10.244.1.5', '10.244.2.6', 10) });
const V4 = ipv4({ src: '192.168.1.10', dst: '10.0.0.1', protocol: 6, payload: segment('192.168.1.10', '10.0.0.1', 100), id: 4321, ttl: 61 });
const V4_OPTIONS = ipv4({ src: '192.168.1.10', dst: '10.0.0.1', protocol: 6, payload: segment('192.168.1.10', '10.0.0.1'), options: Uint8Array.of(1, 1, 1, 0) });
const V4_FRAGMENT = ipv4({ src: '192.168.1.10', dst: '10.0.0.1', protocol: 6, payload: segment('192.168.1.10', '10.0.0.1'), fragmentOffset: 64 });
const V4_TSO = ipv4({ src: '192.168.1.10', dst: '10.0.0.1', protocol: 6, payload: segment('192.168.1.10', '10.0.0.1', 3000), totalLength: 0 });
const V4_UDP = ipv4({ src: '192.168.1.10', dst: '10.0.0.1', protocol: 17, payload: new Uint8Array(16) });
const V6 = ipv6({ src: 'fd00::1', dst: 'fd00:0:0:1::ffff:2', nextHeader: 6, payload: segment('fd00::1', 'fd00:0:0:1::ffff:2', 50), hopLimit: 63 });
const V6_HOPOPTS = ipv6({
  src: 'fd00::1',
  dst: 'fd00::2',
  nextHeader: 6,
  payload: segment('fd00::1', 'fd00::2'),
  extensions: [{ type: 'hopByHop' }],
});

const V6_JUMBO_LENGTH_0 = ipv6({ src: 'fd00::1', dst: 'fd00::2', nextHeader: 6, payload: segment('fd00::1', 'fd00::2', 20), payloadLength: 0 });

/** The Ethernet type of an unmutated packet (mutations may break its version nibble on purpose). */
const typeOf = (packet: Uint8Array): number => (packet[0]! >> 4 === 6 ? 0x86dd : 0x0800);

const CASES: Array<[string, Uint8Array]> = [
  ['IPv6 + TCP with payload length 0 (TSO)', V6_JUMBO_LENGTH_0],
  ['IPv4 + TCP with payload', V4],
  ['IPv4 with options', V4_OPTIONS],
  ['IPv4 fragment (offset > 0)', V4_FRAGMENT],
  ['IPv4 with total length 0 (TSO)', V4_TSO],
  ['IPv4 + UDP', V4_UDP],
  ['IPv6 + TCP', V6],
  ['IPv6 with a hop-by-hop header', V6_HOPOPTS],
];

describe('Ethernet fast path = general path', () => {
  for (const [name, packet] of CASES) {
    it(`${name}: whole, and cut short at every length`, () => {
      expect(both(packet, 0, typeOf(packet)).fastStatus).not.toBe(DecodeStatus.UNKNOWN_LINKTYPE);
      for (let cut = 0; cut <= packet.length; cut++) expectSame(packet, cut, typeOf(packet));
    });
  }

  it('on mutated packets: any byte, any length field, any cut (3000 runs)', () => {
    forMutated(CASES.map(([, p]) => p), 20261129, (packet, original, cut) => expectSame(packet, cut, typeOf(original)));
  });
});

/**
 * LINUX_SLL2 (`tcpdump -i any`): the same frame through a decoder with and one without fast paths, link
 * header included in the mutations (protocol, ARPHRD type, interface index, packet type). The fast
 * decoder is reused and first given a tagged, tunnelled Ethernet frame, so nothing may be left behind.
 */
const LINKTYPE_LINUX_SLL2 = 276;
const generalDecoder = new Decoder({ fastPaths: false });

function expectSameSll2(frame: Uint8Array, cut: number): void {
  const caplen = Math.max(0, frame.length - cut);
  expect(sharedDecoder.decode(record(dirtying(), LINKTYPE_ETHERNET, dirtying().length), sharedView)).toBe(DecodeStatus.TCP);
  const fastStatus = sharedDecoder.decode(record(frame, LINKTYPE_LINUX_SLL2, caplen), sharedView);
  const general = new PacketView();
  const generalStatus = generalDecoder.decode(record(frame, LINKTYPE_LINUX_SLL2, caplen), general);
  expect(fastStatus).toBe(generalStatus);
  for (const f of FIELDS) expect([f, sharedView[f]]).toEqual([f, general[f]]);
}

describe('LINUX_SLL2 fast path = general path', () => {
  const frames = CASES.map(([name, packet]) => [name, sll2({ payload: packet, ifIndex: 0x80000007, packetType: 4 })] as const);

  for (const [name, frame] of frames) {
    it(`${name}: whole, and cut short at every length`, () => {
      for (let cut = 0; cut <= frame.length; cut++) expectSameSll2(frame, cut);
    });
  }

  it('the fast path really is taken, and gives the interface index and packet type', () => {
    const view = new PacketView();
    expect(new Decoder().decode(record(frames[1]![1], LINKTYPE_LINUX_SLL2, frames[1]![1].length), view)).toBe(DecodeStatus.TCP);
    expect([view.sllIfIndex, view.sllPacketType, view.srcPort, view.dstPort, view.seq, view.ack]).toEqual([0x80000007, 4, 40000, 443, 0xfffffff0, 0x80000001]);
  });

  it('on mutated frames: any byte of link, IP or TCP header, any cut (3000 runs)', () => {
    forMutated(frames.map(([, f]) => f), 20261130, (frame, _original, cut) => expectSameSll2(frame, cut));
  });

  it('Ethernet frames too, against a decoder without fast paths (3000 mutated runs)', () => {
    forMutated(CASES.map(([, p]) => ethernet({ payload: p, etherType: typeOf(p) })), 20261131, (frame, _original, cut) => {
      const caplen = Math.max(0, frame.length - cut);
      const fast = new PacketView();
      const general = new PacketView();
      expect(new Decoder().decode(record(frame, LINKTYPE_ETHERNET, caplen), fast)).toBe(generalDecoder.decode(record(frame, LINKTYPE_ETHERNET, caplen), general));
      for (const f of FIELDS) expect([f, fast[f]]).toEqual([f, general[f]]);
    });
  });
});
