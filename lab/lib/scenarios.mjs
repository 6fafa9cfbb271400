// The lab's runs: two reproductions of the IPVS NodePort hijack and three controls that must not
// be diagnosed as one.
import { BACKEND_IPV4, BACKEND_IPV6, BACKEND_PORT, NODE_IPV4, NODE_IPV6 } from './topology.mjs';

export const NODEPORT_RANGE = /** @type {[number, number]} */ ([30000, 32767]);

/**
 * A realistic NodePort allocation: a few dozen ports drawn at random from the service range, as
 * the apiserver allocates them. Seeded, so every run of the lab uses the same list.
 * @param {number} count
 * @param {number} seed
 */
export function realisticNodePorts(count, seed) {
  let state = seed >>> 0;
  // mulberry32: a tiny, well-spread PRNG; Math.random cannot be seeded.
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const ports = new Set();
  while (ports.size < count) ports.add(NODEPORT_RANGE[0] + Math.floor(next() * (NODEPORT_RANGE[1] - NODEPORT_RANGE[0] + 1)));
  return [...ports].sort((a, b) => a - b);
}

/**
 * @typedef {object} Scenario
 * @property {string} name
 * @property {string} description
 * @property {'incident'|'control'} kind
 * @property {'all' | number[] | null} nodePorts   ports whose SYN-ACKs the IPVS stand-in diverts
 * @property {boolean} reservePorts                 ip_local_reserved_ports = the NodePort range
 * @property {number} synAckLossPercent             port-independent SYN-ACK drop share
 * @property {boolean} bulk                         bulk transfers and many pre-established connections
 * @property {{ minSeconds: number, maxSeconds: number, untilTimeouts: number }} probing
 * @property {'some'|'none'} expectFailures
 */

/** @type {Scenario[]} */
export const SCENARIOS = [
  {
    name: 'incident-all-nodeports',
    description: 'IPVS stand-in diverts SYN-ACKs for every port of 30000-32767',
    kind: 'incident',
    nodePorts: 'all',
    reservePorts: false,
    synAckLossPercent: 0,
    bulk: false,
    probing: { minSeconds: 12, maxSeconds: 40, untilTimeouts: 20 },
    expectFailures: 'some',
  },
  {
    name: 'incident-nodeport-list',
    description: 'IPVS stand-in diverts SYN-ACKs for a realistic list of 40 NodePorts',
    kind: 'incident',
    nodePorts: realisticNodePorts(40, 20240611),
    reservePorts: false,
    synAckLossPercent: 0,
    bulk: false,
    probing: { minSeconds: 15, maxSeconds: 45, untilTimeouts: 4 },
    expectFailures: 'some',
  },
  {
    name: 'control-reserved-ports',
    description: 'same hijack of 30000-32767, but ip_local_reserved_ports=30000-32767 keeps clients out of it',
    kind: 'control',
    nodePorts: 'all',
    reservePorts: true,
    synAckLossPercent: 0,
    bulk: false,
    probing: { minSeconds: 10, maxSeconds: 10, untilTimeouts: 0 },
    expectFailures: 'none',
  },
  {
    name: 'control-random-loss',
    description: 'no hijack; 5 % of SYN-ACKs to the node dropped at random (nftables numgen)',
    kind: 'control',
    nodePorts: null,
    reservePorts: false,
    synAckLossPercent: 5,
    bulk: false,
    probing: { minSeconds: 10, maxSeconds: 10, untilTimeouts: 0 },
    expectFailures: 'some',
  },
  {
    name: 'control-bulk-midstream',
    description: 'no hijack; bulk transfers and 70 connections established before the capture began',
    kind: 'control',
    nodePorts: null,
    reservePorts: false,
    synAckLossPercent: 0,
    bulk: true,
    probing: { minSeconds: 10, maxSeconds: 10, untilTimeouts: 0 },
    expectFailures: 'none',
  },
];

/**
 * @param {Scenario} s
 * @returns {((port: number) => boolean) | null} whether a client port's SYN-ACK is diverted
 */
export function divertedPortTest(s) {
  if (s.nodePorts === null || s.reservePorts) return null;
  if (s.nodePorts === 'all') return (p) => p >= NODEPORT_RANGE[0] && p <= NODEPORT_RANGE[1];
  const set = new Set(s.nodePorts);
  return (p) => set.has(p);
}

/**
 * The node's nftables ruleset for a scenario. The hijack runs at priority -300, before conntrack:
 * a SYN-ACK is a reply, so NAT rules never see it; IPVS in NAT mode takes it in the same spirit,
 * rewriting destination address and port to a backend, and the kernel then forwards it there.
 * @param {Scenario} s
 * @returns {string | null}
 */
export function nftRuleset(s) {
  const rules = [];
  /** @type {string[]} */
  const sets = [];
  if (s.nodePorts !== null) {
    const elements = s.nodePorts === 'all' ? `${NODEPORT_RANGE[0]}-${NODEPORT_RANGE[1]}` : s.nodePorts.join(', ');
    sets.push(`  set nodeports { type inet_service; flags interval; elements = { ${elements} } }`);
    rules.push(
      `    ip daddr ${NODE_IPV4} tcp flags & (syn | ack) == syn | ack tcp dport @nodeports ip daddr set ${BACKEND_IPV4} tcp dport set ${BACKEND_PORT}`,
      `    ip6 daddr ${NODE_IPV6} tcp flags & (syn | ack) == syn | ack tcp dport @nodeports ip6 daddr set ${BACKEND_IPV6} tcp dport set ${BACKEND_PORT}`,
    );
  }
  if (s.synAckLossPercent > 0) {
    rules.push(
      `    ip daddr ${NODE_IPV4} tcp flags & (syn | ack) == syn | ack numgen random mod 100 < ${s.synAckLossPercent} drop`,
      `    ip6 daddr ${NODE_IPV6} tcp flags & (syn | ack) == syn | ack numgen random mod 100 < ${s.synAckLossPercent} drop`,
    );
  }
  if (rules.length === 0) return null;
  return [
    'table inet synlab {',
    ...sets,
    '  chain prerouting {',
    '    type filter hook prerouting priority -300; policy accept;',
    ...rules,
    '  }',
    '}',
    '',
  ].join('\n');
}
