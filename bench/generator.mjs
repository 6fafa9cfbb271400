/**
 * Deterministic generator of realistic Kubernetes node traffic, streamed to a capture file, with the
 * ground truth of what it wrote (packet counts and handshake outcomes) so that benchmarks can check
 * their answers: a fast wrong answer is no result.
 *
 * The model, one node seen from its own capture:
 * - clients: pods on this node (seen twice with `-i any`: on their veth and on eth0) and host-network
 *   processes (the node's own address, seen once), servers: pods on other nodes; 10% IPv6.
 * - every connection is a small script of packets on a capture-time timeline (Poisson arrivals, RTTs,
 *   think times, bulk at link speed): handshake with Linux SYN options, request/response exchanges with
 *   a realistic size mix (small requests, MTU-size bulk, delayed ACKs every 2nd segment), FIN or RST
 *   teardown; long-lived connections already open when the capture starts (midstream).
 * - failures: NodePort collisions (host client whose ephemeral port is an allocated NodePort; the
 *   SYN-ACK is taken by kube-proxy, so the client retransmits its SYN at 1 s and 3 s and the server its
 *   SYN-ACK, never ACKed), refused (RST), unanswered SYNs (retransmitted at 1, 3, 7 s), client resets.
 * - modes: `node` (everything), `handshake-only` (only SYN, SYN-ACK, RST and the handshake's ACK: nearly
 *   every packet touches the flow table), `syn-flood` (N distinct spoofed source address/port pairs).
 *
 * Ground truth follows synscope's documented rules (README, issue 3) applied to the packets actually
 * written, so a capture cut by the packet budget in mid-handshake is still predicted exactly.
 *
 * The writer classes are injected (`lib`): the bench passes the compiled ones from dist/, the unit test
 * the TypeScript sources, so the test never depends on a stale build.
 */

// ───────────────────────────── PRNG ─────────────────────────────

/** sfc32: small, fast, good statistical quality; seeded through splitmix32 so any integer seed works. */
export class Rng {
  constructor(seed) {
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32() {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** [0, 1) */
  float() {
    return this.u32() / 4294967296;
  }

  /** Integer in [lo, hi]. */
  int(lo, hi) {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  /** Exponential with the given mean. */
  exp(mean) {
    return -Math.log(1 - this.float()) * mean;
  }

  /** Log-normal around `median` with spread `sigma` (natural log units). */
  logNormal(median, sigma) {
    // Box-Muller; one value per call keeps the stream simple to reason about.
    const u = 1 - this.float();
    const v = this.float();
    return median * Math.exp(sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
  }

  pick(array) {
    return array[Math.floor(this.float() * array.length)];
  }
}

// ───────────────────────────── constants ─────────────────────────────

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const PSH = 0x08;
const ACK = 0x10;

const FROM_CLIENT = 0;
const FROM_SERVER = 1;

const US = 1000; // ns
const MS = 1_000_000;
const S = 1_000_000_000;

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_LINUX_SLL2 = 276;

/** SLL2 interface indexes: eth0 is 2 on a node; pod veths follow. */
const IFINDEX_ETH0 = 2;
const SLL_HOST = 0;
const SLL_OUTGOING = 4;

export const DEFAULTS = {
  packets: 1_000_000,
  seed: 1,
  format: 'pcap',
  link: 'ethernet',
  mode: 'node',
  ipv6Share: 0.1,
  collisionShare: 0.03,
  refusedShare: 0.005,
  synUnansweredShare: 0.01,
  clientResetShare: 0.002,
  /** New connections per second of capture time. */
  connectionRate: 2500,
  /** Connections already open when the capture starts (their packets are midstream). */
  longLived: 40,
  /** ACK timeout the ground truth assumes (synscope's default). */
  ackTimeoutSeconds: 3,
  /** --max-pending the ground truth assumes (synscope's default). */
  maxPending: 500_000,
  /** syn-flood: SYNs per second of capture time. */
  floodRate: 1_000_000,
  /** Capture start, epoch seconds. */
  startSec: 1718000000,
};

const SERVER_PORTS = [443, 443, 443, 80, 8080, 8080, 9090, 5432, 6379, 3306, 53, 2379, 6443, 10250];

// ───────────────────────────── frame builder ─────────────────────────────

/**
 * Builds one frame at a time into a reused buffer: link header, IPv4/IPv6, TCP with Linux options,
 * payload from a fixed random pattern whose running 16-bit sums are precomputed, so both checksums are
 * exact without summing the payload per packet.
 */
class FrameBuilder {
  constructor(rng) {
    this.buf = new Uint8Array(2048);
    this.pattern = new Uint8Array(1600);
    for (let i = 0; i < this.pattern.length; i++) this.pattern[i] = rng.u32() & 0xff;
    this.patternSum = new Float64Array(this.pattern.length + 1);
    for (let k = 0; k < this.pattern.length; k++) {
      this.patternSum[k + 1] = this.patternSum[k] + ((k & 1) === 0 ? this.pattern[k] << 8 : this.pattern[k]);
    }
    this.length = 0;
  }

  /**
   * Writes the frame; returns its length. `addr` arrays hold 4 or 16 bytes. `sll` < 0 means Ethernet.
   */
  build(link, ifIndex, packetType, srcMac, dstMac, src, dst, srcPort, dstPort, seq, ack, flags, window, ipId, tsVal, tsEcr, payloadLength, flowLabel) {
    const b = this.buf;
    let p = 0;
    const v6 = src.length === 16;
    const etherType = v6 ? 0x86dd : 0x0800;
    if (link === LINKTYPE_ETHERNET) {
      b.set(dstMac, 0);
      b.set(srcMac, 6);
      b[12] = etherType >> 8;
      b[13] = etherType & 0xff;
      p = 14;
    } else {
      b[0] = etherType >> 8;
      b[1] = etherType & 0xff;
      b[2] = 0;
      b[3] = 0;
      b[4] = ifIndex >>> 24;
      b[5] = (ifIndex >>> 16) & 0xff;
      b[6] = (ifIndex >>> 8) & 0xff;
      b[7] = ifIndex & 0xff;
      b[8] = 0;
      b[9] = 1; // ARPHRD_ETHER
      b[10] = packetType;
      b[11] = 6;
      b.set(srcMac, 12);
      b[18] = 0;
      b[19] = 0;
      p = 20;
    }
    const syn = (flags & SYN) !== 0;
    const rst = (flags & RST) !== 0;
    // Linux: SYN carries MSS, SACK-permitted, timestamps, NOP, window scale (20 bytes); later segments
    // NOP NOP timestamps (12 bytes); a RST carries none.
    const optLength = syn ? 20 : rst ? 0 : 12;
    const tcpLength = 20 + optLength + payloadLength;
    const ipStart = p;
    if (!v6) {
      b[p] = 0x45;
      b[p + 1] = 0;
      const total = 20 + tcpLength;
      b[p + 2] = total >> 8;
      b[p + 3] = total & 0xff;
      b[p + 4] = (ipId >> 8) & 0xff;
      b[p + 5] = ipId & 0xff;
      b[p + 6] = rst ? 0 : 0x40; // DF, as Linux sets it on TCP (not on its RSTs)
      b[p + 7] = 0;
      b[p + 8] = 64;
      b[p + 9] = 6;
      b[p + 10] = 0;
      b[p + 11] = 0;
      b.set(src, p + 12);
      b.set(dst, p + 16);
      let sum = 0;
      for (let i = p; i < p + 20; i += 2) sum += (b[i] << 8) | b[i + 1];
      const c = fold(sum);
      b[p + 10] = c >> 8;
      b[p + 11] = c & 0xff;
      p += 20;
    } else {
      b[p] = 0x60;
      b[p + 1] = (flowLabel >>> 16) & 0x0f;
      b[p + 2] = (flowLabel >>> 8) & 0xff;
      b[p + 3] = flowLabel & 0xff;
      b[p + 4] = tcpLength >> 8;
      b[p + 5] = tcpLength & 0xff;
      b[p + 6] = 6;
      b[p + 7] = 64;
      b.set(src, p + 8);
      b.set(dst, p + 24);
      p += 40;
    }
    const t = p;
    b[t] = srcPort >> 8;
    b[t + 1] = srcPort & 0xff;
    b[t + 2] = dstPort >> 8;
    b[t + 3] = dstPort & 0xff;
    put32(b, t + 4, seq);
    put32(b, t + 8, ack);
    b[t + 12] = ((20 + optLength) / 4) << 4;
    b[t + 13] = flags;
    b[t + 14] = window >> 8;
    b[t + 15] = window & 0xff;
    b[t + 16] = 0;
    b[t + 17] = 0;
    b[t + 18] = 0;
    b[t + 19] = 0;
    let o = t + 20;
    if (syn) {
      b[o++] = 2; // MSS
      b[o++] = 4;
      const mss = v6 ? 1440 : 1460;
      b[o++] = mss >> 8;
      b[o++] = mss & 0xff;
      b[o++] = 4; // SACK permitted
      b[o++] = 2;
      b[o++] = 8; // timestamps
      b[o++] = 10;
      put32(b, o, tsVal);
      put32(b, o + 4, tsEcr);
      o += 8;
      b[o++] = 1; // NOP
      b[o++] = 3; // window scale
      b[o++] = 3;
      b[o++] = 7;
    } else if (!rst) {
      b[o++] = 1;
      b[o++] = 1;
      b[o++] = 8;
      b[o++] = 10;
      put32(b, o, tsVal);
      put32(b, o + 4, tsEcr);
      o += 8;
    }
    if (payloadLength > 0) b.set(this.pattern.subarray(0, payloadLength), o);
    // TCP checksum: pseudo-header + header words + the payload's precomputed sum.
    let sum = 6 + (tcpLength & 0xffff) + Math.floor(tcpLength / 65536);
    const addrStart = v6 ? ipStart + 8 : ipStart + 12;
    const addrEnd = v6 ? ipStart + 40 : ipStart + 20;
    for (let i = addrStart; i < addrEnd; i += 2) sum += (b[i] << 8) | b[i + 1];
    for (let i = t; i < t + 20 + optLength; i += 2) sum += (b[i] << 8) | b[i + 1];
    sum += this.patternSum[payloadLength];
    const c = fold(sum);
    b[t + 16] = c >> 8;
    b[t + 17] = c & 0xff;
    this.length = t + 20 + optLength + payloadLength;
    return this.length;
  }
}

function fold(sum) {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 65536);
  return ~sum & 0xffff;
}

function put32(b, o, v) {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

// ───────────────────────────── hosts ─────────────────────────────

function v4(a, b, c, d) {
  return Uint8Array.of(a, b, c, d);
}

/** fd00:10:244:<net>::<host> style addresses. */
function v6(words) {
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i] >> 8;
    out[2 * i + 1] = words[i] & 0xff;
  }
  return out;
}

function mac(n) {
  return Uint8Array.of(0x02, 0x42, (n >> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}

function addrText(bytes) {
  if (bytes.length === 4) return bytes.join('.');
  const words = [];
  for (let i = 0; i < 16; i += 2) words.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return words.join(':');
}

/** Ports kube-proxy has allocated as NodePorts on this cluster (deterministic from the seed). */
function allocateNodePorts(rng, count) {
  const set = new Set();
  while (set.size < count) set.add(rng.int(30000, 32767));
  return [...set].sort((a, b) => a - b);
}

function buildTopology(rng) {
  const nodeMac = mac(0x0a00000a);
  const gatewayMac = mac(0x0a000001);
  const podClients = [];
  for (let i = 0; i < 110; i++) {
    podClients.push({
      host: false,
      v4: v4(10, 244, 1, 2 + i),
      v6: v6([0xfd00, 0x10, 0x244, 1, 0, 0, 0, 2 + i]),
      ifIndex: 10 + i,
      // Each pod has its own network namespace, so its own allocator (Linux default range).
      ports: { nextPort: rng.int(32768, 60999), portLo: 32768, portHi: 60999, collisionIndex: 0 },
    });
  }
  // Host-network processes (kubelet, node agents, hostNetwork pods) share the node address and one
  // kernel port allocator, whose range was widened to 1024-65535: it reaches into the NodePort range.
  const hostPorts = { nextPort: rng.int(1024, 65535), portLo: 1024, portHi: 65535, collisionIndex: rng.int(0, 1 << 20) };
  const hostClients = [];
  for (let i = 0; i < 12; i++) {
    hostClients.push({
      host: true,
      v4: v4(10, 0, 0, 10),
      v6: v6([0xfd00, 0, 0, 0, 0, 0, 0, 0x10]),
      ifIndex: IFINDEX_ETH0,
      ports: hostPorts,
    });
  }
  // Long-lived connections from other nodes to pods here (watches, keep-alives), open before the capture.
  const midstreamPeers = [];
  for (let i = 0; i < 40; i++) {
    midstreamPeers.push({
      client: { host: true, v4: v4(10, 0, 0, 20 + i), v6: v6([0xfd00, 0, 0, 0, 0, 0, 0, 0x20 + i]), ifIndex: IFINDEX_ETH0 },
      server: { v4: v4(10, 244, 1, 200 + (i % 50)), v6: v6([0xfd00, 0x10, 0x244, 1, 0, 0, 0, 200 + (i % 50)]), port: 8443 },
    });
  }
  const servers = [];
  for (let i = 0; i < 240; i++) {
    const net = 2 + (i % 48);
    const h = 2 + Math.floor(i / 48) * 7 + rng.int(0, 6);
    servers.push({
      v4: v4(10, 244, net, h),
      v6: v6([0xfd00, 0x10, 0x244, net, 0, 0, 0, h]),
      port: rng.pick(SERVER_PORTS),
    });
  }
  // A few endpoints are broken: nothing listens (refused) or they are black-holed (unanswered).
  return { nodeMac, gatewayMac, podClients, hostClients, midstreamPeers, servers };
}

// ───────────────────────────── connections ─────────────────────────────

const KIND_ESTABLISHED = 0;
const KIND_COLLISION = 1;
const KIND_REFUSED = 2;
const KIND_SYN_UNANSWERED = 3;
const KIND_CLIENT_RESET = 4;
const KIND_MIDSTREAM = 5;
const KIND_FLOOD = 6;

/**
 * One TCP connection on the timeline. Its script (a generator) yields the delay before each packet after
 * setting dir/flags/payload; the emitter fills addresses, sequence numbers and copies.
 */
class Connection {
  constructor() {
    this.nextTime = 0;
    this.heapIndex = -1;
    this.script = null;
    // identity
    this.kind = 0;
    this.v6 = false;
    this.client = null;
    this.server = null;
    this.clientAddr = null;
    this.serverAddr = null;
    this.clientPort = 0;
    this.serverPort = 0;
    this.clientIsn = 0;
    this.serverIsn = 0;
    this.clientSeq = 0; // next sequence number the client sends
    this.serverSeq = 0;
    this.clientIpId = 0;
    this.serverIpId = 0;
    this.flowLabelClient = 0;
    this.flowLabelServer = 0;
    this.tsClient = 0;
    this.tsServer = 0;
    this.divertTo = null;
    // next packet
    this.dir = 0;
    this.flags = 0;
    this.payload = 0;
    /** Repeat the previous segment (retransmission): same seq, new IP ID. */
    this.retransmit = false;
    // copies pending (sll2: the second interface a packet crosses)
    this.copyStage = 0;
    this.copyTime = 0;
    // ground truth, from packets actually written
    this.synT = -1;
    this.synAckT = -1;
    this.decided = false;
  }
}

/** Binary min-heap of connections by nextTime (ties by insertion order are irrelevant to counts). */
class Timeline {
  constructor() {
    this.items = [];
  }

  get size() {
    return this.items.length;
  }

  push(c) {
    const items = this.items;
    let i = items.length;
    items.push(c);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent].nextTime <= c.nextTime) break;
      items[i] = items[parent];
      i = parent;
    }
    items[i] = c;
  }

  pop() {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0) {
      let i = 0;
      const n = items.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const child = r < n && items[r].nextTime < items[l].nextTime ? r : l;
        if (items[child].nextTime >= last.nextTime) break;
        items[i] = items[child];
        i = child;
      }
      items[i] = last;
    }
    return top;
  }

  peek() {
    return this.items[0];
  }
}

/** Round capture time to whole microseconds: what pcap and pcapng (if_tsresol 6) store. */
function us(t) {
  return Math.round(t / US) * US;
}

// Scripts. `c` is the connection, `g` the generator context (rng, mode). Each yield is a delay in ns.

function* handshakeScript(c, g) {
  const rng = g.rng;
  const rtt = us(g.rtt());
  setPacket(c, FROM_CLIENT, SYN, 0);
  yield 0;
  setPacket(c, FROM_SERVER, SYN | ACK, 0);
  yield rtt / 2;
  setPacket(c, FROM_CLIENT, ACK, 0);
  yield rtt / 2 + us(rng.int(5, 60) * US);
  return rtt;
}

function* establishedScript(c, g) {
  const rng = g.rng;
  const rtt = yield* handshakeScript(c, g);
  if (g.handshakeOnly) {
    // Nothing after the handshake reaches the file except a reset: skip generating the bulk.
    if (rng.float() < 0.1) {
      setPacket(c, FROM_CLIENT, RST | ACK, 0);
      yield us(rng.exp(50 * MS)) + US;
    }
    return;
  }
  const exchanges = rng.float() < 0.5 ? 1 : rng.float() < 0.7 ? rng.int(2, 5) : rng.int(5, 30);
  for (let e = 0; e < exchanges; e++) {
    if (e > 0) {
      // Idle between requests on a kept-alive connection.
      yield* sendFlow(c, g, FROM_CLIENT, requestSize(rng), us(rng.exp(80 * MS)) + US, rtt);
    } else {
      yield* sendFlow(c, g, FROM_CLIENT, requestSize(rng), us(rng.int(20, 200) * US), rtt);
    }
    yield* sendFlow(c, g, FROM_SERVER, responseSize(rng), us(rng.exp(2 * MS)) + 20 * US, rtt);
  }
  if (rng.float() < 0.1) {
    // Some clients reset instead of closing (HTTP clients with SO_LINGER 0, health checkers).
    setPacket(c, FROM_CLIENT, RST | ACK, 0);
    yield us(rng.int(50, 500) * US);
    return;
  }
  const closer = rng.float() < 0.7 ? FROM_CLIENT : FROM_SERVER;
  setPacket(c, closer, FIN | ACK, 0);
  yield us(rng.int(50, 5000) * US);
  setPacket(c, 1 - closer, FIN | ACK, 0);
  yield rtt / 2 + us(rng.int(10, 200) * US);
  setPacket(c, closer, ACK, 0);
  yield rtt / 2;
}

/** Sends `bytes` from `dir` in MSS-size segments; the peer ACKs every second segment (delayed ACK). */
function* sendFlow(c, g, dir, bytes, firstDelay, rtt) {
  const mss = c.v6 ? 1428 : 1448;
  let delay = firstDelay;
  let segments = 0;
  // ~3 Gbit/s in-cluster: a full segment every ~4 µs, bursts cut by the congestion window.
  while (bytes > 0) {
    const len = bytes > mss ? mss : bytes;
    bytes -= len;
    setPacket(c, dir, bytes === 0 ? PSH | ACK : ACK, len);
    yield delay;
    delay = us(len * 2.7 + 1000) ;
    segments++;
    if ((segments & 1) === 0 || bytes === 0) {
      setPacket(c, 1 - dir, ACK, 0);
      yield rtt / 2;
      delay = us(1000 + len);
    }
  }
}

function requestSize(rng) {
  const r = rng.float();
  if (r < 0.8) return rng.int(60, 400);
  if (r < 0.97) return rng.int(400, 1400);
  return rng.int(1400, 6000);
}

function responseSize(rng) {
  const r = rng.float();
  if (r < 0.8) return rng.int(40, 700);
  if (r < 0.97) return rng.int(700, 4500);
  return Math.min(Math.round(rng.logNormal(16000, 1.0)), 2_000_000);
}

function* collisionScript(c, g) {
  // The SYN-ACK comes back to node:NodePort; kube-proxy takes it, the client never sees it.
  const rng = g.rng;
  const rtt = us(g.rtt());
  const starts = [0, 1 * S, 3 * S];
  let last = 0;
  for (let i = 0; i < starts.length; i++) {
    setPacket(c, FROM_CLIENT, SYN, 0);
    c.retransmit = i > 0;
    yield starts[i] - last;
    setPacket(c, FROM_SERVER, SYN | ACK, 0);
    c.retransmit = i > 0;
    yield rtt / 2;
    last = starts[i] + rtt / 2;
  }
  void rng;
}

function* refusedScript(c, g) {
  const rtt = us(g.rtt());
  setPacket(c, FROM_CLIENT, SYN, 0);
  yield 0;
  setPacket(c, FROM_SERVER, RST | ACK, 0);
  yield rtt / 2;
}

function* synUnansweredScript(c) {
  // The kernel's SYN retries: 1 s, then doubling (3 s, 7 s after the first).
  const at = [0, 1 * S, 3 * S, 7 * S];
  for (let i = 0; i < at.length; i++) {
    setPacket(c, FROM_CLIENT, SYN, 0);
    c.retransmit = i > 0;
    yield i === 0 ? 0 : at[i] - at[i - 1];
  }
}

function* clientResetScript(c, g) {
  const rtt = us(g.rtt());
  setPacket(c, FROM_CLIENT, SYN, 0);
  yield 0;
  setPacket(c, FROM_SERVER, SYN | ACK, 0);
  yield rtt / 2;
  setPacket(c, FROM_CLIENT, RST, 0);
  yield rtt / 2 + us(g.rng.int(10, 100) * US);
}

function* midstreamScript(c, g) {
  // A watch / keep-alive connection older than the capture: small messages both ways, forever.
  const rng = g.rng;
  const rtt = us(g.rtt());
  let first = true;
  for (;;) {
    yield* sendFlow(c, g, rng.float() < 0.5 ? FROM_CLIENT : FROM_SERVER, rng.int(40, 3000), first ? us(rng.exp(50 * MS)) : us(rng.exp(200 * MS)) + US, rtt);
    first = false;
  }
}

function setPacket(c, dir, flags, payload) {
  c.dir = dir;
  c.flags = flags;
  c.payload = payload;
  c.retransmit = false;
}

// ───────────────────────────── the generator ─────────────────────────────

/**
 * Writes a capture of exactly `options.packets` packets to `options.out` and returns its ground truth.
 * @param {object} options see DEFAULTS; plus `out` (path).
 * @param {{FileOutput: any, PcapWriter: any, PcapngWriter: any}} lib writer classes (src or dist).
 */
export function generateCapture(options, lib) {
  const o = { ...DEFAULTS, ...options };
  if (!Number.isInteger(o.packets) || o.packets < 1) throw new RangeError(`packets must be a positive integer, got ${o.packets}`);
  if (o.format !== 'pcap' && o.format !== 'pcapng') throw new RangeError(`format must be pcap or pcapng, got ${o.format}`);
  if (o.link !== 'ethernet' && o.link !== 'sll2') throw new RangeError(`link must be ethernet or sll2, got ${o.link}`);
  if (!['node', 'handshake-only', 'syn-flood'].includes(o.mode)) throw new RangeError(`unknown mode ${o.mode}`);
  const linkType = o.link === 'ethernet' ? LINKTYPE_ETHERNET : LINKTYPE_LINUX_SLL2;
  const rng = new Rng(o.seed);
  const frame = new FrameBuilder(rng);
  const topo = buildTopology(rng);
  const nodePorts = allocateNodePorts(rng, 1500);
  const nodePortSet = new Set(nodePorts);

  const output = new lib.FileOutput(o.out);
  let writePacket;
  if (o.format === 'pcap') {
    const w = new lib.PcapWriter(output, { linkType, snaplen: 262144 });
    writePacket = (sec, nsec, bytes) => w.packet(sec, nsec, bytes);
  } else {
    const w = new lib.PcapngWriter(output);
    w.section({ options: [{ code: 4, value: 'synscope bench generator' }] });
    const id = w.interface(linkType, { snaplen: 262144, tsresol: 6, options: [{ code: 2, value: o.link === 'ethernet' ? 'eth0' : 'any' }] });
    writePacket = (sec, nsec, bytes) => w.packet(id, sec, nsec, bytes);
  }

  const truth = {
    generator: 'synscope bench/generator.mjs',
    options: { ...o, out: undefined },
    format: o.format,
    linkType,
    packets: 0,
    tcp: 0,
    syn: 0,
    synAck: 0,
    rst: 0,
    ipv6Packets: 0,
    interfaceCopies: 0,
    divertedSynAcks: 0,
    midstreamPackets: 0,
    attempts: 0,
    byOutcome: {
      established: 0,
      'synack-unanswered': 0,
      'syn-unanswered': 0,
      refused: 0,
      'client-reset': 0,
      unresolved: 0,
    },
    evicted: 0,
    intended: { established: 0, collisions: 0, refused: 0, synUnanswered: 0, clientReset: 0, flood: 0 },
    firstPacketTime: null,
    lastPacketTime: null,
    durationSeconds: 0,
    bytes: 0,
  };

  const budget = o.packets;
  let lastT = 0;
  const timeoutNs = Math.round(o.ackTimeoutSeconds * S);
  /** Attempts no packet decided: judged against the last packet's time at the end. */
  const undecided = [];
  const ctx = {
    rng,
    handshakeOnly: o.mode === 'handshake-only',
    rtt: () => Math.max(40 * US, rng.logNormal(400 * US, 0.8)),
  };
  const handshakeOnly = o.mode === 'handshake-only';

  function emit(t, c, dir, flags, payload, copy, divertedCopy) {
    if (truth.packets >= budget) return false;
    const fromClient = dir === FROM_CLIENT;
    let src = fromClient ? c.clientAddr : c.serverAddr;
    let dst = fromClient ? c.serverAddr : c.clientAddr;
    const srcPort = fromClient ? c.clientPort : c.serverPort;
    let dstPort = fromClient ? c.serverPort : c.clientPort;
    const seq = fromClient ? c.clientSeq : c.serverSeq;
    let ack = 0;
    if ((flags & ACK) !== 0) ack = fromClient ? c.serverSeq : c.clientSeq;
    if ((flags & SYN) !== 0 && (flags & ACK) !== 0) ack = (c.clientIsn + 1) >>> 0;
    if ((flags & RST) !== 0 && !fromClient) ack = (c.clientIsn + 1) >>> 0;
    const ipId = fromClient ? c.clientIpId : c.serverIpId;
    // TCP timestamps: each side's millisecond clock; the echo is the peer's (none on the client's SYN).
    const clock = Math.floor(t / MS);
    const tsVal = (fromClient ? c.tsClient : c.tsServer) + clock;
    const tsEcr = (flags & (SYN | ACK)) === SYN ? 0 : (fromClient ? c.tsServer : c.tsClient) + clock;
    let ifIndex = IFINDEX_ETH0;
    let packetType = fromClient ? SLL_OUTGOING : SLL_HOST;
    const srcMac = fromClient ? topo.nodeMac : topo.gatewayMac;
    const dstMac = fromClient ? topo.gatewayMac : topo.nodeMac;
    if (c.client !== null && !c.client.host) {
      // A pod client: the packet crosses its veth (first on the way out, last on the way in) and eth0.
      const onVeth = fromClient ? !copy : copy;
      if (onVeth) {
        ifIndex = c.client.ifIndex;
        packetType = fromClient ? SLL_HOST : SLL_OUTGOING;
      }
    }
    if (divertedCopy) {
      // kube-proxy forwarded the SYN-ACK to a NodePort backend pod: same server, seq and ack; new destination.
      dst = c.divertTo.addr;
      dstPort = c.divertTo.port;
      ifIndex = c.divertTo.ifIndex;
      packetType = SLL_OUTGOING;
    }
    const len = frame.build(
      linkType,
      ifIndex,
      packetType,
      srcMac,
      dstMac,
      src,
      dst,
      srcPort,
      dstPort,
      seq,
      ack,
      flags,
      (flags & SYN) !== 0 ? 64240 : 502,
      ipId,
      tsVal >>> 0,
      tsEcr >>> 0,
      payload,
      fromClient ? c.flowLabelClient : c.flowLabelServer,
    );
    const sec = o.startSec + Math.floor(t / S);
    const nsec = t % S;
    writePacket(sec, nsec, frame.buf.subarray(0, len));
    truth.packets++;
    truth.tcp++;
    if (c.v6) truth.ipv6Packets++;
    if ((flags & SYN) !== 0) {
      if ((flags & ACK) !== 0) truth.synAck++;
      else truth.syn++;
    }
    if ((flags & RST) !== 0) truth.rst++;
    if (copy || divertedCopy) truth.interfaceCopies++;
    // The tracker attaches a diverted SYN-ACK while its attempt waits for the ACK (not after the timeout).
    if (divertedCopy && !c.decided && t <= c.synAckT + timeoutNs) truth.divertedSynAcks++;
    if (truth.firstPacketTime === null) truth.firstPacketTime = t;
    lastT = t;
    observe(t, c, fromClient, flags);
    return true;
  }

  /** Ground truth: synscope's rules (issue 3) applied to what was written. */
  function observe(t, c, fromClient, flags) {
    if (c.kind === KIND_MIDSTREAM) {
      truth.midstreamPackets++;
      return;
    }
    if (c.decided) return;
    if ((flags & SYN) !== 0 && (flags & ACK) === 0) {
      if (c.synT < 0) {
        c.synT = t;
        truth.attempts++;
        if (c.kind !== KIND_FLOOD) undecided.push(c);
      }
      return;
    }
    if (c.synT < 0) return;
    if ((flags & RST) !== 0) {
      if (!fromClient) decide(c, 'refused');
      else if (c.synAckT >= 0) decide(c, 'client-reset');
      return;
    }
    if ((flags & SYN) !== 0) {
      if (c.synAckT < 0) c.synAckT = t;
      return;
    }
    if (fromClient && (flags & ACK) !== 0 && c.synAckT >= 0) decide(c, 'established');
  }

  function decide(c, outcome) {
    c.decided = true;
    truth.byOutcome[outcome]++;
  }

  // Ports: sequential per client (as Linux hands them out, with a random stride), so a 4-tuple is not
  // reused while an attempt on it could still be pending.
  function clientPort(client, collision) {
    const ports = client.ports;
    if (collision) {
      ports.collisionIndex++;
      return nodePorts[ports.collisionIndex % nodePorts.length];
    }
    for (;;) {
      ports.nextPort += rng.int(1, 4);
      if (ports.nextPort > ports.portHi) ports.nextPort = ports.portLo + (ports.nextPort - ports.portHi - 1);
      // A host client landing on an allocated NodePort would collide; those are drawn as collisions.
      if (!client.host || !nodePortSet.has(ports.nextPort)) return ports.nextPort;
    }
  }

  let midstreamCount = 0;
  function newConnection(kind, t) {
    const c = new Connection();
    c.kind = kind;
    c.v6 = rng.float() < o.ipv6Share;
    const hostShare = 0.25;
    if (kind === KIND_MIDSTREAM) {
      const peer = topo.midstreamPeers[midstreamCount++ % topo.midstreamPeers.length];
      c.client = peer.client;
      c.server = peer.server;
    } else {
      c.client = kind === KIND_COLLISION || rng.float() < hostShare ? rng.pick(topo.hostClients) : rng.pick(topo.podClients);
      c.server = rng.pick(topo.servers);
    }
    c.clientAddr = c.v6 ? c.client.v6 : c.client.v4;
    c.serverAddr = c.v6 ? c.server.v6 : c.server.v4;
    c.serverPort = c.server.port;
    c.clientPort = kind === KIND_MIDSTREAM ? rng.int(32768, 60999) : clientPort(c.client, kind === KIND_COLLISION);
    c.clientIsn = rng.u32();
    c.serverIsn = rng.u32();
    c.clientSeq = c.clientIsn;
    c.serverSeq = c.serverIsn;
    c.clientIpId = rng.int(0, 65535);
    c.serverIpId = rng.int(0, 65535);
    c.flowLabelClient = rng.u32() & 0xfffff;
    c.flowLabelServer = rng.u32() & 0xfffff;
    c.tsClient = rng.u32();
    c.tsServer = rng.u32();
    c.divertTo = null;
    if (kind === KIND_COLLISION && linkType === LINKTYPE_LINUX_SLL2 && rng.float() < 0.5) {
      const backend = rng.pick(topo.podClients);
      c.divertTo = { addr: c.v6 ? backend.v6 : backend.v4, port: 8080, ifIndex: backend.ifIndex };
    }
    switch (kind) {
      case KIND_ESTABLISHED:
        c.script = establishedScript(c, ctx);
        truth.intended.established++;
        break;
      case KIND_COLLISION:
        c.script = collisionScript(c, ctx);
        truth.intended.collisions++;
        break;
      case KIND_REFUSED:
        c.script = refusedScript(c, ctx);
        truth.intended.refused++;
        break;
      case KIND_SYN_UNANSWERED:
        c.script = synUnansweredScript(c, ctx);
        truth.intended.synUnanswered++;
        break;
      case KIND_CLIENT_RESET:
        c.script = clientResetScript(c, ctx);
        truth.intended.clientReset++;
        break;
      default:
        c.script = midstreamScript(c, ctx);
        // Midstream flows are mid-conversation: sequence numbers anywhere.
        break;
    }
    advance(c, t);
    return c;
  }

  /** Runs the script to its next packet; false when the connection is over. */
  function advance(c, t) {
    const step = c.script.next();
    if (step.done) return false;
    c.nextTime = t + us(step.value);
    return true;
  }

  function drawKind() {
    const r = rng.float();
    let acc = o.collisionShare;
    if (r < acc) return KIND_COLLISION;
    acc += o.refusedShare;
    if (r < acc) return KIND_REFUSED;
    acc += o.synUnansweredShare;
    if (r < acc) return KIND_SYN_UNANSWERED;
    acc += o.clientResetShare;
    if (r < acc) return KIND_CLIENT_RESET;
    return KIND_ESTABLISHED;
  }

  /** In handshake-only mode only SYN, SYN-ACK, RST and the handshake's ACK reach the file. */
  function kept(c, flags) {
    if (!handshakeOnly) return true;
    if ((flags & (SYN | RST)) !== 0) return true;
    return c.synT >= 0 && c.synAckT >= 0 && !c.decided && c.dir === FROM_CLIENT;
  }

  if (o.mode === 'syn-flood') {
    generateFlood();
  } else {
    const timeline = new Timeline();
    for (let i = 0; i < o.longLived && !handshakeOnly; i++) timeline.push(newConnection(KIND_MIDSTREAM, 0));
    let nextArrival = us(rng.exp(S / o.connectionRate));
    while (truth.packets < budget) {
      const head = timeline.size > 0 ? timeline.peek() : null;
      if (head === null || nextArrival <= head.nextTime) {
        const c = newConnection(drawKind(), nextArrival);
        timeline.push(c);
        nextArrival += us(rng.exp(S / o.connectionRate)) + US;
        continue;
      }
      const c = timeline.pop();
      const t = c.nextTime;
      if (c.copyStage === 1) {
        // The second sighting of the packet just written (other interface), or its diverted copy.
        c.copyStage = 0;
        if (c.copyDiverted) emit(t, c, c.copyDir, c.copyFlags, c.copyPayload, false, true);
        else emit(t, c, c.copyDir, c.copyFlags, c.copyPayload, true, false);
        if (c.copyDir === FROM_CLIENT) {
          c.clientSeq = (c.clientSeq + c.copyRestore) >>> 0;
          c.clientIpId = (c.clientIpId + 1) & 0xffff;
        } else {
          c.serverSeq = (c.serverSeq + c.copyRestore) >>> 0;
          c.serverIpId = (c.serverIpId + 1) & 0xffff;
        }
        c.nextTime = c.resumeTime > t ? c.resumeTime : t;
        if (c.resumeDone) continue;
        timeline.push(c);
        continue;
      }
      const dir = c.dir;
      const flags = c.flags;
      const payload = c.payload;
      if (c.retransmit) {
        // Retransmission: same sequence number as the original; a new IP ID.
        if (dir === FROM_CLIENT) c.clientSeq = c.clientIsn;
        else c.serverSeq = c.serverIsn;
      }
      const keep = kept(c, flags);
      if (keep) emit(t, c, dir, flags, payload, false, false);
      // Sequence space: SYN and FIN count one, payload its length.
      const used = payload + ((flags & (SYN | FIN)) !== 0 ? 1 : 0);
      if (dir === FROM_CLIENT) {
        c.clientSeq = (c.clientSeq + used) >>> 0;
        c.clientIpId = (c.clientIpId + 1) & 0xffff;
      } else {
        c.serverSeq = (c.serverSeq + used) >>> 0;
        c.serverIpId = (c.serverIpId + 1) & 0xffff;
      }
      const podClient = linkType === LINKTYPE_LINUX_SLL2 && !c.client.host;
      const divert = c.divertTo !== null && (flags & (SYN | ACK)) === (SYN | ACK);
      const more = advance(c, t);
      if ((podClient || divert) && keep) {
        c.copyStage = 1;
        c.copyDiverted = divert;
        c.copyDir = dir;
        c.copyFlags = flags;
        c.copyPayload = payload;
        c.resumeTime = c.nextTime;
        c.resumeDone = !more;
        // Restore the seq the copy must carry: copies are the same bytes, sent once.
        if (dir === FROM_CLIENT) c.clientSeq = (c.clientSeq - used) >>> 0;
        else c.serverSeq = (c.serverSeq - used) >>> 0;
        if (dir === FROM_CLIENT) c.clientIpId = (c.clientIpId - 1) & 0xffff;
        else c.serverIpId = (c.serverIpId - 1) & 0xffff;
        c.copyRestore = used;
        c.nextTime = t + rng.int(2, 30) * US;
        timeline.push(c);
        continue;
      }
      // A finished connection that no packet decided is judged by the timeout at the end.
      if (more) timeline.push(c);
    }
  }

  function generateFlood() {
    // N SYNs from N distinct (address, port) pairs at floodRate per second to one NodePort service.
    const server = topo.servers[0];
    const c = new Connection();
    c.kind = KIND_FLOOD;
    c.server = server;
    c.serverAddr = server.v4;
    c.serverPort = 443;
      c.client = { host: true, ifIndex: IFINDEX_ETH0 };
    const addr = new Uint8Array(4);
    let t = 0;
    const base = rng.int(0, 1 << 16);
    const step = S / o.floodRate;
    const ring = new Float64Array(o.maxPending);
    let head = 0;
    let count = 0;
    for (let i = 0; i < budget; i++) {
      const pair = i + base;
      const a = 1 + Math.floor(pair / 64000);
      // 198.18.0.0/15 (benchmark address space): 2^17 addresses × 64000 ports.
      addr[0] = 198;
      addr[1] = 18 + ((a >> 16) & 1);
      addr[2] = (a >> 8) & 0xff;
      addr[3] = a & 0xff;
      c.clientAddr = addr;
      c.clientPort = 1024 + (pair % 64000);
      c.clientIsn = rng.u32();
      c.clientSeq = c.clientIsn;
      c.clientIpId = rng.int(0, 65535);
      c.decided = false;
      c.synT = -1;
      c.synAckT = -1;
      t = us(i * step);
      // The tracker's table: deadlines pass in FIFO order; at the cap the oldest is evicted.
      while (count > 0 && ring[head] < t) {
        truth.byOutcome['syn-unanswered']++;
        head = (head + 1) % ring.length;
        count--;
      }
      if (count >= o.maxPending) {
        truth.evicted++;
        truth.attempts--;
        head = (head + 1) % ring.length;
        count--;
      }
      emit(t, c, FROM_CLIENT, SYN, 0, false, false);
      ring[(head + count) % ring.length] = t + timeoutNs;
      count++;
      truth.intended.flood++;
    }
    for (; count > 0; count--) {
      truth.byOutcome[ring[head] < lastT ? 'syn-unanswered' : 'unresolved']++;
      head = (head + 1) % ring.length;
    }
  }

  output.close();

  if (o.mode !== 'syn-flood') {
    for (const c of undecided) {
      if (c.decided) continue;
      const deadline = (c.synAckT >= 0 ? c.synAckT : c.synT) + timeoutNs;
      if (lastT > deadline) truth.byOutcome[c.synAckT >= 0 ? 'synack-unanswered' : 'syn-unanswered']++;
      else truth.byOutcome.unresolved++;
    }
  }
  truth.bytes = output.bytesWritten;
  const first = truth.firstPacketTime ?? 0;
  truth.durationSeconds = (lastT - first) / S;
  truth.firstPacketTime = o.startSec + first / S;
  truth.lastPacketTime = o.startSec + lastT / S;
  truth.nodePorts = { allocated: nodePorts.length, first: nodePorts.slice(0, 5) };
  truth.addresses = { node: addrText(topo.hostClients[0].v4), nodeV6: addrText(topo.hostClients[0].v6) };
  return truth;
}
