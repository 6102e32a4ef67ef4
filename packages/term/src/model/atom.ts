/**
 * Atoms are interned: `atom('ok') === atom('ok')`, so equality is identity and a Map keyed by
 * Atom needs no hashing. Names are Unicode strings of at most 255 characters (code points),
 * as in OTP.
 */
export const MAX_ATOM_CHARS = 255;

/** An Erlang atom. Atoms are interned: make them with {@link atom}, and compare them with `===`. */
export class Atom {
  /** @internal use {@link atom} */
  constructor(readonly name: string) {}
  /** The atom's name, unquoted. */
  toString(): string {
    return this.name;
  }
}

const table = new Map<string, Atom>();

/**
 * Atoms are never freed (as in the Erlang VM), so the table has OTP's default limit: a peer
 * that sends endless new atoms gets a decoding error instead of growing the node's memory.
 */
export const MAX_ATOMS = 1_048_576;

/** Thrown by {@link atom} when the atom table is full. */
export class AtomTableFull extends RangeError {
  constructor() {
    super(`the atom table is full (${MAX_ATOMS} atoms)`);
    this.name = 'AtomTableFull';
  }
}

/** The interned atom for `name`. Throws RangeError past 255 characters, AtomTableFull past MAX_ATOMS. */
export function atom(name: string): Atom {
  let a = table.get(name);
  if (a === undefined) {
    if (name.length > MAX_ATOM_CHARS && [...name].length > MAX_ATOM_CHARS) {
      throw new RangeError(`atom longer than ${MAX_ATOM_CHARS} characters`);
    }
    if (table.size >= MAX_ATOMS) throw new AtomTableFull();
    a = new Atom(name);
    table.set(name, a);
  }
  return a;
}

/**
 * The atom for `name` if it exists already, without creating it: for names a peer sends before it
 * has authenticated, which must not grow the atom table (atoms are never freed).
 */
export function existingAtom(name: string): Atom | undefined {
  return table.get(name);
}

/**
 * `name`'s atom if it exists, else an uninterned stand-in with the same name (never `===` an
 * interned atom): for a name a peer sends before it has authenticated — good for logs and lookups
 * by name — until `atom(name)` may intern it. Names past 255 characters are refused as by `atom`.
 */
export function provisionalAtom(name: string): Atom {
  const a = table.get(name);
  if (a !== undefined) return a;
  if (name.length > MAX_ATOM_CHARS && [...name].length > MAX_ATOM_CHARS) throw new RangeError(`atom longer than ${MAX_ATOM_CHARS} characters`);
  return new Atom(name);
}

/** How many atoms exist. */
export function atomCount(): number {
  return table.size;
}

/** Whether `t` is an {@link Atom}. */
export function isAtom(t: unknown): t is Atom {
  return t instanceof Atom;
}

/** Atoms used everywhere in the runtime, pre-interned. */
export const atoms = {
  ok: atom('ok'),
  error: atom('error'),
  undefined: atom('undefined'),
  normal: atom('normal'),
  kill: atom('kill'),
  killed: atom('killed'),
  noproc: atom('noproc'),
  noconnection: atom('noconnection'),
  shutdown: atom('shutdown'),
  timeout: atom('timeout'),
  EXIT: atom('EXIT'),
  DOWN: atom('DOWN'),
  process: atom('process'),
  true: atom('true'),
  false: atom('false'),
  nonode: atom('nonode@nohost'),
  empty: atom(''),
} as const;
