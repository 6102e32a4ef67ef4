import { Ref, Tuple, atom, type Term } from '@courier/term';
import { refKey } from './keys.js';
import type { Node } from './node.js';
import type { ChildSpec, SupervisorFlags } from './supervisor.js';

/** Child specs: their check (check_childspec) and how one with a start function reaches a local supervisor. */

/** A local child spec travels in a call as `{'$courier_child_spec', Ref}`: it holds a function. */
export const LOCAL_SPEC = atom('$courier_child_spec');
const localSpecs = new WeakMap<Node, Map<string, ChildSpec>>();

/** Park `spec` for a supervisor on `node`; the returned token goes in the `start_child` call. */
export function parkSpec(node: Node, spec: ChildSpec): { token: Tuple; drop(): void } {
  const ref = node.makeRef();
  let m = localSpecs.get(node);
  if (m === undefined) localSpecs.set(node, (m = new Map<string, ChildSpec>()));
  const table = m;
  table.set(refKey(ref), spec);
  return { token: new Tuple([LOCAL_SPEC, ref]), drop: () => table.delete(refKey(ref)) };
}

export function takeSpec(node: Node, t: Term): ChildSpec | undefined {
  if (!(t instanceof Tuple) || t.elements.length !== 2 || t.elements[0] !== LOCAL_SPEC || !(t.elements[1] instanceof Ref)) return undefined;
  const m = localSpecs.get(node);
  const key = refKey(t.elements[1]);
  const spec = m?.get(key);
  m?.delete(key);
  return spec;
}

/** Check a spec as check_childspec does; the error reason, or undefined when it is valid. */
export function checkSpec(spec: ChildSpec, autoShutdown: SupervisorFlags['autoShutdown']): Term | undefined {
  if (spec.significant === true && (autoShutdown ?? 'never') === 'never') {
    return new Tuple([atom('bad_combination'), [new Tuple([atom('auto_shutdown'), atom('never')]), new Tuple([atom('significant'), true])]]);
  }
  if (spec.significant === true && (spec.restart ?? 'permanent') === 'permanent') {
    return new Tuple([atom('bad_combination'), [new Tuple([atom('restart'), atom('permanent')]), new Tuple([atom('significant'), true])]]);
  }
  return undefined;
}
