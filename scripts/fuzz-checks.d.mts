// Types for fuzz-checks.mjs, so the TypeScript tests can import it.
import type { CaptureRecord } from '../src/types.js';
export function mulberry32(seed: number): () => number;
export function checkRecord(r: CaptureRecord, expectedNumber: number, lastOffset: number, inputBytes: number, maxRecord: number): number;
