import type { Atom } from './atom.js';
import type { Pid } from './identifiers.js';
import type { Term } from './term.js';
import { formatErlang } from '../text/format.js';

/** `fun M:F/A` (EXPORT_EXT). */
export class ErlExport {
  /** Erlang syntax, as `io:format("~p")` shows it. */
  toString(): string {
    return formatErlang(this);
  }

  constructor(
    readonly module: Atom,
    readonly fun: Atom,
    readonly arity: number,
  ) {}
}

/**
 * A local fun (NEW_FUN_EXT). Courier cannot run it; it is carried opaquely so that it
 * round-trips back to Erlang unchanged.
 */
export class ErlFun {
  /** Erlang syntax, as `io:format("~p")` shows it. */
  toString(): string {
    return formatErlang(this);
  }

  constructor(
    readonly arity: number,
    /** 16 bytes: the MD5 of the module's code. */
    readonly uniq: Uint8Array,
    readonly index: number,
    readonly module: Atom,
    readonly oldIndex: number,
    readonly oldUniq: number,
    readonly pid: Pid,
    readonly freeVars: Term[],
  ) {}
}
