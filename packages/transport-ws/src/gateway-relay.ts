import { Atom, Pid, Tuple, atom, type Term } from '@courier/term';
import { TIMEOUT, type Node } from '@courier/core';

const CALL = atom('call');
const RELAY = atom('relay');

/**
 * The gateway's relay: a node that dials only a gateway (a browser node) cannot reach the rest of
 * the cluster directly — Erlang distribution is one hop, and the cluster cannot dial back into a
 * page. `{relay, Gateway} ! {call, Caller, Node, Name, Request}` sends `{Proxy, Request}` to
 * `{Name, Node}` (the `{From, Request}` convention) from a proxy process on the gateway, which
 * forwards the first reply to `Caller` and ends (after `timeoutMs` without one, silently).
 */
export function startGatewayRelay(node: Node, opts: { readonly name?: Atom; readonly timeoutMs?: number } = {}): Pid {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return node.spawn(
    async (self) => {
      for (;;) {
        const m = await self.receive();
        if (!(m instanceof Tuple) || m.elements.length !== 5 || m.elements[0] !== CALL) continue;
        const [, caller, toNode, toName, request] = m.elements as [Term, Term, Term, Term, Term];
        if (!(toNode instanceof Atom) || !(toName instanceof Atom) || !(caller instanceof Pid)) continue;
        self.spawn(async (proxy) => {
          proxy.send({ name: toName, node: toNode }, new Tuple([proxy.pid, request]));
          const reply = await proxy.receive(undefined, timeoutMs);
          if (reply !== TIMEOUT) proxy.send(caller, reply);
        });
      }
    },
    { name: opts.name ?? RELAY },
  );
}
