// Types for lab/lib/verify.mjs (the lab is plain JavaScript; tests in test/ are TypeScript).
import type { OracleResult } from './oracle.mjs';

export declare const FAILED_OUTCOMES: string[];
export declare function attemptKey(serverIp: string, serverPort: number, clientPort: number): string;
export declare function endpointText(ip: string, port: number): string;
export declare function diffMultisets(
  expected: Iterable<string>,
  actual: Iterable<string>,
): { missing: string[]; unexpected: string[] };

export interface ProbeRecord {
  seq: number;
  startMs: number;
  family: 4 | 6;
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  result: 'ok' | 'timeout' | 'refused' | 'error';
  ms: number;
  portSeenInFlight: boolean;
  lateOk?: boolean;
  completedAtClose?: boolean;
}
export interface Check {
  name: string;
  pass: boolean;
  detail: string;
}
export interface SynscopeJson {
  diagnosis: { verdict: string };
  attempts: Array<{ client: { ip: string; port: number }; server: { ip: string; port: number }; outcome: string }>;
  summary: { attempts: number; byOutcome: Record<string, number>; attemptsOmitted?: number };
  attemptsOmitted?: number;
}
export declare function parseProberLog(text: string): ProbeRecord[];
export declare function probesInScope(probes: ProbeRecord[], scopeTargets: Set<string> | null): ProbeRecord[];
export declare function compareOracle(
  probes: ProbeRecord[],
  oracle: OracleResult,
  opts: { ackTimeoutSeconds: number },
): Check[];
export declare function compareSynscope(
  probes: ProbeRecord[],
  report: SynscopeJson,
  opts: { expectVerdict: string | null; forbidVerdict: string | null; targets: Set<string> },
): Check[];
export declare function checkProberLog(
  probes: ProbeRecord[],
  opts: {
    divertedPorts: ((port: number) => boolean) | null;
    reservedRange: [number, number] | null;
    expectFailures: 'none' | 'some';
  },
): Check[];

export interface RangeConcentration {
  failedInRange: number;
  failedOutside: number;
  okInRange: number;
  okOutside: number;
  pValue: number;
  relativeRisk: number | null;
}
export declare function rangeConcentration(probes: ProbeRecord[], range: [number, number]): RangeConcentration;
export declare const MIN_FAILURES_FOR_VERDICT: number;
export declare function verdictDecidable(c: RangeConcentration): boolean;
