import { Atom, Tuple, type Term } from '@courier/term';
import { PGPV_VSN, VSN, t } from './wire.js';

/**
 * The nodes global knows, with their protocol version (global.erl's `known` map: `Node => Vsn`,
 * and `{pending, Node} => Vsn` for a node whose connect is under way), and the lists made of them
 * for the wire (mk_known_list/2, make_node_vsn_list/2, add_to_known/2).
 */
export class KnownNodes {
  /** Known nodes and their protocol version (0: not yet known). */
  readonly versions = new Map<Atom, number>();
  /** Nodes being connected (init_connect received), by the version they said. */
  readonly pending = new Map<Atom, number>();

  constructor(private readonly self: Atom) {}

  names(): Atom[] {
    return [...this.versions.keys()];
  }

  potentiallyKnown(node: Atom): boolean {
    return this.versions.has(node) || this.pending.has(node);
  }

  nodeVsn(node: Atom): number {
    if (node === this.self) return VSN;
    return this.versions.get(node) ?? this.pending.get(node) ?? 0;
  }

  /** mk_known_list/2: `{Node, Vsn}` pairs for version 7+, bare nodes before. */
  mkKnownList(vsn: number): Term[] {
    return vsn < PGPV_VSN ? this.names() : [...this.versions].map(([n, v]) => t(n, v));
  }

  makeNodeVsnList(list: Term[]): Tuple[] {
    const out: Tuple[] = [];
    for (const x of list) {
      if (x instanceof Atom) out.push(t(x, this.nodeVsn(x)));
      else if (x instanceof Tuple && x.elements[0] instanceof Atom) {
        const v = x.elements[1];
        out.push(v === 0 || typeof v !== 'number' ? t(x.elements[0], this.nodeVsn(x.elements[0])) : x);
      }
    }
    return out;
  }

  /** add_to_known/2: the nodes that were not known before. */
  addToKnown(list: Term[]): Atom[] {
    const added: Atom[] = [];
    for (const x of list) {
      const [n, v] = x instanceof Atom ? [x, 0] : x instanceof Tuple && x.elements[0] instanceof Atom ? [x.elements[0], x.elements[1]] : [undefined, undefined];
      if (n === undefined || n === this.self) continue;
      const vn = typeof v === 'number' ? v : 0;
      const cur = this.versions.get(n);
      if (cur === undefined) {
        added.unshift(n);
        this.versions.set(n, vn);
      } else if (cur < 0) {
        this.versions.set(n, vn);
      }
    }
    return added;
  }
}

/** node_list/1: the nodes of a list of nodes and `{Node, Vsn}` pairs. */
export function nodeList(list: Term[]): Atom[] {
  const out: Atom[] = [];
  for (const x of list) {
    if (x instanceof Atom) out.push(x);
    else if (x instanceof Tuple && x.elements[0] instanceof Atom) out.push(x.elements[0]);
  }
  return out;
}
