import { Tuple, atom, atoms, type Atom, type Term } from '@courier/term';
import { ErlangException, ExceptionReason, ExitCall } from './exit-reason.js';
import type { Process } from './process.js';

/**
 * Functions a node exposes as modules, callable from other nodes (rpc, erpc, spawn_request,
 * sshrpc, AEMP). Each function runs inside a fresh process, which is `this`; arguments are the
 * call's terms; the result (or a promise of it) is the return value.
 */
export type ExposedFn = (this: Process, ...args: Term[]) => Term | void | Promise<Term | void>;
/**
 * The functions a node exposes under one module name to `rpc:call` and `erpc:call` from its peers, by
 * function name.
 */
export type ExposedModule = Readonly<Record<string, ExposedFn>>;

export class Exposed {
  private readonly modules = new Map<Atom, Map<string, ExposedFn>>();
  private readonly internalModules = new Set<Atom>();

  /**
   * `internal`: the module is the runtime's own entry point for fully trusted peers (cookie
   * holders), such as `erpc` or `global`: callers with a narrower grant (sshrpc's allow-list)
   * never reach it, even when their list names it.
   */
  add(module: Atom, fns: ExposedModule, opts: { readonly internal?: boolean } = {}): void {
    const m = this.modules.get(module) ?? new Map<string, ExposedFn>();
    for (const [name, fn] of Object.entries(fns)) m.set(name, fn);
    this.modules.set(module, m);
    if (opts.internal === true) this.internalModules.add(module);
  }

  /** Whether `module` is for fully trusted peers only (see {@link add}). */
  isInternal(module: Atom): boolean {
    return this.internalModules.has(module);
  }

  /** The function for `module:fun/arity`, or undefined (Erlang's `undef`). */
  lookup(module: Atom, fun: Atom, arity: number): ExposedFn | undefined {
    const fn = this.modules.get(module)?.get(fun.name);
    if (fn === undefined) return undefined;
    // A rest-parameter function (length 0) accepts any arity.
    return fn.length === arity || fn.length === 0 ? fn : undefined;
  }

  has(module: Atom): boolean {
    return this.modules.has(module);
  }

  list(): Array<[Atom, string[]]> {
    return [...this.modules].map(([m, fns]) => [m, [...fns.keys()]]);
  }
}

/** How a call into an exposed function ended, in Erlang's terms (erpc's result classes). */
export type Outcome =
  | { readonly kind: 'return'; readonly value: Term }
  | { readonly kind: 'error'; readonly reason: Term; readonly stack: Term[] }
  | { readonly kind: 'throw'; readonly value: Term }
  | { readonly kind: 'exit'; readonly reason: Term };

const UNDEF = atom('undef');

/**
 * Call `module:fun(...args)` among the node's exposed functions inside process `self`, and
 * classify the outcome: `undef` for a function that is not exposed (with that arity), an
 * ErlangException by its kind, exit(Reason) as exit, and any other JS exception as an error
 * whose reason is `{error, <<"Name: message">>}`.
 */
export async function applyExposed(exposed: Exposed, self: Process, module: Atom, fun: Atom, args: Term[]): Promise<Outcome> {
  const fn = exposed.lookup(module, fun, args.length);
  if (fn === undefined) {
    return { kind: 'error', reason: UNDEF, stack: [new Tuple([module, fun, args, []])] };
  }
  try {
    const value = await fn.apply(self, args);
    return { kind: 'return', value: value === undefined ? atoms.ok : value };
  } catch (e) {
    if (e instanceof ErlangException) {
      if (e.kind === 'throw') return { kind: 'throw', value: e.reason };
      if (e.kind === 'exit') return { kind: 'exit', reason: e.reason };
      return { kind: 'error', reason: e.reason, stack: [] };
    }
    if (e instanceof ExitCall) return { kind: 'exit', reason: e.reason };
    return { kind: 'error', reason: new ExceptionReason(e), stack: [] };
  }
}
