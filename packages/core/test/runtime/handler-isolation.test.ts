import { describe, expect, it } from 'vitest';
import { ExceptionReason, type Node, type Process } from '@courier/core';
import { Pid, Tuple, atom, atoms, type Term } from '@courier/term';
import { exitOf, inProcess, localNode } from './helpers.js';

const PEER = atom('peer@h');
const BAD = atom('bad');

/** A matcher with a bug: it throws on `bad`. */
const buggy = (m: Term): boolean => {
  if (m === BAD) throw new Error('matcher bug');
  return m === atom('good');
};

/** A process that waits with the buggy matcher. */
function buggyReceiver(node: Node): Pid {
  return node.spawn(async (self) => {
    await self.receive(buggy);
  });
}

/** A process that collects every message into `got` (DOWNs and EXITs included). */
function collector(node: Node, got: Term[], opts?: { trapExit?: boolean }): Pid {
  return node.spawn(async (self) => {
    for (;;) got.push(await self.receive());
  }, opts);
}

const proc = (node: Node, pid: Pid): Process => node.info(pid) as Process;
const settled = (node: Node): Promise<void> => inProcess(node, (self) => self.sleep(5));

/** The error text of an ExceptionReason. */
const errorOf = (reason: Term): string => String((reason as ExceptionReason).error);

describe('a throw in a receive matcher affects the receiving process only', () => {
  it('a message from a peer that meets a throwing matcher: route does not throw (the connection stays), the receiver crashes, later messages arrive', async () => {
    const node = localNode();
    const victim = buggyReceiver(node);
    const got: Term[] = [];
    const other = collector(node, got);
    await settled(node);
    const gone = exitOf(node, victim);
    const from = new Pid(PEER, 7, 0, 1);
    expect(() => node.route({ op: 'send', from, to: victim, msg: BAD }, PEER)).not.toThrow();
    expect(() => node.route({ op: 'send', from, to: other, msg: atom('after') }, PEER)).not.toThrow();
    const reason = await gone;
    expect(reason).toBeInstanceOf(ExceptionReason);
    expect(errorOf(reason)).toContain('matcher bug');
    await settled(node);
    expect(got).toEqual([atom('after')]);
  });

  it('a local sender is not the one that fails', async () => {
    const node = localNode();
    const victim = buggyReceiver(node);
    await settled(node);
    const gone = exitOf(node, victim);
    await inProcess(node, (self) => {
      self.send(victim, BAD);
      self.send(victim, atom('later'));
      return Promise.resolve();
    });
    expect(errorOf(await gone)).toContain('matcher bug');
  });

  it('a throwing matcher when the message is already queued rejects the receive, and the message stays', async () => {
    const node = localNode();
    const r = await inProcess(node, async (self) => {
      self.send(self.pid, BAD);
      const err = await self.receive(buggy).then(
        () => undefined,
        (e: unknown) => e,
      );
      return { err, left: self.mailbox.peek() };
    });
    expect(String(r.err)).toContain('matcher bug');
    expect(r.left).toEqual([BAD]);
  });
});

describe('a throw in a monitor or link handler affects that process only', () => {
  it('a DOWN meeting a throwing matcher does not drop the DOWNs and EXITs queued behind it', async () => {
    const node = localNode();
    const target = node.spawn(async (self) => {
      await self.receive(atom('stop'));
    });
    // The first watcher's DOWN is delivered first and meets its buggy matcher.
    const first = node.spawn(async (self) => {
      self.monitor(target);
      await self.receive((m) => {
        if (m instanceof Tuple && m.elements[0] === atoms.DOWN) throw new Error('matcher bug on DOWN');
        return false;
      });
    });
    const got: Term[] = [];
    const second = node.spawn(async (self) => {
      self.monitor(target);
      for (;;) got.push(await self.receive());
    });
    const linked: Term[] = [];
    const third = collector(node, linked, { trapExit: true });
    await settled(node);
    proc(node, third).link(target);
    const firstGone = exitOf(node, first);
    node.send(target, atom('stop'));
    expect(errorOf(await firstGone)).toContain('matcher bug on DOWN');
    await settled(node);
    expect(got).toHaveLength(1);
    expect((got[0] as Tuple).elements[0]).toBe(atoms.DOWN);
    expect(linked).toEqual([new Tuple([atoms.EXIT, target, atoms.normal])]);
    expect(node.isAlive(second)).toBe(true);
  });

  it('a link handler (linksChanged) that throws on a link EXIT: that process exits, the other signals are delivered', async () => {
    const node = localNode();
    const target = node.spawn(async (self) => {
      await self.receive(atom('stop'));
    });
    const got: Term[] = [];
    const bystander = collector(node, got, { trapExit: true });
    const fragile = collector(node, [], { trapExit: true });
    await settled(node);
    proc(node, fragile).link(target);
    proc(node, bystander).link(target);
    proc(node, fragile).linksChanged = () => {
      throw new Error('links handler bug');
    };
    const gone = exitOf(node, fragile);
    // kill from outside: the cascade runs inside one signal drain.
    node.exitSignal(undefined, target, atoms.kill);
    expect(errorOf(await gone)).toContain('links handler bug');
    await settled(node);
    expect(got).toEqual([new Tuple([atoms.EXIT, target, atoms.killed])]);
  });

  it('the same handler failing on a signal from a peer: route does not throw, only that process exits', async () => {
    const node = localNode();
    const got: Term[] = [];
    const other = collector(node, got);
    const fragile = collector(node, [], { trapExit: true });
    await settled(node);
    const from = new Pid(PEER, 7, 0, 1);
    node.route({ op: 'link', from, to: fragile }, PEER);
    proc(node, fragile).linksChanged = () => {
      throw new Error('links handler bug');
    };
    const gone = exitOf(node, fragile);
    expect(() => node.route({ op: 'exit', from, to: fragile, reason: atom('remote_crash') }, PEER)).not.toThrow();
    expect(() => node.route({ op: 'send', from, to: other, msg: atom('still_routed') }, PEER)).not.toThrow();
    expect(errorOf(await gone)).toContain('links handler bug');
    await settled(node);
    expect(got).toEqual([atom('still_routed')]);
  });
});
