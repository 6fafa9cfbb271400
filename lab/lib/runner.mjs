// One lab run: build the namespaces, start pod servers and background traffic, warm neighbour
// tables, start the captures, probe, let the capture run past the ACK timeout, stop everything in
// order (prober, wait, captures, the rest) and remove the namespaces.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCapture, stopCapture } from './capture.mjs';
import { LabError } from './proc.mjs';
import {
  BACKEND_IPV4,
  BACKEND_IPV6,
  BACKEND_PORT,
  BULK_PORT,
  ECHO_PORT,
  PROBE_PORTS,
  createTopology,
  deleteNamespaces,
  loadNftables,
  podIpv4,
  podIpv6,
  readIpv4Sysctls,
  setSysctls,
} from './topology.mjs';
import { NODEPORT_RANGE, nftRuleset } from './scenarios.mjs';
import { endpointText } from './verify.mjs';
import { formatEndpoint, parseEndpoint } from './endpoint.mjs';

const LAB_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
/** synscope's default ACK timeout; the capture must run on past it after the last probe. */
export const ACK_TIMEOUT_SECONDS = 3;

/**
 * @typedef {object} RunOptions
 * @property {number} pods
 * @property {number[]} probePorts      probed on every pod, over IPv4 and IPv6
 * @property {number} intervalMs        per target
 * @property {{ connections: number, intervalMs: number }} heartbeat  chatty connections (one per pod at most)
 * @property {{ minSeconds: number, maxSeconds: number, untilTimeouts: number }} probing
 * @property {'all'|'any-only'} captures  which captures to take
 */

/**
 * @typedef {object} CaptureResult
 * @property {import('./capture.mjs').CaptureSpec} spec
 * @property {{ packets: number, dropped: number, bytes: number }} stats
 */

/**
 * @typedef {object} RunArtifacts
 * @property {string} dir
 * @property {string} proberLog
 * @property {Record<string, unknown>} proberSummary
 * @property {string} sysctlFile
 * @property {CaptureResult[]} captures
 * @property {string[]} targets          endpointText() of every probe target
 * @property {boolean} bridgeNetfilter
 * @property {number} seconds            wall time of the run
 */

/**
 * A capture tool reported drops (its kernel buffer overflowed while the machine was busy): the run cannot
 * be checked exactly, but nothing in it is wrong with synscope; run.mjs runs such a scenario again.
 */
export class CaptureDroppedError extends LabError {}

/**
 * @param {import('./scenarios.mjs').Scenario} scenario
 * @param {{ registry: import('./proc.mjs').ProcessRegistry, prefix: string, dir: string, say: (line: string) => void }} ctx
 * @param {RunOptions} opts
 * @returns {Promise<RunArtifacts>}
 */
export async function runScenario(scenario, ctx, opts) {
  const started = Date.now();
  const { registry, prefix, dir, say } = ctx;
  mkdirSync(dir, { recursive: true });
  /** @type {import('./proc.mjs').LabProcess[]} */
  const background = [];
  /** @type {import('./capture.mjs').RunningCapture[]} */
  const running = [];
  /** @type {import('./proc.mjs').LabProcess | null} */
  let prober = null;
  try {
    const topo = await createTopology(prefix, opts.pods);
    if (scenario.reservePorts) {
      await setSysctls(topo.node, { 'net.ipv4.ip_local_reserved_ports': `${NODEPORT_RANGE[0]}-${NODEPORT_RANGE[1]}` });
    }
    const node = (/** @type {string[]} */ args) => ['netns', 'exec', topo.node, process.execPath, ...args];

    // Servers: every pod serves the probe ports, an echo port and a bulk port; the backend serves
    // the port diverted SYN-ACKs are rewritten to.
    const servers = topo.pods.map((ns, i) =>
      registry.spawn(`server pod${i + 1}`, 'ip', [
        'netns', 'exec', ns, process.execPath, path.join(LAB_DIR, 'pod-server.mjs'),
        '--probe-ports', PROBE_PORTS.join(','), '--echo-port', String(ECHO_PORT),
        '--bulk-port', String(BULK_PORT), '--bulk-kib-per-s', '1024',
      ]),
    );
    servers.push(
      registry.spawn('server backend', 'ip', [
        'netns', 'exec', topo.backend, process.execPath, path.join(LAB_DIR, 'pod-server.mjs'),
        '--probe-ports', String(BACKEND_PORT),
      ]),
    );
    background.push(...servers);
    await Promise.all(servers.map((s) => s.waitForOutput(/ready/, 10_000)));

    /** @type {string[]} */
    const targets = [];
    for (let i = 1; i <= opts.pods; i++) {
      for (const port of opts.probePorts) targets.push(formatEndpoint(podIpv4(i), port), formatEndpoint(podIpv6(i), port));
    }
    const backendTargets = [formatEndpoint(BACKEND_IPV4, BACKEND_PORT), formatEndpoint(BACKEND_IPV6, BACKEND_PORT)];

    // Warm the neighbour tables (node <-> pods, node <-> backend, backend <-> pods) before any
    // capture: first contact with many pods at once otherwise floods ARP/ND and loses SYNs.
    const proberPath = path.join(LAB_DIR, 'prober.mjs');
    const warm = async (/** @type {string} */ ns, /** @type {string[]} */ list) => {
      const w = registry.spawn(`warm-up ${ns}`, 'ip', ['netns', 'exec', ns, process.execPath, proberPath, '--warm', ...list.flatMap((t) => ['--target', t])]);
      const { code } = await w.exited;
      if (code !== 0) throw new LabError(`neighbour warm-up from ${ns} failed`, w.stderrText());
    };
    await warm(topo.node, [...targets, ...backendTargets]);
    await warm(topo.backend, targets.filter((_, i) => i % (2 * opts.probePorts.length) < 2));

    // Background traffic, established before the captures start and before the hijack, like the
    // node's long-lived connections: an established connection sends no SYN-ACK to divert.
    const chatty = [];
    for (let i = 1; i <= Math.min(opts.pods, opts.heartbeat.connections); i++) {
      chatty.push(formatEndpoint(i % 2 ? podIpv4(i) : podIpv6(i), ECHO_PORT));
    }
    if (scenario.bulk) {
      for (let i = 1; i <= opts.pods; i++) {
        for (let k = 0; k < 5; k++) chatty.push(formatEndpoint(podIpv4(i), ECHO_PORT), formatEndpoint(podIpv6(i), ECHO_PORT));
      }
    }
    const nodeTraffic = registry.spawn('traffic node', 'ip', [
      ...node([path.join(LAB_DIR, 'traffic.mjs')]),
      ...chatty.flatMap((t) => ['--chatty', t]),
      '--message-interval-ms', String(opts.heartbeat.intervalMs),
      ...(scenario.bulk ? ['--bulk', formatEndpoint(podIpv4(2), BULK_PORT), '--bulk', formatEndpoint(podIpv6(3), BULK_PORT)] : []),
    ]);
    background.push(nodeTraffic);
    await nodeTraffic.waitForOutput(/ready/, 10_000);
    if (scenario.bulk) {
      // Pod-to-pod bulk: bridged traffic the node sees on "any" that has nothing to do with probes.
      const podTraffic = registry.spawn('traffic pod4', 'ip', [
        'netns', 'exec', topo.pods[3], process.execPath, path.join(LAB_DIR, 'traffic.mjs'),
        '--bulk', formatEndpoint(podIpv4(5), BULK_PORT), '--bulk', formatEndpoint(podIpv6(6), BULK_PORT),
      ]);
      background.push(podTraffic);
      await podTraffic.waitForOutput(/ready/, 10_000);
    }

    // The hijack (or the loss) goes in only now, so warm-up and background connections are never
    // diverted; from here on only new connections can be hit.
    const ruleset = nftRuleset(scenario);
    if (ruleset) {
      await loadNftables(topo, ruleset);
      writeFileSync(path.join(dir, 'node.nft'), ruleset);
    }

    const sysctlFile = path.join(dir, 'node.sysctl.txt');
    writeFileSync(sysctlFile, await readIpv4Sysctls(topo.node));

    /** @type {import('./capture.mjs').CaptureSpec[]} */
    const specs = [
      {
        name: 'any',
        namespace: topo.node,
        tool: 'tcpdump',
        interfaces: ['any'],
        file: path.join(dir, 'node-any.pcap'),
        description: 'tcpdump -i any in the node namespace (LINUX_SLL2)',
        scopeTargets: null,
      },
    ];
    if (opts.captures === 'all') {
      specs.push(
        {
          name: 'pod1-eth0',
          namespace: topo.pods[0],
          tool: 'tcpdump',
          interfaces: ['eth0'],
          file: path.join(dir, 'pod1-eth0.pcap'),
          description: 'tcpdump -i eth0 inside pod 1 (Ethernet)',
          scopeTargets: targets.filter((t) => t.startsWith(`${podIpv4(1)}:`) || t.startsWith(`[${podIpv6(1)}]:`)),
        },
        {
          name: 'node-pcapng',
          namespace: topo.node,
          tool: 'dumpcap',
          interfaces: ['cni0', topo.podVeths[1], topo.backendVeth],
          file: path.join(dir, 'node.pcapng'),
          description: `dumpcap -i cni0 -i ${topo.podVeths[1]} -i ${topo.backendVeth} in the node namespace (pcapng, Ethernet)`,
          scopeTargets: null,
        },
      );
    }
    for (const spec of specs) running.push(await startCapture(registry, spec));

    say(`probing ${targets.length} targets every ${opts.intervalMs} ms`);
    const proberLog = path.join(dir, 'prober.log');
    prober = registry.spawn('prober', 'ip', [
      ...node([proberPath]),
      ...targets.flatMap((t) => ['--target', t]),
      '--log', proberLog,
      '--interval-ms', String(opts.intervalMs),
      '--timeout-ms', '1000',
      '--min-seconds', String(opts.probing.minSeconds),
      '--max-seconds', String(opts.probing.maxSeconds),
      '--until-timeouts', String(opts.probing.untilTimeouts),
    ]);
    const watchdog = setTimeout(() => registry.stop(/** @type {any} */ (prober), 'SIGTERM'), (opts.probing.maxSeconds + 15) * 1000);
    const { code } = await prober.exited;
    clearTimeout(watchdog);
    if (code !== 0) throw new LabError(`prober failed (exit ${code})`, prober.stderrText());
    const summaryLine = /** @type {any} */ (prober).stdout.trim().split('\n').pop();
    const proberSummary = JSON.parse(summaryLine);

    // Let the capture run past the ACK timeout after the last probe; the chatty connections keep
    // packets coming so an analyser's capture clock moves on. Then stop the captures (tcpdump
    // gets SIGINT only now, after the prober is gone, so no packet of a probe can be lost).
    await new Promise((r) => setTimeout(r, (ACK_TIMEOUT_SECONDS + 1.5) * 1000));
    /** @type {CaptureResult[]} */
    const captures = [];
    for (const cap of running.splice(0)) captures.push({ spec: cap.spec, stats: await stopCapture(registry, cap) });
    for (const c of captures) {
      if (c.stats.dropped > 0) throw new CaptureDroppedError(`${c.spec.name}: the capture tool dropped ${c.stats.dropped} packets`);
    }
    return {
      dir,
      proberLog,
      proberSummary,
      sysctlFile,
      captures,
      targets: targets.map((t) => {
        const e = parseEndpoint(t);
        return endpointText(e.host, e.port);
      }),
      bridgeNetfilter: topo.bridgeNetfilter,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    if (prober) await registry.stop(prober, 'SIGTERM');
    for (const cap of running) await registry.stop(cap.proc, 'SIGINT', 3000);
    await Promise.all(background.map((p) => registry.stop(p, 'SIGTERM', 2000)));
    await deleteNamespaces(prefix);
  }
}
