// Types for lab/lib/oracle.mjs (the lab is plain JavaScript; tests in test/ are TypeScript).
export interface TcpRow {
  time: number;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  flags: number;
  seq: number;
  ack: number;
}
export interface OracleAttempt {
  client: string;
  clientPort: number;
  server: string;
  serverPort: number;
  isn: number;
  firstSyn: number;
  synAckToClient: boolean;
  established: boolean;
  clientReset: boolean;
  serverReset: boolean;
}
export interface OracleResult {
  attempts: OracleAttempt[];
  tcpPackets: number;
  divertedSynAcks: number;
  firstPacketTime: number;
  lastPacketTime: number;
}
export declare function decideHandshakes(
  rows: Iterable<TcpRow>,
  scope: { clients: Set<string>; servers: Set<string> },
): OracleResult;
export declare function parseTsharkLine(line: string): TcpRow | null;
export declare function readCaptureWithTshark(
  file: string,
  scope: { clients: Set<string>; servers: Set<string> },
): Promise<OracleResult>;
