// Types for fuzz-seeds.mjs, so the TypeScript tests can import it.
export interface Seed {
  name: string;
  bytes: Uint8Array;
}
export function fieldOffsets(bytes: Uint8Array): { lengths: number[]; types: number[] };
export function generatedSeeds(
  craft: typeof import('../src/craft/index.js'),
  MemoryOutput: typeof import('../src/capture/writer.js').MemoryOutput,
  PcapWriter: typeof import('../src/capture/writer.js').PcapWriter,
  PcapngWriter: typeof import('../src/capture/writer.js').PcapngWriter,
): Seed[];
export function corpusSeeds(corpusRoot: string, maxBytes: number): Seed[];
