import * as fs from 'node:fs';
import { ERROR_CODES, SynscopeError } from '../errors.js';

/**
 * Where the report goes: standard output or --output FILE. Writes are synchronous and batched so a
 * streamed NDJSON report never piles up in memory behind a slow pipe, and so a broken pipe (`| head`)
 * is seen at once and ends the run quietly instead of with an EPIPE trace.
 */
export class ReportOutput {
  /** True once the reader went away (EPIPE): stop producing output, exit quietly. */
  closed = false;
  private readonly fd: number;
  private readonly ownsFd: boolean;
  private pending = '';
  private readonly target: string;

  constructor(outputPath: string | undefined) {
    if (outputPath === undefined || outputPath === '-') {
      this.fd = 1;
      this.ownsFd = false;
      this.target = 'standard output';
    } else {
      this.target = outputPath;
      try {
        this.fd = fs.openSync(outputPath, 'w');
      } catch (e) {
        throw new SynscopeError(ERROR_CODES.OUTPUT_FAILED, `cannot open --output file: ${(e as Error).message}`, {
          file: outputPath,
          hint: 'Check that the folder exists and is writable',
        });
      }
      this.ownsFd = true;
    }
  }

  write(text: string): void {
    if (this.closed) return;
    this.pending += text;
    if (this.pending.length >= 65536) this.flush();
  }

  flush(): void {
    if (this.closed || this.pending.length === 0) return;
    const data = Buffer.from(this.pending, 'utf8');
    this.pending = '';
    let offset = 0;
    while (offset < data.length) {
      try {
        offset += fs.writeSync(this.fd, data, offset, data.length - offset);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') continue; // non-blocking stdout (rare): retry
        if (code === 'EPIPE') {
          this.closed = true;
          return;
        }
        throw new SynscopeError(ERROR_CODES.OUTPUT_FAILED, `writing the report failed: ${(e as Error).message}`, {
          file: this.target,
          hint: code === 'ENOSPC' ? 'The disk is full: free space or choose another --output' : undefined,
        });
      }
    }
  }

  close(): void {
    this.flush();
    if (this.ownsFd) {
      try {
        fs.closeSync(this.fd);
      } catch (e) {
        throw new SynscopeError(ERROR_CODES.OUTPUT_FAILED, `closing the report failed: ${(e as Error).message}`, {
          file: this.target,
        });
      }
    }
  }
}
