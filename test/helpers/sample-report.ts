/**
 * Report fixtures for the renderer tests, built by code: an incident like the one synscope exists for
 * (kube-proxy/IPVS taking SYN-ACKs addressed to client ports inside the NodePort range) and an empty
 * capture. Counts, statistics and summary are derived from the generated attempts, so they agree.
 */
import {
  FAILED_OUTCOMES,
  OUTCOME_NAMES,
  SCHEMA_VERSION,
  type AnalysisOptions,
  type AnalysisReport,
  type Attempt,
  type Outcome,
  type Statistics,
} from '../../src/types.js';

/** 2024-03-07T10:15:00Z */
export const SAMPLE_TIME_BASE_SEC = 1_709_806_500;

export const SAMPLE_OPTIONS: AnalysisOptions = {
  ackTimeout: 3,
  maxPending: 500_000,
  allAttempts: false,
  maxAttemptsKept: 100_000,
  nodePortRange: [30000, 32767],
  vxlanPorts: [4789, 8472],
  genevePorts: [6081],
  localPortRange: [12000, 65001],
  reservedPorts: [],
};

/** Deterministic pseudo-random numbers (a 32-bit LCG), so the fixture is the same on every run. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function emptyStatistics(binSize: number, timelineStart: string | null): Statistics {
  return {
    clientPorts: { binSize, all: new Array(65536 / binSize).fill(0), failed: new Array(65536 / binSize).fill(0) },
    timeline: { start: timelineStart, binSeconds: 10, attempts: [], failed: [] },
    synToSynAckLatency: { boundsMs: [1, 10, 100, 1000], counts: [0, 0, 0, 0, 0] },
    servers: [],
    clients: [],
  };
}

function isoAt(sec: number, ns: number): string {
  return `${new Date(sec * 1000).toISOString().slice(0, 19)}.${String(ns).padStart(9, '0')}Z`;
}

/**
 * Two client nodes talk to a backend through their ephemeral range 12000-65001; every connection whose
 * source port lands in 30000-32767 gets its SYN-ACK diverted by IPVS and is never ACKed. One server
 * endpoint also drops SYNs now and then, and one port refuses.
 */
export function sampleIncidentReport(): AnalysisReport {
  const random = lcg(20240307);
  const clients = ['10.244.1.15', '10.244.2.7'];
  const backend = { ip: '10.96.14.200', port: 8080 };
  const dead = { ip: '10.96.22.9', port: 5432 };
  const all: Attempt[] = [];
  let tNs = 1_000_123; // first SYN 1.000123 ms after the base: keeps the ns digits honest
  for (let i = 0; i < 600; i++) {
    tNs += 40_000_000 + Math.floor(random() * 120_000_000) + 7; // odd ns so fractions never end in zeros
    const client = clients[i % clients.length]!;
    const port = 12000 + Math.floor(random() * (65001 - 12000 + 1));
    const inNodePortRange = port >= 30000 && port <= 32767;
    let server = backend;
    let outcome: Outcome = 'established';
    if (inNodePortRange) outcome = 'synack-unanswered';
    else if (i % 97 === 13) {
      server = dead;
      outcome = 'syn-unanswered';
    } else if (i === 211) {
      server = { ip: backend.ip, port: 8081 };
      outcome = 'refused';
    } else if (i === 599) outcome = 'unresolved';
    const latencyNs = 180_000 + Math.floor(random() * 2_500_000);
    const gotSynAck = outcome === 'established' || outcome === 'synack-unanswered';
    const attempt: Attempt = {
      id: i + 1,
      ipVersion: 4,
      client: { ip: client, port },
      server,
      outcome,
      clientIsn: Math.floor(random() * 2 ** 32) >>> 0,
      serverIsn: gotSynAck ? Math.floor(random() * 2 ** 32) >>> 0 : null,
      firstSynNs: tNs,
      firstSynAckNs: gotSynAck ? tNs + latencyNs : null,
      ackNs: outcome === 'established' ? tNs + latencyNs + 95_000 : null,
      rstNs: outcome === 'refused' ? tNs + 120_000 : null,
      synRetransmits: outcome === 'syn-unanswered' ? 2 : 0,
      synAckRetransmits: outcome === 'synack-unanswered' ? 2 : 0,
      synAckAckMatches: gotSynAck ? true : null,
      synToSynAckNs: gotSynAck ? latencyNs : null,
      synAckToAckNs: outcome === 'established' ? 95_000 : null,
      interfaces: [0, 3],
      divertedTo: outcome === 'synack-unanswered' && i % 2 === 0 ? [{ ip: '10.244.1.1', port }] : [],
      synWithData: false,
      simultaneousOpen: false,
      tunnel: i % 50 === 7 ? { kind: 'vxlan', outerSrc: '192.168.10.11', outerDst: '192.168.10.12', id: 1 } : null,
      inputIndex: i < 300 ? 0 : 1,
    };
    all.push(attempt);
  }

  const byOutcome = Object.fromEntries(OUTCOME_NAMES.map((o) => [o, 0])) as Record<Outcome, number>;
  for (const a of all) byOutcome[a.outcome]++;
  const isFailed = (a: Attempt) => FAILED_OUTCOMES.includes(a.outcome);
  const failed = all.filter(isFailed);
  const lastNs = all[all.length - 1]!.firstSynNs + 3_500_000_000;
  const captureStart = isoAt(SAMPLE_TIME_BASE_SEC, 0);
  const captureEnd = isoAt(SAMPLE_TIME_BASE_SEC + Math.floor(lastNs / 1e9), lastNs % 1e9);

  const statistics = emptyStatistics(256, captureStart);
  const bins = Math.ceil(lastNs / 10e9);
  statistics.timeline.attempts = new Array(bins).fill(0);
  statistics.timeline.failed = new Array(bins).fill(0);
  const servers = new Map<string, Statistics['servers'][number]>();
  const hosts = new Map<string, Statistics['clients'][number]>();
  for (const a of all) {
    const portBin = Math.floor(a.client.port / 256);
    const timeBin = Math.floor(a.firstSynNs / 10e9);
    statistics.clientPorts.all[portBin]!++;
    statistics.timeline.attempts[timeBin]!++;
    if (isFailed(a)) {
      statistics.clientPorts.failed[portBin]!++;
      statistics.timeline.failed[timeBin]!++;
    }
    if (a.synToSynAckNs !== null) {
      const ms = a.synToSynAckNs / 1e6;
      const bounds = statistics.synToSynAckLatency.boundsMs;
      let bin = bounds.findIndex((b) => ms < b);
      if (bin < 0) bin = bounds.length;
      statistics.synToSynAckLatency.counts[bin]!++;
    }
    const endpoint = `${a.server.ip}:${a.server.port}`;
    const s = servers.get(endpoint) ?? { endpoint, attempts: 0, failed: 0, byOutcome: {} };
    s.attempts++;
    if (isFailed(a)) s.failed++;
    s.byOutcome[a.outcome] = (s.byOutcome[a.outcome] ?? 0) + 1;
    servers.set(endpoint, s);
    const h = hosts.get(a.client.ip) ?? { host: a.client.ip, attempts: 0, failed: 0, byOutcome: {} };
    h.attempts++;
    if (isFailed(a)) h.failed++;
    h.byOutcome[a.outcome] = (h.byOutcome[a.outcome] ?? 0) + 1;
    hosts.set(a.client.ip, h);
  }
  statistics.servers = [...servers.values()].sort((x, y) => y.failed - x.failed);
  statistics.clients = [...hosts.values()].sort((x, y) => y.failed - x.failed);

  const collisions = failed.filter((a) => a.outcome === 'synack-unanswered');
  const inRange = all.filter((a) => a.client.port >= 30000 && a.client.port <= 32767);
  const example = (a: Attempt) => ({
    id: a.id,
    client: { ...a.client },
    server: { ...a.server },
    outcome: a.outcome,
    wiresharkFilter: `ip.addr == ${a.client.ip} && tcp.port == ${a.client.port} && tcp.port == ${a.server.port}`,
  });
  const packetsPerAttempt = 3;
  const tcpPackets = all.length * packetsPerAttempt + 4000;

  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'synscope', version: '0.1.0' },
    options: structuredClone(SAMPLE_OPTIONS),
    inputs: [
      {
        path: 'captures/node-a.pcap0',
        format: 'pcap',
        gzip: false,
        linkTypes: [276],
        packets: 3100,
        truncated: false,
        warnings: [],
        error: null,
        bytes: 412_334,
        firstPacketTime: SAMPLE_TIME_BASE_SEC + 0.000123,
        lastPacketTime: SAMPLE_TIME_BASE_SEC + 24.5,
      },
      {
        path: 'captures/node-a.pcap1.gz',
        format: 'pcapng',
        gzip: true,
        linkTypes: [1, 276],
        packets: 2702,
        truncated: true,
        warnings: ['cut short at byte 388120 in the middle of record 2703: analysed the 2702 records before it'],
        error: null,
        bytes: 388_120,
        firstPacketTime: SAMPLE_TIME_BASE_SEC + 24.5,
        lastPacketTime: SAMPLE_TIME_BASE_SEC + lastNs / 1e9,
      },
    ],
    packets: {
      total: 5802,
      tcp: tcpPackets,
      syn: all.length + 4,
      synAck: all.length - byOutcome['syn-unanswered'] - byOutcome.refused + 2 * collisions.length,
      rst: 1,
      undecodable: 2,
      tcpTruncated: 0,
      fragments: 0,
      tunneled: 36,
      unknownLinkType: 0,
    },
    timeBaseSec: SAMPLE_TIME_BASE_SEC,
    summary: {
      attempts: all.length,
      byOutcome,
      midstreamPackets: 17,
      orphanSynAcks: 0,
      evicted: 0,
      peakPending: 9,
      failed: failed.length,
      captureStart,
      captureEnd,
      durationSeconds: lastNs / 1e9,
    },
    attempts: all.filter((a) => a.outcome !== 'established'),
    attemptsOmitted: 0,
    diagnosis: {
      verdict: 'nodeport-collision',
      findings: [
        {
          cause: 'nodeport-collision',
          confidence: 'confirmed',
          summary: `${collisions.length} of ${failed.length} failed handshakes were SYN-ACKs never ACKed on client ports inside 30000-32767, which held ${((100 * inRange.length) / all.length).toFixed(1)}% of all attempts (p = 3e-52).`,
          counts: { failed: failed.length, failedInRange: collisions.length, attempts: all.length, attemptsInRange: inRange.length },
          evidence: {
            ports: collisions.map((a) => a.client.port),
            hosts: [...new Set(collisions.map((a) => a.client.ip))],
            servers: [`${backend.ip}:${backend.port}`],
            timeWindow: null,
            pValue: 3e-52,
            relativeRisk: Number.POSITIVE_INFINITY,
            divertedSynAcks: collisions.filter((a) => a.divertedTo.length > 0).length,
            examples: collisions.slice(0, 3).map(example),
          },
          fix: {
            summary: `Reserve the NodePort range on the client nodes (${clients.join(', ')}) so the kernel never picks a NodePort as a source port.`,
            commands: [
              'sysctl -w net.ipv4.ip_local_reserved_ports=30000-32767',
              "echo 'net.ipv4.ip_local_reserved_ports = 30000-32767' > /etc/sysctl.d/90-nodeport-reserved.conf",
            ],
            confirm: 'Capture again under the same load: synscope should report no nodeport-collision finding.',
            caveats: ['SNAT with --random-fully can still pick a NodePort as a source port (kubernetes issue 139276).'],
          },
          nextSteps: ['Check `ipvsadm -Ln` on the node for virtual services on the failed ports.'],
        },
        {
          cause: 'server-not-answering',
          confidence: 'likely',
          summary: `${byOutcome['syn-unanswered']} SYNs to ${dead.ip}:${dead.port} got no SYN-ACK.`,
          counts: { failed: byOutcome['syn-unanswered'] },
          evidence: { servers: [`${dead.ip}:${dead.port}`], examples: failed.filter((a) => a.outcome === 'syn-unanswered').slice(0, 2).map(example) },
          nextSteps: ['Check the listen backlog (`ss -lnt`) and readiness of the pods behind 10.96.22.9:5432.'],
        },
        {
          cause: 'random-loss',
          confidence: 'not-supported',
          summary: 'Failures are not spread like the base rate: they concentrate on NodePort-range client ports.',
          counts: {},
          evidence: { pValue: 0.73, examples: [] },
          nextSteps: [],
        },
      ],
    },
    statistics,
  };
}

/** A capture with packets but no TCP at all (e.g. only ARP and UDP). */
export function emptyReport(): AnalysisReport {
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'synscope', version: '0.1.0' },
    options: { ...structuredClone(SAMPLE_OPTIONS), localPortRange: null, reservedPorts: null },
    inputs: [
      {
        path: '-',
        format: 'pcapng',
        gzip: false,
        linkTypes: [1],
        packets: 12,
        truncated: false,
        warnings: [],
        error: null,
        bytes: 1544,
        firstPacketTime: SAMPLE_TIME_BASE_SEC,
        lastPacketTime: SAMPLE_TIME_BASE_SEC + 2,
      },
    ],
    packets: { total: 12, tcp: 0, syn: 0, synAck: 0, rst: 0, undecodable: 0, tcpTruncated: 0, fragments: 0, tunneled: 0, unknownLinkType: 0 },
    timeBaseSec: SAMPLE_TIME_BASE_SEC,
    summary: {
      attempts: 0,
      byOutcome: Object.fromEntries(OUTCOME_NAMES.map((o) => [o, 0])) as Record<Outcome, number>,
      midstreamPackets: 0,
      orphanSynAcks: 0,
      evicted: 0,
      peakPending: 0,
      failed: 0,
      captureStart: isoAt(SAMPLE_TIME_BASE_SEC, 0),
      captureEnd: isoAt(SAMPLE_TIME_BASE_SEC + 2, 0),
      durationSeconds: 2,
    },
    attempts: [],
    attemptsOmitted: 0,
    diagnosis: { verdict: 'none', findings: [] },
    statistics: emptyStatistics(256, null),
  };
}
