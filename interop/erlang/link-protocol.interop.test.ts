import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { Node, type Process } from '@courier/core';
import { Pid, Tuple, atom, atoms, type Atom, type Term } from '@courier/term';
import { tcpDist } from '@courier/transport-tcp';
import { compileErl, faultProxy, freePort, randomCookie, uniqueName, type ErlNode, type FaultProxy } from '@courier/testkit';
import { erlNode, erlPeer, startEpmd, tools, until, type Epmd } from './harness.js';

/**
 * The link protocol (UNLINK_ID / UNLINK_ID_ACK) live against OTP 25: a fault proxy holds what
 * Courier writes, so its UNLINK_ID (and LINK) cross what the Erlang process E does meanwhile
 * (driven from erl's stdin, a channel outside the connection). Checked: no phantom link, no
 * EXIT delivered across a link being unlinked, no EXIT lost after a relink.
 */
let epmd: Epmd;
let erl: ErlNode;
let erlName: Atom;
let proxy: FaultProxy;
let node: Node;
let p: Process;
const got: Term[] = [];

/** What erl prints from now on. */
function mark(): (line: string) => Promise<void> {
  const at = erl.stdout.text.length;
  return (line) => until(() => erl.stdout.text.slice(at).includes(line), 10_000, `erl to print ${line}`);
}

async function cmd(c: string): Promise<void> {
  const seen = mark();
  erl.write(`${c}.\n`);
  await seen(`DONE ${c}`);
}

/** A fresh E on erl, linked to P. */
async function freshE(): Promise<Pid> {
  await cmd('start_e');
  got.length = 0;
  p.send({ name: 'nk_e', node: erlName }, new Tuple([atom('peer'), p.pid]));
  await until(() => got.length > 0, 10_000, 'e_linked');
  const m = got.shift() as Tuple;
  expect(m.elements[0]).toBe(atom('e_linked'));
  const e = m.elements[1] as Pid;
  expect(p.isLinked(e)).toBe(true);
  return e;
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 300));
const exitFrom = (e: Pid, reason: Term): string => String(new Tuple([atoms.EXIT, e, reason]));

beforeAll(async () => {
  if (!erlPeer.available) return;
  epmd = await startEpmd();
  const cookie = randomCookie();
  const dir = (await compileErl([fileURLToPath(new URL('./fixtures/courier_nk.erl', import.meta.url))], tools)).dir;
  const port = await freePort();
  erl = await erlNode(epmd, cookie, {
    eval: 'io:format("UP~n"), courier_nk:stdin_loop().',
    args: ['-pa', dir, '-kernel', 'inet_dist_listen_min', String(port), '-kernel', 'inet_dist_listen_max', String(port)],
  });
  erlName = atom(erl.node as string);
  proxy = await faultProxy({ target: { host: '127.0.0.1', port } });
  node = new Node({ name: `${uniqueName('lp')}@127.0.0.1`, transports: [tcpDist({ cookie, epmd: false, peerPort: proxy.port, listen: { port: 0 } })] });
  await node.start();
  node.spawn(
    async (self) => {
      p = self;
      for (;;) got.push(await self.receive());
    },
    { trapExit: true },
  );
  expect(await node.connect(erlName)).toBe(true);
}, 60_000);

afterAll(async () => {
  await node?.stop();
  await proxy?.close();
  await erl?.stop();
  await epmd?.stop();
});

describe('link protocol against OTP 25, signals crossing on the wire', () => {
  it('E unlinks and relinks while our UNLINK_ID is held: both end unlinked (no phantom link)', async (ctx) => {
    erlPeer.require(ctx);
    const e = await freshE();
    proxy.stall('toTarget');
    try {
      p.unlink(e);
      // E's UNLINK_ID and LINK reach us; ours reaches E only after them.
      await cmd('unlink_link');
      await settle();
      expect(p.isLinked(e)).toBe(false);
    } finally {
      proxy.resume('toTarget');
    }
    await settle();
    const seen = mark();
    erl.write('links.\n');
    await seen('LINKS false');
    expect(p.isLinked(e)).toBe(false);
    // Neither side thinks there is a link: E's exit reaches nobody here.
    await cmd('exit_boom');
    await settle();
    expect(got.map(String)).toEqual([]);
  });

  it('E relinks and exits while we unlink: its EXIT crossed our UNLINK_ID and is ignored', async (ctx) => {
    erlPeer.require(ctx);
    const e = await freshE();
    proxy.stall('toTarget');
    try {
      p.unlink(e);
      await cmd('unlink_link');
      await cmd('exit_boom');
      await settle();
      expect(got.map(String)).not.toContain(exitFrom(e, atom('boom')));
      expect(p.alive).toBe(true);
    } finally {
      proxy.resume('toTarget');
    }
    await settle();
    expect(got.map(String)).toEqual([]);
    expect(p.isLinked(e)).toBe(false);
  });

  it('we unlink and relink before the ack; E exits meanwhile: its EXIT is not lost', async (ctx) => {
    erlPeer.require(ctx);
    const e = await freshE();
    proxy.stall('toTarget');
    try {
      p.unlink(e);
      p.link(e);
      await cmd('exit_boom');
      await until(() => got.length > 0, 5000, 'the EXIT');
      expect(got.map(String)).toEqual([exitFrom(e, atom('boom'))]);
    } finally {
      proxy.resume('toTarget');
    }
    // Our held UNLINK_ID and LINK reach a dead E: the LINK is answered noproc, which finds no link here.
    await settle();
    expect(got.map(String)).toEqual([exitFrom(e, atom('boom'))]);
    expect(p.isLinked(e)).toBe(false);
  });

  it('E unlinks us: we ack, and an exit of E afterwards reaches nobody', async (ctx) => {
    erlPeer.require(ctx);
    const e = await freshE();
    await cmd('unlink');
    await until(() => !p.isLinked(e), 5000, 'the unlink');
    const seen = mark();
    erl.write('links.\n');
    await seen('LINKS false');
    await cmd('exit_boom');
    await settle();
    expect(got.map(String)).toEqual([]);
  });
});
