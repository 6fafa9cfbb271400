// Real captures: tcpdump for pcap (Ethernet on a pod veth, LINUX_SLL2 on "any"), dumpcap for pcapng.
import { statSync } from 'node:fs';
import { LabError } from './proc.mjs';

/**
 * @typedef {object} CaptureSpec
 * @property {string} name        short name used in reports ("any", "pod1-veth", "cni0-ng")
 * @property {string} namespace
 * @property {'tcpdump'|'dumpcap'} tool
 * @property {string[]} interfaces
 * @property {string} file
 * @property {string} description
 * @property {string[]|null} scopeTargets  probe targets whose traffic this capture can see (null: all)
 */

/**
 * @typedef {object} RunningCapture
 * @property {CaptureSpec} spec
 * @property {import('./proc.mjs').LabProcess} proc
 */

/** Headers only: enough for every TCP option, small files even under bulk traffic. */
const SNAPLEN = '256';
/** Hard stop for a capture tool if the lab itself dies without cleaning up. */
const MAX_CAPTURE_SECONDS = '240';

/**
 * Start a capture and wait until the tool says it is capturing.
 * @param {import('./proc.mjs').ProcessRegistry} registry
 * @param {CaptureSpec} spec
 * @returns {Promise<RunningCapture>}
 */
export async function startCapture(registry, spec) {
  /** @type {string[]} */
  let args;
  /** @type {RegExp} */
  let readyLine;
  if (spec.tool === 'tcpdump') {
    if (spec.interfaces.length !== 1) throw new LabError('tcpdump captures one interface');
    args = ['tcpdump', '-i', spec.interfaces[0], '-n', '-s', SNAPLEN, '-B', '65536', '-Z', 'root', '-w', spec.file];
    // -U writes each packet as it comes and --immediate-mode makes libpcap hand it over at once:
    // without them the packets of the last second before SIGINT can be lost.
    args.push('-U', '--immediate-mode');
    if (spec.interfaces[0] === 'any') args.push('-y', 'LINUX_SLL2');
    readyLine = /listening on /;
  } else {
    args = ['dumpcap', '-q', '-s', SNAPLEN, '-B', '64', '-w', spec.file];
    for (const i of spec.interfaces) args.push('-i', i);
    readyLine = /File: /;
  }
  // `timeout` ends the tool if the lab is SIGKILLed; it forwards our SIGINT to the tool.
  const proc = registry.spawn(`${spec.tool} ${spec.name}`, 'ip', [
    'netns',
    'exec',
    spec.namespace,
    'timeout',
    '-s',
    'INT',
    MAX_CAPTURE_SECONDS,
    ...args,
  ]);
  await proc.waitForOutput(readyLine, 10_000);
  return { spec, proc };
}

/**
 * Stop with SIGINT (both tools then finish the file) and check the tool's own drop count.
 * @param {import('./proc.mjs').ProcessRegistry} registry
 * @param {RunningCapture} cap
 * @returns {Promise<{ packets: number, dropped: number, bytes: number }>}
 */
export async function stopCapture(registry, cap) {
  const { code, signal } = await registry.stop(cap.proc, 'SIGINT', 5000);
  const text = cap.proc.stderrText();
  if (signal === 'SIGKILL' || (code !== 0 && code !== null && code !== 124)) {
    throw new LabError(`${cap.spec.tool} ${cap.spec.name} ended badly (code ${code}, signal ${signal})`, text);
  }
  let packets = -1;
  let dropped = 0;
  if (cap.spec.tool === 'tcpdump') {
    packets = Number(/(\d+) packets? captured/.exec(text)?.[1] ?? -1);
    dropped = Number(/(\d+) packets? dropped by kernel/.exec(text)?.[1] ?? 0);
  } else {
    packets = Number(/Packets captured: (\d+)/.exec(text)?.[1] ?? -1);
    for (const m of text.matchAll(/received\/dropped on interface '[^']+': \d+\/(\d+)/g)) dropped += Number(m[1]);
  }
  const bytes = statSync(cap.spec.file).size;
  return { packets, dropped, bytes };
}
