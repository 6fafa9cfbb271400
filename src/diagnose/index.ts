/**
 * diagnose/: statistics, NodePort/sysctl correlation, evidence-file parsers, causes and fixes.
 */
export { DiagnosisBuilder, DEFAULT_NODEPORT_RANGE, LATENCY_BOUNDS_MS } from './builder.js';
export type { DiagnoseEvidence, DiagnoseOptions } from './builder.js';
export {
  parseSysctl,
  parseKubectlServices,
  parseIpvsadm,
  parseSs,
  parseConntrack,
  parsePortList,
  parseHostPort,
} from './evidence.js';
export type {
  SysctlFacts,
  NodePortService,
  IpvsService,
  IpvsRealServer,
  SsSnapshot,
  SsSocket,
  ConntrackEntry,
  ConntrackTuple,
} from './evidence.js';
export { checkHost, hostFix, renderCheck, tcpNodePorts } from './check.js';
export type { CheckResult, HostFacts, HostFix } from './check.js';
export {
  fisherExact,
  fisherExactGreater,
  hypergeometricLogPmf,
  hypergeometricLogUpperTail,
  logFactorial,
  relativeRisk,
  formatPValue,
} from './stats.js';
export type { FisherResult } from './stats.js';
export { canonicalIp, formatPortList, wiresharkFilter, type PortRange } from './ports.js';
