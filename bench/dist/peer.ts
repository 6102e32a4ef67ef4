import { Node } from '@courier/core';
import { tcpDist } from '@courier/transport-tcp';
import { serve } from './ops.js';

/** A Courier benchmark peer in its own process: `peer.ts NAME COOKIE EPMD_PORT`. Prints READY. */
const [name, cookie, epmdPort] = process.argv.slice(2) as [string, string, string];
const node = new Node({ name, transports: [tcpDist({ cookie, epmd: { port: Number(epmdPort), embedded: false } })] });
await node.start();
serve((body, n) => node.spawn(body, { name: n }));
process.stdout.write(`READY ${name}\n`);
process.on('SIGTERM', () => void node.stop().then(() => process.exit(0)));
