import { Node, TIMEOUT, type Logger, type Process } from '@courier/core';
import { atom, type Term } from '@courier/term';
import { aemp, type AempOptions, type AempTransport } from '@courier/transport-aemp';

export const SECRET = 'scenario-secret';

export interface TestNode {
  readonly node: Node;
  readonly t: AempTransport;
  readonly addr: string;
}

/** Started AEMP nodes on 127.0.0.1; stop them with `stopAll`. */
export class Nodes {
  readonly made: TestNode[] = [];
  readonly book: Record<string, string[]> = {};

  async make(name: string, opts: Partial<AempOptions> = {}, log?: Logger): Promise<TestNode> {
    const t = aemp({ secret: SECRET, handshakeTimeoutMs: 3000, peers: this.book, ...opts });
    const node = new Node({ name, transports: [t], log });
    await node.start();
    const made = { node, t, addr: t.listening[0] as string };
    this.book[name] = [...t.listening];
    this.made.push(made);
    return made;
  }

  async stopAll(): Promise<void> {
    for (const m of this.made.splice(0)) await m.node.stop();
  }
}

/** A process that lives until killed; the test drives its API. */
export function puppet(node: Node, name?: string): Process {
  const pid = node.spawn(() => new Promise<void>(() => {}), name === undefined ? undefined : { name: atom(name) });
  return node.lookup(pid) as Process;
}

export async function next(p: Process, ms = 3000, what = 'a message'): Promise<Term> {
  const m = await p.receive(undefined, ms);
  if (m === TIMEOUT) throw new Error(`${what}: nothing within ${ms} ms`);
  return m;
}

/** Poll `cond` (an observable state the test cannot await otherwise) until it holds, within `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, ms = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
