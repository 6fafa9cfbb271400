/** Handshake stage: decoded TCP packets in, decided attempts out. */
export { HandshakeTracker } from './tracker.js';
export type { HandshakeOptions, HandshakeCounters, OrphanSynAck } from './tracker.js';
export { flowKey, flowCheck, replyKey, endpointHash } from './flow-key.js';
