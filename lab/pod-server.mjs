// A pod's server: probe ports that accept and close (what a kubelet TCP probe needs), an echo port
// for long-lived chatty connections and a bulk port that streams data at a fixed rate.
// Usage: node lab/pod-server.mjs --probe-ports 8080,8081 [--echo-port 9001] [--bulk-port 9002 --bulk-kib-per-s 1024]
import net from 'node:net';
import { parseArgs } from 'node:util';
import { exitWhenOrphaned } from './lib/orphan.mjs';

const { values } = parseArgs({
  options: {
    'probe-ports': { type: 'string', default: '' },
    'echo-port': { type: 'string' },
    'bulk-port': { type: 'string' },
    'bulk-kib-per-s': { type: 'string', default: '1024' },
  },
});

/** @param {net.Server} server @param {number} port */
const listen = (server, port) =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    // '::' without ipv6Only: one socket serves IPv4 and IPv6, as most pod servers do.
    server.listen({ port, host: '::', ipv6Only: false, backlog: 4096 }, () => resolve(undefined));
  });

const servers = [];
for (const port of values['probe-ports'].split(',').filter(Boolean).map(Number)) {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.resume();
    socket.on('end', () => socket.end());
  });
  servers.push(listen(server, port));
}
if (values['echo-port']) {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  servers.push(listen(server, Number(values['echo-port'])));
}
if (values['bulk-port']) {
  const chunk = Buffer.alloc(16 * 1024, 0x5a);
  const chunksPerTick = Math.max(1, Math.round(Number(values['bulk-kib-per-s']) / 16 / 20));
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.resume();
    // 20 ticks a second, a fixed share each: steady bulk traffic that does not starve the probes.
    const timer = setInterval(() => {
      for (let i = 0; i < chunksPerTick; i++) socket.write(chunk);
    }, 50);
    socket.on('close', () => clearInterval(timer));
  });
  servers.push(listen(server, Number(values['bulk-port'])));
}

await Promise.all(servers);
process.stdout.write('ready\n');
exitWhenOrphaned();
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
