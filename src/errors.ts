/**
 * Errors are values with context. Every error synscope raises on purpose is a SynscopeError with a
 * stable `code` (scripts may switch on it) and whatever context is known: which input, where in it,
 * which record, what was expected, and what the user can do about it.
 */

export const ERROR_CODES = {
  /** The bytes are not a capture at all (text, HTML, tcpdump's text output, empty). */
  NOT_A_CAPTURE: 'NOT_A_CAPTURE',
  /** A capture file header we recognise but cannot accept (bad version, reserved bits). */
  BAD_FILE_HEADER: 'BAD_FILE_HEADER',
  /** A record or block whose length field cannot be right; the file stops here. */
  CORRUPT_RECORD: 'CORRUPT_RECORD',
  /** The input ended in the middle of a record (tcpdump killed, copy cut short). */
  TRUNCATED_FILE: 'TRUNCATED_FILE',
  /** gzip stream broken or cut short. */
  BAD_GZIP: 'BAD_GZIP',
  /** The path cannot be read (missing, directory, permission). */
  INPUT_UNREADABLE: 'INPUT_UNREADABLE',
  /** An evidence file (sysctl, ipvsadm, kubectl, ss, conntrack output) cannot be understood. */
  BAD_EVIDENCE_FILE: 'BAD_EVIDENCE_FILE',
  /** A flag value that makes no sense. */
  BAD_USAGE: 'BAD_USAGE',
  /** Writing output failed (disk full, permission). */
  OUTPUT_FAILED: 'OUTPUT_FAILED',
  /** A JSON report given to `merge` is not a synscope report. */
  BAD_REPORT: 'BAD_REPORT',
} as const;

export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

export interface ErrorContext {
  /** Input path as the user named it ('-' for stdin). */
  file?: string;
  /** Byte offset in the (decompressed) capture stream where the problem starts. */
  byteOffset?: number;
  /** 1-based number of the record (packet or pcapng block) concerned. */
  recordNumber?: number;
  /** 1-based line of a text input (evidence files: sysctl, ipvsadm, kubectl, ss, conntrack output). */
  line?: number;
  /** What the reader expected to find. */
  expected?: string;
  /** What the user can do about it. */
  hint?: string;
}

export class SynscopeError extends Error {
  readonly code: ErrorCode;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}) {
    super(message);
    this.name = 'SynscopeError';
    this.code = code;
    this.context = context;
  }

  /** One line for a human: where, what, and what to do. */
  describe(): string {
    const where: string[] = [];
    if (this.context.file !== undefined) where.push(this.context.file);
    if (this.context.byteOffset !== undefined) where.push(`byte ${this.context.byteOffset}`);
    if (this.context.recordNumber !== undefined) where.push(`record ${this.context.recordNumber}`);
    if (this.context.line !== undefined) where.push(`line ${this.context.line}`);
    let text = where.length > 0 ? `${where.join(', ')}: ${this.message}` : this.message;
    if (this.context.expected !== undefined) text += ` (expected ${this.context.expected})`;
    if (this.context.hint !== undefined) text += `. ${this.context.hint}`;
    return text;
  }

  toJSON(): { code: ErrorCode; message: string } & ErrorContext {
    return { code: this.code, message: this.message, ...this.context };
  }
}

export function isSynscopeError(e: unknown): e is SynscopeError {
  return e instanceof SynscopeError;
}
