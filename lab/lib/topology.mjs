// The lab's network: one "node" namespace holding the cni0 bridge (the kubelet side), pod namespaces
// joined to it by veth pairs, and a "backend" pod that receives the SYN-ACKs IPVS would steal.
// Addresses are private (10.244.0.0/16, fd00::/8 ULA) and exist only inside these namespaces.
import { existsSync, readdirSync } from 'node:fs';
import { run } from './proc.mjs';

/** Every namespace the lab creates starts with this; the next field is the creating pid. */
export const NAMESPACE_PREFIX = 'synlab';

export const NODE_IPV4 = '10.244.1.1';
export const NODE_IPV6 = 'fd00:244:1::1';
export const BACKEND_IPV4 = '10.244.1.200';
export const BACKEND_IPV6 = 'fd00:244:1::c8';
/** The port the backend pod listens on, where diverted SYN-ACKs are sent (IPVS targetPort). */
export const BACKEND_PORT = 8443;
/** Ports each pod serves: two probe ports (liveness, readiness), an echo port and a bulk port. */
export const PROBE_PORTS = [8080, 8081];
export const ECHO_PORT = 9001;
export const BULK_PORT = 9002;

/** @param {number} i 1-based pod number */
export const podIpv4 = (i) => `10.244.1.${10 + i}`;
/** @param {number} i 1-based pod number */
export const podIpv6 = (i) => `fd00:244:1::${(0x10 + i).toString(16)}`;

/**
 * @typedef {object} Topology
 * @property {string} prefix
 * @property {string} node            namespace name of the node (kubelet side)
 * @property {string[]} pods          namespace names of the pods, pod 1 first
 * @property {string} backend         namespace name of the backend pod
 * @property {string[]} podVeths      node-side veth of each pod
 * @property {string} backendVeth
 * @property {boolean} bridgeNetfilter whether bridged IP traffic passes the inet hooks (br_netfilter)
 */

/** A prefix unique to this run; the pid in it lets a later run tell leftovers of dead runs. */
export function runPrefix() {
  return `${NAMESPACE_PREFIX}-${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
}

/** @param {string} ns @param {string[]} args */
const inNs = (ns, args) => run('ip', ['netns', 'exec', ns, ...args]);
/**
 * Run ip commands as one batch, inside a namespace or (ns null) in the caller's.
 * @param {string | null} ns @param {string[]} lines
 */
const ipBatch = (ns, lines) => run('ip', [...(ns ? ['-n', ns] : []), '-batch', '-'], { input: `${lines.join('\n')}\n` });

/**
 * Set sysctls inside a namespace.
 * @param {string} ns
 * @param {Record<string, string>} values
 */
export async function setSysctls(ns, values) {
  const args = Object.entries(values).map(([k, v]) => `${k}=${v}`);
  await inNs(ns, ['sysctl', '-q', '-w', ...args]);
}

/** @param {string} ns @returns {Promise<string>} `sysctl net.ipv4` as run on a node */
export async function readIpv4Sysctls(ns) {
  return (await inNs(ns, ['sysctl', 'net.ipv4'])).stdout;
}

/**
 * Build node, pods and backend. On failure the caller still tears down by prefix.
 * @param {string} prefix
 * @param {number} podCount
 * @returns {Promise<Topology>}
 */
export async function createTopology(prefix, podCount) {
  const node = `${prefix}-node`;
  const pods = Array.from({ length: podCount }, (_, i) => `${prefix}-pod${i + 1}`);
  const backend = `${prefix}-backend`;
  /** @type {Topology} */
  const topo = {
    prefix,
    node,
    pods,
    backend,
    podVeths: pods.map((_, i) => `veth-pod${i + 1}`),
    backendVeth: 'veth-backend',
    bridgeNetfilter: false,
  };
  // `ip -batch` per namespace: one process instead of dozens keeps set-up near half a second.
  await ipBatch(null, [node, ...pods, backend].map((ns) => `netns add ${ns}`));

  /** @type {Array<[string, string, string, string]>} */
  const members = pods.map((ns, i) => [ns, topo.podVeths[i], podIpv4(i + 1), podIpv6(i + 1)]);
  members.push([backend, topo.backendVeth, BACKEND_IPV4, BACKEND_IPV6]);
  await ipBatch(node, [
    'link set lo up',
    'link add cni0 type bridge',
    `addr add ${NODE_IPV4}/24 dev cni0`,
    `addr add ${NODE_IPV6}/64 dev cni0 nodad`,
    'link set cni0 up',
    ...members.flatMap(([ns, veth]) => [`link add ${veth} type veth peer name eth0 netns ${ns}`, `link set ${veth} master cni0 up`]),
  ]);
  await Promise.all(
    members.map(([ns, , v4, v6]) =>
      ipBatch(ns, [
        'link set lo up',
        `addr add ${v4}/24 dev eth0`,
        `addr add ${v6}/64 dev eth0 nodad`,
        'link set eth0 up',
        `route add default via ${NODE_IPV4}`,
        `route add ::/0 via ${NODE_IPV6}`,
      ]),
    ),
  );
  // Kubelet side: the ephemeral range the incident needs; forwarding on, as on any node, so the
  // rewritten SYN-ACK is routed on to the backend; no redirects (they would only add ICMP noise).
  /** @type {Record<string, string>} */
  const sysctls = {
    'net.ipv4.ip_local_port_range': '12000 65001',
    'net.ipv4.ip_forward': '1',
    'net.ipv6.conf.all.forwarding': '1',
    'net.ipv4.conf.all.send_redirects': '0',
    'net.ipv4.conf.cni0.send_redirects': '0',
  };
  // Kubernetes nodes run with br_netfilter; where the kernel has it, make its state explicit.
  if (existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables')) {
    sysctls['net.bridge.bridge-nf-call-iptables'] = '1';
    sysctls['net.bridge.bridge-nf-call-ip6tables'] = '1';
    topo.bridgeNetfilter = true;
  }
  await setSysctls(node, sysctls);
  return topo;
}

/**
 * Load an nftables ruleset into the node namespace.
 * @param {Topology} topo
 * @param {string} ruleset
 */
export async function loadNftables(topo, ruleset) {
  await run('ip', ['netns', 'exec', topo.node, 'nft', '-f', '-'], { input: ruleset });
}

/** @returns {string[]} names of existing namespaces */
export function listNamespaces() {
  try {
    return readdirSync('/run/netns');
  } catch {
    return [];
  }
}

/**
 * Delete the namespaces of one prefix. Processes inside must have been ended first: a namespace
 * whose processes still run lives on after `ip netns del`.
 * @param {string} prefix
 */
export async function deleteNamespaces(prefix) {
  const mine = listNamespaces().filter((n) => n.startsWith(`${prefix}-`));
  for (const ns of mine) await run('ip', ['netns', 'del', ns], { allowFailure: true });
  return mine;
}

/**
 * Remove namespaces left by lab runs whose process is gone (killed with SIGKILL, machine crash).
 * Namespaces of live runs, and anything not named by the lab, are left alone.
 * @returns {Promise<string[]>}
 */
export async function deleteStaleNamespaces() {
  const removed = [];
  for (const ns of listNamespaces()) {
    const m = /^synlab-(\d+)-[a-z0-9]+-/.exec(ns);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || processAlive(pid)) continue;
    await run('ip', ['netns', 'del', ns], { allowFailure: true });
    removed.push(ns);
  }
  return removed;
}

/** @param {number} pid */
function processAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return /** @type {NodeJS.ErrnoException} */ (e).code === 'EPERM';
  }
}
