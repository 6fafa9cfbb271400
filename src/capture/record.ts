/** Ownership helpers for the borrowed CaptureRecord: copy what you keep. */
import type { CaptureRecord } from '../types.js';

/** The frame bytes of a borrowed record, copied into a new array that is yours to keep. */
export function copyRecordBytes(record: CaptureRecord): Uint8Array {
  return record.data.slice(record.offset, record.offset + record.caplen);
}

/** A detached copy of the record: its own `data` (offset 0), safe after the reader moves on. */
export function copyRecord(record: CaptureRecord): CaptureRecord {
  return {
    data: copyRecordBytes(record),
    offset: 0,
    caplen: record.caplen,
    origLen: record.origLen,
    tsSec: record.tsSec,
    tsNsec: record.tsNsec,
    linkType: record.linkType,
    interfaceId: record.interfaceId,
    recordNumber: record.recordNumber,
    fileOffset: record.fileOffset,
  };
}
