/**
 * Progress bar on stderr for long runs: bytes read of total, packets/s, ETA. Shown only on a terminal
 * and never in CI, so pipes and logs stay clean. Redrawn at most 5 times a second.
 */
export class ProgressBar {
  private lastDraw = 0;
  private readonly started = Date.now();
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly totalBytes: number | null,
  ) {}

  static enabled(explicit: boolean | undefined, stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): boolean {
    if (explicit !== undefined) return explicit;
    return stream.isTTY === true && !env.CI;
  }

  update(bytesRead: number, packets: number): void {
    const now = Date.now();
    if (now - this.lastDraw < 200) return;
    this.lastDraw = now;
    const elapsed = (now - this.started) / 1000;
    const rate = elapsed > 0 ? packets / elapsed : 0;
    let line: string;
    if (this.totalBytes !== null && this.totalBytes > 0) {
      const fraction = Math.min(1, bytesRead / this.totalBytes);
      const width = 24;
      const filled = Math.round(fraction * width);
      const eta = fraction > 0 ? (elapsed / fraction) * (1 - fraction) : 0;
      line =
        `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ` +
        `${formatBytes(bytesRead)}/${formatBytes(this.totalBytes)}  ${formatRate(rate)} packets/s  ETA ${formatSeconds(eta)}`;
    } else {
      line = `${formatBytes(bytesRead)} read  ${packets} packets  ${formatRate(rate)} packets/s`;
    }
    this.stream.write(`\r${line}\x1b[K`);
    this.drawn = true;
  }

  clear(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}

function formatBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(0)} KiB`;
  return `${n} B`;
}

function formatRate(r: number): string {
  if (r >= 1e6) return `${(r / 1e6).toFixed(2)} M`;
  if (r >= 1e3) return `${(r / 1e3).toFixed(0)} k`;
  return r.toFixed(0);
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${Math.round(s % 60)}s` : `${Math.round(s)}s`;
}
