import { connect, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Node, rpcCall, type NodeEvent } from '@courier/core';
import { Pid, Ref, Tuple, atom, atoms, termEquals, tuple, type Atom, type Term } from '@courier/term';
import { tcpDist, type ErlDistTransport } from '@courier/transport-tcp';
import { randomCookie, uniqueName, type ErlNode } from '@courier/testkit';
import { erlNode, erlPeer, freePort, inProcess, startEpmd, until, type Epmd } from './harness.js';
import { TICK, collectingLogger, distBody, fakePeer, frame, within, type FakePeer, type LogEntry } from './fake-peer.js';

/**
 * Bad input against a running Courier node. A fake peer (a raw socket that does the real
 * handshake) sends broken frames; each fatal one must close that connection only, with one clear
 * `warn` and no stack, while a real erl node connected to the same Courier node keeps 100 echo
 * round trips in flight the whole time and loses none. Then random bytes (fast-check), then bad
 * input before the handshake on the listening port.
 */
const HANDSHAKE_TIMEOUT_MS = 1000;
const MAX_MESSAGE = 1 << 20;
const ECHO = atom('robust_echo');

let epmd: Epmd;
let cookie: string;
let node: Node;
let transport: ErlDistTransport;
let entries: LogEntry[];
let events: NodeEvent[];
let echoed = 0;
let erl: ErlNode | undefined;
let reports: Term[];
let windowPid: Pid | undefined;
const uncaught: unknown[] = [];
const onUncaught = (err: unknown) => void uncaught.push(err);

beforeAll(async () => {
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  cookie = randomCookie();
  // OTP's epmd when erl is installed; else the node's own embedded EPMD on a free port.
  epmd = erlPeer.available ? await startEpmd() : { port: await freePort(), stop: () => Promise.resolve() };
  const c = collectingLogger();
  entries = c.entries;
  transport = tcpDist({ cookie, epmd: { port: epmd.port }, handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS, maxMessage: MAX_MESSAGE });
  node = new Node({ name: `${uniqueName('robust')}@127.0.0.1`, log: c.log, transports: [transport] });
  events = [];
  node.events$.subscribe((e) => events.push(e));
  await node.start();
  node.spawn(
    async (self) => {
      for (;;) {
        const m = await self.receive();
        if (m instanceof Tuple && m.elements.length === 2 && m.elements[0] instanceof Pid) {
          self.send(m.elements[0], tuple(atom('echo'), m.elements[1]));
          echoed++;
        }
      }
    },
    { name: ECHO },
  );
  if (!erlPeer.available) return;
  // The real erl node: 100 echo round trips in flight, refilled as replies come back.
  erl = await erlNode(epmd, cookie);
  reports = [];
  const reporter = node.spawn(async (self) => {
    for (;;) reports.push(await self.receive());
  });
  windowPid = await inProcess(
    node,
    (self) => rpcCall(self, atom(erl?.node as string), atom('courier_peer'), atom('start_echo_window'), [tuple(ECHO, node.name), 100, reporter]) as Promise<Pid>,
  );
  await until(() => echoed >= 200, 10_000, 'the erl echo window to be running');
}, 60_000);

afterAll(async () => {
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUncaught);
  await node?.stop();
  await erl?.stop();
  await epmd?.stop();
});

const connectFake = () => fakePeer(transport.port as number, node.name, { cookie });

/** The nodedown event for `peer`, from now on. */
function nodedown(peer: Atom): Promise<NodeEvent> {
  return new Promise((resolve) => {
    const sub = node.events$.subscribe((e) => {
      if (e.type === 'nodedown' && e.node === peer) {
        sub.unsubscribe();
        resolve(e);
      }
    });
  });
}

const warnsSince = (mark: number) => entries.slice(mark).filter((e) => e.level === 'warn');
const errorsSince = (mark: number) => entries.slice(mark).filter((e) => e.level === 'error');

/** The node is alive and serving: a fresh fake peer gets an echo back. */
async function nodeServes(): Promise<void> {
  const p = await connectFake();
  try {
    p.regSend(ECHO, tuple(p.pid, atom('alive?')));
    await p.waitFor((r) => r.payload !== undefined && termEquals(r.payload, tuple(atom('echo'), atom('alive?'))), 3000, 'echo reply');
  } finally {
    p.close();
  }
}

const u64 = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(v);
  return b;
};

/** Broken frames a legitimate peer might send, each fatal to its connection. */
const FATAL: Array<{ what: string; bytes: (p: FakePeer) => Uint8Array; code: string }> = [
  { what: 'a frame length over the limit', bytes: () => Buffer.from([0x7f, 0xff, 0xff, 0xff, 131, 68, 0]), code: 'FRAME_TOO_LARGE' },
  { what: 'a 4 GiB frame length', bytes: () => Buffer.from([0xff, 0xff, 0xff, 0xff]), code: 'FRAME_TOO_LARGE' },
  { what: 'garbage after 131,68,0', bytes: () => frame(Buffer.from([131, 68, 0, 0xff, 0xfe, 0xfd, 0xfc])), code: 'ETF_UNKNOWN_TAG' },
  { what: 'a truncated term', bytes: () => frame(Buffer.from([131, 68, 0, 104, 4, 97, 6, 88])), code: 'ETF_TRUNCATED' },
  { what: 'a truncated payload', bytes: (p) => frame(distBody(new Tuple([6, p.pid, atoms.empty, ECHO]), tuple(p.pid, Buffer.alloc(100))).subarray(0, -10)), code: 'ETF_TRUNCATED' },
  { what: 'a control tuple of the wrong arity (SEND with 2 elements)', bytes: () => frame(distBody(new Tuple([2, atoms.empty]), atom('msg'))), code: 'BAD_CONTROL' },
  { what: 'a control message that is not a tuple', bytes: () => frame(distBody([1, 2, 3])), code: 'BAD_CONTROL' },
  { what: 'REG_SEND without its payload', bytes: (p) => frame(distBody(new Tuple([6, p.pid, atoms.empty, ECHO]))), code: 'BAD_CONTROL' },
  { what: 'a LINK whose pids are atoms', bytes: () => frame(distBody(new Tuple([1, atom('a'), atom('b')]))), code: 'BAD_CONTROL' },
  {
    what: 'stray bytes after the payload',
    bytes: (p) => frame(Buffer.concat([distBody(new Tuple([6, p.pid, atoms.empty, ECHO]), tuple(p.pid, 1)), Buffer.from([97, 1])])),
    code: 'BAD_FRAME',
  },
  { what: 'an atom-cache ref with no cache entries', bytes: () => frame(Buffer.from([131, 68, 0, 104, 2, 97, 6, 82, 0])), code: 'ETF_ATOM_CACHE_MISS' },
  {
    what: 'an atom-cache entry of 256 characters',
    // 1 ref: new entry in segment 0 (half-byte 8), LongAtoms set (next half-byte 1), index 0, Len:16.
    bytes: () => frame(Buffer.concat([Buffer.from([131, 68, 1, 0x18, 0, 1, 0]), Buffer.alloc(256, 0x61), Buffer.from([82, 0])])),
    code: 'BAD_DIST_HEADER',
  },
  { what: 'an unknown distribution header type', bytes: () => frame(Buffer.from([131, 99, 0])), code: 'BAD_DIST_HEADER' },
  { what: 'a frame that is not 131 or 112', bytes: () => frame(Buffer.from([42, 1, 2])), code: 'BAD_DIST_HEADER' },
  { what: 'a fragment of a sequence never started', bytes: () => frame(Buffer.concat([Buffer.from([131, 70]), u64(5n), u64(1n), Buffer.from([1])])), code: 'BAD_FRAGMENT' },
  {
    what: 'a term nested 100 000 deep',
    bytes: () => frame(Buffer.concat([Buffer.from([131, 68, 0]), Buffer.alloc(200_000, 0).fill(Buffer.from([108, 0, 0, 0, 1]))])),
    code: 'ETF_LIMIT',
  },
];

describe('bad frames from a peer that completed the handshake', () => {
  for (const c of FATAL) {
    it(`${c.what}: that connection closes with a warning, the node carries on`, async () => {
      const p = await connectFake();
      const down = nodedown(p.name);
      const mark = entries.length;
      p.write(c.bytes(p));
      await within(p.closed, 3000, 'the connection to close');
      await within(down, 3000, 'the nodedown event');
      const warns = warnsSince(mark).filter((e) => e.msg === 'protocol error, closing connection');
      expect(warns).toHaveLength(1);
      expect(warns[0]?.fields).toMatchObject({ peer: p.name.name, code: c.code, err: expect.any(String) as unknown });
      expect(errorsSince(mark)).toEqual([]);
      await nodeServes();
    });
  }

  it('a control message with an unknown operation is logged and ignored; the connection stays', async () => {
    const p = await connectFake();
    try {
      const mark = entries.length;
      p.send(new Tuple([99, p.pid, atom('whatever')]), atom('payload'));
      p.send(new Tuple([4, p.pid, node.whereis(ECHO)])); // UNLINK (obsolete): not decoded either
      p.regSend(ECHO, tuple(p.pid, atom('still here')));
      await p.waitFor((r) => r.payload !== undefined && termEquals(r.payload, tuple(atom('echo'), atom('still here'))), 3000, 'the echo after the unknown op');
      expect(p.isClosed).toBe(false);
      const warns = warnsSince(mark).filter((e) => e.msg === 'unknown control message ignored');
      expect(warns.map((w) => w.fields['err'])).toEqual(['unknown distribution control operation 99 at byte 0', 'unknown distribution control operation 4 at byte 0']);
      expect(warns[0]?.fields).toMatchObject({ peer: p.name.name });
      expect(errorsSince(mark)).toEqual([]);
      expect(events.filter((e) => e.type === 'nodedown' && e.node === p.name)).toEqual([]);
    } finally {
      p.close();
    }
  });

  it('ticks and good frames before the bad one are delivered in order, nothing after it', async () => {
    const witness = atom(uniqueName('witness'));
    const got: Term[] = [];
    node.spawn(
      async (self) => {
        for (;;) got.push(await self.receive());
      },
      { name: witness },
    );
    const p = await connectFake();
    const down = nodedown(p.name);
    const good = (n: number) => frame(distBody(new Tuple([6, p.pid, atoms.empty, witness]), n));
    p.write(Buffer.concat([TICK, good(1), TICK, good(2), frame(Buffer.from([131, 68, 0, 0xff])), good(3), TICK]));
    await within(down, 3000, 'the nodedown event');
    await p.closed;
    await until(() => got.length >= 2, 2000, 'the two good messages');
    await nodeServes(); // a full round trip later, a message after the bad frame would have arrived
    expect(got).toEqual([1, 2]);
  });
});

describe('random bytes after the handshake (fast-check)', () => {
  const good = (to: Atom, n: number) => Buffer.from(frame(distBody(new Tuple([6, new Pid(atom('x@y'), 1, 0, 1), atoms.empty, to]), tuple(n, Buffer.from('abc')))));
  const mutated = fc
    .tuple(fc.integer({ min: 0, max: 1000 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), fc.option(fc.nat()))
    .map(([n, flips, cut]) => {
      const b = good(ECHO, n);
      for (const [at, v] of flips) b[4 + (at % (b.length - 4))] = v;
      return cut === null ? b : b.subarray(0, 4 + (cut % (b.length - 4)));
    });
  const framed = fc
    .array(
      fc.oneof(
        fc.uint8Array({ maxLength: 64 }).map((b) => frame(Buffer.concat([Buffer.from([131, 68, 0]), b]))),
        fc.uint8Array({ maxLength: 64 }).map((b) => frame(Buffer.concat([Buffer.from([131]), b]))),
        fc.uint8Array({ maxLength: 64 }).map((b) => frame(b)),
        fc.constant(Buffer.from(TICK)),
      ),
      { maxLength: 5 },
    )
    .map((fs) => Buffer.concat(fs));
  const raw = fc.uint8Array({ minLength: 1, maxLength: 256 }).map((b) => Buffer.from(b));
  // Well-formed ETF with random control tuples: any op number, any arity, terms that are sometimes
  // of the right type. Targets are names and pids that exist nowhere (killing the echo process
  // with an exit signal would be correct Erlang, but would end this suite), plus rex and net_kernel.
  const names = fc.constantFrom(
    ECHO,
    atom('rex'),
    atom('net_kernel'),
    atom('no_such'),
    atom('courier_echo'),
    atom('echo'),
    atom('add'),
    atom('sleep'),
    atom('crash'),
    atoms.empty,
    atom('$gen_call'),
    atom('call'),
    atom('features_request'),
  );
  const term = fc.letrec<{ t: Term }>((tie) => ({
    t: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.integer({ min: -5, max: 40 }),
      names,
      fc.integer({ min: 100_000, max: 200_000 }).map((id) => new Pid(node.name, id, 0, node.creation)),
      fc.integer({ min: 0, max: 5 }).map((id) => new Pid(atom('x@y'), id, 0, 1)),
      fc.array(fc.nat(), { minLength: 3, maxLength: 3 }).map((ids) => new Ref(node.name, node.creation, ids)),
      fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)),
      fc.array(tie('t'), { maxLength: 4 }),
      fc.array(tie('t'), { maxLength: 5 }).map((xs) => new Tuple(xs)),
    ),
  })).t;
  const controls = fc
    .array(fc.tuple(fc.integer({ min: -1, max: 40 }), fc.array(term, { maxLength: 6 }), fc.option(term, { nil: undefined })), { minLength: 1, maxLength: 4 })
    .map((ms) => Buffer.concat(ms.map(([op, args, payload]) => frame(distBody(new Tuple([op, ...args]), payload)))));

  it('never crash the node: no uncaught exception, no error log, every connection ends, the node still serves', async () => {
    const mark = entries.length;
    await fc.assert(
      fc.asyncProperty(fc.oneof(raw, framed, mutated, controls, controls), fc.boolean(), async (bytes, split) => {
        const p = await connectFake();
        const down = nodedown(p.name);
        if (split) for (let i = 0; i < bytes.length; i += 3) p.write(bytes.subarray(i, i + 3));
        else p.write(bytes);
        p.socket.end(); // whatever the bytes left half-read, the FIN ends the connection
        await within(p.closed, 3000, 'the connection to close');
        await within(down, 3000, 'the nodedown event');
      }),
      { numRuns: process.env.CI === 'true' ? 1000 : 300 },
    );
    expect(uncaught).toEqual([]);
    expect(errorsSince(mark)).toEqual([]);
    await nodeServes();
  }, 60_000);
});

describe('bad input before the handshake, on the listening port', () => {
  /** A raw connection: send `bytes`, resolve with how long until the node closed it. */
  function raw(bytes: Uint8Array): Promise<{ ms: number; answer: Buffer }> {
    return new Promise((resolve, reject) => {
      const s: Socket = connect({ port: transport.port as number, host: '127.0.0.1' });
      const t0 = Date.now();
      const chunks: Buffer[] = [];
      const t = setTimeout(() => {
        s.destroy();
        reject(new Error('the node did not close the connection within 5 s'));
      }, 5000);
      s.on('data', (c: Buffer) => chunks.push(c));
      s.on('error', () => undefined);
      s.on('close', () => {
        clearTimeout(t);
        resolve({ ms: Date.now() - t0, answer: Buffer.concat(chunks) });
      });
      s.on('connect', () => {
        if (bytes.length > 0) s.write(bytes);
      });
    });
  }

  const cases: Array<{ what: string; bytes: Uint8Array; code: string; slow?: boolean }> = [
    { what: 'an HTTP request', bytes: Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), code: 'BAD_MESSAGE' },
    { what: 'a handshake length of 65535', bytes: Buffer.from([0xff, 0xff, 0x4e]), code: 'BAD_MESSAGE' },
    { what: 'a zero handshake length', bytes: Buffer.from([0, 0]), code: 'BAD_MESSAGE' },
    { what: 'a complete message that is not send_name', bytes: Buffer.from([0, 5, 1, 2, 3, 4, 5]), code: 'BAD_MESSAGE' },
    { what: 'a send_name too short for its fields', bytes: Buffer.from([0, 3, 0x4e, 0, 0]), code: 'BAD_MESSAGE' },
    { what: 'a slowloris that never finishes send_name', bytes: Buffer.from([0, 20, 0x4e, 0, 0]), code: 'TIMEOUT', slow: true },
    { what: 'a connection that sends nothing', bytes: new Uint8Array(0), code: 'TIMEOUT', slow: true },
  ];

  for (const c of cases) {
    it(`${c.what}: closed${c.slow ? ` after handshakeTimeoutMs (${HANDSHAKE_TIMEOUT_MS} ms)` : ' at once'}, with a warning`, async () => {
      const mark = entries.length;
      const { ms, answer } = await raw(c.bytes);
      if (c.slow) {
        expect(ms).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT_MS - 50);
        expect(ms).toBeLessThan(HANDSHAKE_TIMEOUT_MS + 2000);
      } else expect(ms).toBeLessThan(HANDSHAKE_TIMEOUT_MS);
      expect(answer.length).toBe(0);
      await until(() => warnsSince(mark).some((e) => e.msg === 'handshake failed'), 2000, 'the warning');
      expect(warnsSince(mark).find((e) => e.msg === 'handshake failed')?.fields).toMatchObject({ code: c.code, direction: 'accept', err: expect.any(String) as unknown });
      expect(errorsSince(mark)).toEqual([]);
      await nodeServes();
    });
  }

  it('a wrong cookie is refused and the node carries on', async () => {
    const mark = entries.length;
    await expect(fakePeer(transport.port as number, node.name, { cookie: 'wrong' })).rejects.toThrow();
    await until(() => warnsSince(mark).some((e) => e.fields['code'] === 'BAD_COOKIE'), 2000, 'the warning');
    await nodeServes();
  });
});

describe('the real erl node next door', () => {
  it('kept 100 round trips in flight through all of the above and lost none', async (ctx) => {
    erlPeer.require(ctx);
    await until(() => echoed >= 1000, 20_000, '1000 round trips');
    const reporter = await inProcess(node, async (self) => {
      self.send(windowPid as Pid, tuple(atom('stop'), self.pid));
      return self.receive((m) => m instanceof Tuple && (m.elements[0] === atom('stopped') || m.elements[0] === atom('echo_window_failed')), 10_000);
    });
    expect(reports).toEqual([]);
    const r = reporter as Tuple;
    expect(r.elements[0]).toBe(atom('stopped'));
    expect(r.elements[1]).toBe(r.elements[2]);
    expect(r.elements[1] as number).toBeGreaterThanOrEqual(1000);
    // It was connected the whole time: one nodeup, no nodedown.
    const E = atom(erl?.node as string);
    expect(events.filter((e) => e.node === E).map((e) => e.type)).toEqual(['nodeup']);
  });
});
