import { Atom, ErlExport, Pid, Tuple, atom, atoms, termEquals, termKey, type Term } from '@courier/term';
import { CallError, rpcCall, type Process } from '@courier/core';
import type { GlobalTables } from './tables.js';
import { A, GLOBAL, compareAtoms, t } from './wire.js';

/**
 * Name conflicts (global.erl's exchange_names/4 and resolve_it/4). When two partitions meet, the
 * node with the smaller name resolves each name both have for different pids: it asks the node of
 * its own pid to run that name's resolve method (`rpc:call(node(Pid2), global, resolve_it, …)`).
 * An Erlang fun cannot run on Courier, so for a pid on a Courier node the method is one of
 * global's three exported resolvers (`random_exit_name`, the default, `random_notify_name`,
 * `notify_all_name`) or a TypeScript function registered with the name (sent to other nodes as
 * `fun courier_global:resolve/3`, which an Erlang node cannot run either: it never needs to, as
 * the method always runs on the node of the registered pid). Any other fun resolves as OTP does
 * for a method that crashes: the name is unregistered everywhere.
 */
export type ResolveFn = (name: Term, pid1: Pid, pid2: Pid) => Pid | 'none' | Promise<Pid | 'none'>;

export const COURIER_RESOLVE = new ErlExport(atom('courier_global'), atom('resolve'), 3);
const RANDOM_EXIT_NAME = atom('random_exit_name');
const RANDOM_NOTIFY_NAME = atom('random_notify_name');
const NOTIFY_ALL_NAME = atom('notify_all_name');
const RPC_FOREVER_MS = 2 ** 31 - 1;

/** TypeScript resolve functions of names registered from this node, by name. */
export const tsResolvers = new WeakMap<GlobalTables, Map<string, ResolveFn>>();

/** minmax/2: the pid on the smaller node first (the second when both are on one node). */
function minmax(p1: Pid, p2: Pid): [Pid, Pid] {
  return compareAtoms(p1.node, p2.node) < 0 ? [p1, p2] : [p2, p1];
}

/** resolve_it/4 on this node: `catch Method(Name, Pid1, Pid2)`. */
export async function resolveIt(self: Process, tables: GlobalTables, method: Term, name: Term, pid1: Pid, pid2: Pid): Promise<Term> {
  if (method instanceof ErlExport && method.module === GLOBAL && method.arity === 3) {
    const [min, max] = minmax(pid1, pid2);
    if (method.fun === RANDOM_EXIT_NAME) {
      self.node.log.info({ name: String(name), pid: String(max) }, 'global: name conflict, terminating the process on the greater node');
      self.exit(max, atoms.kill);
      return min;
    }
    if (method.fun === RANDOM_NOTIFY_NAME) {
      self.send(max, t(A.globalNameConflict, name));
      return min;
    }
    if (method.fun === NOTIFY_ALL_NAME) {
      self.send(pid1, t(A.globalNameConflict, name, pid2));
      self.send(pid2, t(A.globalNameConflict, name, pid1));
      return A.none;
    }
  }
  if (method instanceof ErlExport && termEquals(method, COURIER_RESOLVE)) {
    const fn = tsResolvers.get(tables)?.get(termKey(name));
    if (fn !== undefined) {
      try {
        const r = await fn(name, pid1, pid2);
        return r === 'none' ? A.none : r;
      } catch (err) {
        self.node.log.warn({ err, name: String(name) }, 'global: the resolve function threw; the name is unregistered');
        return t(atoms.EXIT, t(atom('resolve_failed'), name));
      }
    }
  }
  self.node.log.warn({ name: String(name), method: String(method) }, 'global: cannot run this resolve method on a Courier node; the name is unregistered on every node');
  return t(atoms.EXIT, t(atom('badfun'), method));
}

/**
 * exchange_names/4: the operations for the names `node` sent, and those resolved here for the
 * other side (`Res`).
 */
export async function exchangeNames(self: Process, tables: GlobalTables, nameList: Term[], node: Atom): Promise<{ ops: Tuple[]; resolved: Tuple[] }> {
  const ops: Tuple[] = [];
  const res: Tuple[] = [];
  const me = self.node.name;
  for (const x of Array.isArray(nameList) ? nameList : []) {
    if (!(x instanceof Tuple) || x.elements.length !== 3 || !(x.elements[1] instanceof Pid)) continue;
    const [name, pid, method] = x.elements as [Term, Pid, Term];
    const mine = tables.lookup(name);
    if (mine === undefined) {
      ops.unshift(t(A.insert, t(name, pid, method)));
      continue;
    }
    if (termEquals(mine.pid, pid)) continue;
    // The other node solves the conflict.
    if (compareAtoms(me, node) >= 0) continue;
    const pid2 = mine.pid;
    let r: Term;
    try {
      r =
        pid2.node === me
          ? await resolveIt(self, tables, mine.method, name, pid, pid2)
          : await rpcCall(self, pid2.node, GLOBAL, atom('resolve_it'), [mine.method, name, pid, pid2], RPC_FOREVER_MS);
    } catch (err) {
      self.node.log.info({ err, name: String(name) }, 'global: badrpc when a conflicting name was found');
      r = err instanceof CallError ? t(atom('badrpc'), atom(err.code.toLowerCase())) : t(atom('badrpc'), atom('error'));
    }
    if (r instanceof Pid && termEquals(r, pid)) ops.unshift(t(A.insert, t(name, pid, method)));
    else if (r instanceof Pid && termEquals(r, pid2)) res.unshift(t(A.insert, t(name, pid2, mine.method)));
    else if (r === A.none) {
      const op = t(A.delete, name);
      ops.unshift(op);
      res.unshift(op);
    } else if (r instanceof Tuple && r.elements[0] === atom('badrpc')) {
      ops.unshift(t(A.insert, t(name, pid, method)));
    } else {
      self.node.log.info({ name: String(name), result: String(r) }, 'global: the resolve method returned neither pid; the name is unregistered');
      const op = t(A.delete, name);
      ops.unshift(op);
      res.unshift(op);
    }
  }
  return { ops, resolved: res };
}
