export { CaptureStream, STANDARD_MAX_CAPLEN, HARD_MAX_RECORD } from './stream.js';
export type { CaptureStreamOptions } from './stream.js';
export { readCapture, readCaptureDetailed } from './read.js';
export type { ReadCaptureOptions, ReadCaptureResult } from './read.js';
export { copyRecord, copyRecordBytes } from './record.js';
export { describeNonCapture } from './sniff.js';
export type { NotACaptureDescription } from './sniff.js';
export { linkTypeLabel } from '../linktypes.js';
export * from './writer.js';
