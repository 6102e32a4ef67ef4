import { afterEach, describe, expect, it } from 'vitest';
import { Tuple, atom, atoms, type Term } from '@courier/term';
import type { Process } from '@courier/core';
import { recordingLogger } from '@courier/carrier-compliance';
import { portIdOfPid } from '@courier/transport-aemp';
import { Nodes, next, puppet, until } from '../nodes.js';

/**
 * Two Courier nodes, one of them speaking to the other as a Perl node does (`extended: false`:
 * the natural mapping, Perl's node-port protocol only) — what a Perl peer sees of Courier.
 */
const nodes = new Nodes();
afterEach(() => nodes.stopAll());

async function pair(framing: 'json' | 'cbor' = 'json') {
  const log = recordingLogger();
  const a = await nodes.make('courier-a', { framings: [framing] }, log);
  const p = await nodes.make('perlish-b', { framings: [framing], extended: false });
  return { a, p, log };
}

/** An echo port as the echo node serves it: `[reply, ...args]` → `args` to `reply`. */
function echo(node: import('@courier/core').Node): void {
  node.spawn(
    async (self) => {
      for (;;) {
        const m = await self.receive();
        if (Array.isArray(m) && typeof m[0] === 'string') self.send(m[0], m.slice(1));
      }
    },
    { name: atom('echo') },
  );
}

describe('AEMP node model between a Courier node and a Perl-speaking one', () => {
  for (const framing of ['json', 'cbor'] as const) {
    it(`sends to port ids with the one send API, both ways (${framing}); Perl-style messages are arrays`, async () => {
      const { a, p } = await pair(framing);
      echo(a.node);
      const me = puppet(p.node);
      me.send('courier-a#echo', [portIdOfPid(me.pid), 'hello', 42, { a: [1, 2] }, null, 'ünïcödé']);
      expect(await next(me)).toEqual(['hello', 42, { a: [1, 2] }, null, 'ünïcödé']);
      p.node.send(`courier-a#echo`, [`perlish-b#${'named'}`, atom('x')]);
      const named = puppet(p.node, 'named');
      expect(await next(named)).toEqual(['x']);
    });
  }

  it('monitors both ways with mon1/kil0; a missing port answers no_such_port (noproc); kil1 kills', async () => {
    const { a, p } = await pair();
    const victim = puppet(a.node, 'victim');
    const watcher = puppet(p.node);
    const ref = watcher.monitor({ name: 'victim', node: 'courier-a' });
    const none = watcher.monitor({ name: 'nobody', node: 'courier-a' });
    const down = await next(watcher);
    expect((down as Tuple).elements[1]).toBe(none);
    expect((down as Tuple).elements[4]).toBe(atoms.noproc);
    // Perl's reasons are lists: a tuple goes out spread, one value alone.
    victim.node.exitSignal(undefined, victim.pid, new Tuple([atom('die'), 'on purpose']));
    const d = (await next(watcher)) as Tuple;
    expect(d.elements[1]).toBe(ref);
    expect(d.elements[4]).toEqual(new Tuple(['die', 'on purpose']));
    // A kill from the Perl side (exit/2 becomes kil1).
    const target = puppet(a.node);
    const w2 = puppet(a.node);
    const r2 = w2.monitor(target.pid);
    watcher.exit(target.pid, atom('stop'));
    const d2 = (await next(w2)) as Tuple;
    expect(d2.elements[1]).toBe(r2);
    expect(d2.elements[4]).toBe('stop');
  });

  it('connection loss fires monitors across it (noconnection, Perl: transport_error)', async () => {
    const { a, p } = await pair();
    puppet(a.node, 'far');
    const watcher = puppet(p.node);
    expect(await p.node.connect('courier-a')).toBe(true);
    const ref = watcher.monitor({ name: 'far', node: 'courier-a' });
    expect(p.node.disconnect('courier-a')).toBe(true);
    const d = (await next(watcher)) as Tuple;
    expect([d.elements[1], d.elements[4]]).toEqual([ref, atoms.noconnection]);
  });

  it('answers can, time, snd; refuses eval with a warning and a reply', async () => {
    const { p, log } = await pair();
    const me = puppet(p.node, 'me');
    const ask = (tag: string, ...args: Term[]): void =>
      p.node.dist.session(atom('courier-a'))?.send({ op: 'port_send', from: me.pid, to: '', msg: [tag, ...args] }) as unknown as void;
    await p.node.connect('courier-a');
    ask('can', 'mon1', 'perlish-b#me', 'c1');
    expect(await next(me)).toEqual(['c1', '1']);
    ask('can', 'g_find', 'perlish-b#me', 'c2');
    expect(await next(me)).toEqual(['c2', '']);
    ask('time', 'perlish-b#me', 't');
    const [tag, when] = (await next(me)) as [string, number];
    expect(tag).toBe('t');
    expect(Math.abs(when - Date.now() / 1000)).toBeLessThan(5);
    ask('snd', 'perlish-b#me', 'relayed', 1);
    expect(await next(me)).toEqual(['relayed', 1]);
    ask('eval', 'system("rm -rf /")', 'perlish-b#me', 'e');
    const [etag, err] = (await next(me)) as [string, string];
    expect([etag, err]).toEqual(['e', 'eval is refused by this Courier node']);
    expect(log.records.some((r) => r.level === 'warn' && r.msg === 'eval request refused')).toBe(true);
  });

  it('dispatches Pkg::func and AnyEvent::MP::_spawn to exposed functions; refuses others with a log line', async () => {
    const { a, p, log } = await pair();
    a.node.expose('EchoNode', {
      greet(this: Process, reply: Term, who: Term) {
        this.send(reply as string, ['hi', who]);
      },
      async echo_init(this: Process) {
        const m = (await this.receive()) as Term[];
        this.send(m[0] as string, m.slice(1));
      },
    });
    const me = puppet(p.node, 'me');
    await p.node.connect('courier-a');
    const s = p.node.dist.session(atom('courier-a'));
    const req = (...msg: Term[]): void => void s?.send({ op: 'port_send', from: me.pid, to: '', msg });
    req('EchoNode::greet', 'perlish-b#me', 'perl');
    expect(await next(me)).toEqual(['hi', 'perl']);
    req('AnyEvent::MP::_spawn', 'spawned1', 'EchoNode::echo_init');
    me.send('courier-a#spawned1', ['perlish-b#me', 'via-spawn']);
    expect(await next(me)).toEqual(['via-spawn']);
    req('Evil::rm_rf', 1);
    req('AnyEvent::MP::_spawn', 'x', 'Not::there');
    const refusals = () => log.records.filter((r) => r.level === 'warn' && /refused/.test(r.msg ?? '')).map((r) => r.fields['fn']);
    await until(() => refusals().length >= 2, 3000, 'two refusals logged');
    expect(refusals()).toEqual(['Evil::rm_rf', 'Not::there']);
  });

  it('a malformed packet is logged, closes the connection, and the node carries on', async () => {
    const { a, p, log } = await pair();
    const q = puppet(a.node, 'q');
    const watcher = puppet(a.node);
    await a.node.connect('perlish-b');
    const events = new Promise((resolve) => a.node.events$.subscribe((e) => e.type === 'nodedown' && resolve(e)));
    // Write garbage straight on the connection from b's side.
    const session = p.node.dist.session(atom('courier-a')) as unknown as { io: { write(b: Uint8Array): boolean } };
    session.io.write(Buffer.from('{"not":"an array"}'));
    await events;
    expect(log.records.some((r) => r.level === 'warn' && r.fields['code'] === 'JSON_NOT_ARRAY')).toBe(true);
    watcher.send('courier-a#q', ['still here']);
    expect(await next(q)).toEqual(['still here']);
    expect(await p.node.connect('courier-a')).toBe(true);
  });
});
