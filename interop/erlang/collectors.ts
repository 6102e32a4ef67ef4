import { expect } from 'vitest';
import { rpcCall, type Node, type Process } from '@courier/core';
import { Tuple, atom, type Atom } from '@courier/term';
import { inProcess, randomCookie, type ErlNode } from '@courier/testkit';
import type { ErlDistOptions } from '@courier/transport-tcp';
import { courierNode, erlNode, startEpmd, type Epmd } from './harness.js';

/**
 * A Courier node connected to a real `erl` that runs `courier_peer` collectors (fixtures): each
 * collector counts the `{_, I}` messages it gets and checks I = 1, 2, 3… The flood and busy-limit
 * tests stop that erl with SIGSTOP and read the collectors afterwards.
 */
export class CollectorPair {
  private constructor(
    private readonly epmd: Epmd,
    readonly courier: Node,
    readonly erl: ErlNode,
    readonly erlName: Atom,
  ) {}

  static async start(sinks: readonly string[], opts: Partial<ErlDistOptions> = {}): Promise<CollectorPair> {
    const epmd = await startEpmd();
    const cookie = randomCookie();
    const courier = await courierNode(epmd, cookie, opts);
    const starts = sinks.map((n) => `courier_peer:start_collector(${n})`).join(', ');
    const erl = await erlNode(epmd, cookie, { eval: `${starts}, io:format("UP~n").` });
    const erlName = atom(erl.node as string);
    expect(await courier.connect(erlName)).toBe(true);
    return new CollectorPair(epmd, courier, erl, erlName);
  }

  /** The collector's {Count, InOrder}. */
  async collected(sink: string): Promise<[number, boolean]> {
    const r = await inProcess(this.courier, (self: Process) => rpcCall(self, this.erlName, atom('courier_peer'), atom('collect'), [atom(sink), 5000], 10_000));
    const [count, ok] = (r as Tuple).elements;
    return [count as number, ok === true];
  }

  async stop(): Promise<void> {
    await this.courier.stop();
    await this.erl.stop();
    await this.epmd.stop();
  }
}
