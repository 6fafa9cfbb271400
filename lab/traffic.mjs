// Background traffic that is not a probe: long-lived chatty connections (a message every 200 ms,
// echoed back) and bulk downloads. They are opened before any capture starts, so a capture sees
// them only mid-stream; they also keep packets flowing after the last probe, which is what moves
// an analyser's capture clock past its ACK timeout.
// Usage: node lab/traffic.mjs [--chatty HOST:PORT ...] [--bulk HOST:PORT ...]
// Prints "ready" once every connection is established.
import net from 'node:net';
import { parseArgs } from 'node:util';
import { exitWhenOrphaned } from './lib/orphan.mjs';
import { parseEndpoint } from './lib/endpoint.mjs';

const { values } = parseArgs({
  options: {
    chatty: { type: 'string', multiple: true, default: [] },
    bulk: { type: 'string', multiple: true, default: [] },
    'message-interval-ms': { type: 'string', default: '200' },
  },
});

/** @param {string} target @returns {Promise<net.Socket>} */
function open(target) {
  const { host, port } = parseEndpoint(target);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => resolve(socket));
    socket.once('error', (e) => reject(new Error(`${target}: ${e.message}`)));
  });
}

try {
  const chatty = await Promise.all(values.chatty.map(open));
  const bulk = await Promise.all(values.bulk.map(open));
  for (const s of [...chatty, ...bulk]) {
    s.on('error', () => {});
    s.resume();
  }
  const message = Buffer.from('ping\n');
  setInterval(() => {
    for (const s of chatty) s.write(message);
  }, Number(values['message-interval-ms']));
  process.stdout.write('ready\n');
} catch (e) {
  process.stderr.write(`traffic: ${/** @type {Error} */ (e).message}\n`);
  process.exit(1);
}
exitWhenOrphaned();
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
