import type { Atom, Term } from '@courier/term';
import type { Process } from './process.js';

/**
 * Functions a node exposes as modules, callable from other nodes (rpc, erpc, spawn_request,
 * sshrpc, AEMP). Each function runs inside a fresh process, which is `this`; arguments are the
 * call's terms; the result (or a promise of it) is the return value.
 */
export type ExposedFn = (this: Process, ...args: Term[]) => Term | void | Promise<Term | void>;
export type ExposedModule = Readonly<Record<string, ExposedFn>>;

export class Exposed {
  private readonly modules = new Map<Atom, Map<string, ExposedFn>>();

  add(module: Atom, fns: ExposedModule): void {
    const m = this.modules.get(module) ?? new Map<string, ExposedFn>();
    for (const [name, fn] of Object.entries(fns)) m.set(name, fn);
    this.modules.set(module, m);
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
