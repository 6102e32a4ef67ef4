import { Node, type Process } from '@courier/core';
import type { Term } from '@courier/term';

/** A fresh local node per test. */
export function localNode(): Node {
  return new Node({ name: `t${process.pid}_${Math.random().toString(36).slice(2, 8)}@localhost` });
}

/** Run `body` in a process and resolve with what it returns (reject with what it throws). */
export function inProcess<T>(node: Node, body: (self: Process) => Promise<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    node.spawn(async (self) => {
      try {
        resolve(await body(self));
      } catch (e) {
        reject(e);
      }
    });
  });
}

/** Resolves when `pid` exits, with its reason; fails after `ms`. */
export function exitOf(node: Node, pid: import('@courier/term').Pid, ms = 2000): Promise<Term> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no exit of ${pid} within ${ms} ms`)), ms);
    const sub = node.exits$.subscribe((e) => {
      if (e.pid === pid) {
        clearTimeout(t);
        sub.unsubscribe();
        resolve(e.reason);
      }
    });
  });
}
