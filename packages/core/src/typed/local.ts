import { Atom, Pid, Ref, Tuple, formatErlang, type Term } from '@courier/term';
import { resolveDest, type Dest } from '../runtime/dest.js';
import type { Node } from '../runtime/node.js';
import type { Process } from '../runtime/process.js';
import { termToValue, valueToTerm } from './mapping.js';
import type { KeyEncoding, Value } from './value.js';

/**
 * A message between two typed processes of one node, carried as it was sent: no mapping, no
 * codec, not even a copy (Erlang copies a local message; JS code shares the object, so a sender
 * must not mutate what it sent). Only typed receivers ever see one: a send to anything else
 * (another node, a term-level process) carries the mapped term instead.
 */
export class Local {
  constructor(readonly value: unknown) {}
  toString(): string {
    return '#TypedMessage<>';
  }
}

/** The processes that unwrap {@link Local} messages: those started by spawnTyped and startTypedServer. */
const typedProcs = new WeakSet<Process>();

export function markTyped(p: Process): void {
  typedProcs.add(p);
}

/** The live typed process of this node `dest` leads to, if it is one. */
export function typedLocal(node: Node, dest: Dest): Process | undefined {
  let pid: Pid | undefined;
  if (dest instanceof Pid) pid = dest;
  else if (dest instanceof Atom) pid = node.whereis(dest);
  else if (typeof dest === 'string') return undefined;
  else {
    const d = resolveDest(dest);
    if (d.kind === 'name' && (d.node === undefined || d.node === node.name)) pid = node.whereis(d.name);
  }
  if (pid === undefined || pid.node !== node.name) return undefined;
  const p = node.lookup(pid);
  return p !== undefined && typedProcs.has(p) ? p : undefined;
}

/**
 * Send `value` to `dest` from `from` (a pid, or none): straight into the mailbox of a typed
 * process of this node, unmapped; to anything else as its mapped term, through the node's send.
 */
export function sendTyped(node: Node, from: Pid | undefined, dest: Dest, value: unknown, keys: KeyEncoding): void {
  const p = typedLocal(node, dest);
  // As node.sendFrom delivers to a local process, without looking it up a second time.
  if (p !== undefined) node.signals.message(p, new Local(value) as unknown as Term);
  else node.sendFrom(from, dest, valueToTerm(value, keys, destName(dest)));
}

/**
 * {@link sendTyped} to a typed process already found (a ref made from its pid keeps it): while
 * it lives, straight into its mailbox; false once it has exited (the caller forgets it and sends
 * the slow way, which drops the message as a send to a dead pid is dropped).
 */
export function sendToTyped(node: Node, p: Process, value: unknown): boolean {
  if (!p.alive) return false;
  node.signals.message(p, new Local(value) as unknown as Term);
  return true;
}

/** What to put in the mailbox or on the wire for `value` sent to `dest`. */
export function wireForm(node: Node, dest: Dest, value: unknown, keys: KeyEncoding): Term {
  if (typedLocal(node, dest) !== undefined) return new Local(value) as unknown as Term;
  return valueToTerm(value, keys, destName(dest));
}

/** The typed value of a mailbox message: a {@link Local} as sent, any other term mapped back. */
export function unwrap(raw: Term, keys: KeyEncoding): Value {
  return raw instanceof Local ? (raw.value as Value) : termToValue(raw, keys);
}

/** `dest` as messages show it. */
export function destName(d: Dest): string {
  if (d instanceof Pid || d instanceof Atom || typeof d === 'string') return String(d);
  if (d instanceof Tuple) return formatErlang(d);
  if (d instanceof Ref) return formatErlang(d);
  return `{${String(d.name)},${String(d.node)}}`;
}
