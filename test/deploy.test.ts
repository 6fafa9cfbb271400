/**
 * deploy/: the manifests validate against the Kubernetes API schema (kubernetes-models, generated from
 * the Kubernetes OpenAPI spec), ask for no more than they need, agree with the Dockerfile, and the
 * container's command (deploy/run-node.sh) runs outside a container: against fixtures/demo.pcap, and, where
 * this test may open a packet socket, against a real tcpdump on loopback.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Namespace, ServiceAccount } from 'kubernetes-models/v1';
import { DaemonSet } from 'kubernetes-models/apps/v1';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { CAPTURE_FILTER, CAPTURE_SNAPLEN } from '../src/live/filter.js';
import { repoRoot } from './helpers/capture-feed.js';

const deploy = path.join(repoRoot, 'deploy');
const script = path.join(deploy, 'run-node.sh');
const manifests = parseAllDocuments(readFileSync(path.join(deploy, 'daemonset.yaml'), 'utf8')).map((d) => d.toJS() as Record<string, any>);
const dockerfile = readFileSync(path.join(deploy, 'Dockerfile'), 'utf8');

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => void;
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validateReport = ajv.compile(JSON.parse(readFileSync(path.join(repoRoot, 'schema/report.schema.json'), 'utf8')));

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/DaemonSet': DaemonSet,
};

function validateManifest(doc: Record<string, any>): void {
  const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
  if (Model === undefined) throw new Error(`no schema for ${doc.apiVersion} ${doc.kind}`);
  new Model(doc).validate();
}

const daemonSet = manifests.find((d) => d.kind === 'DaemonSet')!;
const container = daemonSet.spec.template.spec.containers[0];

describe('deploy/daemonset.yaml', () => {
  it('every document validates against the Kubernetes API schema', () => {
    expect(manifests.map((d) => d.kind)).toEqual(['Namespace', 'ServiceAccount', 'DaemonSet']);
    for (const doc of manifests) expect(() => validateManifest(doc), doc.kind).not.toThrow();
  });

  it('the validator does reject a broken manifest (so the test above can fail)', () => {
    const broken = structuredClone(daemonSet);
    broken.spec.template.spec.containers[0].securityContext.capabilities.add = 'NET_RAW';
    expect(() => validateManifest(broken)).toThrow(/capabilities\/add must be array/);
    const noSelector = structuredClone(daemonSet);
    delete noSelector.spec.selector;
    expect(() => validateManifest(noSelector)).toThrow(/selector/);
  });

  it('host network, only the capabilities tcpdump needs, no privilege escalation, the node name from the downward API', () => {
    const pod = daemonSet.spec.template.spec;
    expect(pod.hostNetwork).toBe(true);
    expect(pod.automountServiceAccountToken).toBe(false);
    const sc = container.securityContext;
    expect(sc.capabilities).toEqual({ drop: ['ALL'], add: ['NET_RAW', 'SETUID', 'SETGID'] });
    expect(sc.privileged).toBe(false);
    expect(sc.allowPrivilegeEscalation).toBe(false);
    expect(sc.readOnlyRootFilesystem).toBe(true);
    const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
    expect(env.NODE_NAME).toEqual({ fieldRef: { fieldPath: 'spec.nodeName' } });
    expect(Number(env.CAPTURE_SECONDS)).toBeGreaterThan(0);
    expect(Number(env.SNAPLEN)).toBe(CAPTURE_SNAPLEN);
    expect(container.resources.limits.memory).toBeDefined();
    expect(container.volumeMounts.map((m: any) => m.mountPath)).toContain(env.REPORT_DIR);
  });

  it('runs the command the Dockerfile installs, from an image build that only copies what exists', () => {
    expect(container.command).toEqual(['/usr/local/bin/run-node.sh']);
    expect(dockerfile).toMatch(/^COPY deploy\/run-node\.sh \/usr\/local\/bin\/run-node\.sh$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/usr\/local\/bin\/run-node\.sh"\]$/m);
    for (const line of dockerfile.split('\n').filter((l) => l.startsWith('COPY ') && !l.includes('--from='))) {
      const sources = line.split(/\s+/).slice(1, -1);
      for (const source of sources) expect(existsSync(path.join(repoRoot, source)), source).toBe(true);
    }
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    const nodeMajor = Number(/^>=(\d+)/.exec(pkg.engines.node)![1]);
    for (const from of dockerfile.matchAll(/^FROM node:(\d+)/gm)) expect(Number(from[1])).toBeGreaterThanOrEqual(nodeMajor);
  });

  it("run-node.sh's default filter is the one synscope recommends, and tcpdump compiles it", () => {
    const m = /^DEFAULT_FILTER='(.*)'$/m.exec(readFileSync(script, 'utf8'));
    expect(m?.[1]).toBe(CAPTURE_FILTER);
    execFileSync('sh', ['-n', script]);
  });
});

function runNode(env: Record<string, string>) {
  return spawnSync('sh', [script], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SYNSCOPE: `${process.execPath} ${path.join(repoRoot, 'dist/cli/synscope.js')}`, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('deploy/run-node.sh outside a container', () => {
  it('analyses a capture, stamps the node name and sysctls into the report, keeps latest.json, bounds the disk', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'synscope-node-'));
    try {
      const proc = path.join(dir, 'proc');
      const reports = path.join(dir, 'reports');
      mkdirSync(proc);
      mkdirSync(reports);
      writeFileSync(path.join(proc, 'ip_local_port_range'), '12000\t65001\n');
      writeFileSync(path.join(proc, 'ip_local_reserved_ports'), '\n');
      // Two reports of earlier rounds: with KEEP_REPORTS=2 the oldest goes.
      writeFileSync(path.join(reports, 'worker-1-20240101T000000Z.json'), '{}');
      writeFileSync(path.join(reports, 'worker-1-20240101T000500Z.json'), '{}');
      writeFileSync(path.join(reports, 'worker-2-20240101T000000Z.json'), '{}');
      const r = runNode({
        NODE_NAME: 'worker-1',
        ROUNDS: '1',
        KEEP_REPORTS: '2',
        REPORT_DIR: reports,
        PROC_NET_IPV4: proc,
        CAPTURE_FILE: path.join(repoRoot, 'fixtures/demo.pcap'),
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/synscope-node worker-1: round 1: verdict nodeport-collision, report .*worker-1-\d{8}T\d{6}Z\.json \(synscope exit 1\)/);
      const files = readdirSync(reports).filter((f) => !f.startsWith('.')).sort();
      expect(files).toHaveLength(4);
      expect(files).toContain('worker-1-20240101T000500Z.json');
      expect(files).not.toContain('worker-1-20240101T000000Z.json');
      expect(files).toContain('worker-2-20240101T000000Z.json'); // another node's report is not ours to delete
      const latest = JSON.parse(readFileSync(path.join(reports, 'latest.json'), 'utf8'));
      expect(validateReport(latest), JSON.stringify(validateReport.errors)).toBe(true);
      expect(latest.node).toBe('worker-1');
      expect(latest.diagnosis.verdict).toBe('nodeport-collision');
      expect(latest.options.localPortRange).toEqual([12000, 65001]);
      expect(latest.options.reservedPorts).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a node name that cannot name a file', () => {
    const r = runNode({ NODE_NAME: '../etc', ROUNDS: '1', REPORT_DIR: tmpdir() });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("NODE_NAME '../etc' cannot name a report file");
  });

  // A packet socket needs CAP_NET_RAW: root in this sandbox and in the lab's CI job; elsewhere it says why.
  const canCapture = spawnSync('tcpdump', ['-i', 'lo', '-c', '1', '-U', '-w', '-', 'port 9'], { timeout: 1500, encoding: 'utf8' }).stderr.includes('listening on lo');
  it.skipIf(!canCapture)('with a real tcpdump on loopback: handshakes through the filter, SIGTERM ends the round with a report', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'synscope-node-'));
    const server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as { port: number }).port;
    try {
      const child = spawn('sh', [script], {
        cwd: repoRoot,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          SYNSCOPE: `${process.execPath} ${path.join(repoRoot, 'dist/cli/synscope.js')}`,
          NODE_NAME: 'loopback',
          INTERFACE: 'lo',
          CAPTURE_SECONDS: '60',
          REPORT_DIR: dir,
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      // tcpdump needs a moment to open the socket; then 5 handshakes and one refused connection.
      const logPath = path.join(dir, '.loopback-tcpdump.log');
      for (let i = 0; i < 100 && !(existsSync(logPath) && readFileSync(logPath, 'utf8').includes('listening')); i++) await new Promise((r) => setTimeout(r, 50));
      for (let i = 0; i < 5; i++) {
        await new Promise<void>((resolve) => connect(port, '127.0.0.1', function (this: any) { this.end(); }).on('close', () => resolve()));
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => connect(port, '127.0.0.1').on('error', () => resolve()));
      await new Promise((r) => setTimeout(r, 300));
      const stopped = Date.now();
      child.kill('SIGTERM');
      const code = await exited;
      expect(Date.now() - stopped).toBeLessThan(5000);
      expect(code, stderr).toBe(0);
      const report = JSON.parse(readFileSync(path.join(dir, 'latest.json'), 'utf8'));
      expect(report.node).toBe('loopback');
      expect(report.summary.byOutcome.established).toBe(5);
      expect(report.summary.byOutcome.refused).toBe(1);
      expect(report.inputs[0].linkTypes).toEqual([1]);
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
