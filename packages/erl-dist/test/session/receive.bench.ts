import { bench, describe } from 'vitest';
import { Pid, Tuple, atom, type Term } from '@courier/term';
import { silentLogger, type Carrier, type CarrierReceiver, type Router } from '@courier/core';
import { ErlSession } from '../../src/session/erl-session.js';
import { COURIER_FLAGS } from '../../src/handshake/flags.js';

/**
 * The receive path of a distribution session (`npm run bench:micro`): the wire bytes of messages
 * {msg, Binary} in Courier's 64 KiB fragments, cut into fresh 64 KiB socket reads, through the
 * frame reader, the distribution header, reassembly and decode to the router.
 */
class Sink implements Carrier {
  readonly remote = 'bench';
  readonly out: Uint8Array[] = [];
  write(c: Uint8Array): boolean {
    this.out.push(c.slice());
    return true;
  }
  writev(cs: readonly Uint8Array[]): boolean {
    for (const c of cs) this.out.push(c.slice());
    return true;
  }
  setReceiver(_r: CarrierReceiver): void {}
  pause(): void {}
  resume(): void {}
  close(): void {}
  abort(): void {}
}

const peer = atom('erl@127.0.0.1');
const to = new Pid(peer, 1, 0, 1);
const READ = 64 * 1024;
const opts = { peer, flags: COURIER_FLAGS, hidden: true, carrierName: 'bench', log: silentLogger, busyLimit: 1 << 30 };

/** Socket reads carrying `n` messages {msg, <<size bytes>>}. */
async function reads(size: number, n: number): Promise<Buffer[]> {
  const sink = new Sink();
  const s = new ErlSession(sink, { route: () => undefined, nodeDown: () => undefined }, opts);
  const msg: Term = new Tuple([atom('msg'), Buffer.alloc(size, 7)]);
  for (let i = 0; i < n; i++) s.send({ op: 'send', to, msg });
  await new Promise((r) => setTimeout(r, 10));
  const bytes = Buffer.concat(sink.out);
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += READ) out.push(Buffer.from(bytes.subarray(i, i + READ)));
  return out;
}

const shapes = [
  { name: '64 KiB binaries × 100', size: 64 * 1024, n: 100 },
  { name: '1 MiB binaries × 10', size: 1 << 20, n: 10 },
  { name: '1 KiB binaries × 1000', size: 1024, n: 1000 },
  { name: '40-byte binaries × 1000', size: 40, n: 1000 },
];
for (const s of shapes) {
  const chunks = await reads(s.size, s.n);
  describe(`receive: ${s.name}, in 64 KiB socket reads`, () => {
    bench('ErlSession.onData → router', () => {
      let got = 0;
      const router: Router = { route: () => void got++, nodeDown: () => undefined };
      const r = new ErlSession(new Sink(), router, opts);
      for (const c of chunks) r.onData(c);
      if (got !== s.n) throw new Error(`${got} of ${s.n} messages`);
      r.close();
    });
  });
}
