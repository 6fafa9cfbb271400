/**
 * Handshake reconstruction: turns decoded TCP packets into decided attempts, each with exactly one
 * outcome from the closed vocabulary in types.ts (OUTCOMES).
 *
 * The table holds only UNDECIDED attempts. An attempt is decided — handed to the sink and removed at
 * once — by the packet that settles it (client ACK → established, server RST → refused, client RST after
 * the SYN-ACK → client-reset), by the ACK timeout running out in capture time (syn-unanswered,
 * synack-unanswered), by the client reusing the 4-tuple with a new ISN, or by finish() (unresolved).
 *
 * Time is capture time only, in ns relative to `timeBaseSec`. Deadlines live on two intrusive lists —
 * attempts awaiting a SYN-ACK (deadline = first SYN + timeout, list in first-SYN order) and attempts
 * awaiting the client's ACK (deadline = first SYN-ACK + timeout, list in first-SYN-ACK order). With a
 * constant timeout each list is ordered by deadline, so the sweep only ever looks at two heads.
 *
 * Capture time going backwards (merged or overlapping inputs): the sweep compares deadlines with the
 * CURRENT packet's time, so a jump back expires nothing; lists may then be out of order, which only
 * delays some decisions. Correctness never depends on the sweep: any packet that finds an attempt whose
 * deadline it is later than first decides that attempt by its timeout, then counts as a packet of a
 * decided flow. At finish(), "the capture went on past the deadline" is judged against the latest time
 * seen in any input.
 *
 * Per-packet cost: one flow-key hash, one probe of the pending-attempt index (a typed-array hash table,
 * skipped while nothing is pending) and, when that misses, one probe of the fixed-size decided-flow
 * memory. No allocation unless an attempt is created or decided (pooled PendingAttempt objects; the
 * emitted Attempt is the only per-attempt garbage).
 */

import { SynscopeError } from '../errors.js';
import { formatIp } from '../decode/format.js';
import { OUTCOME_NAMES, TUNNEL_NAMES, TcpFlag } from '../types.js';
import type {
  Attempt,
  AttemptSink,
  DecidedAttempt,
  Endpoint,
  HandshakeSummary,
  Outcome,
  PacketView,
  TunnelKindCode,
} from '../types.js';
import { DecidedFlows } from './decided-flows.js';
import { endpointHash, finish30, replyKey } from './flow-key.js';
import { AttemptIndex } from './attempt-index.js';
import {
  packedFlags,
  packedFlowCheck,
  packedFlowKey,
  packedInputIndex,
  packedTsNsec,
  packedTsSec,
  unpackView,
  type PackedWords,
} from '../decode/packed.js';
import { AckMatch, DIVERTED_STRIDE, MAX_DIVERTED, MAX_INTERFACES, PendingAttempt } from './pending.js';

export interface HandshakeOptions {
  /** Seconds of capture time after the first SYN (or first SYN-ACK) before an attempt is unanswered. */
  ackTimeoutSeconds: number;
  /** Cap on undecided attempts held at once; beyond it the oldest is evicted (counted, not emitted). */
  maxPending: number;
  /**
   * Two sightings of one segment on different interfaces at most this far apart (and, for IPv4, with the
   * same IP ID) are copies (`tcpdump -i any`), not retransmissions. Default 50 ms.
   */
  copyWindowMs?: number;
  /**
   * Slots of the fixed-size memory of decided flows (see DecidedFlows): 16 bytes each, allocated once;
   * default 2^18 (4 MiB, plus a quarter of that for decided SYN-ACKs); larger remembers longer.
   */
  decidedFlowSlots?: number;
  /** How many orphan SYN-ACKs to keep as examples. Default 100. */
  orphanExampleLimit?: number;
}

/** A SYN-ACK that matched no attempt (no SYN captured, no diversion match). */
export interface OrphanSynAck {
  /** Capture time, ns relative to timeBaseSec. */
  timeNs: number;
  ipVersion: 4 | 6;
  /** The SYN-ACK's sender. */
  server: Endpoint;
  /** The SYN-ACK's destination. */
  client: Endpoint;
  seq: number;
  ack: number;
  inputIndex: number;
}

/** Counters beyond HandshakeSummary, for diagnostics and tests. */
export interface HandshakeCounters {
  /** Packets of flows whose attempt was already decided (established traffic, late retransmissions). */
  decidedFlowPackets: number;
  /** SYNs and SYN-ACKs recognised as copies of one transmission seen on another interface. */
  interfaceCopies: number;
  /** SYN-ACKs attached to an attempt although addressed elsewhere (IPVS / DNAT diversion). */
  divertedSynAcks: number;
  /** Attempts decided because the client reused the 4-tuple with a new ISN before the timeout. */
  portReuseDecisions: number;
}

/** Outcomes as array indexes, so that counting one is not a keyed property store. */
const ESTABLISHED = OUTCOME_NAMES.indexOf('established');
const SYNACK_UNANSWERED = OUTCOME_NAMES.indexOf('synack-unanswered');
const SYN_UNANSWERED = OUTCOME_NAMES.indexOf('syn-unanswered');
const REFUSED = OUTCOME_NAMES.indexOf('refused');
const CLIENT_RESET = OUTCOME_NAMES.indexOf('client-reset');
const UNRESOLVED = OUTCOME_NAMES.indexOf('unresolved');
/** The client's ack may run ahead of server ISN + 1 (SYN-ACK with data, server data not captured). */
const ACK_AHEAD_LIMIT = 0x40000000;
/** Direction of the packet matched by findFlow(). */
const FROM_CLIENT = 1;
const FROM_SERVER = 2;

export class HandshakeTracker {
  /** Epoch second that Attempt …Ns times are relative to (set from the first packet seen). */
  timeBaseSec = 0;

  private readonly sink: AttemptSink;
  /** The sink's onDecided and the one reused view it receives, when the sink takes numeric views. */
  private readonly decidedSink: ((decided: DecidedAttempt) => void) | null = null;
  private readonly decidedView: DecidedView | null = null;
  private readonly timeoutNs: number;
  private readonly maxPending: number;
  private readonly copyWindowNs: number;
  private readonly orphanExampleLimit: number;

  /** Pending attempts by flow key. */
  private readonly flows = new AttemptIndex();
  /** Pending attempts by (server endpoint, client ISN + 1), to recognise diverted SYN-ACKs. */
  private readonly replies = new AttemptIndex();
  private readonly decided: DecidedFlows;
  /** SYN-ACKs of decided attempts by (server endpoint, ack = client ISN + 1), checked by server ISN. */
  private readonly decidedReplies: DecidedFlows;
  private readonly pool: PendingAttempt[] = [];

  private synHead: PendingAttempt | null = null;
  private synTail: PendingAttempt | null = null;
  private ackHead: PendingAttempt | null = null;
  private ackTail: PendingAttempt | null = null;

  private started = false;
  private finished = false;
  private latestNs = Number.NEGATIVE_INFINITY;
  private nextId = 1;
  private pendingCount = 0;
  /** Set by findFlow(): FROM_CLIENT or FROM_SERVER. */
  private direction = 0;
  /** Second fingerprint of the current packet's 4-tuple (flow-key.ts), kept in a field to avoid a tuple. */
  private check = 0;

  private attemptCount = 0;
  /** Attempts decided, per outcome index (OUTCOME_NAMES order). */
  private readonly outcomeCounts = new Float64Array(OUTCOME_NAMES.length);
  private midstreamPackets = 0;
  private orphanSynAcks = 0;
  private evicted = 0;
  private peakPending = 0;

  readonly counters: HandshakeCounters = {
    decidedFlowPackets: 0,
    interfaceCopies: 0,
    divertedSynAcks: 0,
    portReuseDecisions: 0,
  };
  /** The first orphan SYN-ACKs (up to orphanExampleLimit). */
  readonly orphanExamples: OrphanSynAck[] = [];

  constructor(options: HandshakeOptions, sink: AttemptSink) {
    const { ackTimeoutSeconds, maxPending } = options;
    if (!Number.isFinite(ackTimeoutSeconds) || ackTimeoutSeconds < 0) {
      throw new SynscopeError('BAD_USAGE', `ACK timeout must be a non-negative number of seconds, got ${ackTimeoutSeconds}`, {
        expected: 'seconds ≥ 0, e.g. 3',
        hint: 'Pass --ack-timeout 3 (the default)',
      });
    }
    if (!Number.isInteger(maxPending) || maxPending < 1) {
      throw new SynscopeError('BAD_USAGE', `max pending must be a positive integer, got ${maxPending}`, {
        expected: 'an integer ≥ 1',
        hint: 'Pass --max-pending 500000 (the default) or larger',
      });
    }
    const copyWindowMs = options.copyWindowMs ?? 50;
    if (!Number.isFinite(copyWindowMs) || copyWindowMs < 0) {
      throw new SynscopeError('BAD_USAGE', `copy window must be ≥ 0 ms, got ${copyWindowMs}`);
    }
    this.sink = sink;
    this.timeoutNs = Math.round(ackTimeoutSeconds * 1e9);
    this.maxPending = maxPending;
    this.copyWindowNs = Math.round(copyWindowMs * 1e6);
    this.orphanExampleLimit = Math.max(0, options.orphanExampleLimit ?? 100);
    if (typeof sink.onDecided === 'function') {
      this.decidedSink = sink.onDecided.bind(sink);
      this.decidedView = new DecidedView(this);
    }
    this.decided = new DecidedFlows(options.decidedFlowSlots ?? 1 << 18);
    this.decidedReplies = new DecidedFlows((options.decidedFlowSlots ?? 1 << 18) >> 2);
  }

  /** Undecided attempts held right now. */
  get pending(): number {
    return this.pendingCount;
  }

  /** Called for every packet with DecodeStatus.TCP, in capture order. inputIndex = which input file. */
  onPacket(p: PacketView, inputIndex: number): void {
    if (this.finished) return;
    const t = this.advance(p.tsSec, p.tsNsec);
    // Direction-free flow key (sum of endpoint hashes) and check (their xor); see flow-key.ts.
    const hs = endpointHash(p.src0, p.src1, p.src2, p.src3, p.srcPort);
    const hd = endpointHash(p.dst0, p.dst1, p.dst2, p.dst3, p.dstPort);
    const key = finish30((hs + hd) | 0);
    const check = hs ^ hd;
    this.check = check;
    const bulk = (p.flags & (TcpFlag.SYN | TcpFlag.RST)) === 0;
    if (bulk && this.settledByRecentAnswer(key, check)) return;
    const a = this.pendingCount !== 0 ? this.findFlow(p, key) : null;
    if (a === null && bulk) {
      // Bulk traffic (data and ACKs of decided or midstream flows): done in the small, hot part of the
      // method; keeping the rest in a separate function lets V8 optimise this part tightly (~2-3x faster).
      this.unmatched(key);
      return;
    }
    this.onAttemptPacket(a, p, t, key, inputIndex);
  }

  /**
   * onPacket for a packet packed by the decoder thread (decode/packed.ts), whose flow key and check are
   * already computed: a packet that is no SYN or RST and whose key no pending attempt holds is settled
   * from five words; only the others are unpacked into `view` (a view owned by the caller, reused).
   */
  onPacked(w: PackedWords, at: number, view: PacketView): void {
    if (this.finished) return;
    const t = this.advance(packedTsSec(w, at), packedTsNsec(w, at));
    const key = packedFlowKey(w, at);
    const check = packedFlowCheck(w, at);
    this.check = check;
    if ((packedFlags(w, at) & (TcpFlag.SYN | TcpFlag.RST)) === 0) {
      if (this.settledByRecentAnswer(key, check)) return;
      if (this.pendingCount === 0 || this.flows.find(key) < 0) {
        this.unmatched(key);
        return;
      }
    }
    unpackView(w, at, view);
    const a = this.pendingCount !== 0 ? this.findFlow(view, key) : null;
    if (a === null && (view.flags & (TcpFlag.SYN | TcpFlag.RST)) === 0) {
      this.unmatched(key);
      return;
    }
    this.onAttemptPacket(a, view, t, key, packedInputIndex(w, at));
  }

  /** Capture time of a packet, ns after timeBaseSec; moves time on and decides what the timeout settles. */
  private advance(tsSec: number, tsNsec: number): number {
    if (!this.started) {
      this.started = true;
      this.timeBaseSec = tsSec;
    }
    const t = (tsSec - this.timeBaseSec) * 1e9 + tsNsec;
    if (t > this.latestNs) this.latestNs = t;
    if (this.pendingCount !== 0) this.expire(t);
    return t;
  }

  /** A packet that belongs to a pending attempt, or a SYN / SYN-ACK / RST that may start or settle one. */
  private onAttemptPacket(pending: PendingAttempt | null, p: PacketView, t: number, key: number, inputIndex: number): void {
    let a = pending;
    if (a !== null && t > a.deadlineNs) {
      // The sweep had not reached it (lists out of order after a time jump): the timeout decides first.
      this.decideByTimeout(a);
      a = null;
    }
    const flags = p.flags;

    if ((flags & TcpFlag.RST) !== 0) {
      if (a === null) this.unmatched(key);
      else if (this.direction === FROM_SERVER) this.onServerRst(a, p, t);
      else this.onClientRst(a, p, t);
      return;
    }
    if ((flags & TcpFlag.SYN) !== 0) {
      if ((flags & TcpFlag.ACK) === 0) this.onSyn(a, p, t, key, inputIndex);
      else this.onSynAck(a, p, t, key, inputIndex);
      return;
    }
    if (a === null) {
      this.unmatched(key);
      return;
    }
    this.addInterface(a, p);
    if (this.direction === FROM_CLIENT && (flags & TcpFlag.ACK) !== 0) this.onClientAck(a, p, t);
  }

  /**
   * Capture time of the latest packet seen, as float epoch seconds (µs precision), or null before the
   * first packet. Live mode maps it to the wall clock to know how long the pipe has been idle.
   */
  get latestCaptureTime(): number | null {
    return this.started ? this.timeBaseSec + this.latestNs / 1e9 : null;
  }

  /**
   * Moves capture time on to (sec, nsec) without a packet, deciding every attempt whose ACK timeout ran
   * out by then. Live mode calls it when the pipe is idle (last packet's capture time + wall time since),
   * so a SYN that was never answered is reported within the timeout even if no other packet arrives.
   * Never moves time backwards; a no-op before the first packet (there is no time base yet).
   */
  advanceTo(sec: number, nsec: number): void {
    if (this.finished || !this.started) return;
    const t = (sec - this.timeBaseSec) * 1e9 + nsec;
    if (!(t > this.latestNs)) return;
    this.latestNs = t;
    if (this.pendingCount !== 0) this.expire(t);
  }

  /** End of capture: decide what the timeout can still decide, the rest become UNRESOLVED. */
  finish(): HandshakeSummary {
    if (!this.finished) {
      this.finished = true;
      const rest: PendingAttempt[] = [];
      for (let a = this.synHead; a !== null; a = a.next) rest.push(a);
      for (let a = this.ackHead; a !== null; a = a.next) rest.push(a);
      rest.sort((x, y) => x.id - y.id);
      for (const a of rest) {
        if (this.latestNs > a.deadlineNs) this.decideByTimeout(a);
        else if (!a.synAckSeen && a.earlyAckNs === a.earlyAckNs) this.decide(a, ESTABLISHED, a.earlyAckNs, Number.NaN);
        else this.decide(a, UNRESOLVED, Number.NaN, Number.NaN);
      }
    }
    return this.summary();
  }

  /** Counts so far (final after finish()). */
  summary(): HandshakeSummary {
    return {
      attempts: this.attemptCount,
      byOutcome: Object.fromEntries(OUTCOME_NAMES.map((name, i) => [name, this.outcomeCounts[i]!])) as Record<Outcome, number>,
      midstreamPackets: this.midstreamPackets,
      orphanSynAcks: this.orphanSynAcks,
      evicted: this.evicted,
      peakPending: this.peakPending,
    };
  }

  // ───────────────────────────── per packet ─────────────────────────────

  /** Pending attempt of this packet's 4-tuple, either direction; sets this.direction. */
  private findFlow(p: PacketView, key: number): PendingAttempt | null {
    const flows = this.flows;
    for (let slot = flows.find(key); slot >= 0; slot = flows.findNext(key, slot)) {
      const a = flows.at(slot);
      if (a.ipVersion === p.ipVersion) {
        if (
          p.srcPort === a.cPort &&
          p.dstPort === a.sPort &&
          p.src0 === a.c0 &&
          p.dst0 === a.s0 &&
          p.src1 === a.c1 &&
          p.src2 === a.c2 &&
          p.src3 === a.c3 &&
          p.dst1 === a.s1 &&
          p.dst2 === a.s2 &&
          p.dst3 === a.s3
        ) {
          this.direction = FROM_CLIENT;
          return a;
        }
        if (
          p.srcPort === a.sPort &&
          p.dstPort === a.cPort &&
          p.src0 === a.s0 &&
          p.dst0 === a.c0 &&
          p.src1 === a.s1 &&
          p.src2 === a.s2 &&
          p.src3 === a.s3 &&
          p.dst1 === a.c1 &&
          p.dst2 === a.c2 &&
          p.dst3 === a.c3
        ) {
          this.direction = FROM_SERVER;
          return a;
        }
      }
    }
    return null;
  }

  /**
   * A packet with neither SYN nor RST, counted from the decided-flow memory's recent answers alone when
   * they know its flow. Sound because a recent answer exists only while no attempt is pending on the flow
   * (startAttempt drops it): such a packet can settle nothing, only be counted.
   */
  private settledByRecentAnswer(key: number, check: number): boolean {
    const answer = this.decided.recentAnswer(key, check);
    if (answer < 0) return false;
    if (answer === 1) this.counters.decidedFlowPackets++;
    else this.midstreamPackets++;
    return true;
  }

  /** A non-SYN packet (or RST) that matches no pending attempt. */
  private unmatched(key: number): void {
    if (this.decided.has(key, this.check)) this.counters.decidedFlowPackets++;
    else this.midstreamPackets++;
  }

  private onSyn(a: PendingAttempt | null, p: PacketView, t: number, key: number, inputIndex: number): void {
    if (a !== null) {
      if (this.direction === FROM_SERVER) {
        // Both ends sent a SYN: simultaneous open. Still one attempt; the peer's ISN is the "server" ISN.
        a.simultaneousOpen = true;
        if (!a.synAckSeen) {
          a.serverIsnKnown = true;
          a.serverIsn = p.seq;
        }
        this.addInterface(a, p);
        return;
      }
      if (p.seq === a.clientIsn) {
        this.addInterface(a, p);
        if (p.payloadLength > 0) {
          a.synWithData = true;
          if (p.payloadLength > a.synDataLength) a.synDataLength = p.payloadLength;
        }
        const iface = interfaceKey(p, inputIndex);
        if (this.isCopy(a.lastSynTxNs, a.lastSynTxIface, a.lastSynTxIpId, t, iface, p.ipId)) {
          this.counters.interfaceCopies++;
        } else {
          a.synRetransmits++;
          a.lastSynTxNs = t;
          a.lastSynTxIface = iface;
          a.lastSynTxIpId = p.ipId;
        }
        return;
      }
      if (this.decided.hasAttempt(key, this.check, p.seq)) {
        // A straggling copy/retransmission of the attempt this one replaced.
        this.counters.decidedFlowPackets++;
        return;
      }
      // Port reuse: the client gave up on the older attempt and opened a new one on the same 4-tuple.
      // The older one is decided now as if its timeout had run out, since the client will never ACK it.
      this.counters.portReuseDecisions++;
      this.decideByTimeout(a);
    } else if (this.decided.hasAttempt(key, this.check, p.seq)) {
      // SYN retransmitted after its attempt was decided (e.g. the kernel's 7 s retry after a 3 s timeout).
      this.counters.decidedFlowPackets++;
      return;
    }
    this.startAttempt(p, t, key, inputIndex);
  }

  private onSynAck(a: PendingAttempt | null, p: PacketView, t: number, key: number, inputIndex: number): void {
    if (a !== null) {
      this.addInterface(a, p);
      if (this.direction === FROM_SERVER) {
        if (!ackCoversSyn(p.ack, a) && this.decided.hasAttempt(key, this.check, (p.ack - 1) >>> 0)) {
          // Answers the older attempt that port reuse replaced, not this one.
          this.counters.decidedFlowPackets++;
          return;
        }
        this.observeSynAck(a, p, t, inputIndex);
      } else {
        // The client's own SYN-ACK in a simultaneous open: it acknowledges the peer's SYN.
        a.simultaneousOpen = true;
        if (a.serverIsnKnown && ackCoversServer(p.ack, a.serverIsn)) this.decide(a, ESTABLISHED, t, Number.NaN);
      }
      return;
    }
    const diverted = this.findDiverted(p);
    if (diverted !== null) {
      if (t > diverted.deadlineNs) {
        this.decideByTimeout(diverted);
        this.counters.decidedFlowPackets++;
        return;
      }
      this.counters.divertedSynAcks++;
      this.addInterface(diverted, p);
      this.addDiverted(diverted, p);
      this.observeSynAck(diverted, p, t, inputIndex);
      return;
    }
    if (
      this.decided.has(key, this.check) ||
      this.decidedReplies.has(replyKey(p.src0, p.src1, p.src2, p.src3, p.srcPort, p.ack), p.seq | 0)
    ) {
      this.counters.decidedFlowPackets++;
      return;
    }
    this.orphanSynAcks++;
    if (this.orphanExamples.length < this.orphanExampleLimit) {
      const v = p.ipVersion === 6 ? 6 : 4;
      this.orphanExamples.push({
        timeNs: t,
        ipVersion: v,
        server: { ip: formatIp(v, p.src0, p.src1, p.src2, p.src3), port: p.srcPort },
        client: { ip: formatIp(v, p.dst0, p.dst1, p.dst2, p.dst3), port: p.dstPort },
        seq: p.seq,
        ack: p.ack,
        inputIndex,
      });
    }
  }

  /** A SYN-ACK from the attempt's server, addressed to its client or diverted elsewhere. */
  private observeSynAck(a: PendingAttempt, p: PacketView, t: number, inputIndex: number): void {
    const ackMatches = ackCoversSyn(p.ack, a);
    const iface = interfaceKey(p, inputIndex);
    if (!a.synAckSeen) {
      a.synAckSeen = true;
      a.serverIsnKnown = true;
      a.serverIsn = p.seq;
      a.synAckAckMatches = ackMatches ? AckMatch.YES : AckMatch.NO;
      a.firstSynAckNs = t;
      a.lastSynAckTxNs = t;
      a.lastSynAckTxIface = iface;
      a.lastSynAckTxIpId = p.ipId;
      // Now waiting for the client's ACK: move to the second deadline list.
      this.unlinkDeadline(a);
      a.awaitingAck = true;
      a.deadlineNs = t + this.timeoutNs;
      this.linkDeadline(a);
      if (a.earlyAckNs === a.earlyAckNs && ackCoversServer(a.earlyAck, p.seq)) {
        this.decide(a, ESTABLISHED, a.earlyAckNs, Number.NaN);
      }
      return;
    }
    if (p.seq === a.serverIsn) {
      if (this.isCopy(a.lastSynAckTxNs, a.lastSynAckTxIface, a.lastSynAckTxIpId, t, iface, p.ipId)) {
        this.counters.interfaceCopies++;
      } else {
        a.synAckRetransmits++;
        a.lastSynAckTxNs = t;
        a.lastSynAckTxIface = iface;
        a.lastSynAckTxIpId = p.ipId;
      }
      return;
    }
    if (a.synAckAckMatches === AckMatch.NO && ackMatches) {
      // A correct SYN-ACK after one that acked the wrong number: it is the one the client can answer.
      a.serverIsn = p.seq;
      a.synAckAckMatches = AckMatch.YES;
    } else {
      // Another server ISN for the same SYN (seen with TCP Fast Open servers): counted as a retransmission;
      // the client may acknowledge either ISN, so the latest other one is kept too.
      a.synAckRetransmits++;
      a.altServerIsnKnown = true;
      a.altServerIsn = p.seq;
    }
    a.lastSynAckTxNs = t;
    a.lastSynAckTxIface = iface;
    a.lastSynAckTxIpId = p.ipId;
  }

  /**
   * The pending attempt a SYN-ACK answers although it is not addressed to that attempt's client: same
   * server endpoint, ack = client ISN + 1, and (if the attempt already has a SYN-ACK) the same server ISN.
   */
  private findDiverted(p: PacketView): PendingAttempt | null {
    if (this.pendingCount === 0) return null;
    const replies = this.replies;
    const key = replyKey(p.src0, p.src1, p.src2, p.src3, p.srcPort, p.ack);
    for (let slot = replies.find(key); slot >= 0; slot = replies.findNext(key, slot)) {
      const a = replies.at(slot);
      if (
        a.ipVersion === p.ipVersion &&
        a.sPort === p.srcPort &&
        a.s0 === p.src0 &&
        a.s1 === p.src1 &&
        a.s2 === p.src2 &&
        a.s3 === p.src3 &&
        ((a.clientIsn + 1) >>> 0) === p.ack &&
        (!a.synAckSeen || a.serverIsn === p.seq)
      ) {
        return a;
      }
    }
    return null;
  }

  private onServerRst(a: PendingAttempt, p: PacketView, t: number): void {
    this.addInterface(a, p);
    if (!a.synAckSeen && a.earlyAckNs === a.earlyAckNs && p.seq === a.earlyAck) {
      // The client already acknowledged a SYN-ACK the capture missed, and this RST carries exactly the
      // sequence number the client acked: the handshake completed and the connection was reset later.
      this.decide(a, ESTABLISHED, a.earlyAckNs, Number.NaN);
      return;
    }
    const hasAck = (p.flags & TcpFlag.ACK) !== 0;
    const answersSyn =
      (hasAck && ackCoversSyn(p.ack, a)) ||
      (a.serverIsnKnown && (p.seq === a.serverIsn || p.seq === ((a.serverIsn + 1) >>> 0))) ||
      // A bare RST (no ACK bit) before any SYN-ACK carries nothing to check it against.
      (!hasAck && !a.synAckSeen);
    if (answersSyn) this.decide(a, REFUSED, Number.NaN, t);
  }

  private onClientRst(a: PendingAttempt, p: PacketView, t: number): void {
    this.addInterface(a, p);
    // Before any SYN-ACK a client RST answers nothing we saw; the timeout will decide the attempt.
    if (a.synAckSeen) this.decide(a, CLIENT_RESET, Number.NaN, t);
  }

  /** A non-SYN, non-RST client packet with the ACK bit (pure ACK, data, FIN). */
  private onClientAck(a: PendingAttempt, p: PacketView, t: number): void {
    if (a.serverIsnKnown && ackCoversServer(p.ack, a.serverIsn)) {
      this.decide(a, ESTABLISHED, t, Number.NaN);
      return;
    }
    if (a.altServerIsnKnown && ackCoversServer(p.ack, a.altServerIsn)) {
      a.serverIsn = a.altServerIsn;
      this.decide(a, ESTABLISHED, t, Number.NaN);
      return;
    }
    if (!a.synAckSeen && a.earlyAckNs !== a.earlyAckNs && ((p.seq - a.clientIsn - 1) >>> 0) <= a.synDataLength) {
      // The client acks a SYN-ACK we have not seen (yet): a copy captured out of order, or a SYN-ACK the
      // capture missed. Kept until the SYN-ACK shows up; if it never does, the ACK alone decides.
      a.earlyAckNs = t;
      a.earlyAck = p.ack;
    }
  }

  // ───────────────────────────── table ─────────────────────────────

  private startAttempt(p: PacketView, t: number, key: number, inputIndex: number): void {
    if (this.pendingCount >= this.maxPending) this.evictOldest();
    const a = this.pool.pop() ?? new PendingAttempt();
    a.id = this.nextId++;
    a.inputIndex = inputIndex;
    a.ipVersion = p.ipVersion === 6 ? 6 : 4;
    a.c0 = p.src0;
    a.c1 = p.src1;
    a.c2 = p.src2;
    a.c3 = p.src3;
    a.cPort = p.srcPort;
    a.s0 = p.dst0;
    a.s1 = p.dst1;
    a.s2 = p.dst2;
    a.s3 = p.dst3;
    a.sPort = p.dstPort;
    a.clientIsn = p.seq;
    if (p.payloadLength > 0) {
      a.synWithData = true;
      a.synDataLength = p.payloadLength;
    }
    a.firstSynNs = t;
    a.lastSynTxNs = t;
    a.lastSynTxIface = interfaceKey(p, inputIndex);
    a.lastSynTxIpId = p.ipId;
    if (p.tunnel !== 0) {
      a.tunnelKind = p.tunnel;
      a.outerIpVersion = p.outerIpVersion;
      a.outerSrc0 = p.outerSrc0;
      a.outerSrc1 = p.outerSrc1;
      a.outerSrc2 = p.outerSrc2;
      a.outerSrc3 = p.outerSrc3;
      a.outerDst0 = p.outerDst0;
      a.outerDst1 = p.outerDst1;
      a.outerDst2 = p.outerDst2;
      a.outerDst3 = p.outerDst3;
      a.tunnelId = p.tunnelId;
    }
    this.addInterface(a, p);

    a.flowKey = key;
    a.flowCheck = this.check;
    this.flows.insert(key, a);
    // From now on this flow's packets must reach the attempt: no recent answer may settle them.
    this.decided.forgetRecent(key);
    a.replyKey = replyKey(a.s0, a.s1, a.s2, a.s3, a.sPort, (a.clientIsn + 1) >>> 0);
    this.replies.insert(a.replyKey, a);
    a.awaitingAck = false;
    a.deadlineNs = t + this.timeoutNs;
    this.linkDeadline(a);

    this.pendingCount++;
    if (this.pendingCount > this.peakPending) this.peakPending = this.pendingCount;
  }

  /** Drops the oldest pending attempt (earliest first SYN of the two list heads) without emitting it. */
  private evictOldest(): void {
    const x = this.synHead;
    const y = this.ackHead;
    const victim = x === null ? y : y === null ? x : y.firstSynNs < x.firstSynNs ? y : x;
    if (victim === null) return;
    this.evicted++;
    this.remove(victim, true);
  }

  /** Decides what the timeout decides: nobody answered the SYN, or the client never acked the SYN-ACK. */
  private decideByTimeout(a: PendingAttempt): void {
    if (a.synAckSeen) this.decide(a, SYNACK_UNANSWERED, Number.NaN, Number.NaN);
    else if (a.earlyAckNs === a.earlyAckNs) this.decide(a, ESTABLISHED, a.earlyAckNs, Number.NaN);
    else this.decide(a, SYN_UNANSWERED, Number.NaN, Number.NaN);
  }

  /** Deadlines that the capture time `t` has passed decide their attempts. */
  private expire(t: number): void {
    let a = this.synHead;
    while (a !== null && a.deadlineNs < t) {
      this.decideByTimeout(a);
      a = this.synHead;
    }
    a = this.ackHead;
    while (a !== null && a.deadlineNs < t) {
      this.decideByTimeout(a);
      a = this.ackHead;
    }
  }

  private decide(a: PendingAttempt, outcome: number, ackNs: number, rstNs: number): void {
    this.attemptCount++;
    this.outcomeCounts[outcome]!++;
    if (this.decidedView !== null) {
      // The sink reads the numbers while `a` still holds them, and builds an Attempt only if it keeps one.
      const view = this.decidedView;
      view.open(a, outcome, ackNs, rstNs);
      this.decidedSink!(view);
      view.close();
      this.remove(a, outcome !== ESTABLISHED || a.divertedCount > 0);
      return;
    }
    const attempt = this.toAttempt(a, OUTCOME_NAMES[outcome]!, ackNs, rstNs);
    this.remove(a, outcome !== ESTABLISHED || a.divertedCount > 0);
    this.sink.onAttempt(attempt);
  }

  /**
   * Takes an attempt out of every index, remembers its flow as decided, and returns it to the pool.
   * `keepReply`: also remember its SYN-ACK by (server endpoint, ack), for copies diverted after the decision.
   */
  private remove(a: PendingAttempt, keepReply: boolean): void {
    this.flows.remove(a.flowKey, a);
    this.replies.remove(a.replyKey, a);
    this.unlinkDeadline(a);
    this.decided.remember(a.flowKey, a.flowCheck, a.clientIsn);
    // Its SYN-ACK's (server endpoint, ack) too: the server keeps retransmitting a SYN-ACK that was
    // diverted elsewhere after the attempt is decided, and those copies are no orphans. Not for an
    // attempt established with no diverted SYN-ACK: its SYN-ACKs reached the client, and a late
    // retransmission to that client is known by its flow. Skipping that random write into a table far
    // larger than the cache saved 15% of the tracker's time on the 10 M handshake-only capture.
    if (keepReply && a.synAckSeen) this.decidedReplies.remember(a.replyKey, a.serverIsn | 0, a.clientIsn);
    this.pendingCount--;
    a.reset();
    this.pool.push(a);
  }

  private linkDeadline(a: PendingAttempt): void {
    a.next = null;
    if (a.awaitingAck) {
      a.prev = this.ackTail;
      if (this.ackTail === null) this.ackHead = a;
      else this.ackTail.next = a;
      this.ackTail = a;
    } else {
      a.prev = this.synTail;
      if (this.synTail === null) this.synHead = a;
      else this.synTail.next = a;
      this.synTail = a;
    }
  }

  private unlinkDeadline(a: PendingAttempt): void {
    if (a.prev !== null) a.prev.next = a.next;
    else if (a.awaitingAck) this.ackHead = a.next;
    else this.synHead = a.next;
    if (a.next !== null) a.next.prev = a.prev;
    else if (a.awaitingAck) this.ackTail = a.prev;
    else this.synTail = a.prev;
    a.prev = null;
    a.next = null;
  }

  private isCopy(lastNs: number, lastIface: number, lastIpId: number, t: number, iface: number, ipId: number): boolean {
    // IPv6 has no IP ID (both -1): interface and time window alone tell a copy.
    return iface !== lastIface && Math.abs(t - lastNs) <= this.copyWindowNs && ipId === lastIpId;
  }

  private addInterface(a: PendingAttempt, p: PacketView): void {
    const iface = p.sllIfIndex >= 0 ? p.sllIfIndex : p.interfaceId;
    const list = a.interfaces;
    const n = a.interfaceCount;
    for (let i = 0; i < n; i++) if (list[i] === iface) return;
    if (n < MAX_INTERFACES) {
      if (n < list.length) list[n] = iface;
      else list.push(iface);
      a.interfaceCount = n + 1;
    }
  }

  private addDiverted(a: PendingAttempt, p: PacketView): void {
    const d = a.diverted ?? (a.diverted = new Float64Array(MAX_DIVERTED * DIVERTED_STRIDE));
    const end = a.divertedCount * DIVERTED_STRIDE;
    for (let i = 0; i < end; i += DIVERTED_STRIDE) {
      if (d[i] === p.ipVersion && d[i + 1] === p.dst0 && d[i + 2] === p.dst1 && d[i + 3] === p.dst2 && d[i + 4] === p.dst3 && d[i + 5] === p.dstPort) {
        return;
      }
    }
    if (a.divertedCount < MAX_DIVERTED) {
      d[end] = p.ipVersion;
      d[end + 1] = p.dst0;
      d[end + 2] = p.dst1;
      d[end + 3] = p.dst2;
      d[end + 4] = p.dst3;
      d[end + 5] = p.dstPort;
      a.divertedCount++;
    }
  }

  // ───────────────────────────── output ─────────────────────────────

  /** @internal The Attempt object of a pending attempt being decided (DecidedView.toAttempt). */
  toAttempt(a: PendingAttempt, outcome: Outcome, ackNs: number, rstNs: number): Attempt {
    const v = a.ipVersion === 6 ? 6 : 4;
    const hasAck = ackNs === ackNs;
    const divertedTo: Endpoint[] = [];
    const d = a.diverted;
    if (d !== null) {
      for (let i = 0; i < a.divertedCount * DIVERTED_STRIDE; i += DIVERTED_STRIDE) {
        divertedTo.push({ ip: formatIp(d[i]!, d[i + 1]!, d[i + 2]!, d[i + 3]!, d[i + 4]!), port: d[i + 5]! });
      }
    }
    const interfaces: number[] = [];
    for (let i = 0; i < a.interfaceCount; i++) interfaces.push(a.interfaces[i]!);
    if (interfaces.length > 1) interfaces.sort((x, y) => x - y);
    return {
      id: a.id,
      ipVersion: v,
      client: { ip: formatIp(v, a.c0, a.c1, a.c2, a.c3), port: a.cPort },
      server: { ip: formatIp(v, a.s0, a.s1, a.s2, a.s3), port: a.sPort },
      outcome,
      clientIsn: a.clientIsn,
      serverIsn: a.serverIsnKnown ? a.serverIsn : null,
      firstSynNs: a.firstSynNs,
      firstSynAckNs: a.synAckSeen ? a.firstSynAckNs : null,
      ackNs: hasAck ? ackNs : null,
      rstNs: rstNs === rstNs ? rstNs : null,
      synRetransmits: a.synRetransmits,
      synAckRetransmits: a.synAckRetransmits,
      synAckAckMatches: a.synAckAckMatches === AckMatch.NONE ? null : a.synAckAckMatches === AckMatch.YES,
      synToSynAckNs: a.synAckSeen ? a.firstSynAckNs - a.firstSynNs : null,
      // An ACK captured a few µs before its SYN-ACK (copy reordering) reads as 0, not negative.
      synAckToAckNs: a.synAckSeen && hasAck ? Math.max(0, ackNs - a.firstSynAckNs) : null,
      interfaces,
      divertedTo,
      synWithData: a.synWithData,
      simultaneousOpen: a.simultaneousOpen,
      tunnel:
        a.tunnelKind === 0
          ? null
          : {
              kind: TUNNEL_NAMES[a.tunnelKind as TunnelKindCode],
              outerSrc: formatIp(a.outerIpVersion, a.outerSrc0, a.outerSrc1, a.outerSrc2, a.outerSrc3),
              outerDst: formatIp(a.outerIpVersion, a.outerDst0, a.outerDst1, a.outerDst2, a.outerDst3),
              id: a.tunnelId >= 0 ? a.tunnelId : null,
            },
      inputIndex: a.inputIndex,
    };
  }
}

/** Interface identity for telling copies apart: the same ifindex in two input files is two interfaces. */
function interfaceKey(p: PacketView, inputIndex: number): number {
  return (p.sllIfIndex >= 0 ? p.sllIfIndex : p.interfaceId) + inputIndex * 4294967296;
}

/** The ack acknowledges the client's SYN: ISN + 1, or further by the SYN's data (TCP Fast Open). */
function ackCoversSyn(ack: number, a: PendingAttempt): boolean {
  return ((ack - a.clientIsn - 1) >>> 0) <= a.synDataLength;
}

/** The ack acknowledges the server's SYN: at or (within reason) beyond server ISN + 1. */
function ackCoversServer(ack: number, serverIsn: number): boolean {
  return ((ack - serverIsn - 1) >>> 0) < ACK_AHEAD_LIMIT;
}

/**
 * The borrowed numeric view of the attempt being decided (DecidedAttempt), one per tracker: it reads the
 * pending attempt's fields in place, so handing a decision to the sink allocates nothing.
 */
class DecidedView implements DecidedAttempt {
  private a: PendingAttempt = new PendingAttempt();
  private outcome = 0;
  private ackNs = Number.NaN;
  private rstNs = Number.NaN;
  private attempt: Attempt | null = null;
  private live = false;

  constructor(private readonly tracker: HandshakeTracker) {}

  open(a: PendingAttempt, outcome: number, ackNs: number, rstNs: number): void {
    this.a = a;
    this.outcome = outcome;
    this.ackNs = ackNs;
    this.rstNs = rstNs;
    this.attempt = null;
    this.live = true;
  }

  close(): void {
    this.live = false;
    this.attempt = null;
  }

  get outcomeIndex(): number {
    return this.outcome;
  }
  get ipVersion(): number {
    return this.a.ipVersion;
  }
  get c0(): number {
    return this.a.c0;
  }
  get c1(): number {
    return this.a.c1;
  }
  get c2(): number {
    return this.a.c2;
  }
  get c3(): number {
    return this.a.c3;
  }
  get cPort(): number {
    return this.a.cPort;
  }
  get s0(): number {
    return this.a.s0;
  }
  get s1(): number {
    return this.a.s1;
  }
  get s2(): number {
    return this.a.s2;
  }
  get s3(): number {
    return this.a.s3;
  }
  get sPort(): number {
    return this.a.sPort;
  }
  get firstSynNs(): number {
    return this.a.firstSynNs;
  }
  get firstSynAckNs(): number {
    return this.a.synAckSeen ? this.a.firstSynAckNs : Number.NaN;
  }
  get synAckAckMatches(): number {
    return this.a.synAckAckMatches;
  }
  get divertedCount(): number {
    return this.a.divertedCount;
  }
  get tunnelKind(): number {
    return this.a.tunnelKind;
  }

  toAttempt(): Attempt {
    if (!this.live) {
      throw new SynscopeError('BAD_USAGE', 'a decided-attempt view was read after its onDecided call returned', {
        hint: 'Call toAttempt() inside onDecided and keep the Attempt it returns',
      });
    }
    return (this.attempt ??= this.tracker.toAttempt(this.a, OUTCOME_NAMES[this.outcome]!, this.ackNs, this.rstNs));
  }
}
