import { Node } from '@courier/core';
import { tcpDist } from '@courier/transport-tcp';
import { tlsDist, type TlsDistOptions } from '@courier/transport-tls';
import { serve } from './ops.js';

/**
 * A Courier benchmark peer in its own process: `peer.ts NAME COOKIE EPMD_PORT [TLS_JSON [BUSY_POLL_MICROS]]`
 * (an empty TLS_JSON: TCP). Prints READY.
 */
const [name, cookie, epmdPort, tlsJson, busyPoll] = process.argv.slice(2) as [string, string, string, string | undefined, string | undefined];
const dist = { cookie, epmd: { port: Number(epmdPort), embedded: false } };
const node = new Node({ name, busyPollMicros: Number(busyPoll ?? 0), transports: [tlsJson ? tlsDist({ ...dist, tls: JSON.parse(tlsJson) as TlsDistOptions }) : tcpDist(dist)] });
await node.start();
serve((body, n) => node.spawn(body, { name: n }));
process.stdout.write(`READY ${name}\n`);
process.on('SIGTERM', () => void node.stop().then(() => process.exit(0)));
