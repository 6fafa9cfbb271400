import { REPORT_FORMATS } from '../report/formats.js';

/**
 * The one option table. yargs is built from it, `--help` shows it, and the README's flag reference is
 * generated from it (scripts/readme-flags.mjs; a test fails when the README is stale).
 */

export type OptionType = 'string' | 'number' | 'boolean' | 'array';

export interface OptionSpec {
  name: string;
  type: OptionType;
  description: string;
  default?: string | number | boolean | string[];
  choices?: readonly string[];
  /** Placeholder shown in help, e.g. FILE. */
  value?: string;
  alias?: string;
}

export interface CommandSpec {
  name: string;
  usage: string;
  description: string;
  options: OptionSpec[];
}


const outputOptions: OptionSpec[] = [
  {
    name: 'format',
    alias: 'f',
    type: 'string',
    choices: REPORT_FORMATS,
    default: 'table',
    description:
      'Report format: table (terminal), json (versioned contract), ndjson (one attempt per line, streamed), markdown, html (self-contained, with charts), csv (one row per attempt).',
  },
  {
    name: 'output',
    alias: 'o',
    type: 'string',
    value: 'FILE',
    description: 'Write the report to FILE instead of standard output.',
  },
  {
    name: 'limit',
    type: 'number',
    default: 20,
    description:
      'Failed attempts listed in the table and Markdown reports, and rows of the table report\'s per-server and per-client tables (the JSON and CSV list them all).',
  },
  {
    name: 'color',
    type: 'boolean',
    description: 'Force colour on or off (default: on for a terminal, off when NO_COLOR is set or output is not a TTY).',
  },
  {
    name: 'evidence',
    type: 'string',
    value: 'FILE',
    description:
      'Also write the packets of the failed attempts (and their diverted SYN-ACKs) to FILE, to attach or open in Wireshark: pcap, or pcapng when an input is pcapng or the inputs mix link types. The captures are read a second time, so not with - (stdin).',
  },
];

const evidenceFileOptions: OptionSpec[] = [
  {
    name: 'nodeport-range',
    type: 'string',
    value: 'A-B',
    default: '30000-32767',
    description: "The cluster's NodePort range, as kube-apiserver's --service-node-port-range.",
  },
  {
    name: 'local-port-range',
    type: 'string',
    value: '"LOW HIGH"',
    description: "The client node's net.ipv4.ip_local_port_range, e.g. \"12000 65001\" (overrides --sysctl).",
  },
  {
    name: 'sysctl',
    type: 'string',
    value: 'FILE',
    description:
      'Output of `sysctl -a` or `sysctl net.ipv4` from the client node: ip_local_port_range and ip_local_reserved_ports.',
  },
  {
    name: 'services',
    type: 'string',
    value: 'FILE',
    description: 'Output of `kubectl get svc -A -o json`: names the Service owning each NodePort.',
  },
];

export const analyzeOptions: OptionSpec[] = [
  ...outputOptions,
  {
    name: 'ack-timeout',
    type: 'number',
    default: 3,
    value: 'SECONDS',
    description:
      'How long after a SYN (or SYN-ACK) capture time must run on before the attempt counts as unanswered.',
  },
  {
    name: 'all-attempts',
    type: 'boolean',
    default: false,
    description: 'List established attempts too (JSON, CSV, Markdown, HTML); by default only the failed and unresolved ones.',
  },
  {
    name: 'max-pending',
    type: 'number',
    default: 100000,
    description:
      'Cap on undecided handshakes held in memory at once; beyond it the oldest is evicted and counted (SYN floods).',
  },
  {
    name: 'max-attempts',
    type: 'number',
    default: 10000,
    description:
      'Cap on attempts listed in the report (JSON attempts[], CSV, --evidence), so memory stays flat on long captures; the rest are counted in attemptsOmitted. ndjson streams every attempt.',
  },
  ...evidenceFileOptions,
  {
    name: 'ipvs',
    type: 'string',
    value: 'FILE',
    description: "Output of `ipvsadm -Ln` or `ipvsadm -S -n` from the node: its virtual services.",
  },
  {
    name: 'ss',
    type: 'string',
    value: 'FILE',
    description: 'Repeated `ss -natp` snapshots from the client node: SYN-SENT sockets are matched to attempts.',
  },
  {
    name: 'conntrack',
    type: 'string',
    value: 'FILE',
    description: 'Output of `conntrack -L`: SYN_SENT / SYN_RECV entries are matched to attempts.',
  },
  {
    name: 'vxlan-port',
    type: 'array',
    value: 'PORT',
    default: ['4789', '8472'],
    description: 'UDP ports decoded as VXLAN (4789 standard, 8472 flannel).',
  },
  {
    name: 'geneve-port',
    type: 'array',
    value: 'PORT',
    default: ['6081'],
    description: 'UDP ports decoded as Geneve.',
  },
  {
    name: 'fail-on',
    type: 'string',
    value: 'CAUSE',
    description:
      'Exit 1 only when this cause is found (a cause id, or "any" for any failed handshake, the default behaviour).',
  },
  {
    name: 'progress',
    type: 'boolean',
    description: 'Show a progress bar on stderr (default: only when stderr is a terminal and CI is not set).',
  },
  {
    name: 'follow',
    type: 'boolean',
    default: false,
    description:
      'Live mode, for a growing pipe (tcpdump -i any -U -w - FILTER | synscope analyze - --follow): print each attempt as soon as it is decided (a line; NDJSON with --format ndjson), a rolling summary every --interval seconds and each change of the findings; when the pipe stays idle, capture time is moved on by the wall clock so unanswered SYNs are still decided. Ctrl-C or the end of the pipe prints the final report. Lines go to standard output for table and ndjson, to standard error otherwise.',
  },
  {
    name: 'interval',
    type: 'number',
    default: 10,
    value: 'SECONDS',
    description: 'With --follow: seconds of wall time between rolling summaries.',
  },
  {
    name: 'node',
    type: 'string',
    value: 'NAME',
    description: 'Stamp the report with the name of the node the capture was taken on (the DaemonSet in deploy/ passes the Kubernetes node name); `synscope merge` uses it.',
  },
];

/** `merge` writes a report like analyze does, from JSON reports instead of captures. */
export const mergeOptions: OptionSpec[] = outputOptions.filter((o) => ['format', 'output', 'limit', 'color'].includes(o.name));

export const checkOptions: OptionSpec[] = [
  ...evidenceFileOptions,
  {
    name: 'format',
    alias: 'f',
    type: 'string',
    choices: ['table', 'json'],
    default: 'table',
    description: 'Output format of the check.',
  },
];

export const COMMANDS: CommandSpec[] = [
  {
    name: 'analyze',
    usage: 'synscope analyze FILE... | -',
    description:
      'Read captures (pcap, pcapng, gzip; several files in order as one capture; - for stdin), reconstruct every TCP handshake, classify each attempt and diagnose the failures.',
    options: analyzeOptions,
  },
  {
    name: 'check',
    usage: 'synscope check',
    description:
      "Without a capture: compare this host's ephemeral port range (/proc/sys/net/ipv4, or --sysctl FILE) with the NodePort range and print the overlap, the share of new connections at risk and the fix. Exit 1 when at risk.",
    options: checkOptions,
  },
  {
    name: 'merge',
    usage: 'synscope merge REPORT.json...',
    description:
      'Combine per-node JSON reports (analyze --format json --node NAME) into one fleet report: which nodes show each finding, their sysctls when known, summed counts, one verdict. A report that is missing or invalid is named and the rest merged (exit 2 after printing). Every --format works.',
    options: mergeOptions,
  },
];

export const EXIT_CODES = {
  /** No failed handshake (analyze), or not at risk (check). */
  OK: 0,
  /** Failed handshakes found (or the cause chosen by --fail-on), or at risk (check). */
  FAILURES: 1,
  /** Usage or input error. */
  USAGE_OR_INPUT: 2,
  /** Interrupted by SIGINT after printing the partial report. */
  INTERRUPTED: 130,
} as const;

export const EXIT_CODE_HELP = [
  '0  no failed handshake (check: not at risk)',
  '1  failed handshakes found, or the cause chosen by --fail-on (check: at risk)',
  '2  usage or input error (an unreadable or corrupt input, a bad flag)',
  '130 interrupted (Ctrl-C): the partial report was printed',
];
