import { Atom, Ref, Tuple, atoms, type Term } from '@courier/term';
import { refKey, type Process } from '@courier/core';
import { GEN_CALL, GNS, t } from './wire.js';

/**
 * gen_server:multi_call(Nodes, global_name_server, Req) with an infinite timeout, from a Courier
 * process: monitor `{global_name_server, Node}` on every node, send `{'$gen_call', {Self, {Tag,
 * Node}}, Req}`, and collect `{{Tag, Node}, Reply}` until each node has replied or its monitor
 * fired (a bad node), as OTP 25's stdlib does for `infinity`.
 */
export async function multiCall(self: Process, nodes: readonly Atom[], req: Term): Promise<{ replies: Array<[Atom, Term]>; bad: Atom[] }> {
  const tag = self.node.makeRef();
  const tagKey = refKey(tag);
  const byRef = new Map<string, Atom>();
  const byNode = new Map<Atom, Ref>();
  for (const node of nodes) {
    if (byNode.has(node)) continue;
    const mref = self.monitor(t(GNS, node));
    byRef.set(refKey(mref), node);
    byNode.set(node, mref);
    self.send(t(GNS, node), t(GEN_CALL, t(self.pid, t(tag, node)), req));
  }
  const replies: Array<[Atom, Term]> = [];
  const bad: Atom[] = [];
  while (byNode.size > 0) {
    const m = (await self.receive((x) => isReply(x, tagKey, byNode) || isDown(x, byRef))) as Tuple;
    if (m.elements[0] === atoms.DOWN) {
      const k = refKey(m.elements[1] as Ref);
      const node = byRef.get(k) as Atom;
      byRef.delete(k);
      byNode.delete(node);
      bad.push(node);
    } else {
      const node = (m.elements[0] as Tuple).elements[1] as Atom;
      const mref = byNode.get(node) as Ref;
      byNode.delete(node);
      byRef.delete(refKey(mref));
      self.demonitor(mref, { flush: true });
      replies.push([node, m.elements[1]]);
    }
  }
  return { replies, bad };
}

function isReply(x: Term, tagKey: string, waiting: Map<Atom, Ref>): boolean {
  if (!(x instanceof Tuple) || x.elements.length !== 2) return false;
  const tag = x.elements[0];
  if (!(tag instanceof Tuple) || tag.elements.length !== 2 || !(tag.elements[0] instanceof Ref)) return false;
  return refKey(tag.elements[0]) === tagKey && tag.elements[1] instanceof Atom && waiting.has(tag.elements[1]);
}

function isDown(x: Term, byRef: Map<string, Atom>): boolean {
  return x instanceof Tuple && x.elements.length === 5 && x.elements[0] === atoms.DOWN && x.elements[1] instanceof Ref && byRef.has(refKey(x.elements[1]));
}
