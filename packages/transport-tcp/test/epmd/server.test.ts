import { execFile } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger, type Logger } from '@courier/core';
import { EpmdServer } from '../../src/epmd/server.js';
import { names, portPlease, register } from '../../src/epmd/client.js';
import { NODE_TYPE_NORMAL, PROTOCOL_TCP } from '../../src/epmd/messages.js';
import { epmdVectors } from '../support/vectors.js';
// The Erlang peer policy and OTP's own epmd on a private port, shared with the interop suites.
import { ertsTool, erlPeer, startEpmd, until, type Epmd } from '../../../../interop/erlang/harness.js';

/**
 * The embedded EPMD against OTP 25's epmd: the captured exchanges of epmd.json replayed on raw
 * sockets get the same bytes back (creations aside), OTP's `epmd -names` reads it, and bad input
 * closes the offending socket only.
 */
const v = epmdVectors();

interface Answer {
  hex: string;
  closed: boolean;
  socket: Socket;
}

/** Send `hex` on a fresh connection; settle when `want` bytes came back, or the server closed. */
function ask(port: number, hex: string, want = Infinity, oneByteAtATime = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', noDelay: true });
    const chunks: Buffer[] = [];
    let n = 0;
    let done = false;
    const timer = setTimeout(() => finish(new Error(`no answer to ${hex.slice(0, 40)} within 3 s (got ${Buffer.concat(chunks).toString('hex')})`)), 3000);
    const finish = (err?: Error, closed = false) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        s.destroy();
        reject(err);
      } else resolve({ hex: Buffer.concat(chunks).toString('hex'), closed, socket: s });
    };
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      n += c.length;
      if (n >= want) finish();
    });
    s.on('error', () => undefined);
    s.on('close', () => finish(undefined, true));
    const send = async (): Promise<void> => {
      const b = Buffer.from(hex, 'hex');
      if (!oneByteAtATime) return void s.write(b);
      for (let i = 0; i < b.length; i++) {
        await new Promise<void>((r) => s.write(b.subarray(i, i + 1), () => r()));
        await new Promise((r) => setImmediate(r));
      }
    };
    s.on('connect', () => void send());
  });
}

/**
 * The epmd.json sequence: register vecnode and vechidden, try vecnode again, register vecold
 * (version 5), look up three names, list names, drop vechidden, list again. Creations are masked
 * after checking them; NAMES_RESP's port is checked against `port` and masked.
 */
async function replay(port: number, oneByteAtATime = false): Promise<string[]> {
  const ex = v.exchanges;
  const out: string[] = [];
  const sockets: Socket[] = [];
  const mask = (a: Answer, i: number) => {
    const x = ex[i] as (typeof ex)[number];
    if (x.response.message === 'ALIVE2_X_RESP' && x.response.result === 0) {
      expect(a.hex.slice(0, 4)).toBe('7600');
      expect(parseInt(a.hex.slice(4), 16)).not.toBe(0);
      return `7600<creation>`;
    }
    if (x.response.message === 'ALIVE2_RESP' && x.response.result === 0) {
      expect(a.hex.slice(0, 4)).toBe('7900');
      expect([1, 2, 3]).toContain(parseInt(a.hex.slice(4), 16));
      return `7900<creation>`;
    }
    if (x.response.message === 'NAMES_RESP') {
      expect(parseInt(a.hex.slice(0, 8), 16)).toBe(port);
      return `<port>${a.hex.slice(8)}`;
    }
    return a.hex;
  };
  try {
    for (let i = 0; i < ex.length; i++) {
      const x = ex[i] as (typeof ex)[number];
      if (x.request.message === 'NAMES_REQ' && i === ex.length - 1) {
        // Before the last NAMES_REQ the vechidden registration socket closes.
        sockets[1]?.destroy();
        const gone = async () => !(await names({ host: '127.0.0.1', port })).some((e) => e.name === 'vechidden');
        const end = Date.now() + 3000;
        while (!(await gone())) {
          if (Date.now() > end) throw new Error('vechidden still registered 3 s after its socket closed');
          await new Promise((r) => setTimeout(r, 10));
        }
      }
      const want = x.request.message === 'ALIVE2_REQ' ? x.response_hex.length / 2 : Infinity;
      const a = await ask(port, x.request_hex, want, oneByteAtATime);
      if (x.request.message === 'ALIVE2_REQ') sockets.push(a.socket);
      else expect(a.closed, `${x.title}: closed after the answer`).toBe(true);
      out.push(mask(a, i));
    }
  } finally {
    for (const s of sockets) s.destroy();
  }
  return out;
}

/** The captured answers, masked like replay()'s. */
function capturedAnswers(): string[] {
  return v.exchanges.map((x) => {
    if (x.response.message === 'ALIVE2_X_RESP' && x.response.result === 0) return '7600<creation>';
    if (x.response.message === 'ALIVE2_RESP' && x.response.result === 0) return '7900<creation>';
    if (x.response.message === 'NAMES_RESP') return `<port>${x.response_hex.slice(8)}`;
    return x.response_hex;
  });
}

/** A Logger collecting warn calls, for checking what the server reports. */
function warnings(): { log: Logger; warns: Array<Record<string, unknown>> } {
  const warns: Array<Record<string, unknown>> = [];
  const log: Logger = {
    ...silentLogger,
    warn: (obj: object | string) => void warns.push(typeof obj === 'string' ? { msg: obj } : (obj as Record<string, unknown>)),
    child: () => log,
  };
  return { log, warns };
}

let server: EpmdServer;
let port: number;
let warns: Array<Record<string, unknown>>;

beforeAll(async () => {
  const w = warnings();
  warns = w.warns;
  server = new EpmdServer(w.log);
  port = await server.listen(0);
});
afterAll(() => server.close());

describe('embedded EPMD against the captured OTP 25 exchanges', () => {
  it('answers every captured request with the captured bytes (creations and epmd port aside)', async () => {
    expect(await replay(port)).toEqual(capturedAnswers());
    await until(() => server.registered.length === 0, 3000, 'the replay\u2019s registrations to go');
  });

  it('the same, with every request sent one byte at a time', async () => {
    expect(await replay(port, true)).toEqual(capturedAnswers());
    await until(() => server.registered.length === 0, 3000, 'the replay\u2019s registrations to go');
  });

  it('the package\u2019s own client registers, looks up and lists through it', async () => {
    const entry = { name: 'viaclient', port: 40001, nodeType: NODE_TYPE_NORMAL, protocol: PROTOCOL_TCP, highest: 6, lowest: 6, extra: new Uint8Array(0) };
    const reg = await register({ host: '127.0.0.1', port }, entry, silentLogger);
    try {
      expect(reg.creation).not.toBe(0);
      expect(await portPlease({ host: '127.0.0.1', port }, 'viaclient')).toMatchObject({ name: 'viaclient', port: 40001, highest: 6, lowest: 6 });
      expect(await names({ host: '127.0.0.1', port })).toEqual([{ name: 'viaclient', port: 40001 }]);
      // A second registration of the live name is refused.
      await expect(register({ host: '127.0.0.1', port }, { ...entry, port: 40002 }, silentLogger)).rejects.toMatchObject({ code: 'EPMD_NAME_TAKEN' });
    } finally {
      reg.close();
    }
    await reg.lost;
    await until(() => server.registered.length === 0, 3000, 'the registration to go');
    expect(await portPlease({ host: '127.0.0.1', port }, 'viaclient')).toBeUndefined();
  });

  it('each registration gets its own creation', async () => {
    const regs = await Promise.all(
      ['c1', 'c2', 'c3'].map((name, i) =>
        register({ host: '127.0.0.1', port }, { name, port: 40010 + i, nodeType: 77, protocol: 0, highest: 6, lowest: 5, extra: new Uint8Array(0) }, silentLogger),
      ),
    );
    try {
      expect(new Set(regs.map((r) => r.creation)).size).toBe(3);
    } finally {
      for (const r of regs) r.close();
    }
    await until(() => server.registered.length === 0, 3000, 'the registrations to go');
  });
});

/** Request, what OTP 25's epmd answers (recorded against `epmd -port`), and whether it closes. */
const alive = (name: Buffer, hi = 6) => {
  const body = Buffer.alloc(13 + name.length);
  body[0] = 120;
  body.writeUInt16BE(5000, 1);
  body[3] = 77;
  body.writeUInt16BE(hi, 5);
  body.writeUInt16BE(5, 7);
  body.writeUInt16BE(name.length, 9);
  name.copy(body, 11);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(body.length);
  return Buffer.concat([len, body]).toString('hex');
};
const MALFORMED: Array<{ what: string; hex: string; answer: string }> = [
  { what: 'zero length', hex: '0000', answer: '' },
  { what: 'length 65535', hex: 'ffff', answer: '' },
  { what: 'unknown request tag', hex: '000163', answer: '' },
  { what: 'KILL_REQ is not served', hex: '00016b', answer: '' },
  { what: 'truncated ALIVE2_REQ', hex: '00057800014d00', answer: '' },
  { what: 'ALIVE2_REQ whose name length runs past the request', hex: '000d78138d4d000006000500ff0000', answer: '' },
  { what: 'ALIVE2_REQ with an empty name', hex: alive(Buffer.alloc(0)), answer: '' },
  { what: 'ALIVE2_REQ with a NUL in the name', hex: alive(Buffer.from('a\0b', 'latin1')), answer: '' },
  { what: 'PORT_PLEASE2_REQ without a name', hex: '00017a', answer: '' },
  { what: 'NAMES_REQ followed by a stray byte', hex: '00016e6e', answer: '' },
];
/** Refused registrations: answered with result 1 and creation 99, like a duplicate. */
const REFUSED: Array<{ what: string; hex: string; answer: string }> = [
  { what: 'a name that is not UTF-8', hex: alive(Buffer.from([0x61, 0xff, 0x62])), answer: '760100000063' },
  { what: 'a name of 256 characters', hex: alive(Buffer.from('x'.repeat(256))), answer: '760100000063' },
];

describe('embedded EPMD: bad requests', () => {
  for (const m of MALFORMED) {
    it(`${m.what}: the socket is closed unanswered, with a warning, and the server carries on`, async () => {
      const before = warns.length;
      const a = await ask(port, m.hex);
      expect(a).toMatchObject({ hex: m.answer, closed: true });
      expect(warns.length).toBe(before + 1);
      expect(warns.at(-1)).toMatchObject({ why: expect.any(String) as unknown });
      expect(await names({ host: '127.0.0.1', port })).toEqual([]);
    });
  }

  for (const r of REFUSED) {
    it(`ALIVE2_REQ with ${r.what} is refused (result 1, creation 99) and not registered`, async () => {
      const a = await ask(port, r.hex, r.answer.length / 2);
      a.socket.destroy();
      expect(a.hex).toBe(r.answer);
      expect(server.registered).toEqual([]);
    });
  }

  it('a version 5 duplicate gets ALIVE2_RESP 79 01 00 63', async () => {
    const first = await ask(port, alive(Buffer.from('oldie'), 5), 4);
    try {
      expect(first.hex.slice(0, 4)).toBe('7900');
      const second = await ask(port, alive(Buffer.from('oldie'), 5), 4);
      second.socket.destroy();
      expect(second.hex).toBe('79010063');
    } finally {
      first.socket.destroy();
    }
    await until(() => server.registered.length === 0, 3000, 'oldie to go');
  });

  it('PORT_PLEASE2_REQ with a trailing NUL looks up the name without it', async () => {
    const reg = await ask(port, alive(Buffer.from('nulname')), 6);
    try {
      const a = await ask(port, '00097a6e756c6e616d6500');
      expect(a.hex.slice(0, 8)).toBe('77001388');
    } finally {
      reg.socket.destroy();
    }
    await until(() => server.registered.length === 0, 3000, 'nulname to go');
  });

  it('bytes after ALIVE2_REQ on the registration socket unregister the node and close it', async () => {
    const reg = await ask(port, alive(Buffer.from('chatty')), 6);
    expect(server.registered.map((e) => e.name)).toEqual(['chatty']);
    const closed = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('the registration socket is still open 3 s after the stray byte')), 3000);
      reg.socket.once('close', () => {
        clearTimeout(t);
        resolve();
      });
    });
    reg.socket.write(Buffer.from([0]));
    await closed;
    await until(() => server.registered.length === 0, 3000, 'chatty to go');
  });

  it('a client that disconnects mid-request leaves nothing behind', async () => {
    const s = connect({ port, host: '127.0.0.1' });
    await new Promise((r) => s.once('connect', r));
    s.write(Buffer.from(alive(Buffer.from('half')).slice(0, 12), 'hex'));
    s.destroy();
    expect(await names({ host: '127.0.0.1', port })).toEqual([]);
    expect(server.registered).toEqual([]);
  });
});

describe('embedded EPMD and OTP 25\u2019s epmd, side by side', () => {
  let real: Epmd | undefined;
  beforeAll(async () => {
    if (erlPeer.available) real = await startEpmd();
  });
  afterAll(() => real?.stop());

  it('the captured exchanges replayed on both give the same bytes', async (ctx) => {
    erlPeer.require(ctx);
    const fromReal = await replay((real as Epmd).port);
    expect(fromReal).toEqual(capturedAnswers());
    expect(await replay(port)).toEqual(fromReal);
    await until(() => server.registered.length === 0, 3000, 'the replay\u2019s registrations to go');
  });

  it('bad requests get the same answers from both', async (ctx) => {
    erlPeer.require(ctx);
    const realPort = (real as Epmd).port;
    // KILL_REQ would stop OTP's epmd (it has no live registration): the embedded one does not serve it.
    for (const m of MALFORMED.filter((x) => x.hex !== '00016b')) {
      const fromReal = await ask(realPort, m.hex);
      expect(fromReal, m.what).toMatchObject({ hex: m.answer, closed: true });
      expect((await ask(port, m.hex)).hex, m.what).toBe(fromReal.hex);
    }
    for (const r of REFUSED) {
      const fromReal = await ask(realPort, r.hex, r.answer.length / 2);
      const ours = await ask(port, r.hex, r.answer.length / 2);
      fromReal.socket.destroy();
      ours.socket.destroy();
      expect(fromReal.hex, r.what).toBe(r.answer);
      expect(ours.hex, r.what).toBe(fromReal.hex);
    }
  });

  it('OTP\u2019s `epmd -names` lists the names registered in the embedded EPMD', async (ctx) => {
    erlPeer.require(ctx);
    const epmd = ertsTool('epmd') as string;
    const regs = await Promise.all(
      ['listed_one', 'listed_two'].map((name, i) =>
        register({ host: '127.0.0.1', port }, { name, port: 41000 + i, nodeType: 77, protocol: 0, highest: 6, lowest: 5, extra: new Uint8Array(0) }, silentLogger),
      ),
    );
    try {
      const out = await new Promise<string>((resolve, reject) =>
        execFile(epmd, ['-names'], { env: { ...process.env, ERL_EPMD_PORT: String(port) }, timeout: 10_000 }, (err, stdout) =>
          err ? reject(err instanceof Error ? err : new Error('epmd -names failed', { cause: err })) : resolve(stdout),
        ),
      );
      const lines = out.trim().split('\n');
      expect(lines[0]).toBe(`epmd: up and running on port ${port} with data:`);
      expect(lines.slice(1).sort()).toEqual(['name listed_one at port 41000', 'name listed_two at port 41001']);
    } finally {
      for (const r of regs) r.close();
    }
    await until(() => server.registered.length === 0, 3000, 'the registrations to go');
  });
});
