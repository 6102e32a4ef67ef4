import { Atom, ErlExport, Pid, Tuple, atom, type Term } from '@courier/term';
import type { Node, Process } from '@courier/core';

/**
 * The atoms, message shapes and small helpers of OTP 25's `global` protocol (kernel's global.erl,
 * protocol version 8), shared by the name server, the locker, the registrar and the resolver.
 */
export const VSN = 8;
/** "verify connection" (init_connect_ack, cancel_connect) since this version. */
export const VERIFY_CONNECT_VSN = 8;
/** "prevent overlapping partitions" (lost_connection, remove_connection) since this version. */
export const POP_VSN = 7;
/** Known lists carry `{Node, Vsn}` pairs since this version. */
export const PGPV_VSN = 7;

export const GNS = atom('global_name_server');
export const GLOBAL = atom('global');
export const GEN_CALL = atom('$gen_call');
export const GEN_CAST = atom('$gen_cast');
export const A = {
  initConnect: atom('init_connect'),
  initConnectAck: atom('init_connect_ack'),
  cancelConnect: atom('cancel_connect'),
  locker: atom('locker'),
  noLongerAPid: atom('no_longer_a_pid'),
  lockIsSet: atom('lock_is_set'),
  lockSet: atom('lock_set'),
  exchange: atom('exchange'),
  exchangeOps: atom('exchange_ops'),
  resolved: atom('resolved'),
  resolve: atom('resolve'),
  newNodes: atom('new_nodes'),
  inSync: atom('in_sync'),
  synced: atom('synced'),
  register: atom('register'),
  registerExt: atom('register_ext'),
  unregister: atom('unregister'),
  registrar: atom('registrar'),
  setLock: atom('set_lock'),
  delLock: atom('del_lock'),
  getKnown: atom('get_known'),
  getSynced: atom('get_synced'),
  sync: atom('sync'),
  getProtocolVersion: atom('get_protocol_version'),
  getNamesExt: atom('get_names_ext'),
  insert: atom('insert'),
  delete: atom('delete'),
  unused: atom('unused'),
  vsn: atom('vsn'),
  lock: atom('lock'),
  lostConnection: atom('lost_connection'),
  removeConnection: atom('remove_connection'),
  whereis: atom('whereis'),
  asyncDelName: atom('async_del_name'),
  asyncDelLock: atom('async_del_lock'),
  nodeup: atom('nodeup'),
  nodedown: atom('nodedown'),
  extraNodedown: atom('extra_nodedown'),
  connectionId: atom('connection_id'),
  hisTheLocker: atom('his_the_locker'),
  cancel: atom('cancel'),
  noFun: atom('no_fun'),
  addToKnown: atom('add_to_known'),
  removeFromKnown: atom('remove_from_known'),
  transAllKnown: atom('trans_all_known'),
  globalNameConflict: atom('global_name_conflict'),
  none: atom('none'),
  yes: atom('yes'),
  no: atom('no'),
  disconnect: atom('disconnect'),
} as const;

/** `fun global:random_exit_name/3`, the default resolve method, as an Erlang node stores it. */
export const RANDOM_EXIT_NAME = new ErlExport(GLOBAL, atom('random_exit_name'), 3);

export function t(...e: Term[]): Tuple {
  return new Tuple(e);
}

const utf8 = new TextEncoder();

/** Erlang's order on atoms: by the bytes of their UTF-8 text (so not JavaScript's UTF-16 order). */
export function compareAtoms(a: Atom, b: Atom): number {
  if (a === b) return 0;
  const x = utf8.encode(a.name);
  const y = utf8.encode(b.name);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  return x.length - y.length;
}

/** `lists:max(Nodes)`: the node every locker locks first (the "boss"). */
export function theBoss(nodes: readonly Atom[]): Atom {
  let max = nodes[0] as Atom;
  for (const n of nodes) if (compareAtoms(n, max) > 0) max = n;
  return max;
}

/**
 * `lists:sort([P1, P2])`, which the lockers' common lock id is made of: Erlang orders pids by serial,
 * then number, then node name, then creation (checked against OTP 25 with crafted external pids).
 */
export function sortPids(a: Pid, b: Pid): [Pid, Pid] {
  let c = a.serial - b.serial;
  if (c === 0) c = a.id - b.id;
  if (c === 0) c = compareAtoms(a.node, b.node);
  if (c === 0) c = a.creation - b.creation;
  return c <= 0 ? [a, b] : [b, a];
}

/** gen_server:cast({global_name_server, Node}, Msg). */
export function castGns(self: Process, node: Atom, msg: Term): void {
  self.send(t(GNS, node), t(GEN_CAST, msg));
}

/**
 * `erlang:send({global_name_server, Node}, Msg, [noconnect])`: sent only over a connection that is
 * up; never dials (global's "volatile" sends).
 */
export function volatileSend(self: Process, node: Atom, msg: Term): void {
  if (node === self.node.name || self.node.dist.isUp(node)) self.send(t(GNS, node), msg);
}

/** The node a process runs on. */
export function nodeOf(p: Pid): Atom {
  return p.node;
}

export function isNodeUp(node: Node, peer: Atom): boolean {
  return peer === node.name || node.dist.isUp(peer);
}
