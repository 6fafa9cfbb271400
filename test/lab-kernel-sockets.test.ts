// The prober's after-close check reads the kernel's socket table: test the address encoding and
// that a real loopback connection is found in the states the prober relies on.
import net from 'node:net';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { PAST_HANDSHAKE, addressBytes, kernelSocketStates, procNetEndpoint } from '../lab/lib/kernel-sockets.mjs';

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

describe('procNetEndpoint', () => {
  it('spells addresses as /proc/net/tcp does', () => {
    expect(addressBytes('10.244.1.11')).toEqual([10, 244, 1, 11]);
    expect(addressBytes('fd00:244:1::11')).toEqual([0xfd, 0, 0x02, 0x44, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x11]);
    expect(addressBytes('::ffff:10.0.0.1')).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1]);
    expect(addressBytes('::1')).toEqual([...Array(15).fill(0), 1]);
    if (littleEndian) {
      expect(procNetEndpoint('10.244.1.11', 8080)).toBe('0B01F40A:1F90');
      expect(procNetEndpoint('::1', 443)).toBe('00000000000000000000000001000000:01BB');
    }
  });
});

async function connectedPair(host: string) {
  const server = net.createServer((s) => s.on('error', () => {}));
  server.listen(0, host);
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const client = net.connect({ host, port });
  await once(client, 'connect');
  return { server, client, port };
}

describe('kernelSocketStates', () => {
  for (const [family, host] of [[4, '127.0.0.1'], [6, '::1']] as const) {
    it(`finds an IPv${family} loopback connection, and its orphan after close`, async () => {
      const { server, client, port } = await connectedPair(host);
      const tuple = { family, localPort: client.localPort!, remoteIp: host, remotePort: port };
      expect(await kernelSocketStates(tuple)).toEqual(['ESTABLISHED']);
      // Not the listener's or the accepted side's entries: the tuple is the client's.
      expect(await kernelSocketStates({ ...tuple, localPort: port, remotePort: client.localPort! })).toEqual(['ESTABLISHED']);
      client.destroy();
      const after = await kernelSocketStates(tuple);
      expect(after.length).toBe(1);
      expect(PAST_HANDSHAKE.has(after[0])).toBe(true);
      server.close();
    });
  }

  it('finds nothing for a tuple no socket has', async () => {
    expect(await kernelSocketStates({ family: 4, localPort: 1, remoteIp: '127.0.0.9', remotePort: 9 })).toEqual([]);
  });
});
