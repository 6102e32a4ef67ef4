import { createInterface } from 'node:readline';
import { faultProxy } from '../fault-proxy.js';

/**
 * The fault proxy as a program, to run inside a host of a test cluster (`host.faultProxy()`):
 * `proxy-main.ts LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT`. It prints `LISTENING <port>`,
 * then reads one command a line from stdin — `latency MS`, `bandwidth BYTES_PER_S`, `stall`,
 * `resume`, `reset` — and answers each with `OK <command>`; it exits when stdin closes.
 */
const [listenHost, listenPort, targetHost, targetPort] = process.argv.slice(2);
if (targetHost === undefined || targetPort === undefined) {
  process.stderr.write('usage: proxy-main.ts LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT\n');
  process.exit(2);
}
const proxy = await faultProxy({ listen: { host: listenHost, port: Number(listenPort) }, target: { host: targetHost, port: Number(targetPort) } });
process.stdout.write(`LISTENING ${proxy.port}\n`);

const commands: Record<string, (arg: number) => void> = {
  latency: (ms) => proxy.latency(ms),
  bandwidth: (rate) => proxy.bandwidth(rate),
  stall: () => proxy.stall(),
  resume: () => proxy.resume(),
  reset: () => proxy.reset(),
};
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const [cmd = '', arg = '0'] = line.trim().split(/\s+/);
  const run = commands[cmd];
  if (run === undefined) process.stdout.write(`ERR unknown command ${cmd}\n`);
  else {
    run(Number(arg));
    process.stdout.write(`OK ${cmd}\n`);
  }
});
lines.on('close', () => void proxy.close().then(() => process.exit(0)));
