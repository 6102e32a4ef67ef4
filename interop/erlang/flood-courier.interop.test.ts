import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Node, Process } from '@courier/core';
import { Tuple, atom, type Term } from '@courier/term';
import { randomCookie } from '@courier/testkit';
import { startEchoNode, type EchoNodeProcess } from '../hostile/echo-node-process.js';
import { courierNode, erlPeer, inProcess, startEpmd, type Epmd } from './harness.js';

/**
 * The flood test of the hostile-peers issue with a Courier receiver that does not read: the echo
 * node as its own OS process, stopped with SIGSTOP (connected, reading nothing), and a Courier
 * sender (this process) sending it 1 MiB binaries. The sender's connection buffer stays bounded
 * (the busy limit parks the sending process); after SIGCONT every message is echoed back, in
 * order. The echo node's own replies cross the same kind of limit the other way.
 */
const MiB = 1024 * 1024;
const ECHO = atom('echo');

let epmd: Epmd;
let receiver: EchoNodeProcess | undefined;
let sender: Node | undefined;

beforeAll(async () => {
  if (!erlPeer.available) return; // the private epmd is OTP's
  epmd = await startEpmd();
  const cookie = randomCookie();
  receiver = await startEchoNode(['--name', `floodrx${process.pid}@127.0.0.1`, '--cookie', cookie], { ERL_EPMD_PORT: String(epmd.port) });
  sender = await courierNode(epmd, cookie);
}, 60_000);

afterAll(async () => {
  if (receiver !== undefined) process.kill(receiver.pid, 'SIGCONT');
  await sender?.stop();
  await receiver?.stop();
  await epmd?.stop();
});

describe('flood: 1 MiB binaries to a stopped Courier node', () => {
  it('the sending process is parked; its RSS stays bounded; after SIGCONT every message comes back, in order', async (ctx) => {
    erlPeer.require(ctx);
    const rx = receiver as EchoNodeProcess;
    const node = sender as Node;
    const dest = new Tuple([ECHO, atom(rx.name)]);
    expect(await node.connect(atom(rx.name))).toBe(true);
    const N = 48;
    const stopMs = 3000;
    let sent = 0;
    let sentWhileStopped = -1;
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    process.kill(rx.pid, 'SIGSTOP');
    // The replies that arrive after SIGCONT are mailbox memory, not the connection's: sample until then.
    const resume = setTimeout(() => {
      clearInterval(sampler);
      sentWhileStopped = sent;
      process.kill(rx.pid, 'SIGCONT');
    }, stopMs);
    const order: number[] = [];
    try {
      await inProcess(node, async (self: Process) => {
        for (let i = 1; i <= N; i++) {
          self.send(dest, new Tuple([self.pid, new Tuple([i, Buffer.alloc(MiB, i & 0xff)])]));
          sent = i;
          await self.yield();
        }
        for (let i = 1; i <= N; i++) {
          const m = await self.receive((x: Term) => x instanceof Tuple && x.elements[0] === atom('echo'), 20_000);
          const [n, bin] = ((m as Tuple).elements[1] as Tuple).elements as [number, Uint8Array];
          if (bin.length !== MiB || bin[MiB - 1] !== (n & 0xff)) throw new Error(`echo ${n} came back damaged`);
          order.push(n);
        }
      });
    } finally {
      clearTimeout(resume);
      clearInterval(sampler);
      process.kill(rx.pid, 'SIGCONT');
    }
    // Held back while the receiver read nothing: socket buffers and about the limit, not 48 MiB.
    expect(sentWhileStopped).toBeGreaterThan(0);
    expect(sentWhileStopped).toBeLessThan(N);
    expect(peak - rss0).toBeLessThan(MiB + 64 * MiB);
    expect(order).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(rx.running).toBe(true);
  }, 60_000);
});
