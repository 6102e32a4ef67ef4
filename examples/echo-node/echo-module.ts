import { atom, atoms, Tuple, type Pid, type Term } from '@courier/term';
import { erlError, type ExposedModule, type Node, type Process } from '@courier/core';

/**
 * What the echo node serves (the contract the interop tests and independent checks rely on):
 * - a process registered as `echo` answering `{FromPid, Msg}` with `{echo, Msg}` sent to FromPid;
 *   over AEMP it is the port `<nodeid>#echo` and answers `[ReplyPortId, ...Args]` by sending
 *   `Args` to ReplyPortId (as Perl's echo ports do);
 * - a module `courier_echo`: `echo(X) -> X`, `add(A, B) -> A + B`, `crash(Reason)` fails with
 *   Reason, `sleep(Ms) -> ok` after Ms milliseconds.
 */
const ECHO = atom('echo');

function add(a: Term, b: Term): Term {
  const isInt = (x: Term) => typeof x === 'bigint' || (typeof x === 'number' && Number.isInteger(x));
  if (isInt(a) && isInt(b)) {
    const s = BigInt(a as number | bigint) + BigInt(b as number | bigint);
    return s >= BigInt(Number.MIN_SAFE_INTEGER) && s <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(s) : s;
  }
  const num = (x: Term) => (typeof x === 'number' ? x : typeof x === 'bigint' ? Number(x) : x !== null && typeof x === 'object' && 'value' in x && typeof x.value === 'number' ? x.value : undefined);
  const x = num(a);
  const y = num(b);
  if (x === undefined || y === undefined) erlError(atom('badarith'));
  return x + y;
}

export const courierEcho: ExposedModule = {
  echo: (x: Term) => x,
  add,
  crash: (reason: Term) => erlError(reason),
  async sleep(this: Process, ms: Term) {
    if (typeof ms !== 'number' || ms < 0) erlError(atom('badarg'));
    await new Promise((r) => setTimeout(r, ms as number));
    return atoms.ok;
  },
};

/** Start the echo services; returns the echo process. */
export function startEcho(node: Node): Pid {
  node.expose('courier_echo', courierEcho);
  return node.spawn(
    async (self) => {
      for (;;) {
        const m = await self.receive();
        try {
          if (m instanceof Tuple && m.elements.length === 2) {
            const [from, msg] = m.elements as [Term, Term];
            self.send(from as never, new Tuple([ECHO, msg]));
          } else if (Array.isArray(m) && typeof m[0] === 'string') {
            self.send(m[0], m.slice(1));
          }
        } catch (err) {
          node.log.debug({ err }, 'echo: reply not sent');
        }
      }
    },
    { name: ECHO },
  );
}
