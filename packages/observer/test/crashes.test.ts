import { afterEach, describe, expect, it } from 'vitest';
import { atom, type Term } from '@courier/term';
import { RpcError, rpcCall, type Node } from '@courier/core';
import { Sampler } from '../src/sampler.js';
import { cluster } from './cluster.js';

/** Runs `rpcCall` from a process on `from` and settles with its value or error. */
function call(from: Node, to: string, fun: string, args: Term[]): Promise<Term> {
  return new Promise((resolve, reject) => {
    from.spawn(async (self) => {
      await rpcCall(self, to, 'obs', fun, args).then(resolve, reject);
    });
  });
}

describe('what the observer counts as a crash', () => {
  let done: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const d of done.reverse()) await d();
    done = [];
  });

  it('a successful rpc call is not a crash; a failing one is, with its reason printed as Erlang would', async () => {
    const c = await cluster();
    done.push(() => c.stop());
    const a = await c.node('crash_a@localhost');
    const b = await c.node('crash_b@localhost');
    a.expose('obs', {
      ok: () => [{ a: 1 }, 'x'],
      boom: () => {
        throw new Error('asked to fail');
      },
    });
    const sampler = new Sampler(a, undefined);
    done.push(() => Promise.resolve(sampler.close()));

    // The erpc worker on `a` exits with {Ref, return, Value}: how erpc delivers a result, not a crash.
    for (let i = 0; i < 3; i++) await expect(call(b, 'crash_a@localhost', 'ok', [])).resolves.toHaveLength(2);
    expect(sampler.crashes).toBe(0);
    expect(sampler.timeline.filter((e) => e.kind === 'crash')).toEqual([]);

    await expect(call(b, 'crash_a@localhost', 'boom', [])).rejects.toBeInstanceOf(RpcError);
    await new Promise((r) => setTimeout(r, 50));
    expect(sampler.crashes).toBe(1);
    const [crash] = sampler.timeline.filter((e) => e.kind === 'crash');
    expect(crash?.detail).not.toContain('[object Object]');
    expect(crash?.detail).toMatch(/^\{#Ref<[^>]+>,error,/);

    // A map inside an exit reason prints as an Erlang map, not [object Object].
    const pid = a.spawn(async (self) => {
      await self.receive();
      self.exit([{ why: atom('bad') }]);
    });
    a.send(pid, atom('go'));
    const deadline = Date.now() + 5000;
    while (sampler.crashes < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(sampler.timeline.at(-1)?.detail).toBe('[#{why => bad}]');
  });
});
