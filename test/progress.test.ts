/** The progress bar: only on a terminal and never in CI; bytes of total, packets/s and ETA. */
import { describe, expect, it, vi } from 'vitest';
import { ProgressBar } from '../src/cli/progress.js';

function fakeStream(isTTY: boolean) {
  const written: string[] = [];
  return { stream: { isTTY, write: (s: string) => (written.push(s), true) } as unknown as NodeJS.WriteStream, written };
}

describe('ProgressBar', () => {
  it('is on for a terminal outside CI, off in pipes and in CI, and a flag overrides both', () => {
    expect(ProgressBar.enabled(undefined, fakeStream(true).stream, {})).toBe(true);
    expect(ProgressBar.enabled(undefined, fakeStream(false).stream, {})).toBe(false);
    expect(ProgressBar.enabled(undefined, fakeStream(true).stream, { CI: 'true' })).toBe(false);
    expect(ProgressBar.enabled(true, fakeStream(false).stream, { CI: 'true' })).toBe(true);
    expect(ProgressBar.enabled(false, fakeStream(true).stream, {})).toBe(false);
  });

  it('draws bytes read of the total, packets/s and an ETA on one line, then clears it', () => {
    vi.useFakeTimers({ now: 0 });
    try {
      const { stream, written } = fakeStream(true);
      const bar = new ProgressBar(stream, 4 << 20);
      vi.setSystemTime(1000);
      bar.update(1 << 20, 250_000);
      expect(written).toHaveLength(1);
      expect(written[0]).toMatch(/^\r\[######\.{18}\]\s+25% 1\.0 MiB\/4\.0 MiB {2}250 k packets\/s {2}ETA 3s/);
      bar.update(2 << 20, 500_000); // within 200 ms of the last draw: skipped
      expect(written).toHaveLength(1);
      bar.clear();
      expect(written[1]).toBe('\r\x1b[K');
    } finally {
      vi.useRealTimers();
    }
  });
});
