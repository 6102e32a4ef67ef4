import type { Pid, Ref } from '@courier/term';

/** Cheap string keys for pids and refs, for the link and monitor tables. */
export function pidKey(p: Pid): string {
  return `${p.node.name}<${p.id}.${p.serial}.${p.creation}`;
}

export function refKey(r: Ref): string {
  return r.ids.length === 3 ? `${r.node.name}#${r.ids[0]}.${r.ids[1]}.${r.ids[2]}.${r.creation}` : `${r.node.name}#${r.ids.join('.')}.${r.creation}`;
}
