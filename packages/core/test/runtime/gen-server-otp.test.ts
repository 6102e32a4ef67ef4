import { describe, expect, it } from 'vitest';
import {
  CallError,
  Node,
  StartError,
  abcast,
  call,
  cast,
  continueWith,
  initWith,
  multiCall,
  noreply,
  reply,
  replyTo,
  startServer,
  stop,
  stopServer,
  type From,
  type GenServer,
} from '@courier/core';
import { Tuple, atom, atoms, type Term } from '@courier/term';
import { captureLog } from '@courier/testkit';
import { exitOf, inProcess, localNode } from './helpers.js';

/** gen_server features of OTP 21–25: continue, deferred replies, alias-tagged calls, multi_call, format_status. */

describe('gen_server: handleContinue and timeouts', () => {
  it('a continue from init and from a call runs before the next message', async () => {
    const node = localNode();
    const log: string[] = [];
    const s: GenServer<string[], null> = {
      init: () => initWith([], continueWith(atom('load'))),
      handleContinue(v, st) {
        log.push(`continue ${String(v)}`);
        return noreply([...st, String(v)]);
      },
      handleCall(req, _from, st) {
        log.push(`call ${String(req)}`);
        if (req === atom('bump')) return reply(atom('ok'), st, continueWith(atom('bumped')));
        return reply(st.join(','), st);
      },
    };
    const pid = await startServer(node, s, null);
    const r = await inProcess(node, async (self) => {
      // Both calls are queued before the server has run its first continue.
      const a = call(self, pid, atom('bump'));
      return [await a, await call(self, pid, atom('get'))];
    });
    expect(r).toEqual([atom('ok'), 'load,bumped']);
    expect(log).toEqual(['continue load', 'call bump', 'continue bumped', 'call get']);
  });

  it('a timeout action calls handleInfo(timeout) when no message comes in time; hibernate is accepted', async () => {
    const node = localNode();
    const seen: Term[] = [];
    let done: () => void = () => undefined;
    const timedOut = new Promise<void>((r) => (done = r));
    const s: GenServer<number, null> = {
      init: () => initWith(0, 20),
      handleInfo(msg, n) {
        seen.push(msg);
        if (msg === atom('timeout')) done();
        return noreply(n + 1, 'hibernate');
      },
      handleCall: (_r, _f, n) => reply(n, n, 'hibernate'),
    };
    const pid = await startServer(node, s, null);
    await timedOut;
    expect(seen).toEqual([atom('timeout')]);
    expect(await inProcess(node, (self) => call(self, pid, atom('n')))).toBe(1);
  });

  it('init may refuse to start with stop(reason): start rejects with StartError, the process exits with the reason', async () => {
    const node = localNode();
    const exits: Term[] = [];
    node.exits$.subscribe((e) => exits.push(e.reason));
    const e = await startServer(node, { init: () => stop(atom('no_config'), null) }, null).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StartError);
    expect((e as StartError).reason).toBe(atom('no_config'));
    expect(exits).toContain(atom('no_config'));
  });
});

describe('gen_server: calls', () => {
  it('replyTo answers a deferred call from another process', async () => {
    const node = localNode();
    const waiting: From[] = [];
    const s: GenServer<null, null> = {
      init: () => null,
      handleCall(req, from, st) {
        if (req === atom('wait')) {
          waiting.push(from);
          return noreply(st);
        }
        // Answer every waiter from a helper process, then this caller.
        const froms = waiting.splice(0);
        node.spawn(() => froms.forEach((f, i) => replyTo(node, f, i)));
        return reply(froms.length, st);
      },
    };
    const pid = await startServer(node, s, null);
    const r = await inProcess(node, async (self) => {
      const waiter = inProcess(node, (w) => call(w, pid, atom('wait')));
      while (waiting.length === 0) await self.sleep(1);
      return [await call(self, pid, atom('release')), await waiter];
    });
    expect(r).toEqual([1, 0]);
  });

  it('a reply after the call timed out is dropped, not left in the caller mailbox', async () => {
    const node = localNode();
    let replied: () => void = () => undefined;
    const lateSent = new Promise<void>((r) => (replied = r));
    const s: GenServer<null, null> = {
      init: () => null,
      handleCall(_req, from, st, self) {
        setTimeout(() => {
          replyTo(self, from, atom('too_late'));
          replied();
        }, 40);
        return noreply(st);
      },
    };
    const pid = await startServer(node, s, null);
    const r = await inProcess(node, async (self) => {
      const err = await call(self, pid, atom('slow'), 10).catch((e: unknown) => e);
      await lateSent;
      await self.sleep(5);
      return [err, self.mailbox.peek()] as const;
    });
    expect((r[0] as CallError).code).toBe('TIMEOUT');
    expect(r[1]).toEqual([]);
  });

  it('the call message carries an [alias|Ref] tag (gen.erl, OTP 24+)', async () => {
    const node = localNode();
    const seen: Term[] = [];
    const raw = node.spawn(async (self) => {
      const m = (await self.receive()) as Tuple;
      seen.push(m);
      const from = m.elements[1] as Tuple;
      replyTo(self, from, atom('pong'));
    });
    expect(await inProcess(node, (self) => call(self, raw, atom('ping')))).toBe(atom('pong'));
    const tag = ((seen[0] as Tuple).elements[1] as Tuple).elements[1];
    expect(String(tag)).toMatch(/^\[alias\|#Ref</);
  });
});

describe('gen_server: crashes', () => {
  it('formatStatus redacts the state in the terminating log; terminate gets the reason', async () => {
    const log = captureLog();
    const node = new Node({ name: `t${process.pid}_fs@localhost`, log: log.logger });
    const reasons: Term[] = [];
    const s: GenServer<{ user: string; password: string }, null> = {
      init: () => ({ user: 'ann', password: 'hunter2' }),
      handleCast() {
        throw new Error('boom');
      },
      terminate: (reason) => void reasons.push(reason),
      formatStatus: (st) => ({ ...st, state: { ...(st.state as object), password: '<redacted>' } }),
    };
    const pid = await startServer(node, s, null);
    const done = exitOf(node, pid);
    cast(node, pid, atom('go'));
    await done;
    const entry = log.find('error', 'gen_server terminating')[0];
    expect(entry).toBeDefined();
    const text = JSON.stringify(entry?.fields);
    expect(text).toContain('redacted');
    expect(text).toContain('ann');
    expect(text).not.toContain('hunter2');
    expect(text).toContain("{'$gen_cast',go}");
    expect(String(reasons[0])).toContain('boom');
  });

  it('a server trapping exits terminates with its parent exit reason', async () => {
    const node = localNode();
    const reasons: Term[] = [];
    let server: Promise<unknown> | undefined;
    const parent = node.spawn(async (self) => {
      server = startServer(node, { init: () => null, terminate: (r) => void reasons.push(r) }, null, { linkTo: self, trapExit: true });
      await server;
      await self.receive(atom('go'));
      self.exit(atom('bye'));
    });
    while (server === undefined) await new Promise((r) => setTimeout(r, 1));
    const pid = (await server) as import('@courier/term').Pid;
    const done = exitOf(node, pid);
    node.send(parent, atom('go'));
    expect(await done).toBe(atom('bye'));
    expect(reasons).toEqual([atom('bye')]);
  });
});

describe('gen_server: stop', () => {
  it('stopServer runs terminate with the reason and waits for the exit; a missing server is NOPROC', async () => {
    const node = localNode();
    const reasons: Term[] = [];
    const pid = await startServer(node, { init: () => null, terminate: (r) => void reasons.push(r) }, null);
    const done = exitOf(node, pid);
    expect(await inProcess(node, async (self) => (await stopServer(self, pid, atom('enough')), self.mailbox.length))).toBe(0);
    expect(reasons).toEqual([atom('enough')]);
    expect(await done).toBe(atom('enough'));
    const e = await inProcess(node, (self) => stopServer(self, pid).catch((x: unknown) => x));
    expect((e as CallError).code).toBe('NOPROC');
  });
});

describe('gen_server: multi_call and abcast on one node', () => {
  it('multiCall collects replies and names the bad nodes; abcast reaches the name', async () => {
    const node = localNode();
    const casts: Term[] = [];
    await startServer(
      node,
      {
        init: () => null,
        handleCall: (req, _f, st) => reply(new Tuple([atom('got'), req]), st),
        handleCast: (msg, st) => (casts.push(msg), noreply(st)),
      },
      null,
      { name: atom('mc') },
    );
    const r = await multiCall(node, 'mc', atom('hi'), { nodes: [node.name, 'nowhere@nohost'], timeoutMs: 200 });
    expect(r.replies).toEqual([[node.name, new Tuple([atom('got'), atom('hi')])]]);
    expect(r.badNodes).toEqual([atom('nowhere@nohost')]);
    const none = await multiCall(node, 'not_registered', atom('hi'));
    expect(none).toEqual({ replies: [], badNodes: [node.name] });
    abcast(node, 'mc', atom('note'));
    await inProcess(node, (self) => call(self, atom('mc'), atom('sync')));
    expect(casts).toEqual([atom('note')]);
    expect(atoms.ok).toBe(atom('ok'));
  });
});
