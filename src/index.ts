/**
 * synscope as a library. Importing this module has no side effects: no process listeners, no I/O.
 *
 *   import { analyze, renderReport } from 'synscope';
 *   const report = await analyze({ inputs: ['node.pcap'] });
 *   console.log(report.diagnosis.verdict, renderReport(report, 'markdown'));
 */
export { analyze, DEFAULT_OPTIONS, emptyPacketCounts } from './analyze.js';
export type { AnalyzeParams } from './analyze.js';
export { ListedAttempts, listedAttempts, attachAttempts, attemptListOf } from './listed-attempts.js';
export type { AttemptList } from './listed-attempts.js';
export * from './types.js';
export { SynscopeError, ERROR_CODES, isSynscopeError } from './errors.js';
export type { ErrorCode, ErrorContext } from './errors.js';
export { VERSION } from './version.js';
export { formatEpochNs, formatRelativeNs } from './time.js';
export { linkTypes, linkTypeInfo, linkTypeName, linkTypeLabel } from './linktypes.js';

// Stages, for callers who want to run part of the pipeline themselves.
export { readChunks, readChunksFromStream, inputSize } from './source/index.js';
export {
  CaptureStream,
  readCapture,
  readCaptureDetailed,
  copyRecord,
  copyRecordBytes,
  PcapWriter,
  PcapngWriter,
  MemoryOutput,
  FileOutput,
  buildPcap,
  buildPcapng,
} from './capture/index.js';
export { Decoder, formatIp } from './decode/index.js';
export { HandshakeTracker } from './handshake/index.js';
export type { HandshakeOptions } from './handshake/index.js';
export {
  DiagnosisBuilder,
  checkHost,
  renderCheck,
  parseSysctl,
  parseKubectlServices,
  parseIpvsadm,
  parseSs,
  parseConntrack,
  fisherExact,
  fisherExactGreater,
} from './diagnose/index.js';
export type { DiagnoseEvidence, DiagnoseOptions, CheckResult } from './diagnose/index.js';
export { REPORT_FORMATS, renderReport, renderAttemptNdjson, toJsonContract } from './report/index.js';
export type { ReportFormat, RenderOptions, JsonReport } from './report/index.js';
