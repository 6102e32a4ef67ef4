import { Node } from '@courier/core';
import type { Term } from '@courier/term';

/** A fresh local node per test. */
export function localNode(): Node {
  return new Node({ name: `t${process.pid}_${Math.random().toString(36).slice(2, 8)}@localhost` });
}

export { inProcess } from '@courier/testkit';

/** Resolves when `pid` exits, with its reason; fails after `ms`. */
export function exitOf(node: Node, pid: import('@courier/term').Pid, ms = 2000): Promise<Term> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no exit of ${pid.toString()} within ${ms} ms`)), ms);
    const sub = node.exits$.subscribe((e) => {
      if (e.pid === pid) {
        clearTimeout(t);
        sub.unsubscribe();
        resolve(e.reason);
      }
    });
  });
}
