import { describe, expect, it } from 'vitest';
import { Pid, Ref, atom, atoms, provisionalAtom, type Atom, type Term } from '@courier/term';
import { CarrierError, ConnectionTable, MAX_PENDING_OPS, silentLogger, type ConnectionHooks, type DistOp, type Session, type Transport } from '@courier/core';

/** A session that records what it is sent and whether it was closed. */
class FakeSession implements Session {
  readonly carrier = 'fake';
  readonly hidden = false;
  readonly sent: DistOp[] = [];
  closed: string | undefined;
  constructor(readonly peer: Atom) {}
  send(op: DistOp): boolean {
    this.sent.push(op);
    return true;
  }
  close(reason = 'closed'): void {
    this.closed = reason;
  }
}

const TRANSPORT = { name: 'fake' } as unknown as Transport;
const SELF = atom('self@h');
const PEER = atom('peer@h');
const OTHER = atom('other@h');
const op = (to: Atom): DistOp => ({ op: 'send', to: new Pid(to, 1, 0, 1), msg: 1 });

/** A table whose dials the test settles by hand; every hook call is recorded. */
function table(opts: Partial<Pick<ConnectionHooks, 'autoConnect' | 'allow'>> = {}) {
  const dials: Array<{ peer: Atom; resolve: (s: Session) => void; reject: (e: Error) => void }> = [];
  const downs: Array<{ peer: Atom; reason: Term; wasUp: boolean }> = [];
  const ups: Atom[] = [];
  const t = new ConnectionTable({
    self: SELF,
    log: silentLogger,
    ...opts,
    pickTransport: () => TRANSPORT,
    dial: (peer) => new Promise<Session>((resolve, reject) => dials.push({ peer, resolve, reject })),
    onUp: (peer) => ups.push(peer),
    onDown: (peer, reason, wasUp) => downs.push({ peer, reason, wasUp }),
  });
  return { t, dials, downs, ups };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Dial `peer` explicitly and bring the session up. */
async function up(x: ReturnType<typeof table>, peer: Atom): Promise<FakeSession> {
  const connected = x.t.connect(peer);
  const s = new FakeSession(peer);
  x.dials.at(-1)?.resolve(s);
  expect(await connected).toBe(true);
  return s;
}

describe('ConnectionTable: distAutoConnect', () => {
  it('on (the default): a send to an unconnected peer dials it and the op goes out once up', async () => {
    const x = table();
    x.t.send(PEER, op(PEER));
    expect(x.dials.map((d) => d.peer)).toEqual([PEER]);
    const s = new FakeSession(PEER);
    x.dials[0]?.resolve(s);
    await turn();
    expect(s.sent).toHaveLength(1);
  });

  it('never: a send does not dial; noconnection is reported once per turn, however many sends', async () => {
    const x = table({ autoConnect: 'never' });
    for (let i = 0; i < 100; i++) x.t.send(PEER, op(PEER));
    expect(x.dials).toHaveLength(0);
    await turn();
    expect(x.downs).toEqual([{ peer: PEER, reason: atoms.noconnection, wasUp: false }]);
    expect(await x.t.connect(PEER, 'auto')).toBe(false);
    expect(x.dials).toHaveLength(0);
  });

  it('never: an explicit connect still dials, and sends go over the connection once up', async () => {
    const x = table({ autoConnect: 'never' });
    const s = await up(x, PEER);
    x.t.send(PEER, op(PEER));
    expect(s.sent).toHaveLength(1);
    expect(x.ups).toEqual([PEER]);
  });

  it('once: implicit connects until the first connection went down, then only after an explicit connect', async () => {
    const x = table({ autoConnect: 'once' });
    x.t.send(PEER, op(PEER));
    expect(x.dials).toHaveLength(1);
    const s = new FakeSession(PEER);
    x.dials[0]?.resolve(s);
    await turn();
    x.t.down(PEER, atoms.noconnection, s);
    x.t.send(PEER, op(PEER));
    expect(x.dials).toHaveLength(1);
    await turn();
    expect(x.downs.map((d) => d.wasUp)).toEqual([true, false]);
    // Other peers are not barred.
    x.t.send(OTHER, op(OTHER));
    expect(x.dials.map((d) => d.peer)).toEqual([PEER, OTHER]);
    // An explicit connect lifts the bar; implicit connects work again until the next down.
    await up(x, PEER);
    expect(x.dials).toHaveLength(3);
  });

  it('once: a dial that never came up does not bar the peer (as net_kernel)', async () => {
    const x = table({ autoConnect: 'once' });
    x.t.send(PEER, op(PEER));
    x.dials[0]?.reject(new Error('refused'));
    await turn();
    x.t.send(PEER, op(PEER));
    expect(x.dials).toHaveLength(2);
  });
});

describe('ConnectionTable: allow list', () => {
  it('answers not_allowed to a handshake from a node not on the list (by name: the atom may be provisional)', () => {
    const x = table({ allow: new Set(['peer@h']) });
    expect(x.t.acceptPending(provisionalAtom('other@h'))).toBe('not_allowed');
    expect(x.t.acceptPending(provisionalAtom('peer@h'))).toBe('ok');
    expect(x.t.acceptPending(PEER)).toBe('ok');
  });

  it('no list: every node is accepted (but never ourselves)', () => {
    const x = table();
    expect(x.t.acceptPending(provisionalAtom('other@h'))).toBe('ok');
    expect(x.t.acceptPending(provisionalAtom('self@h'))).toBe('not_allowed');
  });

  it('a connect to a node not on the list fails without dialing; a send reports noconnection', async () => {
    const x = table({ allow: new Set(['peer@h']) });
    expect(await x.t.connect(OTHER)).toBe(false);
    x.t.send(OTHER, op(OTHER));
    expect(x.dials).toHaveLength(0);
    await turn();
    expect(x.downs.every((d) => d.peer === OTHER && !d.wasUp)).toBe(true);
    x.t.send(PEER, op(PEER));
    expect(x.dials.map((d) => d.peer)).toEqual([PEER]);
  });

  it('a session to a node not on the list (an address-dialed one names its peer late) is closed, not recorded', () => {
    const x = table({ allow: new Set(['peer@h']) });
    const s = new FakeSession(OTHER);
    x.t.attach(s);
    expect(s.closed).toBe('not_allowed');
    expect(x.t.isUp(OTHER)).toBe(false);
    expect(x.ups).toEqual([]);
  });
});

describe('ConnectionTable: the queue while a connection is set up', () => {
  it('holds MAX_PENDING_OPS operations; past it a message throws BUSY_DIST_PORT, signals still queue; all go out in order once up', async () => {
    const x = table();
    const from = new Pid(SELF, 1, 0, 1);
    const to = new Pid(PEER, 1, 0, 1);
    for (let i = 0; i < MAX_PENDING_OPS; i++) x.t.send(PEER, { op: 'send', to, msg: i });
    expect(x.dials).toHaveLength(1);
    let refused: unknown;
    try {
      x.t.send(PEER, { op: 'reg_send', from, to: atom('name'), msg: 'one too many' });
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(CarrierError);
    expect((refused as CarrierError).code).toBe('BUSY_DIST_PORT');
    // Links, exits and monitors are never refused: a signal must not be lost.
    x.t.send(PEER, { op: 'link', from, to });
    x.t.send(PEER, { op: 'exit', from, to, reason: atom('bye') });
    x.t.send(PEER, { op: 'monitor_p', from, to, ref: new Ref(SELF, 1, [1, 2, 3]) });
    const s = new FakeSession(PEER);
    x.dials[0]?.resolve(s);
    await turn();
    expect(s.sent).toHaveLength(MAX_PENDING_OPS + 3);
    expect(s.sent.slice(0, MAX_PENDING_OPS).every((o, i) => o.op === 'send' && o.msg === i)).toBe(true);
    expect(s.sent.slice(MAX_PENDING_OPS).map((o) => o.op)).toEqual(['link', 'exit', 'monitor_p']);
    // Up: the connection's own busy limit applies from now on, not this count.
    x.t.send(PEER, { op: 'send', to, msg: 'after' });
    expect(s.sent).toHaveLength(MAX_PENDING_OPS + 4);
  });
});
