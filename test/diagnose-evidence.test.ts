import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  wiresharkFilter,
  canonicalIp,
  parseConntrack,
  parseHostPort,
  parseIpvsadm,
  parseKubectlServices,
  parsePortList,
  parseSs,
  parseSysctl,
} from '../src/diagnose/index.js';
import { SynscopeError } from '../src/errors.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = (name: string): string => readFileSync(path.join(here, 'fixtures-evidence', name), 'utf8');

function expectBadEvidence(fn: () => unknown, line: number | undefined, pattern: RegExp): SynscopeError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(SynscopeError);
  const err = caught as SynscopeError;
  expect(err.code).toBe('BAD_EVIDENCE_FILE');
  expect(err.context.file).toBe('evidence.txt');
  expect(err.context.line).toBe(line);
  expect(err.context.expected).toBeTruthy();
  expect(err.describe()).toMatch(pattern);
  return err;
}

describe('addresses and port lists', () => {
  it('canonicalises IPv6 the way the handshake stage prints it (RFC 5952)', () => {
    expect(canonicalIp('2001:0DB8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    expect(canonicalIp('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(canonicalIp('::ffff:10.0.0.5')).toBe('::ffff:10.0.0.5');
    expect(canonicalIp('::FFFF:0a00:0005')).toBe('::ffff:10.0.0.5');
    expect(canonicalIp('fe80::1%eth0')).toBe('fe80::1');
    expect(canonicalIp('::')).toBe('::');
    expect(canonicalIp('1:2:3:4:5:6:7:8')).toBe('1:2:3:4:5:6:7:8');
    expect(canonicalIp('010.0.0.5')).toBe('10.0.0.5');
    expect(canonicalIp('256.0.0.1')).toBeNull();
    expect(canonicalIp('1::2::3')).toBeNull();
    expect(canonicalIp('kubernetes')).toBeNull();
  });

  it('reads host:port in every spelling ss and ipvsadm use', () => {
    expect(parseHostPort('10.0.0.5:31044')).toEqual({ ip: '10.0.0.5', port: 31044 });
    expect(parseHostPort('[2001:db8::5]:443')).toEqual({ ip: '2001:db8::5', port: 443 });
    expect(parseHostPort('::ffff:10.0.0.5:22')).toEqual({ ip: '::ffff:10.0.0.5', port: 22 });
    expect(parseHostPort('127.0.0.53%lo:53')).toEqual({ ip: '127.0.0.53', port: 53 });
    expect(parseHostPort('[fe80::1]%eth0:22')).toEqual({ ip: 'fe80::1', port: 22 });
    expect(parseHostPort('*:*')).toEqual({ ip: '*', port: 0 });
    expect(parseHostPort('kubernetes:https')).toBeNull();
    expect(parseHostPort('10.0.0.5:70000')).toBeNull();
  });

  it('parses the kernel port-list syntax', () => {
    expect(parsePortList('30000-32767,40000')).toEqual([
      [30000, 32767],
      [40000, 40000],
    ]);
    expect(parsePortList('')).toEqual([]);
    expect(parsePortList('40000, 30000-30010,30005-30020')).toEqual([
      [30000, 30020],
      [40000, 40000],
    ]);
    expect(parsePortList('32767-30000')).toBeNull();
    expect(parsePortList('abc')).toBeNull();
  });
});

describe('parseSysctl', () => {
  it('reads `sysctl net.ipv4` with a tab-separated range and an empty reserved list', () => {
    const facts = parseSysctl(fixture('sysctl-net-ipv4-at-risk.txt'), 'evidence.txt');
    expect(facts.localPortRange).toEqual([12000, 65001]);
    expect(facts.reservedPorts).toEqual([]);
    expect(facts.values.get('net.ipv4.tcp_synack_retries')).toBe('5');
    expect(facts.values.get('net.ipv4.conf.eth0.100.rp_filter')).toBe('1');
  });

  it('reads `sysctl -a` with permission messages mixed in and a reserved list with a single port', () => {
    const facts = parseSysctl(fixture('sysctl-a-fixed.txt'), 'evidence.txt');
    expect(facts.localPortRange).toEqual([32768, 60999]);
    expect(facts.reservedPorts).toEqual([
      [30000, 32767],
      [40000, 40000],
    ]);
    expect(facts.values.get('net.netfilter.nf_conntrack_max')).toBe('262144');
  });

  it('reads sysctl.conf style, the last setting winning, and reports null for absent keys', () => {
    const facts = parseSysctl('# tuned\nnet.ipv4.ip_local_port_range=1024 65535\n; old\nnet.ipv4.ip_local_port_range = 10000 60000\n', 'evidence.txt');
    expect(facts.localPortRange).toEqual([10000, 60000]);
    expect(facts.reservedPorts).toBeNull();
    expect(parseSysctl('net.core.somaxconn = 4096\n', 'x').localPortRange).toBeNull();
  });

  it('names the line of a bad value or a non-sysctl line', () => {
    expectBadEvidence(() => parseSysctl('net.core.somaxconn = 1\nnet.ipv4.ip_local_port_range = 60999 32768\n', 'evidence.txt'), 2, /line 2.*ip_local_port_range/);
    expectBadEvidence(() => parseSysctl('net.ipv4.ip_local_reserved_ports = 30000-,x\n', 'evidence.txt'), 1, /reserved_ports/);
    expectBadEvidence(() => parseSysctl('net.core.somaxconn = 1\n<html>\n', 'evidence.txt'), 2, /not a sysctl line/);
    expectBadEvidence(() => parseSysctl('\n\n', 'evidence.txt'), undefined, /no sysctl settings/);
  });
});

describe('parseKubectlServices', () => {
  it('lists every TCP/UDP NodePort with its Service, including LoadBalancer node ports', () => {
    const services = parseKubectlServices(fixture('kubectl-get-svc-A.json'), 'evidence.txt');
    expect(services.map((s) => `${s.namespace}/${s.name}:${s.portName ?? s.port} ${s.nodePort}/${s.protocol} ${s.type}`)).toEqual([
      'shop/web:80 31044/TCP NodePort',
      'ingress-nginx/ingress-nginx-controller:http 30080/TCP LoadBalancer',
      'ingress-nginx/ingress-nginx-controller:https 30443/TCP LoadBalancer',
      'logging/syslog:syslog-udp 30514/UDP NodePort',
      'logging/syslog:syslog-tcp 30514/TCP NodePort',
    ]);
  });

  it('accepts a single Service object and a bare array', () => {
    const one = { kind: 'Service', metadata: { name: 'a' }, spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 30001 }] } };
    expect(parseKubectlServices(JSON.stringify(one), 'x')).toEqual([
      { namespace: 'default', name: 'a', type: 'NodePort', portName: null, port: 80, nodePort: 30001, protocol: 'TCP' },
    ]);
    expect(parseKubectlServices(JSON.stringify([one, one]), 'x')).toHaveLength(2);
  });

  it('reports the line of broken JSON and the item of a broken Service', () => {
    const broken = '{\n  "items": [\n    {"kind": "Service",\n     "metadata": {"name": "a"}\n     "spec": {}}\n  ]\n}\n';
    expectBadEvidence(() => parseKubectlServices(broken, 'evidence.txt'), 5, /not JSON/);
    const badPort = JSON.stringify({ items: [{ metadata: { name: 'a' }, spec: { ports: [{ port: 80, nodePort: 'x' }] } }] });
    expectBadEvidence(() => parseKubectlServices(badPort, 'evidence.txt'), undefined, /items\[0\]\.spec\.ports\[0\].*nodePort/);
    expectBadEvidence(() => parseKubectlServices('{"kind":"Pod"}', 'evidence.txt'), 1, /not a Service list/);
  });
});

describe('parseIpvsadm', () => {
  it('reads ipvsadm -Ln with persistence, UDP, IPv6 and an FWM service', () => {
    const services = parseIpvsadm(fixture('ipvsadm-Ln.txt'), 'evidence.txt');
    expect(services.map((s) => [s.protocol, s.ip, s.port, s.fwmark, s.scheduler, s.persistentSeconds, s.realServers.length])).toEqual([
      ['TCP', '10.96.0.1', 443, null, 'rr', null, 1],
      ['TCP', '10.96.114.27', 80, null, 'rr', null, 2],
      ['TCP', '172.18.0.2', 31044, null, 'rr', null, 2],
      ['TCP', '10.244.0.0', 31044, null, 'rr', null, 2],
      ['TCP', '172.18.0.2', 30080, null, 'rr', 10800, 1],
      ['UDP', '10.96.0.10', 53, null, 'rr', null, 2],
      ['TCP', 'fd00:10:96::1', 443, null, 'rr', null, 1],
      ['TCP', 'fc00:f853:ccd:e793::2', 31044, null, 'rr', null, 1],
      ['FWM', null, null, 1, 'rr', null, 2],
    ]);
    expect(services[1]!.realServers[1]).toEqual({ ip: '10.244.2.9', port: 8080, forward: 'masq', weight: 1, activeConnections: 0, inactiveConnections: 1 });
    expect(services[8]!.realServers[0]!.forward).toBe('route');
    expect(services[2]!.line).toBe(9);
  });

  it('reads ipvsadm -S -n, options in any spelling, an optional persistence timeout', () => {
    const services = parseIpvsadm(fixture('ipvsadm-S-n.txt'), 'evidence.txt');
    expect(services.map((s) => [s.protocol, s.ip, s.port, s.fwmark, s.scheduler, s.persistentSeconds, s.realServers.map((r) => `${r.ip}:${r.port}/${r.forward}/${r.weight}`)])).toEqual([
      ['TCP', '10.96.0.1', 443, null, 'rr', null, ['192.168.49.2:8443/masq/1']],
      ['TCP', '172.18.0.2', 31044, null, 'rr', null, ['10.244.1.17:8080/masq/1', '10.244.2.9:8080/masq/1']],
      ['TCP', '172.18.0.2', 30080, null, 'rr', 10800, ['10.244.1.30:80/masq/1']],
      ['UDP', '10.96.0.10', 53, null, 'rr', null, ['10.244.0.2:53/masq/1']],
      ['TCP', 'fd00:10:96::1', 443, null, 'rr', null, ['fc00:f853:ccd:e793::2:6443/masq/1']],
      ['FWM', null, null, 1, 'wlc', 300, ['10.244.1.30:80/route/1', '10.244.2.31:80/tunnel/2']],
    ]);
    const long = parseIpvsadm('--add-service --tcp-service 10.0.0.1:30001 --scheduler sh -b sh-port\n--add-server --tcp-service 10.0.0.1:30001 --real-server 10.244.0.9:80 --masquerading --weight 3\n', 'x');
    expect(long[0]).toMatchObject({ protocol: 'TCP', port: 30001, scheduler: 'sh' });
    expect(long[0]!.realServers[0]).toMatchObject({ ip: '10.244.0.9', forward: 'masq', weight: 3 });
  });

  it('names the line when ipvsadm printed names or the order is wrong', () => {
    expectBadEvidence(() => parseIpvsadm('-A -t kubernetes:https -s rr\n', 'evidence.txt'), 1, /not an address:port.*-n/);
    expectBadEvidence(() => parseIpvsadm('-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.2:80 -r 10.0.0.3:80 -m -w 1\n', 'evidence.txt'), 2, /not added above/);
    expectBadEvidence(() => parseIpvsadm('Prot LocalAddress:Port Scheduler Flags\n  -> 10.0.0.3:80 Masq 1 0 0\n', 'evidence.txt'), 2, /before any virtual service/);
    expectBadEvidence(() => parseIpvsadm('TCP  10.0.0.1:80 rr\nhello world\n', 'evidence.txt'), 2, /not an ipvsadm -Ln line/);
    expectBadEvidence(() => parseIpvsadm('just text\n', 'evidence.txt'), 1, /not an ipvsadm/);
  });

  it('accepts an empty table', () => {
    expect(parseIpvsadm('IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n', 'x')).toEqual([]);
  });
});

describe('parseSs', () => {
  it('splits repeated ss -natp output into dated snapshots and keeps the handshake sockets', () => {
    const snaps = parseSs(fixture('ss-natp-loop.txt'), 'evidence.txt');
    expect(snaps.map((s) => [s.index, s.label, s.rows, s.sockets.length])).toEqual([
      [1, '2024-03-04T10:12:01+00:00', 8, 2],
      [2, '2024-03-04T10:12:02+00:00', 5, 3],
      [3, 'Mon Mar  4 10:12:03 UTC 2024', 2, 1],
    ]);
    expect(snaps[0]!.time).toBe(Date.UTC(2024, 2, 4, 10, 12, 1) / 1000);
    expect(snaps[2]!.time).toBe(Date.UTC(2024, 2, 4, 10, 12, 3) / 1000);
    expect(snaps[0]!.sockets[0]).toEqual({
      state: 'SYN-SENT',
      local: { ip: '172.18.0.3', port: 31044 },
      peer: { ip: '10.96.114.27', port: 80 },
      processes: [{ name: 'curl', pid: 90211 }],
      line: 7,
    });
    // IPv6 with an empty users:(()) list
    expect(snaps[0]!.sockets[1]).toMatchObject({ local: { ip: '2001:db8:0:1::5', port: 31050 }, peer: { ip: '2001:db8:0:2::9', port: 8080 }, processes: [] });
    expect(snaps[1]!.sockets[2]).toMatchObject({ state: 'SYN-RECV', local: { ip: '172.18.0.3', port: 8080 }, peer: { ip: '172.18.0.4', port: 30990 } });
    expect(snaps[2]!.sockets[0]).toMatchObject({ local: { ip: 'fe80::1', port: 40000 } });
  });

  it('reads ss with a Netid column and without a header (ss -H)', () => {
    const snaps = parseSs('tcp   SYN-SENT 0      1      10.0.0.5:31044      10.0.0.9:8080\ntcp   ESTAB    0      0      10.0.0.5:40000      10.0.0.9:8080\n', 'x');
    expect(snaps).toHaveLength(1);
    expect(snaps[0]!.rows).toBe(2);
    expect(snaps[0]!.sockets[0]!.local).toEqual({ ip: '10.0.0.5', port: 31044 });
  });

  it('names the line of a socket row it cannot read', () => {
    expectBadEvidence(() => parseSs('State Recv-Q Send-Q Local Address:Port Peer Address:Port\nSYN-SENT 0 1 node-a:31044 db:postgres\n', 'evidence.txt'), 2, /numeric addresses/);
    expectBadEvidence(() => parseSs('State Recv-Q Send-Q Local Address:Port Peer Address:Port\nSYN-SENT x y\n', 'evidence.txt'), 2, /not an ss socket line/);
    expectBadEvidence(() => parseSs('tcp 6 117 SYN_SENT src=1.2.3.4\n', 'evidence.txt'), undefined, /no ss output/);
  });
});

describe('parseConntrack', () => {
  it('reads conntrack -L with [UNREPLIED]/[ASSURED], zone, mark, secctx, IPv6, ICMP and the /proc prefix', () => {
    const entries = parseConntrack(fixture('conntrack-L.txt'), 'evidence.txt');
    expect(entries).toHaveLength(8);
    expect(entries[0]).toEqual({
      protocol: 'tcp',
      state: 'SYN_SENT',
      timeout: 117,
      original: { src: '172.18.0.3', dst: '10.96.114.27', sport: 31044, dport: 80 },
      reply: { src: '10.244.2.9', dst: '172.18.0.3', sport: 8080, dport: 31044 },
      flags: ['UNREPLIED'],
      mark: 0,
      zone: null,
      line: 1,
    });
    expect(entries[1]).toMatchObject({ state: 'SYN_RECV', flags: [], zone: 5 });
    expect(entries[2]).toMatchObject({ state: 'ESTABLISHED', flags: ['ASSURED'] });
    expect(entries[4]).toMatchObject({ protocol: 'udp', state: null, timeout: 28, flags: ['UNREPLIED'] });
    expect(entries[5]).toMatchObject({ protocol: 'icmp', original: { src: '172.18.0.3', dst: '8.8.8.8', sport: null, dport: null } });
    expect(entries[6]).toMatchObject({ original: { src: '2001:db8:0:1::5', dport: 8080 }, zone: 7 });
    expect(entries[7]).toMatchObject({ state: 'SYN_SENT', reply: { dst: '172.18.0.3', dport: 30777 } });
  });

  it('reads conntrack -E event lines', () => {
    const entries = parseConntrack('[1709547121.123456]\t[NEW] tcp      6 120 SYN_SENT src=10.0.0.5 dst=10.0.0.9 sport=31044 dport=8080 [UNREPLIED] src=10.0.0.9 dst=10.0.0.5 sport=8080 dport=31044\n', 'x');
    expect(entries[0]).toMatchObject({ state: 'SYN_SENT', original: { sport: 31044 } });
  });

  it('names the line of an entry it cannot read', () => {
    expectBadEvidence(() => parseConntrack('tcp 6 117 SYN_SENT src=1.2.3.4 dst=1.2.3.5 sport=1 dport=2 src=1.2.3.5 dst=1.2.3.4 sport=2 dport=1\nhello\n', 'evidence.txt'), 2, /not a conntrack entry/);
    expectBadEvidence(() => parseConntrack('tcp 6 117 SYN_SENT src=1.2.3.4 dst=nowhere sport=1 dport=2\n', 'evidence.txt'), 1, /original tuple/);
    expectBadEvidence(() => parseConntrack('', 'evidence.txt'), undefined, /no conntrack entries/);
  });
});

describe('every parser, on any input', () => {
  const parsers = { parseSysctl, parseKubectlServices, parseIpvsadm, parseSs, parseConntrack };
  const samples = ['sysctl-a-fixed.txt', 'kubectl-get-svc-A.json', 'ipvsadm-Ln.txt', 'ipvsadm-S-n.txt', 'ss-natp-loop.txt', 'conntrack-L.txt'].map(fixture);

  it('returns data or throws BAD_EVIDENCE_FILE, never anything else (random text, cut and spliced samples)', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 400 }),
      fc.tuple(fc.constantFrom(...samples), fc.nat(), fc.nat(), fc.string({ maxLength: 20 })).map(([t, a, b, junk]) => {
        const i = a % (t.length + 1);
        const j = Math.min(t.length, i + (b % 200));
        return t.slice(0, i) + junk + t.slice(j);
      }),
    );
    fc.assert(
      fc.property(text, (input) => {
        for (const [name, parse] of Object.entries(parsers)) {
          try {
            parse(input, 'evidence.txt');
          } catch (e) {
            if (!(e instanceof SynscopeError) || e.code !== 'BAD_EVIDENCE_FILE') throw new Error(`${name} threw ${String(e)}`);
          }
        }
      }),
      { numRuns: 400, seed: 42 },
    );
  });
});

describe('wiresharkFilter', () => {
  it('shows one connection, IPv4 and IPv6', () => {
    expect(wiresharkFilter({ ip: '10.0.0.5', port: 31044 }, { ip: '10.0.0.9', port: 8080 })).toBe('ip.addr==10.0.0.5 && ip.addr==10.0.0.9 && tcp.port==31044 && tcp.port==8080');
    expect(wiresharkFilter({ ip: '2001:db8::5', port: 31044 }, { ip: '2001:db8::9', port: 443 })).toBe('ipv6.addr==2001:db8::5 && ipv6.addr==2001:db8::9 && tcp.port==31044 && tcp.port==443');
    expect(wiresharkFilter({ ip: '10.0.0.5', port: 40000 }, { ip: '10.0.0.5', port: 8080 })).toBe('ip.addr==10.0.0.5 && tcp.port==40000 && tcp.port==8080');
  });
});
