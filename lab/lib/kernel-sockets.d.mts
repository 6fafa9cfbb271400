// Types for kernel-sockets.mjs (the lab is plain JavaScript; the tests are TypeScript).
export declare const TCP_STATES: Readonly<Record<number, string>>;
export declare function addressBytes(ip: string): number[];
export declare function procNetEndpoint(ip: string, port: number): string;
export declare function kernelSocketStates(tuple: { family: 4 | 6; localPort: number; remoteIp: string; remotePort: number }): Promise<string[]>;
export declare const PAST_HANDSHAKE: Set<string>;
