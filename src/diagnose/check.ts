/**
 * `synscope check`: can this host's outgoing connections pick a NodePort as their source port?
 * The kernel hands out ephemeral ports from ip_local_port_range minus ip_local_reserved_ports; every such
 * port that kube-proxy also serves as a NodePort can have its SYN-ACK taken.
 */
import type { NodePortService } from './evidence.js';
import {
  formatPortList,
  formatRange,
  intersectRanges,
  normalizeRanges,
  portsToRanges,
  rangeSize,
  subtractRanges,
  type PortRange,
} from './ports.js';

export interface HostFacts {
  /** net.ipv4.ip_local_port_range. */
  localPortRange: PortRange;
  /** net.ipv4.ip_local_reserved_ports ([] or null when none). */
  reservedPorts: PortRange[] | null;
  /** kube-apiserver --service-node-port-range. */
  nodePortRange: PortRange;
  /** The NodePorts that exist (kubectl), when known; only TCP ones matter. */
  nodePorts?: NodePortService[] | number[] | null;
}

export interface HostFix {
  summary: string;
  commands: string[];
  confirm: string;
  caveats: string[];
}

export interface CheckResult {
  atRisk: boolean;
  /** One sentence with the numbers. */
  summary: string;
  localPortRange: PortRange;
  reservedPorts: PortRange[];
  nodePortRange: PortRange;
  /** TCP NodePorts known from --services, ascending, or null. */
  nodePorts: number[] | null;
  /** Ports the kernel can hand out: local range minus reserved. */
  usableEphemeralPorts: number;
  /** Usable ephemeral ports inside the NodePort range. */
  rangeOverlap: { ranges: PortRange[]; ports: number };
  /** Known NodePorts the kernel can hand out as client ports (null when the NodePorts are not known). */
  nodePortsAtRisk: number[] | null;
  /** Share of new outgoing connections whose source port lands on a port at risk (0..1). */
  shareAtRisk: number;
  fix: HostFix | null;
}

/** At least this many ephemeral ports must remain after a fix; fewer starves a busy node's connect(). */
const MIN_EPHEMERAL_AFTER_FIX = 1024;

export function tcpNodePorts(nodePorts: HostFacts['nodePorts']): number[] | null {
  if (nodePorts === undefined || nodePorts === null) return null;
  const ports = new Set<number>();
  for (const p of nodePorts) {
    if (typeof p === 'number') ports.add(p);
    else if (p.protocol === 'TCP') ports.add(p.nodePort);
  }
  return [...ports].sort((a, b) => a - b);
}

export function checkHost(facts: HostFacts): CheckResult {
  const reserved = normalizeRanges(facts.reservedPorts ?? []);
  const usable = subtractRanges([facts.localPortRange], reserved);
  const usableCount = rangeSize(usable);
  const overlapRanges = intersectRanges(usable, [facts.nodePortRange]);
  const overlapCount = rangeSize(overlapRanges);
  const nodePorts = tcpNodePorts(facts.nodePorts);
  const nodePortsAtRisk = nodePorts === null ? null : nodePorts.filter((p) => usable.some(([lo, hi]) => p >= lo && p <= hi));
  const riskCount = nodePortsAtRisk === null ? overlapCount : nodePortsAtRisk.length;
  const shareAtRisk = usableCount === 0 ? 0 : riskCount / usableCount;
  const atRisk = riskCount > 0;
  const [nlo, nhi] = facts.nodePortRange;
  const pct = (shareAtRisk * 100).toFixed(shareAtRisk < 0.001 ? 3 : 1);

  let summary: string;
  if (!atRisk) {
    summary =
      overlapCount === 0
        ? `Safe: the usable ephemeral ports (${describeRanges(usable)}) do not overlap the NodePort range ${nlo}-${nhi}.`
        : `Safe for now: none of the ${nodePorts!.length} existing TCP NodePorts can be picked as a client port, but ${overlapCount} ports of ${nlo}-${nhi} can, and a new NodePort Service may be given one of them.`;
  } else if (nodePortsAtRisk !== null) {
    summary = `At risk: ${nodePortsAtRisk.length} existing NodePorts (${clipList(nodePortsAtRisk)}) lie inside the usable ephemeral ports; about ${pct}% of new outgoing connections pick one of them as source port and lose their SYN-ACK to kube-proxy.`;
  } else {
    summary = `At risk: ${overlapCount} of the ${usableCount} usable ephemeral ports (${describeRanges(overlapRanges)}) lie inside the NodePort range ${nlo}-${nhi}; about ${pct}% of new outgoing connections can pick a NodePort as source port and lose their SYN-ACK to kube-proxy.`;
  }

  const fix = atRisk || overlapCount > 0 ? hostFix(facts.localPortRange, reserved, facts.nodePortRange, nodePorts) : null;
  return {
    atRisk,
    summary,
    localPortRange: facts.localPortRange,
    reservedPorts: reserved,
    nodePortRange: facts.nodePortRange,
    nodePorts,
    usableEphemeralPorts: usableCount,
    rangeOverlap: { ranges: overlapRanges, ports: overlapCount },
    nodePortsAtRisk,
    shareAtRisk,
    fix,
  };
}

/**
 * The fix: reserve the whole NodePort range (merged with what is reserved already); when that would leave
 * too few ephemeral ports, reserve only the existing NodePorts (if known), else move the ephemeral range.
 */
export function hostFix(localPortRange: PortRange, reserved: PortRange[], nodePortRange: PortRange, nodePorts: number[] | null): HostFix {
  const caveats = [
    'ip_local_reserved_ports only steers the kernel\'s choice of source port for local sockets; SNAT (iptables MASQUERADE with --random-fully, used by kube-proxy and many CNIs for pod traffic) picks its own source ports and can still choose a NodePort (kubernetes issue 139276).',
    'Apply it on every node where kube-proxy runs: each node serves every NodePort.',
  ];
  const withRange = normalizeRanges([...reserved, nodePortRange]);
  const leftWithRange = rangeSize(subtractRanges([localPortRange], withRange));
  const persist = (key: string, value: string): string =>
    `echo '${key} = ${value}' > /etc/sysctl.d/90-${key === 'net.ipv4.ip_local_port_range' ? 'ephemeral-ports' : 'nodeport-reserved'}.conf   # keeps it across reboots`;
  const confirm = 'Run `synscope check` on the node (exit status 0), and take a new capture: it shows no nodeport-collision finding.';
  if (leftWithRange >= MIN_EPHEMERAL_AFTER_FIX) {
    const value = formatPortList(withRange);
    return {
      summary: `Reserve the NodePort range ${formatRange(nodePortRange)} so the kernel never picks it as a client port: net.ipv4.ip_local_reserved_ports=${value}.`,
      commands: [`sysctl -w net.ipv4.ip_local_reserved_ports=${value}`, persist('net.ipv4.ip_local_reserved_ports', value)],
      confirm,
      caveats,
    };
  }
  if (nodePorts !== null && nodePorts.length > 0) {
    const withList = normalizeRanges([...reserved, ...portsToRanges(nodePorts)]);
    const value = formatPortList(withList);
    return {
      summary: `Reserving all of ${formatRange(nodePortRange)} would leave fewer than ${MIN_EPHEMERAL_AFTER_FIX} ephemeral ports in ${formatRange(localPortRange)}; reserve the existing NodePorts instead: net.ipv4.ip_local_reserved_ports=${value}.`,
      commands: [`sysctl -w net.ipv4.ip_local_reserved_ports=${value}`, persist('net.ipv4.ip_local_reserved_ports', value)],
      confirm,
      caveats: [...caveats, 'A NodePort Service created later is not covered: update the list when Services change, or move the ephemeral range off the NodePort range.'],
    };
  }
  const moved = movedEphemeralRange(localPortRange, nodePortRange);
  const value = `${moved[0]} ${moved[1]}`;
  return {
    summary: `Reserving all of ${formatRange(nodePortRange)} would leave fewer than ${MIN_EPHEMERAL_AFTER_FIX} ephemeral ports in ${formatRange(localPortRange)}; move the ephemeral range off the NodePort range instead: net.ipv4.ip_local_port_range="${value}".`,
    commands: [`sysctl -w net.ipv4.ip_local_port_range="${value}"`, persist('net.ipv4.ip_local_port_range', value)],
    confirm,
    caveats,
  };
}

/** The largest stretch of 1024-65535 outside the NodePort range, preferring the kernel default's side (above). */
function movedEphemeralRange(local: PortRange, nodePortRange: PortRange): PortRange {
  const candidates = subtractRanges([[1024, 65535]], [nodePortRange]);
  let best: PortRange = candidates[0] ?? [32768, 60999];
  for (const c of candidates) if (c[1] - c[0] >= best[1] - best[0]) best = c;
  // Stay within the kernel default's upper bound when the current range does too.
  if (best[1] > 60999 && local[1] <= 60999 && best[0] < 60999 - MIN_EPHEMERAL_AFTER_FIX) best = [best[0], 60999];
  return best;
}

function describeRanges(ranges: PortRange[]): string {
  if (ranges.length === 0) return 'none';
  const text = ranges.slice(0, 4).map(formatRange).join(', ');
  return ranges.length > 4 ? `${text}, … (${ranges.length} ranges)` : text;
}

function clipList(ports: number[]): string {
  return ports.length > 8 ? `${ports.slice(0, 8).join(', ')}, …` : ports.join(', ');
}

/** `synscope check` for a terminal. */
export function renderCheck(result: CheckResult): string {
  const lines: string[] = [];
  lines.push(`synscope check: ${result.atRisk ? 'AT RISK' : 'safe'}`);
  lines.push(result.summary);
  lines.push('');
  const reserved = result.reservedPorts.length === 0 ? 'none' : formatPortList(result.reservedPorts);
  lines.push(`  ephemeral range   ${formatRange(result.localPortRange)} (net.ipv4.ip_local_port_range)`);
  lines.push(`  reserved ports    ${reserved} (net.ipv4.ip_local_reserved_ports)`);
  lines.push(`  usable            ${result.usableEphemeralPorts} ports`);
  lines.push(`  NodePort range    ${formatRange(result.nodePortRange)}`);
  if (result.nodePorts !== null) lines.push(`  NodePorts (TCP)   ${result.nodePorts.length} known${result.nodePortsAtRisk !== null ? `, ${result.nodePortsAtRisk.length} pickable as client ports` : ''}`);
  lines.push(`  overlap           ${result.rangeOverlap.ports === 0 ? 'none' : `${describeRanges(result.rangeOverlap.ranges)} (${result.rangeOverlap.ports} ports)`}`);
  lines.push(`  at risk           ${(result.shareAtRisk * 100).toFixed(2)}% of new outgoing connections`);
  if (result.fix !== null) {
    lines.push('');
    lines.push(`Fix: ${result.fix.summary}`);
    for (const c of result.fix.commands) lines.push(`  ${c}`);
    lines.push(`Confirm: ${result.fix.confirm}`);
    for (const c of result.fix.caveats) lines.push(`Caveat: ${c}`);
  }
  return lines.join('\n') + '\n';
}
