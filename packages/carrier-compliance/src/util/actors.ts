import { Tuple, atom, atoms, termKey, type Pid, type Ref, type Term } from '@courier/term';
import { TIMEOUT, _, ptuple, type Node, type Pattern, type Process } from '@courier/core';

/**
 * A process the test drives from outside: it lives until killed (or its node stops), and the
 * test calls its API (send, link, monitor, receive) directly.
 */
export function puppet(node: Node, opts: { name?: string; trapExit?: boolean } = {}): Process {
  const pid = node.spawn(() => new Promise<void>(() => {}), {
    name: opts.name === undefined ? undefined : atom(opts.name),
    trapExit: opts.trapExit,
  });
  const p = node.lookup(pid);
  if (p === undefined) throw new Error('a freshly spawned process is not alive');
  return p;
}

/**
 * A process that waits for `die` and then exits with the reason sent with it:
 * `send(pid, {die, Reason})`.
 */
export function victim(node: Node, opts: { name?: string } = {}): Pid {
  return node.spawn(
    async (self) => {
      const m = (await self.receive(ptuple(atom('die'), _))) as Tuple;
      self.exit(m.elements[1]);
    },
    { name: opts.name === undefined ? undefined : atom(opts.name) },
  );
}

export const die = (reason: Term): Tuple => new Tuple([atom('die'), reason]);

/** The next message of `p` matching `pattern`, or a failure naming what was awaited. */
export async function recv(p: Process, pattern: Pattern | undefined, ms: number, what: string): Promise<Term> {
  const m = await p.receive(pattern, ms);
  if (m === TIMEOUT) throw new Error(`${what}: ${String(p.pid)} received nothing matching within ${ms} ms (mailbox: ${p.mailbox.length})`);
  return m;
}

/** Whether a matching message is in the mailbox right now (taking it). */
export async function hasNow(p: Process, pattern: Pattern): Promise<boolean> {
  return (await p.receive(pattern, 0)) !== TIMEOUT;
}

/** `{'DOWN', Ref, process, _, _}` */
export const downFor = (ref: Ref): Tuple => ptuple(atoms.DOWN, ref, atoms.process, _, _);
/** `{'EXIT', From, _}` */
export const exitFrom = (from: Pid): Tuple => ptuple(atoms.EXIT, from, _);

/** Element `i` of a tuple message. */
export const el = (t: Term, i: number): Term => (t as Tuple).elements[i];

export const same = (a: Term, b: Term): boolean => termKey(a) === termKey(b);
