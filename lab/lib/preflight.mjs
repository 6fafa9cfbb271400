// Can the lab run here? In CI (process.env.CI set) a missing prerequisite is a failure, never a
// skip; elsewhere the lab explains why it skips and exits 0.
import { spawnSync } from 'node:child_process';

/** Debian packages that provide the tools the lab runs (what CI installs). */
export const DEBIAN_PACKAGES = ['iproute2', 'nftables', 'tcpdump', 'tshark', 'procps', 'coreutils'];

const TOOLS = [
  ['ip', ['-V'], 'iproute2'],
  ['nft', ['--version'], 'nftables'],
  ['tcpdump', ['--version'], 'tcpdump'],
  ['dumpcap', ['-v'], 'wireshark-common (pulled in by tshark)'],
  ['tshark', ['--version'], 'tshark'],
  ['sysctl', ['-V'], 'procps'],
  ['timeout', ['--version'], 'coreutils'],
];

/** @returns {string[]} reasons the lab cannot run; empty when it can */
export function preflightProblems() {
  const problems = [];
  if (process.platform !== 'linux') problems.push(`the lab needs Linux network namespaces (this is ${process.platform})`);
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    problems.push('the lab needs root (it creates network namespaces, veth pairs and nftables rules): run it with sudo');
  }
  for (const [tool, args, pkg] of TOOLS) {
    const r = spawnSync(/** @type {string} */ (tool), /** @type {string[]} */ (args), { stdio: 'ignore' });
    if (r.error) problems.push(`${tool} is not installed (Debian package: ${pkg})`);
  }
  if (problems.length === 0) {
    // Root in a container without CAP_SYS_ADMIN/NET_ADMIN cannot create namespaces.
    const name = `synlab-${process.pid}-probe-ns`;
    const add = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
    if (add.status !== 0) problems.push(`cannot create a network namespace: ${add.stderr.trim()}`);
    else spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  }
  return problems;
}
