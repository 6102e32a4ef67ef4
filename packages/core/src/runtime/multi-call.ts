import { Atom, Ref, Tuple, atom, atoms, type Term } from '@courier/term';
import { asError } from './exit-reason.js';
import { refKey } from './keys.js';
import { TIMEOUT } from './mailbox.js';
import type { Node } from './node.js';
import type { Process } from './process.js';

/**
 * gen_server:multi_call/abcast, as gen_server.erl sends them: to `{Name, Node}` on every node,
 * the call `{'$gen_call', {Caller, {Tag, Node}}, Request}` with a monitor per node; a reply
 * `{{Tag, Node}, Reply}` makes the node a good one, a DOWN (no such name, node down) or the
 * timeout a bad one. OTP runs the collection in a middleman process when there is a timeout, so
 * that late replies die with it; Courier always does, so the caller needs no process at all.
 */
const GEN_CALL = atom('$gen_call');
const GEN_CAST = atom('$gen_cast');

/** What {@link multiCall} resolves with: the replies by node, and the nodes that gave none. */
export interface MultiCallResult {
  /** `[node, reply]` in the order of `nodes`. */
  readonly replies: ReadonlyArray<readonly [Atom, Term]>;
  /** Nodes that did not answer: no such name there, the node down, or the timeout. */
  readonly badNodes: readonly Atom[];
}

const toAtom = (x: Atom | string): Atom => (typeof x === 'string' ? atom(x) : x);

/** The node itself and every visible peer: gen_server's default `[node() | nodes()]`. */
function allNodes(node: Node): Atom[] {
  return [node.name, ...node.nodes('visible')];
}

/**
 * gen_server:multi_call(Nodes, Name, Request, Timeout). `nodes` defaults to this node and its
 * visible peers; `timeoutMs` to Infinity (OTP's `infinity`).
 */
export function multiCall(node: Node, name: Atom | string, request: Term, opts: { nodes?: ReadonlyArray<Atom | string>; timeoutMs?: number } = {}): Promise<MultiCallResult> {
  const targets = [...new Set((opts.nodes ?? allNodes(node)).map(toAtom))];
  const n = toAtom(name);
  const timeoutMs = opts.timeoutMs ?? Infinity;
  return new Promise((resolve, reject) => {
    node.spawn(
      (self) =>
        collect(self).then(resolve, (e: unknown) => {
          reject(asError(e, 'multi_call failed'));
          throw e;
        }),
      {},
    );
    async function collect(self: Process): Promise<MultiCallResult> {
      const tag = self.node.makeRef();
      const tagKey = refKey(tag);
      const pending = new Map<string, { node: Atom; mref: Ref }>();
      for (const target of targets) {
        const mref = self.monitor(new Tuple([n, target]));
        pending.set(refKey(mref), { node: target, mref });
        try {
          self.send(new Tuple([n, target]), new Tuple([GEN_CALL, new Tuple([self.pid, new Tuple([tag, target])]), request]));
        } catch {
          // No such local name: the monitor reports noproc.
        }
      }
      const byNode = new Map<Atom, string>();
      for (const [k, p] of pending) byNode.set(p.node, k);
      const replies = new Map<Atom, Term>();
      const bad = new Set<Atom>();
      /** `{{Tag, Node}, Reply}` for a node still pending, or a DOWN of one of the monitors. */
      const ours = (m: Term): boolean => {
        if (!(m instanceof Tuple)) return false;
        const [a, b] = m.elements;
        if (m.elements.length === 2 && a instanceof Tuple && a.elements.length === 2 && a.elements[0] instanceof Ref && refKey(a.elements[0]) === tagKey) {
          const k = byNode.get(a.elements[1] as Atom);
          return k !== undefined && pending.has(k);
        }
        return m.elements.length === 5 && a === atoms.DOWN && b instanceof Ref && pending.has(refKey(b));
      };
      const take = (m: Term): void => {
        const t = m as Tuple;
        if (t.elements.length === 2) {
          const at = (t.elements[0] as Tuple).elements[1] as Atom;
          const k = byNode.get(at) as string;
          self.demonitor((pending.get(k) as { mref: Ref }).mref, { flush: true });
          pending.delete(k);
          replies.set(at, t.elements[1]);
        } else {
          const k = refKey(t.elements[1] as Ref);
          bad.add((pending.get(k) as { node: Atom }).node);
          pending.delete(k);
        }
      };
      const deadline = performance.now() + timeoutMs;
      while (pending.size > 0) {
        const left = deadline - performance.now();
        const m = left <= 0 ? self.tryReceive(ours) : await self.receive(ours, left);
        if (m === TIMEOUT) break;
        take(m);
      }
      for (const p of pending.values()) {
        self.demonitor(p.mref, { flush: true });
        bad.add(p.node);
      }
      return {
        replies: targets.filter((t) => replies.has(t)).map((t) => [t, replies.get(t)] as const),
        badNodes: targets.filter((t) => bad.has(t) && !replies.has(t)),
      };
    }
  });
}

/** gen_server:abcast(Nodes, Name, Msg): `{'$gen_cast', Msg}` to `{Name, Node}` on every node, no answer. */
export function abcast(node: Node, name: Atom | string, msg: Term, nodes?: ReadonlyArray<Atom | string>): void {
  const n = toAtom(name);
  for (const target of (nodes ?? allNodes(node)).map(toAtom)) {
    try {
      node.send(new Tuple([n, target]), new Tuple([GEN_CAST, msg]));
    } catch {
      // abcast never fails, even for an unregistered local name.
    }
  }
}
