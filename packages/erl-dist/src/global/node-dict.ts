import { atoms, type Atom, type Term } from '@courier/term';

/**
 * The per-node connection state that global.erl keeps in the name server's process dictionary
 * (`{sync_tag_my, Node}`, `{sync_tag_his, Node}`, `{pre_connect, Node}`, `{wait_lock, Node}`,
 * `{save_ops, Node}`, `{prot_vsn, Node}`, `{lock_id, Node}`), one entry a node, erased by
 * reset_node_state/1. Read and written by the connection algorithm (connect.ts) only.
 */
export interface NodeDict {
  /** Our tag for the connect under way (`sync_tag_my`). */
  syncTagMy?: Term;
  /** The other node's tag for it (`sync_tag_his`). */
  syncTagHis?: Term;
  /** An init_connect that came before our nodeup, sent again at the nodeup (`pre_connect`). */
  preConnect?: { vsn: number; initMsg: Term; hisTag: Term };
  /** The names the other side sent before our lock was set, or `lock_is_set` (`wait_lock`). */
  waitLock?: { exchange: Term } | 'lock_is_set';
  /** Our resolver's ops, or the other side's `resolved` that came first (`save_ops`). */
  saveOps?: Term[] | { hisKnown: Term; namesExt: Term; hisResolved: Term[] };
  /** The protocol version both sides speak (`prot_vsn`). */
  protVsn?: number;
  /** The lock id the lockers set (`lock_id`). */
  lockId?: Term;
}

/** The process dictionary's per-node entries, by node. */
export class NodeDicts {
  private readonly dict = new Map<Atom, NodeDict>();

  /** The node's entry, made (empty) when it has none. */
  of(node: Atom): NodeDict {
    let x = this.dict.get(node);
    if (x === undefined) this.dict.set(node, (x = {}));
    return x;
  }

  /** The node's entry, if it has one (none is made). */
  get(node: Atom): NodeDict | undefined {
    return this.dict.get(node);
  }

  /** get({sync_tag_my, Node}): the atom `undefined` when there is none. */
  tagMy(node: Atom): Term {
    return this.dict.get(node)?.syncTagMy ?? atoms.undefined;
  }

  /** get({sync_tag_his, Node}): the atom `undefined` when there is none. */
  tagHis(node: Atom): Term {
    return this.dict.get(node)?.syncTagHis ?? atoms.undefined;
  }

  /** reset_node_state/1: the node's entries are erased. */
  reset(node: Atom): void {
    this.dict.delete(node);
  }
}
