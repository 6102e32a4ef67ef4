/**
 * The Courier side of the SSH benchmark, in its own process (as the Erlang daemon is in its own
 * VM): a node whose SSH daemon serves `lists:seq/2` and `bench:big/1` over sshrpc.
 * `node --conditions=source --import tsx bench/ssh/courier-daemon.ts HOST_KEY AUTHORIZED_KEYS`
 * prints `READY <port>`.
 */
import { Node } from '@courier/core';
import { sshRpc } from '@courier/transport-ssh';

const [hostKey, authorizedKeys] = process.argv.slice(2) as [string, string];
const t = sshRpc({ hostKey, authorizedKeys, listen: { host: '127.0.0.1', port: 0 } });
const node = new Node({ name: 'bench_daemon@127.0.0.1', transports: [t] });
node.expose('lists', {
  seq(from, to) {
    const out: number[] = [];
    for (let i = from as number; i <= (to as number); i++) out.push(i);
    return out;
  },
});
node.expose('bench', { big: (n) => Buffer.alloc(n as number, 7) });
await node.start();
process.stdout.write(`READY ${t.port}\n`);
process.on('SIGTERM', () => void node.stop().then(() => process.exit(0)));
