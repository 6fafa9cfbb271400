/** Types of bench/generator.mjs (plain ESM so the bench runs on Node 20 without a TypeScript loader). */
import type { CaptureOutput, PcapHeaderOptions } from '../src/capture/writer.js';

export type GeneratorMode = 'node' | 'handshake-only' | 'syn-flood';

export interface GeneratorOptions {
  /** Capture file to write. */
  out: string;
  /** Exact number of packets written (default 1 000 000). */
  packets?: number;
  seed?: number;
  format?: 'pcap' | 'pcapng';
  /** Ethernet on eth0, or `-i any` (LINUX_SLL2: pod traffic seen on its veth and on eth0). */
  link?: 'ethernet' | 'sll2';
  mode?: GeneratorMode;
  ipv6Share?: number;
  collisionShare?: number;
  refusedShare?: number;
  synUnansweredShare?: number;
  clientResetShare?: number;
  /** New connections per second of capture time (default 2500). */
  connectionRate?: number;
  longLived?: number;
  /** ACK timeout the ground truth assumes (default 3 s, synscope's default). */
  ackTimeoutSeconds?: number;
  /** --max-pending the ground truth assumes (default 500 000). */
  maxPending?: number;
  /** syn-flood mode: SYNs per second of capture time (default 1 000 000). */
  floodRate?: number;
  startSec?: number;
}

export type OutcomeCounts = Record<'established' | 'synack-unanswered' | 'syn-unanswered' | 'refused' | 'client-reset' | 'unresolved', number>;

export interface GroundTruth {
  generator: string;
  options: Omit<GeneratorOptions, 'out'>;
  format: 'pcap' | 'pcapng';
  linkType: number;
  packets: number;
  tcp: number;
  syn: number;
  synAck: number;
  rst: number;
  ipv6Packets: number;
  interfaceCopies: number;
  divertedSynAcks: number;
  midstreamPackets: number;
  attempts: number;
  byOutcome: OutcomeCounts;
  evicted: number;
  intended: { established: number; collisions: number; refused: number; synUnanswered: number; clientReset: number; flood: number };
  firstPacketTime: number | null;
  lastPacketTime: number | null;
  durationSeconds: number;
  bytes: number;
  nodePorts: { allocated: number; first: number[] };
  addresses: { node: string; nodeV6: string };
}

export interface WriterLibrary {
  FileOutput: new (target: string | number, bufferSize?: number) => CaptureOutput & { close(): void; readonly bytesWritten: number };
  PcapWriter: new (out: CaptureOutput, options?: PcapHeaderOptions) => { packet(tsSec: number, tsNsec: number, frame: Uint8Array): void };
  PcapngWriter: new (out: CaptureOutput) => {
    section(options?: object): void;
    interface(linkType: number, options?: object): number;
    packet(interfaceId: number, tsSec: number, tsNsec: number, frame: Uint8Array): void;
  };
}

export declare const DEFAULTS: Required<Omit<GeneratorOptions, 'out'>>;
export declare const LINKTYPE_ETHERNET: 1;
export declare const LINKTYPE_LINUX_SLL2: 276;

export declare class Rng {
  constructor(seed: number);
  u32(): number;
  float(): number;
  int(lo: number, hi: number): number;
  exp(mean: number): number;
  logNormal(median: number, sigma: number): number;
  pick<T>(array: readonly T[]): T;
}

/** Writes exactly `options.packets` packets to `options.out`; returns the ground truth. */
export declare function generateCapture(options: GeneratorOptions, lib: WriterLibrary): GroundTruth;
