import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallError, rpcCall, type Node } from '@courier/core';
import { atom } from '@courier/term';
import { randomCookie, type ErlNode } from '@courier/testkit';
import { courierNode, erlNode, erlPeer, inProcess, startEpmd, type Epmd } from './harness.js';

/**
 * rpcCall against a real OTP node when it times out (erpc.erl's semantics): the late result is
 * never delivered and no DOWN stays in the caller's mailbox, and a call in time works from a
 * process with a long mailbox.
 */
let epmd: Epmd;
let c: Node;
let e: ErlNode;
let E: ReturnType<typeof atom>;

beforeAll(async () => {
  if (!erlPeer.available) return;
  epmd = await startEpmd();
  const cookie = randomCookie();
  c = await courierNode(epmd, cookie);
  e = await erlNode(epmd, cookie);
  E = atom(e.node as string);
}, 60_000);

afterAll(async () => {
  await c?.stop();
  await e?.stop();
  await epmd?.stop();
});

describe('rpcCall to erl: timeouts', () => {
  it('timer:sleep(300) with a 50 ms timeout: TIMEOUT, and nothing arrives once the remote call ends', async (ctx) => {
    erlPeer.require(ctx);
    const r = await inProcess(c, async (self) => {
      const err = await rpcCall(self, E, atom('timer'), atom('sleep'), [300], 50).catch((x: unknown) => x);
      await self.sleep(450);
      // A round trip over the same connection: whatever erl sent before it is here now.
      expect(await rpcCall(self, E, atom('erlang'), atom('node'), [], 5000)).toBe(E);
      return { err, left: self.mailbox.peek(), monitors: self.monitors?.size ?? 0 };
    });
    expect(r.err).toBeInstanceOf(CallError);
    expect((r.err as CallError).code).toBe('TIMEOUT');
    expect(r.left).toEqual([]);
    expect(r.monitors).toBe(0);
  });

  it('a call in time from a process with 100,000 queued messages', async (ctx) => {
    erlPeer.require(ctx);
    const v = await inProcess(c, async (self) => {
      for (let i = 0; i < 100_000; i++) self.send(self.pid, i);
      const node = await rpcCall(self, E, atom('erlang'), atom('node'), [], 5000);
      expect(self.mailbox.length).toBe(100_000);
      return node;
    });
    expect(v).toBe(E);
  });
});
