import { describe, expect, it } from 'vitest';
import { Pid, Tuple, atom, encode, formatErlang, type Term } from '@courier/term';
import { Node } from '@courier/core';
import { captureLog } from '@courier/testkit';
import { AllowList, SshRpcServerChannel } from '@courier/transport-ssh';
import { SpawnedPids } from '../../src/sshrpc/allow-list.js';
import { FakeCarrier, frame, settle } from '../support/fake-carrier.js';

const t = (...xs: Term[]) => new Tuple(xs);
const a = atom;

function setup(
  o: {
    maxFrame?: number;
    maxInFlight?: number;
    maxInFlightBytes?: number;
    maxSpawned?: number;
    maxSpawnedBytes?: number;
    modules?: Record<string, 'all' | string[]>;
    names?: string[];
  } = {},
) {
  const node = new Node({ name: 'srv@host' });
  const gates: Array<() => void> = [];
  node.expose('m', {
    add: (x, y) => (x as number) + (y as number),
    gate: () => new Promise<Term>((r) => gates.push(() => r(a('opened')))),
    boom: () => {
      throw new Error('boom');
    },
  });
  node.expose('hidden', { f: () => 1 });
  // As global's resolve_it: a runtime entry point for cookie holders only.
  node.expose('sys_internal', { kill_one: () => 1 }, { internal: true });
  const log = captureLog();
  const c = new FakeCarrier();
  const spawned = new SpawnedPids(o.maxSpawned, o.maxSpawnedBytes);
  const conn = {};
  new SshRpcServerChannel(
    c,
    { user: 'cli@host', log: log.logger, connection: conn },
    {
      host: node.services,
      allow: new AllowList(node, o.modules || o.names ? { modules: o.modules, names: o.names } : {}),
      spawned,
      maxFrame: o.maxFrame ?? 1024,
      maxInFlight: o.maxInFlight ?? 100,
      maxInFlightBytes: o.maxInFlightBytes,
    },
  );
  return { node, c, log, gates, spawned, conn, out: () => c.frames().map(formatErlang) };
}

describe('SshRpcServerChannel', () => {
  for (const size of [1, 2, 3, 7, 0]) {
    it(`parses requests fed ${size === 0 ? 'whole' : `${size} bytes at a time`}`, async () => {
      const { c, out } = setup();
      c.feed(
        Buffer.concat([frame(t(a('mfa'), t(a('m'), a('add'), [1, 2]))), frame(t(a('mfa'), a('m'), a('add'), [3, 4])), frame(t(a('call'), 9, a('m'), a('add'), [5, 6]))]),
        size,
      );
      await settle();
      expect(out().sort()).toEqual(['{answer,{3,0}}', '{answer,7}', '{reply,9,{answer,11}}'].sort());
    });
  }

  it('answers mfa requests in request order; call replies as they finish', async () => {
    const { c, out, gates } = setup();
    c.feed(frame(t(a('mfa'), a('m'), a('gate'), [])));
    c.feed(frame(t(a('mfa'), a('m'), a('add'), [1, 1])));
    c.feed(frame(t(a('call'), 1, a('m'), a('gate'), [])));
    c.feed(frame(t(a('call'), 2, a('m'), a('add'), [2, 2])));
    await settle();
    expect(out()).toEqual(['{reply,2,{answer,4}}']);
    gates[1]?.();
    await settle();
    expect(out()).toEqual(['{reply,2,{answer,4}}', '{reply,1,{answer,opened}}']);
    gates[0]?.();
    await settle();
    expect(out()).toEqual(['{reply,2,{answer,4}}', '{reply,1,{answer,opened}}', '{answer,opened}', '{answer,2}']);
  });

  it('enforces the allow-list: by default only exposed functions, never erpc; an explicit list narrows it', async () => {
    const d = setup();
    d.c.feed(
      Buffer.concat([
        frame(t(a('mfa'), a('os'), a('cmd'), ['id'])),
        frame(t(a('mfa'), a('erpc'), a('execute_cast'), [a('m'), a('add'), [1, 2]])),
        frame(t(a('mfa'), a('m'), a('add'), [1])),
      ]),
    );
    await settle();
    expect(d.out()).toEqual(['{error,{not_allowed,{os,cmd,1}}}', '{error,{not_allowed,{erpc,execute_cast,3}}}', '{error,{not_allowed,{m,add,1}}}']);
    expect(d.log.find('warn', 'allow-list').length).toBe(3);
    const n = setup({ modules: { m: ['add/2'], hidden: 'all' } });
    n.c.feed(Buffer.concat([frame(t(a('mfa'), a('m'), a('add'), [1, 2])), frame(t(a('mfa'), a('m'), a('boom'), [])), frame(t(a('mfa'), a('hidden'), a('f'), []))]));
    await settle();
    expect(n.out()).toEqual(['{answer,3}', '{error,{not_allowed,{m,boom,0}}}', '{answer,1}']);
  });

  it('never reaches a module exposed as internal (global:resolve_it), by default or when listed', async () => {
    const d = setup();
    d.c.feed(frame(t(a('mfa'), a('sys_internal'), a('kill_one'), [])));
    await settle();
    expect(d.out()).toEqual(['{error,{not_allowed,{sys_internal,kill_one,0}}}']);
    const n = setup({ modules: { sys_internal: 'all' } });
    n.c.feed(frame(t(a('mfa'), a('sys_internal'), a('kill_one'), [])));
    await settle();
    expect(n.out()).toEqual(['{error,{not_allowed,{sys_internal,kill_one,0}}}']);
  });

  it('a crash is an error answer, the channel carries on', async () => {
    const { c, out } = setup();
    c.feed(Buffer.concat([frame(t(a('mfa'), t(a('m'), a('boom'), []))), frame(t(a('mfa'), a('m'), a('boom'), [])), frame(t(a('whoami')))]));
    await settle();
    expect(out()).toEqual([
      `{answer,{{exec_badrpc,{'EXIT',{{error,<<"Error: boom">>},[]}}},-1}}`,
      '{error,{badrpc,{error,{error,<<"Error: boom">>}}}}',
      '{answer,[{user,<<"cli@host">>},{node,srv@host}]}',
    ]);
    expect(c.closed).toBe(false);
  });

  it('a malformed term: {error, bad_term}, one warning, this channel closes', async () => {
    const { c, out, log } = setup();
    c.feed(Buffer.from([0, 0, 0, 3, 131, 104, 5]));
    c.feed(frame(t(a('whoami'))));
    await settle();
    expect(out()).toEqual(['{error,bad_term}']);
    expect(c.closedWith).toBe(1);
    expect(log.find('warn').map((e) => e.fields['code'])).toEqual(['BAD_TERM']);
  });

  it('an oversized frame is refused from its length alone, before the bytes arrive', async () => {
    const { c, out, log } = setup({ maxFrame: 64 });
    c.feed(Buffer.from([0, 0, 0, 65]));
    await settle();
    expect(out()).toEqual(['{error,{frame_too_large,64}}']);
    expect(c.closedWith).toBe(1);
    expect(log.find('warn').map((e) => e.fields['code'])).toEqual(['FRAME_TOO_LARGE']);
  });

  it('unknown requests are answered in their own shape', async () => {
    const { c, out } = setup();
    c.feed(Buffer.concat([frame(t(a('hello'))), frame(t(a('mfa'), t('lists', a('seq'), []))), frame(t(a('mfa'), a('m'), a('add'), 'x'))]));
    await settle();
    expect(out()[0]).toBe('{error,{bad_request,{hello}}}');
    expect(out()[1]).toBe('{answer,{{exec_error,{mfa,{"lists",seq,[]}}},-1}}');
  });

  it('pauses reading past maxInFlight or while the carrier refuses more, resumes after', async () => {
    const { c, gates } = setup({ maxInFlight: 2 });
    c.feed(Buffer.concat([frame(t(a('call'), 1, a('m'), a('gate'), [])), frame(t(a('call'), 2, a('m'), a('gate'), []))]));
    await settle();
    expect(c.paused).toBe(true);
    gates[0]?.();
    await settle();
    expect(c.paused).toBe(false);
    c.accept = false;
    gates[1]?.();
    await settle();
    expect(c.paused).toBe(true);
    c.receiver?.onDrain();
    expect(c.paused).toBe(false);
  });

  it('pauses reading past maxInFlightBytes of calls running (one request always gets in), resumes as they finish', async () => {
    const { c, gates, out } = setup({ maxFrame: 1 << 20, maxInFlightBytes: 1000 });
    const big = (id: number) => frame(t(a('call'), Buffer.alloc(600, id), a('m'), a('gate'), []));
    c.feed(big(1));
    await settle();
    expect(c.paused).toBe(false); // 600 of 1000 bytes
    c.feed(big(2));
    await settle();
    expect(c.paused).toBe(true); // 1200: no more until one finishes
    gates[0]?.();
    await settle();
    expect(c.paused).toBe(false);
    gates[1]?.();
    await settle();
    expect(out()).toHaveLength(2);
    // A compressed request weighs what it inflates to, not its few bytes on the wire.
    const packed = Buffer.from(encode(t(a('call'), Buffer.alloc(2000), a('m'), a('gate'), []), { compressed: true }));
    expect(packed.length).toBeLessThan(1000);
    c.feed(Buffer.concat([Buffer.from([0, 0, (packed.length >> 8) & 0xff, packed.length & 0xff]), packed]));
    await settle();
    expect(c.paused).toBe(true);
    gates[2]?.();
    await settle();
    expect(c.paused).toBe(false);
  });

  it('spawn past maxSpawned live processes of one connection: {error, system_limit}; room again once they end', async () => {
    const { c, gates, out, log } = setup({ maxSpawned: 2 });
    c.feed(Buffer.concat([1, 2, 3].map((i) => frame(t(a('spawn'), i, a('m'), a('gate'), [])))));
    await settle();
    expect(out()).toEqual([expect.stringMatching(/^\{reply,1,\{pid,/), expect.stringMatching(/^\{reply,2,\{pid,/), '{reply,3,{error,system_limit}}']);
    expect(log.find('warn', 'too many live processes')[0]?.fields['code']).toBe('SPAWN_LIMIT');
    gates[0]?.();
    await settle();
    c.feed(frame(t(a('spawn'), 4, a('m'), a('gate'), [])));
    await settle();
    expect(out()[3]).toMatch(/^\{reply,4,\{pid,/);
  });

  it('spawn past maxSpawnedBytes of live requests of one connection: {error, system_limit} (the first always gets in)', async () => {
    const { c, gates, out } = setup({ maxSpawnedBytes: 1000 });
    const big = (id: number) => frame(t(a('spawn'), Buffer.alloc(600, id), a('m'), a('gate'), []));
    c.feed(Buffer.concat([big(1), big(2)]));
    await settle();
    expect(out()[0]).toMatch(/\{pid,/);
    expect(out()[1]).toMatch(/\{error,system_limit\}\}$/);
    gates[0]?.();
    await settle();
    c.feed(big(3));
    await settle();
    expect(out()[2]).toMatch(/\{pid,/);
  });

  it("after the client's EOF, answers still owed go out, then the channel closes with status 0", async () => {
    const { c, out, gates } = setup();
    c.feed(Buffer.concat([frame(t(a('call'), 1, a('m'), a('gate'), [])), frame(t(a('mfa'), a('m'), a('add'), [1, 1]))]));
    c.onPeerEof?.();
    await settle();
    expect(c.closed).toBe(false);
    gates[0]?.();
    await settle();
    expect(out()).toEqual(['{answer,2}', '{reply,1,{answer,opened}}']);
    expect(c.closedWith).toBe(0);
  });

  it('spawn returns a pid; send reaches it and allowed names; other pids and names are refused', async () => {
    const { node, c, out, log } = setup({ modules: { box: 'all' }, names: ['inbox'] });
    const got: Term[] = [];
    node.expose('box', {
      async wait(this: import('@courier/core').Process) {
        got.push(await this.receive());
      },
    });
    const inbox = node.spawn(async (self) => void got.push(await self.receive()), { name: a('inbox') });
    c.feed(frame(t(a('spawn'), 5, a('box'), a('wait'), [])));
    await settle();
    const [reply] = c.frames() as [Tuple];
    const pid = (reply.elements[2] as Tuple).elements[1] as Pid;
    expect(pid).toBeInstanceOf(Pid);
    expect(node.isAlive(pid)).toBe(true);
    c.feed(
      Buffer.concat([
        frame(t(a('send'), pid, a('to_spawned'))),
        frame(t(a('send'), a('inbox'), a('to_name'))),
        frame(t(a('send'), inbox, a('not_spawned'))),
        frame(t(a('send'), a('other'), a('x'))),
      ]),
    );
    await settle();
    expect(got.sort()).toEqual([a('to_name'), a('to_spawned')].sort());
    expect(log.find('warn', 'sshrpc send refused')).toHaveLength(2);
    expect(out()).toHaveLength(1);
  });
});
