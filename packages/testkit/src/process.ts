/**
 * Run `body` in a fresh process of `node` and resolve with what it returns (reject with what it
 * throws). Typed by shape, so the testkit depends on no Courier package and every package's tests,
 * core's and term's included, may use it without a dependency cycle.
 */
export function inProcess<P, T>(node: { spawn(body: (self: P) => Promise<void>): unknown }, body: (self: P) => Promise<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    node.spawn(async (self) => {
      // What the body returns or throws (synchronously too) goes to the caller unchanged.
      const run = async (): Promise<T> => body(self);
      await run().then(resolve, reject);
    });
  });
}
