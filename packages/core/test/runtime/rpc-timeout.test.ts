import { afterEach, describe, expect, it } from 'vitest';
import { CallError, Node, rpcCall, type DistOp, type Process } from '@courier/core';
import { MemoryNetwork, memoryDist } from '@courier/transport-memory';
import { atom, type Term } from '@courier/term';

let made: Node[] = [];

afterEach(async () => {
  for (const n of made) await n.stop();
  made = [];
});

async function pair(): Promise<{ a: Node; b: Node; ran: Term[] }> {
  const network = new MemoryNetwork();
  const start = async (name: string): Promise<Node> => {
    const n = new Node({ name, transports: [memoryDist({ network, cookie: 'c' })] });
    made.push(n);
    return n.start();
  };
  const a = await start('a@h');
  const b = await start('b@h');
  const ran: Term[] = [];
  b.expose('slow', {
    async sleep(this: Process, ms: Term) {
      await this.sleep(ms as number);
      ran.push(atom('done'));
      return atom('late');
    },
    now() {
      ran.push(atom('now'));
      return atom('now');
    },
  });
  return { a, b, ran };
}

/** Run `body` in a process of `node` and hand back its result and its mailbox afterwards. */
function inNode<T>(node: Node, body: (self: Process) => Promise<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    node.spawn(async (self) => {
      await body(self).then(resolve, reject);
    });
  });
}

const until = async (cond: () => boolean, what: string): Promise<void> => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > 3000) throw new Error(`no ${what} within 3 s`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('rpcCall timeouts (erpc.erl): the late reply is not delivered, no DOWN is left behind', () => {
  it('a function that answers after the timeout', async () => {
    const { a, b, ran } = await pair();
    const r = await inNode(a, async (self) => {
      const err = await rpcCall(self, b.name, 'slow', 'sleep', [150], 30).catch((e: unknown) => e);
      const atTimeout = self.mailbox.peek();
      await until(() => ran.length === 1, 'remote result');
      // One more round trip over the same connection: whatever the remote end sent is here now.
      expect(await rpcCall(self, b.name, 'slow', 'now', [], 2000)).toBe(atom('now'));
      return { err, atTimeout, after: self.mailbox.peek(), monitors: self.monitors?.size ?? 0 };
    });
    expect(r.err).toBeInstanceOf(CallError);
    expect((r.err as CallError).code).toBe('TIMEOUT');
    expect(r.atTimeout).toEqual([]);
    expect(r.after).toEqual([]);
    expect(r.monitors).toBe(0);
  });

  it('a spawn reply that comes after the timeout: the request is abandoned, its DOWN never arrives', async () => {
    const { a, b, ran } = await pair();
    await a.connect(b.name);
    // b handles the spawn request 100 ms late: the rpc times out while its spawn is outstanding.
    const route = b.route.bind(b);
    b.route = (op: DistOp, peer) => {
      if (op.op === 'spawn_request') setTimeout(() => route(op, peer), 100);
      else route(op, peer);
    };
    const r = await inNode(a, async (self) => {
      const err = await rpcCall(self, b.name, 'slow', 'sleep', [0], 20).catch((e: unknown) => e);
      await until(() => ran.length === 1, 'the remote call to run');
      b.route = route;
      expect(await rpcCall(self, b.name, 'slow', 'now', [], 2000)).toBe(atom('now'));
      return { err, after: self.mailbox.peek(), monitors: self.monitors?.size ?? 0 };
    });
    expect((r.err as CallError).code).toBe('TIMEOUT');
    expect(r.after).toEqual([]);
    expect(r.monitors).toBe(0);
  });

  it('a call in time still returns its value, from a process with a backlog', async () => {
    const { a, b } = await pair();
    const v = await inNode(a, async (self) => {
      for (let i = 0; i < 1000; i++) self.send(self.pid, i);
      const got = await rpcCall(self, b.name, 'slow', 'sleep', [5], 2000);
      expect(self.mailbox.length).toBe(1000);
      return got;
    });
    expect(v).toBe(atom('late'));
  });
});
