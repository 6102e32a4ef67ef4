import { Atom, Ref, Tuple, atom, atoms, listItems, type Term } from '@courier/term';
import { CallError, CourierError } from '../errors.js';
import { applyExposed, type Outcome } from './exposed.js';
import { TIMEOUT } from './mailbox.js';
import type { Node } from './node.js';
import type { Process } from './process.js';
import { refKey } from './keys.js';
import { monotonicNow, startTimeout, stopTimeout, type TimeoutHandle } from './timers.js';

/**
 * erpc, both ways. Every node exposes the `erpc` module (`execute_call/4`, `execute_cast/3`),
 * which is what Erlang's rpc:call and erpc:call spawn on the target node (OTP 23+): the spawned
 * process runs the function and exits with `{Ref, return, Value}` (or throw/exit/error), which
 * reaches the caller through the monitor set up by spawn_request. `rpcCall` does the same from
 * Courier to any node, Erlang or Courier.
 */
const RETURN = atom('return');
const THROW = atom('throw');
const ERROR = atom('error');
const EXIT = atom('exit');
const ERPC = atom('erpc');
const EXECUTE_CALL = atom('execute_call');
const EXECUTE_CAST = atom('execute_cast');

/** The remote function failed: `kind` is the Erlang class, `reason` the term. */
export class RpcError extends CourierError {
  constructor(
    readonly kind: 'error' | 'throw' | 'exit',
    readonly reason: Term,
    readonly erlangStack: Term = [],
  ) {
    super(`RPC_${kind.toUpperCase()}`, `remote call raised ${kind}: ${String(reason)}`);
    this.name = 'RpcError';
  }
}

/** The reply an erpc request gets, `{Ref, return|throw|exit, Value}`, for an outcome. */
export function erpcResult(ref: Term, o: Outcome): Tuple {
  switch (o.kind) {
    case 'return':
      return new Tuple([ref, RETURN, o.value]);
    case 'throw':
      return new Tuple([ref, THROW, o.value]);
    case 'exit':
      return new Tuple([ref, EXIT, o.reason]);
    case 'error':
      return new Tuple([ref, ERROR, o.reason, o.stack]);
  }
}

/**
 * Exposes the `erpc` module on a node (`execute_call`, `execute_cast`), which Erlang's `erpc:call` and
 * `rpc:call` reach, so that Erlang peers can call the node's exposed modules.
 */
export function installErpc(node: Node): void {
  node.expose(
    ERPC,
    {
      async execute_call(this: Process, ref: Term, m: Term, f: Term, a: Term) {
        const o = await applyExposed(node.exposed, this, m as Atom, f as Atom, listItems(a) ?? []);
        this.exit(erpcResult(ref, o));
      },
      async execute_cast(this: Process, m: Term, f: Term, a: Term) {
        const o = await applyExposed(node.exposed, this, m as Atom, f as Atom, listItems(a) ?? []);
        if (o.kind !== 'return') node.log.warn({ module: String(m), fun: String(f), outcome: o.kind }, 'erpc cast failed');
      },
    },
    { internal: true },
  );
}

/**
 * erpc:call(Node, M, F, Args, Timeout) from a Courier process. Returns the value; throws RpcError
 * when the function raised, CallError NOCONNECTION when the node cannot be reached, TIMEOUT after
 * `timeoutMs`, and EXIT when the remote process died otherwise.
 *
 * As erpc.erl: on a timeout the spawn request is abandoned or the monitor removed, so a late
 * result is never delivered and no DOWN is left in the mailbox (the remote process runs on); a
 * result that arrived just before the timeout is returned. The wait uses the request's receive
 * marker, so a long mailbox does not slow it.
 */
export async function rpcCall(self: Process, node: Atom | string, module: Atom | string, fun: Atom | string, args: Term[], timeoutMs = 5000): Promise<Term> {
  const n = typeof node === 'string' ? atom(node) : node;
  const m = typeof module === 'string' ? atom(module) : module;
  const f = typeof fun === 'string' ? atom(fun) : fun;
  const res = self.node.makeRef();
  // The request id is the monitor's ref: made by the process, so the DOWN is received from its marker on.
  const reqId = self.makeRef();
  const deadline = monotonicNow() + timeoutMs;
  const isDown = (x: Term): boolean =>
    x instanceof Tuple && x.elements.length === 5 && x.elements[0] === atoms.DOWN && x.elements[1] instanceof Ref && refKey(x.elements[1]) === refKey(reqId);
  const timedOut = (): never => {
    throw new CallError('TIMEOUT', `rpc ${m.name}:${f.name} on ${n.name} timed out after ${timeoutMs} ms`);
  };
  let timer: TimeoutHandle | undefined;
  try {
    const spawned = self.node.spawnRequest(self, n, ERPC, EXECUTE_CALL, [res, m, f, args], { monitor: true }, reqId);
    const expired = new Promise<typeof TIMEOUT>((resolve) => {
      timer = startTimeout(() => resolve(TIMEOUT), timeoutMs);
    });
    if ((await self.untilExit(Promise.race([spawned, expired]))) === TIMEOUT && self.node.spawnRequestAbandon(reqId)) timedOut();
  } catch (err) {
    if (err instanceof CourierError && String((err as { reason?: unknown }).reason) === 'noconnection') {
      throw new CallError('NOCONNECTION', `cannot reach ${n.name}`, atoms.noconnection);
    }
    throw err;
  } finally {
    if (timer !== undefined) stopTimeout(timer);
  }
  let down = await self.receiveRef(reqId, isDown, Math.max(0, deadline - monotonicNow()));
  if (down === TIMEOUT) {
    // Still monitored: the result is not here and never will be. Else the DOWN came meanwhile: use it.
    if (self.demonitor(reqId, { flush: true })) timedOut();
    down = await self.receiveRef(reqId, isDown, 0);
    if (down === TIMEOUT) timedOut();
  }
  const reason = (down as Tuple).elements[4];
  if (reason === atoms.noconnection) throw new CallError('NOCONNECTION', `lost the connection to ${n.name} during the call`, reason);
  if (reason instanceof Tuple && reason.elements.length >= 3 && reason.elements[0] instanceof Ref && refKey(reason.elements[0]) === refKey(res)) {
    const cls = reason.elements[1];
    if (cls === RETURN) return reason.elements[2];
    if (cls === THROW) throw new RpcError('throw', reason.elements[2]);
    if (cls === EXIT) throw new RpcError('exit', reason.elements[2]);
    if (cls === ERROR) throw new RpcError('error', reason.elements[2], reason.elements[3] ?? []);
  }
  throw new CallError('EXIT', `the rpc process on ${n.name} exited: ${String(reason)}`, reason);
}

/** erpc:cast: run M:F(Args) on `node`, no answer. */
export function rpcCast(self: Process, node: Atom | string, module: Atom | string, fun: Atom | string, args: Term[]): void {
  const n = typeof node === 'string' ? atom(node) : node;
  const m = typeof module === 'string' ? atom(module) : module;
  const f = typeof fun === 'string' ? atom(fun) : fun;
  self.spawnRemote(n, ERPC, EXECUTE_CAST, [m, f, args]).catch(() => undefined);
}

const OK = atom('ok');
const ERPC_TAG = atom('erpc');
const EXCEPTION = atom('exception');
const SIGNAL = atom('signal');
const BADRPC = atom('badrpc');
const TIMEOUT_ATOM = atom('timeout');
const NOCONNECTION = atom('noconnection');

/**
 * erpc:multicall(Nodes, M, F, Args, Timeout) from a Courier process: the call runs on every node
 * at once (one helper process each) and the result is one Erlang term per node, in `nodes` order,
 * shaped as erpc's: `{ok, Value}`, `{throw, Value}`, `{exit, {exception, Reason}}`,
 * `{error, {exception, Reason, Stack}}`, `{exit, {signal, Reason}}` (the process died otherwise),
 * `{error, {erpc, noconnection}}`, `{error, {erpc, timeout}}`.
 */
export async function multicall(self: Process, nodes: readonly (Atom | string)[], module: Atom | string, fun: Atom | string, args: Term[], timeoutMs = 5000): Promise<Tuple[]> {
  self.check();
  const node = self.node;
  return Promise.all(
    nodes.map(
      (n) =>
        new Promise<Tuple>((resolve) => {
          node.spawn(async (helper) => {
            try {
              resolve(new Tuple([OK, await rpcCall(helper, n, module, fun, args, timeoutMs)]));
            } catch (err) {
              resolve(erpcOutcome(err));
            }
          });
        }),
    ),
  );
}

function erpcOutcome(err: unknown): Tuple {
  if (err instanceof RpcError) {
    if (err.kind === 'throw') return new Tuple([THROW, err.reason]);
    if (err.kind === 'exit') return new Tuple([EXIT, new Tuple([EXCEPTION, err.reason])]);
    return new Tuple([ERROR, new Tuple([EXCEPTION, err.reason, err.erlangStack])]);
  }
  if (err instanceof CallError) {
    if (err.code === 'TIMEOUT') return new Tuple([ERROR, new Tuple([ERPC_TAG, TIMEOUT_ATOM])]);
    if (err.code === 'NOCONNECTION') return new Tuple([ERROR, new Tuple([ERPC_TAG, NOCONNECTION])]);
    return new Tuple([EXIT, new Tuple([SIGNAL, (err.reason as Term | undefined) ?? atoms.undefined])]);
  }
  throw err;
}

/**
 * rpc:multicall(Nodes, M, F, Args, Timeout) from a Courier process: `{results, badNodes}` as
 * OTP's rpc builds them from erpc:multicall (rpc.erl, rpcmulticallify): a node that could not be
 * reached or timed out goes to `badNodes`; the others give their value, a thrown value as is,
 * an exception as `{badrpc, {'EXIT', …}}`, in node order.
 */
export async function rpcMulticall(
  self: Process,
  nodes: readonly (Atom | string)[],
  module: Atom | string,
  fun: Atom | string,
  args: Term[],
  timeoutMs = 5000,
): Promise<{ results: Term[]; badNodes: Atom[] }> {
  const all = await multicall(self, nodes, module, fun, args, timeoutMs);
  const results: Term[] = [];
  const badNodes: Atom[] = [];
  all.forEach((r, i) => {
    const [cls, v] = r.elements as [Atom, Term];
    const n = nodes[i] as Atom | string;
    if (cls === OK) {
      results.push(v instanceof Tuple && v.elements[0] === atoms.EXIT && v.elements.length === 2 ? new Tuple([BADRPC, v]) : v);
    } else if (cls === ERROR && v instanceof Tuple && v.elements[0] === ERPC_TAG && (v.elements[1] === TIMEOUT_ATOM || v.elements[1] === NOCONNECTION)) {
      badNodes.push(typeof n === 'string' ? atom(n) : n);
    } else if (cls === THROW) {
      results.push(v instanceof Tuple && v.elements[0] === atoms.EXIT && v.elements.length === 2 ? new Tuple([BADRPC, v]) : v);
    } else {
      // {exit, {exception, R}} / {exit, {signal, R}} → {badrpc, {'EXIT', R}}; {error, {exception, E, S}} → {badrpc, {'EXIT', {E, S}}}.
      const t = v as Tuple;
      const reason = cls === EXIT ? t.elements[1] : new Tuple([t.elements[1], t.elements[2]]);
      results.push(new Tuple([BADRPC, new Tuple([atoms.EXIT, reason])]));
    }
  });
  return { results, badNodes };
}
