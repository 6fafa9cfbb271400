/**
 * Reading inputs down to TCP packets: each record is decoded into one reused PacketView, counted as
 * tshark counts it, and a TCP packet is handed to a consumer — the handshake tracker on this thread, or
 * the packer that sends it to the tracking thread (decode/thread.ts). One loop over the inputs, shared
 * by both, so the two ways of running give the same per-input summaries.
 */
import { readCaptureDetailed } from '../capture/read.js';
import { DecodeStatus, PacketView, TcpFlag, type CaptureRecord, type InputSummary, type PacketCounts, type RecordSink } from '../types.js';
import type { Decoder } from './decoder.js';

/** Takes each decoded TCP packet (the view is reused: read it, do not keep it). */
export interface TcpPacketConsumer {
  onPacket(view: PacketView, inputIndex: number): void;
}

export function emptyPacketCounts(): PacketCounts {
  return {
    total: 0,
    tcp: 0,
    syn: 0,
    synAck: 0,
    rst: 0,
    undecodable: 0,
    tcpTruncated: 0,
    fragments: 0,
    tunneled: 0,
    unknownLinkType: 0,
  };
}

/** Per-record work: decode into one reused view, count, hand TCP on. No allocation. */
export class PacketPipeline implements RecordSink {
  readonly counts = emptyPacketCounts();
  readonly view = new PacketView();
  inputIndex = 0;

  constructor(
    private readonly decoder: Decoder,
    private readonly consumer: TcpPacketConsumer,
  ) {}

  onRecord(record: CaptureRecord): void {
    const counts = this.counts;
    counts.total++;
    const status = this.decoder.decode(record, this.view);
    switch (status) {
      case DecodeStatus.TCP: {
        const view = this.view;
        counts.tcp++;
        const flags = view.flags;
        if ((flags & TcpFlag.SYN) !== 0) {
          if ((flags & TcpFlag.ACK) !== 0) counts.synAck++;
          else counts.syn++;
        }
        if ((flags & TcpFlag.RST) !== 0) counts.rst++;
        if (view.tunnel !== 0) counts.tunneled++;
        this.consumer.onPacket(view, this.inputIndex);
        break;
      }
      case DecodeStatus.TCP_TRUNCATED:
        counts.tcp++;
        counts.tcpTruncated++;
        break;
      case DecodeStatus.FRAGMENT:
        counts.fragments++;
        break;
      case DecodeStatus.UNDECODABLE:
        counts.undecodable++;
        break;
      case DecodeStatus.UNKNOWN_LINKTYPE:
        counts.unknownLinkType++;
        break;
      default:
        break;
    }
  }
}

export interface DecodeInputsOptions {
  signal?: AbortSignal | undefined;
  /** Read stdin and large gzip files on the reader thread (capture/read.ts). */
  readInWorker: boolean;
  /** After every chunk: raw bytes read of all inputs so far, packets so far. */
  onProgress?: ((rawBytesRead: number, packets: number) => void) | undefined;
}

/** Reads the inputs in order through `pipeline`; returns one summary per input read. */
export async function decodeInputs(paths: readonly string[], pipeline: PacketPipeline, options: DecodeInputsOptions): Promise<InputSummary[]> {
  const inputs: InputSummary[] = [];
  let bytesBefore = 0;
  for (let index = 0; index < paths.length; index++) {
    if (options.signal?.aborted === true) break;
    const path = paths[index]!;
    pipeline.inputIndex = index;
    let rawBytes = 0;
    const countsBefore = { ...pipeline.counts };
    const onProgress = options.onProgress;
    const { summary, error } = await readCaptureDetailed(path, pipeline, {
      signal: options.signal,
      readInWorker: options.readInWorker,
      onProgress: (progress) => {
        rawBytes = progress.rawBytesRead;
        if (onProgress !== undefined) onProgress(bytesBefore + rawBytes, pipeline.counts.total);
      },
    });
    if (summary.error !== null && error !== null) summary.error.description = error.describe();
    summary.counts = subtractCounts(pipeline.counts, countsBefore);
    inputs.push(summary);
    bytesBefore += rawBytes;
  }
  return inputs;
}

/** Per-input packet counts: the running totals after an input minus those before it. */
function subtractCounts(after: PacketCounts, before: PacketCounts): PacketCounts {
  const out = emptyPacketCounts();
  for (const key of Object.keys(out) as Array<keyof PacketCounts>) out[key] = after[key] - before[key];
  return out;
}
