import { describe, expect, it } from 'vitest';
import { CallError, call, cast, noreply, reply, replyTo, startServer, stop, type GenServer } from '@courier/core';
import { atom, tuple, type Term } from '@courier/term';
import { exitOf, inProcess, localNode } from './helpers.js';

const counter: GenServer<number, number> = {
  init: (_self, start) => start,
  handleCall(req, from, n, self) {
    if (req === atom('get')) return reply(n, n);
    if (req === atom('slow')) return noreply(n);
    if (req === atom('later')) {
      setTimeout(() => replyTo(self, from, atom('late_reply')), 5);
      return noreply(n);
    }
    if (req === atom('stop')) return stop(atom('normal'), n, atom('stopping'));
    throw new Error(`bad call ${String(req)}`);
  },
  handleCast(msg, n) {
    return noreply(n + (msg as number));
  },
  handleInfo(msg, n) {
    return noreply(typeof msg === 'number' ? n * msg : n);
  },
};

describe('gen_server', () => {
  it('start waits for init; call, cast and info update the state', async () => {
    const node = localNode();
    const pid = await startServer(node, counter, 10, { name: atom('counter') });
    const r = await inProcess(node, async (self) => {
      cast(self, atom('counter'), 5);
      self.send(pid, 2);
      return call(self, atom('counter'), atom('get'));
    });
    expect(r).toBe(30);
  });

  it('deferred reply with replyTo', async () => {
    const node = localNode();
    const pid = await startServer(node, counter, 0);
    expect(await inProcess(node, (self) => call(self, pid, atom('later')))).toBe(atom('late_reply'));
  });

  it('call times out with CallError TIMEOUT and leaves no stray message', async () => {
    const node = localNode();
    const pid = await startServer(node, counter, 0);
    const r = await inProcess(node, async (self) => {
      const err = await call(self, pid, atom('slow'), 30).catch((e: unknown) => e);
      return [err, self.mailbox.length] as const;
    });
    expect(r[0]).toBeInstanceOf(CallError);
    expect((r[0] as CallError).code).toBe('TIMEOUT');
    expect(r[1]).toBe(0);
  });

  it('call to a missing server is NOPROC; a crash during the call is EXIT', async () => {
    const node = localNode();
    const missing = await inProcess(node, (self) => call(self, atom('nope'), 1).catch((e: unknown) => e));
    expect((missing as CallError).code).toBe('NOPROC');
    const pid = await startServer(node, counter, 0);
    const crash = await inProcess(node, (self) => call(self, pid, atom('unknown_request')).catch((e: unknown) => e));
    expect((crash as CallError).code).toBe('EXIT');
  });

  it('stop replies then exits with the reason; init failure rejects start', async () => {
    const node = localNode();
    const pid = await startServer(node, counter, 0);
    const done = exitOf(node, pid);
    expect(await inProcess(node, (self) => call(self, pid, atom('stop')))).toBe(atom('stopping'));
    expect(await done).toBe(atom('normal'));
    const bad: GenServer<number, number> = {
      init: () => {
        throw new Error('no init');
      },
    };
    await expect(startServer(node, bad, 0)).rejects.toThrow('no init');
  });

  it('answers Erlang-shaped calls with an [alias|Ref] tag to the alias', async () => {
    const node = localNode();
    const pid = await startServer(node, counter, 7);
    const { ImproperList } = await import('@courier/term');
    const r = await inProcess(node, async (self) => {
      const a = self.alias();
      const tag = new ImproperList([atom('alias')], a);
      self.send(pid, tuple(atom('$gen_call'), tuple(self.pid, tag), atom('get')));
      return self.receive();
    });
    const [tag, value] = (r as { elements: Term[] }).elements;
    expect(tag).toBeInstanceOf(ImproperList);
    expect((tag as InstanceType<typeof ImproperList>).items).toEqual([atom('alias')]);
    expect(value).toBe(7);
  });
});
