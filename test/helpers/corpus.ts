/** Reads ../shared/corpus/MANIFEST.tsv at test time (the corpus is never copied into the repo). */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { corpusRoot } from './capture-feed.js';

export interface ManifestRow {
  path: string;
  format: string;
  linkTypes: number[];
  packets: number;
  expect: 'ok' | 'error';
  note: string;
  [column: string]: string | number | number[];
}

export const manifestPath = path.join(corpusRoot, 'MANIFEST.tsv');

export function corpusAvailable(): boolean {
  return existsSync(manifestPath);
}

export function readManifest(): ManifestRow[] {
  const lines = readFileSync(manifestPath, 'utf8').split('\n').filter((l) => l.length > 0);
  const header = lines[0]!.split('\t');
  return lines.slice(1).map((line) => {
    const cells = line.split('\t');
    const raw: Record<string, string> = {};
    header.forEach((name, i) => (raw[name] = cells[i] ?? ''));
    return {
      ...raw,
      path: raw.path!,
      format: raw.format!,
      linkTypes: raw.linktypes!.split(',').filter((s) => s.trim() !== '').map((s) => Number.parseInt(s, 10)),
      packets: Number(raw.packets),
      expect: raw.expect === 'error' ? 'error' : 'ok',
      note: raw.note ?? '',
    };
  });
}

export function corpusFile(row: { path: string }): string {
  return path.join(corpusRoot, row.path);
}
