import { Node } from '@courier/core';
import { EpmdServer, ErlDistTransport } from '@courier/transport-tcp';
import type { Logger } from '@courier/core';

const quiet: Logger = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return quiet;
  },
};

/** Courier nodes on 127.0.0.1 over the Erlang distribution, with a private embedded EPMD. */
export async function cluster() {
  const epmd = new EpmdServer(quiet);
  const epmdPort = await epmd.listen(0, '127.0.0.1');
  const nodes: Node[] = [];
  return {
    epmdPort,
    async node(name: string, cookie = 'observer-test', log?: Logger): Promise<Node> {
      const t = new ErlDistTransport({
        cookie,
        hidden: false,
        epmd: { host: '127.0.0.1', port: epmdPort, embedded: false },
        listen: { host: '127.0.0.1' },
        handshakeTimeoutMs: 2000,
      });
      const n = new Node({ name, transports: [t], ...(log ? { log } : {}) });
      await n.start();
      nodes.push(n);
      return n;
    },
    async stop(): Promise<void> {
      for (const n of nodes) await n.stop().catch(() => undefined);
      await epmd.close();
    },
  };
}
