import type { Node, Process } from '@courier/core';

/** Run `body` in a fresh process of `node` and resolve with what it returns (reject with what it throws). */
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
