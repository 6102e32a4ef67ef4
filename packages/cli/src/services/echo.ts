import { Pid, Tuple, atom, atoms, type Term } from '@courier/term';
import { erlError, type ExposedModule, type Node, type Process } from '@courier/core';

/**
 * The echo services (the contract of the echo node, relied on by interop tests and independent
 * checks): a process registered as `echo` answering `{FromPid, Msg}` with `{echo, Msg}`, and a
 * module `courier_echo` with `echo(X) -> X`, `add(A, B) -> A + B`, `crash(Reason)` (fails with
 * Reason) and `sleep(Ms) -> ok` after Ms milliseconds. Over AEMP the echo process is the port
 * `<nodeid>#echo` and answers `[ReplyPortId, ...Args]` by sending `Args` to ReplyPortId, as Perl's
 * echo ports do.
 */
const ECHO = atom('echo');

const isInt = (x: Term) => typeof x === 'bigint' || (typeof x === 'number' && Number.isInteger(x));
const asNumber = (x: Term): number | undefined =>
  typeof x === 'number' ? x : typeof x === 'bigint' ? Number(x) : x !== null && typeof x === 'object' && 'value' in x && typeof x.value === 'number' ? x.value : undefined;

function add(a: Term, b: Term): Term {
  if (isInt(a) && isInt(b)) {
    const s = BigInt(a as number | bigint) + BigInt(b as number | bigint);
    return s >= BigInt(Number.MIN_SAFE_INTEGER) && s <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(s) : s;
  }
  const x = asNumber(a);
  const y = asNumber(b);
  if (x === undefined || y === undefined) erlError(atom('badarith'));
  return x + y;
}

/** The `courier_echo` module: echo/1, add/2, crash/1, sleep/1. */
export const courierEcho: ExposedModule = {
  echo: (x: Term) => x,
  add,
  crash: (reason: Term) => erlError(reason),
  async sleep(this: Process, ms: Term) {
    if (typeof ms !== 'number' || ms < 0) erlError(atom('badarg'));
    await new Promise((r) => setTimeout(r, ms));
    return atoms.ok;
  },
};

/** Expose `courier_echo` and start the registered `echo` process on `node`; returns its pid. */
export function startEcho(node: Node): Pid {
  node.expose('courier_echo', courierEcho);
  return node.spawn(
    async (self) => {
      for (;;) {
        const m = await self.receive();
        try {
          if (m instanceof Tuple && m.elements.length === 2) {
            self.send(m.elements[0] as never, new Tuple([ECHO, m.elements[1]]));
          } else if (Array.isArray(m) && (typeof m[0] === 'string' || m[0] instanceof Pid)) {
            // The reply address is a port id from Perl, a pid from a Courier peer (an Erlang
            // process's proxy when the message came through the bridge).
            self.send(m[0], m.slice(1));
          } else {
            node.log.warn({ msg: String(m).slice(0, 200) }, 'echo: message ignored: expected {FromPid, Msg} or [ReplyPort, ...Args]');
          }
        } catch (err) {
          node.log.debug({ err }, 'echo: reply not sent');
        }
      }
    },
    { name: ECHO },
  );
}
