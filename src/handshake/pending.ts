/**
 * One undecided handshake attempt, as mutable numbers. Instances are pooled by the tracker: an attempt
 * lives in the table from its first SYN until it is decided or evicted, then `reset()` readies the object
 * for the next attempt, so a steady stream of handshakes allocates only the decided `Attempt`s it emits.
 */

/** synAckAckMatches while pending: no SYN-ACK yet / the SYN-ACK acked client ISN + 1 / it did not. */
export const AckMatch = { NONE: -1, NO: 0, YES: 1 } as const;

/** Distinct interfaces / diversion targets remembered per attempt (more are ignored). */
export const MAX_INTERFACES = 16;
export const MAX_DIVERTED = 16;
/** Numbers stored per diversion target. */
export const DIVERTED_STRIDE = 6;

/**
 * Initial value of the fields that hold 32-bit unsigned numbers (addresses, sequence numbers) or
 * nanosecond times: -0 is 0 in every comparison and integer operation, but it is not a small integer,
 * so V8 gives these fields a double representation from the start. Starting from a small integer, the
 * first address above 2^30 changed every pooled object's hidden class, and each change threw away the
 * optimised code of the tracker methods that had seen the old one (9 of the 27 deopts of a run on the
 * 1 M node capture; none since).
 */
const AS_DOUBLE = -0;

export class PendingAttempt {
  id = 0;
  inputIndex = 0;

  // identity; the client is whoever sent the first SYN
  ipVersion = 4;
  c0 = AS_DOUBLE;
  c1 = AS_DOUBLE;
  c2 = AS_DOUBLE;
  c3 = AS_DOUBLE;
  cPort = 0;
  s0 = AS_DOUBLE;
  s1 = AS_DOUBLE;
  s2 = AS_DOUBLE;
  s3 = AS_DOUBLE;
  sPort = 0;
  clientIsn = AS_DOUBLE;
  /** Largest payload seen on the SYN (TCP Fast Open): the SYN-ACK may ack ISN + 1 + this. */
  synDataLength = 0;

  // table links (the deadline lists are intrusive, so unlinking allocates nothing)
  flowKey = 0;
  flowCheck = AS_DOUBLE;
  replyKey = 0;
  /** Deadline list this attempt is on: false = awaiting SYN-ACK, true = awaiting the client's ACK. */
  awaitingAck = false;
  prev: PendingAttempt | null = null;
  next: PendingAttempt | null = null;
  /** Capture time (ns from the time base) after which the ACK timeout decides this attempt. */
  deadlineNs = AS_DOUBLE;

  // what was seen
  firstSynNs = AS_DOUBLE;
  synRetransmits = 0;
  lastSynTxNs = AS_DOUBLE;
  lastSynTxIface = 0;
  lastSynTxIpId = -1;

  synAckSeen = false;
  /** Server ISN is known: from a SYN-ACK, or from the server's own SYN in a simultaneous open. */
  serverIsnKnown = false;
  serverIsn = AS_DOUBLE;
  /** A second, different server ISN (a server answering one SYN twice): the client may ack either. */
  altServerIsnKnown = false;
  altServerIsn = AS_DOUBLE;
  synAckAckMatches: number = AckMatch.NONE;
  firstSynAckNs = AS_DOUBLE;
  synAckRetransmits = 0;
  lastSynAckTxNs = AS_DOUBLE;
  lastSynAckTxIface = 0;
  lastSynAckTxIpId = -1;

  /** A client ACK captured before any SYN-ACK (copies reordered across interfaces); NaN when none. */
  earlyAckNs = Number.NaN;
  earlyAck = AS_DOUBLE;

  synWithData = false;
  simultaneousOpen = false;

  /** Interface ids / SLL2 ifindexes seen, in order of first appearance; the first interfaceCount count. */
  /** Interface keys seen (small integers; a plain array, since a typed array per attempt costs ~200 bytes). */
  readonly interfaces: number[] = [];
  interfaceCount = 0;
  /**
   * Diversion targets, flattened: ipVersion, w0, w1, w2, w3, port per target; the first divertedCount
   * targets count. Allocated on the first diversion and kept while the object is pooled.
   */
  diverted: Float64Array | null = null;
  divertedCount = 0;

  // tunnel context of the first SYN (kind 0 = none)
  tunnelKind = 0;
  outerIpVersion = 0;
  outerSrc0 = AS_DOUBLE;
  outerSrc1 = AS_DOUBLE;
  outerSrc2 = AS_DOUBLE;
  outerSrc3 = AS_DOUBLE;
  outerDst0 = AS_DOUBLE;
  outerDst1 = AS_DOUBLE;
  outerDst2 = AS_DOUBLE;
  outerDst3 = AS_DOUBLE;
  tunnelId = -1;

  reset(): void {
    this.prev = null;
    this.next = null;
    this.awaitingAck = false;
    this.synDataLength = 0;
    this.synRetransmits = 0;
    this.lastSynTxIpId = -1;
    this.synAckSeen = false;
    this.serverIsnKnown = false;
    this.serverIsn = 0;
    this.altServerIsnKnown = false;
    this.altServerIsn = 0;
    this.synAckAckMatches = AckMatch.NONE;
    this.firstSynAckNs = 0;
    this.synAckRetransmits = 0;
    this.lastSynAckTxIpId = -1;
    this.earlyAckNs = Number.NaN;
    this.earlyAck = 0;
    this.synWithData = false;
    this.simultaneousOpen = false;
    this.interfaceCount = 0;
    this.divertedCount = 0;
    this.tunnelKind = 0;
    this.outerIpVersion = 0;
    this.tunnelId = -1;
  }
}
