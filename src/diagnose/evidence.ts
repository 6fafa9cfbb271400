/**
 * Parsers for the investigators' other evidence: `sysctl`, `kubectl get svc -A -o json`, `ipvsadm -Ln` /
 * `ipvsadm -S -n`, repeated `ss -natp` and `conntrack -L` output. Inputs are data — never executed,
 * never used as paths. Each parser returns plain data or throws SynscopeError BAD_EVIDENCE_FILE with the
 * file, the 1-based line and what was expected there.
 */
import { ERROR_CODES, SynscopeError } from '../errors.js';
import type { Endpoint } from '../types.js';
import { canonicalIp, normalizeRanges, type PortRange } from './ports.js';

function bad(file: string, line: number | undefined, message: string, expected: string, hint?: string): SynscopeError {
  const context: { file: string; line?: number; expected: string; hint?: string } = { file, expected };
  if (line !== undefined) context.line = line;
  if (hint !== undefined) context.hint = hint;
  return new SynscopeError(ERROR_CODES.BAD_EVIDENCE_FILE, message, context);
}

function splitLines(text: string): string[] {
  return text.split(/\r?\n/);
}

/** "30000-32767,40000" → [[30000, 32767], [40000, 40000]]; null when the text is not such a list. */
export function parsePortList(text: string): PortRange[] | null {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  const ranges: PortRange[] = [];
  for (const part of trimmed.split(',')) {
    const m = /^\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?$/.exec(part);
    if (m === null) return null;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (lo > 65535 || hi > 65535 || lo > hi) return null;
    ranges.push([lo, hi]);
  }
  return normalizeRanges(ranges);
}

/** "10.0.0.5:31044", "[2001:db8::5]:31044", "::ffff:10.0.0.5:22" (old ss), "*:*" → endpoint; port 0 = wildcard. */
export function parseHostPort(text: string): Endpoint | null {
  // Interface scopes as ss prints them: 10.0.0.5%eth0:22, [fe80::1]%eth0:22, [fe80::1%eth0]:22.
  const t = text.replace(/%[^\]:]+/, '');
  let host: string;
  let portText: string;
  if (t.startsWith('[')) {
    const close = t.indexOf(']');
    if (close < 0 || t[close + 1] !== ':') return null;
    host = t.slice(1, close);
    portText = t.slice(close + 2);
  } else {
    const colon = t.lastIndexOf(':');
    if (colon <= 0) return null;
    host = t.slice(0, colon);
    portText = t.slice(colon + 1);
  }
  let port: number;
  if (portText === '*') port = 0;
  else if (/^\d{1,5}$/.test(portText) && Number(portText) <= 65535) port = Number(portText);
  else return null;
  if (host === '*') return { ip: '*', port };
  const ip = canonicalIp(host);
  return ip === null ? null : { ip, port };
}

// ───────────────────────────── sysctl ─────────────────────────────

export interface SysctlFacts {
  /** net.ipv4.ip_local_port_range, or null when the file does not have it. */
  localPortRange: PortRange | null;
  /** net.ipv4.ip_local_reserved_ports ([] when present and empty), or null when absent. */
  reservedPorts: PortRange[] | null;
  /** Every key = value read (later lines win, as with sysctl.conf), keys in dotted form. */
  values: Map<string, string>;
}

const SYSCTL_LINE = /^([A-Za-z0-9_][^\s=]*)\s*=\s?(.*)$/;

/** `sysctl -a`, `sysctl net.ipv4`, or sysctl.conf-style `key=value` lines (comments # and ; skipped). */
export function parseSysctl(text: string, file: string): SysctlFacts {
  const values = new Map<string, string>();
  const lineOf = new Map<string, number>();
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    // Messages sysctl -a mixes in when stderr is captured too ("sysctl: permission denied on key …").
    if (line.startsWith('sysctl:')) continue;
    const m = SYSCTL_LINE.exec(line);
    if (m === null) {
      throw bad(file, i + 1, `"${clip(line)}" is not a sysctl line`, 'key = value, as printed by `sysctl -a`', 'Pass the output of `sysctl -a` or `sysctl net.ipv4` from the node');
    }
    const key = m[1]!.replace(/\//g, '.');
    values.set(key, m[2]!.trim());
    lineOf.set(key, i + 1);
  }
  if (values.size === 0) {
    throw bad(file, undefined, 'no sysctl settings found', 'lines such as "net.ipv4.ip_local_port_range = 32768\t60999"', 'Pass the output of `sysctl net.ipv4`');
  }

  let localPortRange: PortRange | null = null;
  const rangeText = values.get('net.ipv4.ip_local_port_range');
  if (rangeText !== undefined) {
    const m = /^(\d{1,5})\s+(\d{1,5})$/.exec(rangeText);
    const lo = m === null ? NaN : Number(m[1]);
    const hi = m === null ? NaN : Number(m[2]);
    if (!(lo >= 1 && hi <= 65535 && lo <= hi)) {
      throw bad(file, lineOf.get('net.ipv4.ip_local_port_range'), `ip_local_port_range "${rangeText}" is not a port range`, 'two port numbers LOW HIGH within 1-65535, LOW ≤ HIGH');
    }
    localPortRange = [lo, hi];
  }
  let reservedPorts: PortRange[] | null = null;
  const reservedText = values.get('net.ipv4.ip_local_reserved_ports');
  if (reservedText !== undefined) {
    reservedPorts = parsePortList(reservedText);
    if (reservedPorts === null) {
      throw bad(file, lineOf.get('net.ipv4.ip_local_reserved_ports'), `ip_local_reserved_ports "${clip(reservedText)}" is not a port list`, 'a comma-separated list of ports and ranges such as 30000-32767,40000');
    }
  }
  return { localPortRange, reservedPorts, values };
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

// ───────────────────────────── kubectl ─────────────────────────────

/** One Service port that the node opens as a NodePort. */
export interface NodePortService {
  namespace: string;
  name: string;
  /** Service type: NodePort or LoadBalancer. */
  type: string;
  /** The port's name within the Service, or null. */
  portName: string | null;
  /** The Service (cluster) port. */
  port: number;
  nodePort: number;
  /** TCP, UDP or SCTP. */
  protocol: string;
}

/**
 * `kubectl get svc -A -o json` (a List), a single Service object, or a bare array of Services. Every port
 * with a nodePort counts (type NodePort, and LoadBalancer unless allocateLoadBalancerNodePorts is false).
 * healthCheckNodePort is not listed: kube-proxy listens on it, so the kernel never hands it out as a
 * client port.
 */
export function parseKubectlServices(text: string, file: string): NodePortService[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message;
    const line = jsonErrorLine(text, message);
    throw bad(file, line, `not JSON: ${message}`, 'the output of `kubectl get svc -A -o json`', 'YAML is not read; ask kubectl for -o json');
  }
  const items: unknown[] = Array.isArray(doc)
    ? doc
    : isObject(doc) && Array.isArray(doc.items)
      ? doc.items
      : isObject(doc) && doc.kind === 'Service'
        ? [doc]
        : (() => {
            throw bad(file, 1, 'JSON is not a Service list', 'an object with "items" (kind List/ServiceList) or a kind: Service object');
          })();
  const out: NodePortService[] = [];
  items.forEach((item, index) => {
    const where = `items[${index}]`;
    if (!isObject(item)) throw bad(file, undefined, `${where} is not an object`, 'a Service object');
    if (item.kind !== undefined && item.kind !== 'Service') return; // a List may mix kinds (kubectl get svc,ep)
    const metadata = item.metadata;
    const spec = item.spec;
    if (!isObject(metadata) || typeof metadata.name !== 'string') throw bad(file, undefined, `${where} has no metadata.name`, 'a Service with metadata.name');
    if (!isObject(spec)) throw bad(file, undefined, `${where} (${metadata.name}) has no spec`, 'a Service with spec');
    const namespace = typeof metadata.namespace === 'string' ? metadata.namespace : 'default';
    const type = typeof spec.type === 'string' ? spec.type : 'ClusterIP';
    const ports = spec.ports === undefined || spec.ports === null ? [] : spec.ports;
    if (!Array.isArray(ports)) throw bad(file, undefined, `${where}.spec.ports is not a list`, 'spec.ports: [...]');
    ports.forEach((p, pi) => {
      const pwhere = `${where}.spec.ports[${pi}] (${namespace}/${metadata.name})`;
      if (!isObject(p)) throw bad(file, undefined, `${pwhere} is not an object`, 'a ServicePort');
      if (p.nodePort === undefined || p.nodePort === null) return;
      if (!isPort(p.nodePort)) throw bad(file, undefined, `${pwhere}.nodePort is ${JSON.stringify(p.nodePort)}`, 'an integer port 1-65535');
      if (!isPort(p.port)) throw bad(file, undefined, `${pwhere}.port is ${JSON.stringify(p.port)}`, 'an integer port 1-65535');
      out.push({
        namespace,
        name: metadata.name as string,
        type,
        portName: typeof p.name === 'string' && p.name !== '' ? p.name : null,
        port: p.port,
        nodePort: p.nodePort,
        protocol: typeof p.protocol === 'string' ? p.protocol.toUpperCase() : 'TCP',
      });
    });
  });
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isPort(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;
}

/** Line of a JSON.parse error, from "at position N" (Node 20) or "(line L column C)" (Node 22+). */
function jsonErrorLine(text: string, message: string): number | undefined {
  const byLine = /line (\d+) column \d+/.exec(message);
  if (byLine !== null) return Number(byLine[1]);
  const byPosition = /position (\d+)/.exec(message);
  if (byPosition === null) return text.trim() === '' ? 1 : undefined;
  let line = 1;
  const end = Math.min(Number(byPosition[1]), text.length);
  for (let i = 0; i < end; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

// ───────────────────────────── ipvsadm ─────────────────────────────

export interface IpvsRealServer {
  ip: string;
  port: number;
  /** masq (NAT), route (direct), tunnel (ipip), local. */
  forward: string;
  weight: number;
  /** From -Ln; null in -S output. */
  activeConnections: number | null;
  inactiveConnections: number | null;
}

export interface IpvsService {
  /** TCP, UDP, SCTP, or FWM for a firewall-mark service. */
  protocol: 'TCP' | 'UDP' | 'SCTP' | 'FWM';
  /** Virtual address and port; null for FWM services. */
  ip: string | null;
  port: number | null;
  fwmark: number | null;
  scheduler: string | null;
  persistentSeconds: number | null;
  realServers: IpvsRealServer[];
  /** Line of the service in the file. */
  line: number;
}

/** `ipvsadm -Ln` (list) or `ipvsadm -S -n` (save) output; the format is recognised from the lines. */
export function parseIpvsadm(text: string, file: string): IpvsService[] {
  const lines = splitLines(text);
  const save = lines.some((l) => /^\s*(-A|--add-service)\b/.test(l));
  const services = save ? parseIpvsSave(lines, file) : parseIpvsList(lines, file);
  if (services.length === 0 && !lines.some((l) => /^IP Virtual Server version/.test(l))) {
    throw bad(file, undefined, 'no IPVS virtual services found', 'the output of `ipvsadm -Ln` or `ipvsadm -S -n`');
  }
  return services;
}

const NOT_NUMERIC_HINT = 'Run ipvsadm with -n so that addresses and ports are numbers';

function ipvsEndpoint(text: string, file: string, line: number): Endpoint {
  const e = parseHostPort(text);
  if (e === null || e.ip === '*') {
    throw bad(file, line, `"${clip(text)}" is not an address:port`, 'a numeric address:port such as 10.96.0.1:443 or [fd00::1]:443', NOT_NUMERIC_HINT);
  }
  return e;
}

const FORWARD_NAMES: Record<string, string> = { masq: 'masq', route: 'route', tunnel: 'tunnel', local: 'local', bypass: 'bypass' };

function parseIpvsList(lines: string[], file: string): IpvsService[] {
  const services: IpvsService[] = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const line = raw.trim();
    const n = i + 1;
    if (line === '' || line.startsWith('IP Virtual Server version') || line.startsWith('Prot ') || /^->\s+RemoteAddress/.test(line)) continue;
    let m = /^(TCP|UDP|SCTP)\s+(\S+)(?:\s+(.*))?$/.exec(line);
    if (m !== null) {
      const vip = ipvsEndpoint(m[2]!, file, n);
      services.push({ protocol: m[1] as 'TCP' | 'UDP' | 'SCTP', ip: vip.ip, port: vip.port, fwmark: null, ...listFlags(m[3] ?? ''), realServers: [], line: n });
      continue;
    }
    m = /^FWM\s+(\d+)(?:\s+(.*))?$/.exec(line);
    if (m !== null) {
      services.push({ protocol: 'FWM', ip: null, port: null, fwmark: Number(m[1]), ...listFlags(m[2] ?? ''), realServers: [], line: n });
      continue;
    }
    m = /^->\s+(\S+)\s+(\S+)\s+(-?\d+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    if (m !== null) {
      const service = services[services.length - 1];
      if (service === undefined) throw bad(file, n, 'a real server before any virtual service', 'a "TCP|UDP|SCTP address:port scheduler" or "FWM mark scheduler" line first');
      const rip = ipvsEndpoint(m[1]!, file, n);
      service.realServers.push({
        ip: rip.ip,
        port: rip.port,
        forward: FORWARD_NAMES[m[2]!.toLowerCase()] ?? m[2]!.toLowerCase(),
        weight: Number(m[3]),
        activeConnections: Number(m[4]),
        inactiveConnections: Number(m[5]),
      });
      continue;
    }
    throw bad(file, n, `"${clip(line)}" is not an ipvsadm -Ln line`, 'a virtual service (TCP 10.96.0.1:443 rr), an FWM service, or a real server (-> 10.244.1.5:8443 Masq 1 0 0)');
  }
  return services;
}

/** "rr persistent 10800 mask 255.255.255.255 ops": scheduler first, then flags. */
function listFlags(rest: string): { scheduler: string | null; persistentSeconds: number | null } {
  const tokens = rest.split(/\s+/).filter((t) => t !== '');
  // With --stats / --rate the columns after the address are numbers, not a scheduler.
  const scheduler = tokens.length > 0 && !/^\d/.test(tokens[0]!) ? tokens[0]! : null;
  const p = tokens.indexOf('persistent');
  const persistentSeconds = p >= 0 && /^\d+$/.test(tokens[p + 1] ?? '') ? Number(tokens[p + 1]) : null;
  return { scheduler, persistentSeconds };
}

const SAVE_SERVICE_OPTIONS: Record<string, 'TCP' | 'UDP' | 'SCTP' | 'FWM'> = {
  '-t': 'TCP',
  '--tcp-service': 'TCP',
  '-u': 'UDP',
  '--udp-service': 'UDP',
  '--sctp-service': 'SCTP',
  '-f': 'FWM',
  '--fwmark-service': 'FWM',
};
const SAVE_FORWARD_OPTIONS: Record<string, string> = {
  '-m': 'masq',
  '--masquerading': 'masq',
  '-g': 'route',
  '--gatewaying': 'route',
  '-i': 'tunnel',
  '--ipip': 'tunnel',
};
/** Options that never take a value (everything else not listed here consumes the next token if it is not an option). */
const SAVE_FLAG_OPTIONS = new Set(['-A', '--add-service', '-a', '--add-server', '-m', '--masquerading', '-g', '--gatewaying', '-i', '--ipip', '-o', '--ops', '-n', '--numeric']);

function parseIpvsSave(lines: string[], file: string): IpvsService[] {
  const services: IpvsService[] = [];
  const byKey = new Map<string, IpvsService>();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    const n = i + 1;
    if (line === '' || line.startsWith('#')) continue;
    const tokens = line.split(/\s+/);
    const command = tokens[0]!;
    if (command !== '-A' && command !== '--add-service' && command !== '-a' && command !== '--add-server') {
      throw bad(file, n, `"${clip(line)}" is not an ipvsadm -S line`, 'lines starting with -A (virtual service) or -a (real server)');
    }
    let protocol: IpvsService['protocol'] | null = null;
    let target: string | null = null;
    let scheduler: string | null = null;
    let persistentSeconds: number | null = null;
    let realServer: string | null = null;
    let forward = 'route'; // ipvsadm's default forwarding method is direct routing
    let weight = 1;
    for (let t = 1; t < tokens.length; t++) {
      const option = tokens[t]!;
      const next = tokens[t + 1];
      const takesValue = next !== undefined && !next.startsWith('-');
      if (option in SAVE_SERVICE_OPTIONS) {
        if (next === undefined) throw bad(file, n, `${option} without an address`, `${option} ADDRESS:PORT (or a mark for -f)`);
        protocol = SAVE_SERVICE_OPTIONS[option]!;
        target = next;
        t++;
      } else if (option in SAVE_FORWARD_OPTIONS) {
        forward = SAVE_FORWARD_OPTIONS[option]!;
      } else if (option === '-s' || option === '--scheduler') {
        scheduler = next ?? null;
        t++;
      } else if (option === '-p' || option === '--persistent') {
        // The timeout is optional (default 300 s).
        if (next !== undefined && /^\d+$/.test(next)) {
          persistentSeconds = Number(next);
          t++;
        } else persistentSeconds = 300;
      } else if (option === '-r' || option === '--real-server') {
        if (next === undefined) throw bad(file, n, `${option} without an address`, `${option} ADDRESS:PORT`);
        realServer = next;
        t++;
      } else if (option === '-w' || option === '--weight') {
        if (next === undefined || !/^\d+$/.test(next)) throw bad(file, n, `${option} without a number`, `${option} WEIGHT`);
        weight = Number(next);
        t++;
      } else if (!SAVE_FLAG_OPTIONS.has(option) && takesValue) {
        t++; // an option we do not need (-M netmask, -b sched-flags, -x/-y thresholds, --tun-type …)
      }
    }
    if (protocol === null || target === null) throw bad(file, n, 'no virtual service named', '-t|-u|--sctp-service ADDRESS:PORT or -f MARK');
    let ip: string | null = null;
    let port: number | null = null;
    let fwmark: number | null = null;
    if (protocol === 'FWM') {
      if (!/^\d+$/.test(target)) throw bad(file, n, `firewall mark "${target}" is not a number`, '-f MARK with a decimal mark');
      fwmark = Number(target);
    } else {
      const e = ipvsEndpoint(target, file, n);
      ip = e.ip;
      port = e.port;
    }
    const key = `${protocol}|${ip ?? ''}|${port ?? ''}|${fwmark ?? ''}`;
    if (command === '-A' || command === '--add-service') {
      const service: IpvsService = { protocol, ip, port, fwmark, scheduler, persistentSeconds, realServers: [], line: n };
      services.push(service);
      byKey.set(key, service);
    } else {
      const service = byKey.get(key);
      if (service === undefined) throw bad(file, n, `real server for ${target}, a service not added above`, 'the -A line of the service before its -a lines');
      if (realServer === null) throw bad(file, n, 'real server line without -r', '-a ... -r ADDRESS:PORT');
      const r = ipvsEndpoint(realServer, file, n);
      service.realServers.push({ ip: r.ip, port: r.port, forward, weight, activeConnections: null, inactiveConnections: null });
    }
  }
  return services;
}

// ───────────────────────────── ss ─────────────────────────────

export interface SsSocket {
  /** As ss prints it: SYN-SENT, SYN-RECV, ESTAB, … */
  state: string;
  local: Endpoint;
  peer: Endpoint;
  /** Processes from users:((…)); empty when ss could not tell. */
  processes: Array<{ name: string; pid: number }>;
  line: number;
}

export interface SsSnapshot {
  /** 1-based snapshot number in the file. */
  index: number;
  /** The line that introduced it (a `date` stamp between snapshots), or null. */
  label: string | null;
  /** label as epoch seconds when it reads as a date, else null. */
  time: number | null;
  /** Sockets in the handshake states (SYN-SENT, SYN-RECV); the others are only counted, to keep memory small. */
  sockets: SsSocket[];
  /** All socket rows in this snapshot. */
  rows: number;
}

const SS_STATES = new Set([
  'ESTAB',
  'SYN-SENT',
  'SYN-RECV',
  'FIN-WAIT-1',
  'FIN-WAIT-2',
  'TIME-WAIT',
  'CLOSE-WAIT',
  'LAST-ACK',
  'LISTEN',
  'CLOSING',
  'CLOSED',
  'UNCONN',
  'UNKNOWN',
]);
const SS_KEPT_STATES = new Set(['SYN-SENT', 'SYN-RECV']);

/**
 * Repeated `ss -natp` output (e.g. `while sleep 1; do date; ss -natp; done`). Each header line (State … or
 * Netid State …) starts a snapshot; a non-socket line before it (a date) labels it. Indented lines
 * (ss -e/-i/-m details) are skipped.
 */
export function parseSs(text: string, file: string): SsSnapshot[] {
  const snapshots: SsSnapshot[] = [];
  const lines = splitLines(text);
  let current: SsSnapshot | null = null;
  let pendingLabel: string | null = null;
  let sawRow = false;
  const open = (): SsSnapshot => {
    const label = pendingLabel;
    const parsed = label === null ? NaN : Date.parse(label);
    const snapshot: SsSnapshot = { index: snapshots.length + 1, label, time: Number.isFinite(parsed) ? parsed / 1000 : null, sockets: [], rows: 0 };
    snapshots.push(snapshot);
    pendingLabel = null;
    return snapshot;
  };
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const n = i + 1;
    if (raw.trim() === '') continue;
    if (/^\s/.test(raw)) continue;
    const tokens = raw.trim().split(/\s+/);
    if (tokens[0] === 'State' || (tokens[0] === 'Netid' && tokens[1] === 'State')) {
      current = open();
      continue;
    }
    const stateAt = SS_STATES.has(tokens[0]!) ? 0 : SS_STATES.has(tokens[1] ?? '') ? 1 : -1;
    if (stateAt < 0) {
      // A label for the next snapshot (date, "---", a prompt line); rows already read end their snapshot.
      pendingLabel = raw.trim();
      current = null;
      continue;
    }
    if (current === null) current = open(); // ss -H: no header line
    const state = tokens[stateAt]!;
    const rest = tokens.slice(stateAt + 1);
    if (rest.length < 4 || !/^\d+$/.test(rest[0]!) || !/^\d+$/.test(rest[1]!)) {
      throw bad(file, n, `"${clip(raw.trim())}" is not an ss socket line`, 'State Recv-Q Send-Q Local:Port Peer:Port [users:((…))]', 'Pass the output of `ss -natp`');
    }
    const local = parseHostPort(rest[2]!);
    const peer = parseHostPort(rest[3]!);
    if (local === null || peer === null) {
      throw bad(file, n, `"${clip(raw.trim())}" has no numeric addresses`, 'Local Address:Port and Peer Address:Port as numbers', 'Run ss with -n');
    }
    current.rows++;
    sawRow = true;
    if (!SS_KEPT_STATES.has(state)) continue;
    const processes: Array<{ name: string; pid: number }> = [];
    const users = rest.slice(4).join(' ');
    for (const m of users.matchAll(/\("([^"]*)",pid=(\d+)/g)) processes.push({ name: m[1]!, pid: Number(m[2]) });
    current.sockets.push({ state, local, peer, processes, line: n });
  }
  if (!sawRow && snapshots.length === 0) {
    throw bad(file, undefined, 'no ss output found', 'the output of `ss -natp` (a State … header and socket lines)');
  }
  return snapshots;
}

// ───────────────────────────── conntrack ─────────────────────────────

export interface ConntrackTuple {
  src: string;
  dst: string;
  /** null for protocols without ports (icmp). */
  sport: number | null;
  dport: number | null;
}

export interface ConntrackEntry {
  /** tcp, udp, icmp, … */
  protocol: string;
  /** TCP state (SYN_SENT, SYN_RECV, ESTABLISHED, …), null for other protocols. */
  state: string | null;
  /** Seconds left, when printed. */
  timeout: number | null;
  original: ConntrackTuple;
  reply: ConntrackTuple | null;
  /** Bracketed flags: UNREPLIED, ASSURED, OFFLOAD, … */
  flags: string[];
  mark: number | null;
  zone: number | null;
  line: number;
}

const CONNTRACK_SUMMARY = /^conntrack v[\d.]+ \(conntrack-tools\):/;

/**
 * `conntrack -L` (also -o extended and /proc/net/nf_conntrack lines with the "ipv4 2" prefix, and
 * `conntrack -E` event lines with [NEW]/[UPDATE]/[DESTROY] and [timestamp] prefixes).
 */
export function parseConntrack(text: string, file: string): ConntrackEntry[] {
  const entries: ConntrackEntry[] = [];
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    const n = i + 1;
    if (line === '' || CONNTRACK_SUMMARY.test(line)) continue;
    const tokens = line.split(/\s+/);
    let t = 0;
    while (t < tokens.length && /^\[(NEW|UPDATE|DESTROY|[\d.]+)\]$/.test(tokens[t]!)) t++;
    if ((tokens[t] === 'ipv4' || tokens[t] === 'ipv6') && /^\d+$/.test(tokens[t + 1] ?? '')) t += 2;
    const protocol = tokens[t];
    if (protocol === undefined || !/^[a-z][a-z0-9]*$/.test(protocol) || !/^\d+$/.test(tokens[t + 1] ?? '')) {
      throw bad(file, n, `"${clip(line)}" is not a conntrack entry`, 'PROTO NUMBER [TIMEOUT] [STATE] src=… dst=… sport=… dport=…', 'Pass the output of `conntrack -L`');
    }
    t += 2;
    let timeout: number | null = null;
    if (/^\d+$/.test(tokens[t] ?? '')) timeout = Number(tokens[t++]);
    let state: string | null = null;
    if (/^[A-Z][A-Z_0-9]*$/.test(tokens[t] ?? '')) state = tokens[t++]!;
    const tuples: Array<Partial<Record<'src' | 'dst' | 'sport' | 'dport', string>>> = [];
    const flags: string[] = [];
    let mark: number | null = null;
    let zone: number | null = null;
    for (; t < tokens.length; t++) {
      const token = tokens[t]!;
      const flag = /^\[([A-Z_]+)\]$/.exec(token);
      if (flag !== null) {
        flags.push(flag[1]!);
        continue;
      }
      const eq = token.indexOf('=');
      if (eq <= 0) continue;
      const key = token.slice(0, eq);
      const value = token.slice(eq + 1);
      if (key === 'src') tuples.push({ src: value });
      else if (key === 'dst' || key === 'sport' || key === 'dport') {
        const tuple = tuples[tuples.length - 1];
        if (tuple !== undefined) tuple[key] = value;
      } else if (key === 'mark' && /^\d+$/.test(value)) mark = Number(value);
      else if (key === 'zone' && /^\d+$/.test(value)) zone = Number(value);
    }
    const original = conntrackTuple(tuples[0], protocol);
    if (original === null) {
      throw bad(file, n, 'conntrack entry without a readable original tuple', 'src=ADDRESS dst=ADDRESS sport=PORT dport=PORT', 'Pass the output of `conntrack -L` (numeric, without -o xml)');
    }
    const reply = tuples.length > 1 ? conntrackTuple(tuples[1], protocol) : null;
    entries.push({ protocol, state, timeout, original, reply, flags, mark, zone, line: n });
  }
  if (entries.length === 0 && !lines.some((l) => CONNTRACK_SUMMARY.test(l.trim()))) {
    throw bad(file, undefined, 'no conntrack entries found', 'the output of `conntrack -L`');
  }
  return entries;
}

function conntrackTuple(raw: Partial<Record<'src' | 'dst' | 'sport' | 'dport', string>> | undefined, protocol: string): ConntrackTuple | null {
  if (raw === undefined || raw.src === undefined || raw.dst === undefined) return null;
  const src = canonicalIp(raw.src);
  const dst = canonicalIp(raw.dst);
  if (src === null || dst === null) return null;
  const portOf = (v: string | undefined): number | null | undefined =>
    v === undefined ? null : /^\d{1,5}$/.test(v) && Number(v) <= 65535 ? Number(v) : undefined;
  const sport = portOf(raw.sport);
  const dport = portOf(raw.dport);
  if (sport === undefined || dport === undefined) return null;
  if ((protocol === 'tcp' || protocol === 'udp') && (sport === null || dport === null)) return null;
  return { src, dst, sport, dport };
}
