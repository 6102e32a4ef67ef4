import { Atom, Tuple, atoms, type Term } from '@courier/term';
import type { Pid } from '@courier/term';
import type { Process } from '@courier/core';
import { genReply } from '../services/erlang-services.js';
import { exchangeNames } from './resolve.js';
import type { GlobalTables } from './tables.js';
import { A, GEN_CAST, castGns, t } from './wire.js';

/**
 * The short-lived processes global's name server starts so that it never blocks: a resolver per
 * connect, a connector per newly known node, a syncer per global:sync call.
 */

/** start_resolver/2: resolves name conflicts for one connect, off the server. */
export function startResolver(server: Process, tables: GlobalTables, node: Atom, myTag: Term): Pid {
  const to = server.pid;
  return server.spawn(async (r) => {
    const m = (await r.receive((x) => x instanceof Tuple && x.elements.length === 3 && x.elements[0] === A.resolve && x.elements[2] === node)) as Tuple;
    const { ops, resolved } = await exchangeNames(r, tables, (m.elements[1] as Term[]) ?? [], node);
    r.send(to, t(GEN_CAST, t(A.exchangeOps, node, myTag, ops, resolved)));
  });
}

/** sync_others/1: connect to each node and tell it we are in sync (or report it down). */
export function syncOthers(server: Process, nodes: readonly Atom[]): void {
  const to = server.pid;
  for (const n of nodes) {
    server.spawn(async (p) => {
      if (await p.node.connect(n)) castGns(p, n, t(A.inSync, p.node.name, true));
      else {
        p.node.log.warn({ peer: n.name }, `global: failed to connect to ${n.name}`);
        p.send(to, t(A.extraNodedown, n));
      }
    });
  }
}

/** start_sync/2: a process, linked to the server, that answers `from` once every node is synced or down. */
export function startSync(server: Process, nodes: Atom[], from: Term): Pid {
  return server.spawnLink(async (p) => {
    let left = [...nodes];
    for (const n of left) p.monitorNode(n);
    while (left.length > 0) {
      const m = (await p.receive((x) => x instanceof Tuple && x.elements.length === 2 && (x.elements[0] === A.nodedown || x.elements[0] === A.synced))) as Tuple;
      const gone = m.elements[0] === A.nodedown ? [m.elements[1] as Atom] : (m.elements[1] as Atom[]);
      for (const n of gone) if (left.includes(n)) p.monitorNode(n, false);
      left = left.filter((n) => !gone.includes(n));
    }
    genReply(p, from, atoms.ok);
  });
}
