import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@courier/core';
import { requirePeer } from '@courier/testkit';
import { EpmdServer } from '../../src/epmd/server.js';

/**
 * The embedded EPMD's trust boundary (docs/security.md, "EPMD"): anyone may look names up, only
 * this host may register one (ALIVE2_REQ), as OTP's epmd without -relaxed_command_check. Checked
 * from a real other address: a network namespace joined to this one by a veth pair (root and
 * `ip` needed: CI has both; elsewhere the test is skipped with the reason).
 */
const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });
const canNetns = ((): boolean => {
  if (process.getuid?.() !== 0) return false;
  try {
    ip('netns', 'list');
    return true;
  } catch {
    return false;
  }
})();
const netns = requirePeer('netns', canNetns, 'needs root and iproute2 (`ip netns`) to make a second address');

const tag = randomBytes(3).toString('hex');
const ns = `cepmd-${tag}`;
const [hostIf, nsIf] = [`ce${tag}h`, `ce${tag}n`];
// A /30 in TEST-NET-2 picked per run, so parallel runs do not collide.
const octet = 4 * ((randomBytes(1)[0] as number) & 0x3f);
const [hostAddr, nsAddr] = [`198.51.100.${octet + 1}`, `198.51.100.${octet + 2}`];

let server: EpmdServer | undefined;
let port = 0;

beforeAll(async () => {
  if (!canNetns) return;
  ip('netns', 'add', ns);
  ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf);
  ip('link', 'set', nsIf, 'netns', ns);
  ip('addr', 'add', `${hostAddr}/30`, 'dev', hostIf);
  ip('link', 'set', hostIf, 'up');
  ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${nsAddr}/30`, 'dev', nsIf);
  ip('netns', 'exec', ns, 'ip', 'link', 'set', nsIf, 'up');
  ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
  server = new EpmdServer(silentLogger);
  port = await server.listen(0);
});

afterAll(async () => {
  try {
    await server?.close();
  } finally {
    if (canNetns) {
      try {
        ip('link', 'del', hostIf);
      } catch {
        // never made, or gone with the namespace
      }
      ip('netns', 'del', ns);
    }
  }
});

/** From inside the namespace: send `hex` to the EPMD at hostAddr:port; what came back (hex) and whether it closed. */
function fromOtherHost(hex: string): Promise<{ answer: string; closed: boolean }> {
  const script = `
    const s = require('node:net').connect({ host: '${hostAddr}', port: ${port} });
    const got = [];
    s.on('data', (c) => got.push(c));
    s.on('connect', () => s.write(Buffer.from('${hex}', 'hex')));
    const done = (closed) => { process.stdout.write(JSON.stringify({ answer: Buffer.concat(got).toString('hex'), closed })); process.exit(0); };
    s.on('close', () => done(true));
    s.on('error', () => undefined);
    setTimeout(() => done(false), 3000);`;
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', () => {
      try {
        resolve(JSON.parse(out) as { answer: string; closed: boolean });
      } catch {
        reject(new Error(`the client in ${ns} printed ${JSON.stringify(out)}; stderr ${err}`));
      }
    });
  });
}

/** ALIVE2_REQ for `name` on `nodePort`: <<Len:16, 120, Port:16, 77, 0, 6:16, 5:16, NLen:16, Name, 0:16>>. */
function alive2(name: string, nodePort: number): string {
  const n = Buffer.from(name);
  const body = Buffer.alloc(13 + n.length);
  body.writeUInt8(120, 0);
  body.writeUInt16BE(nodePort, 1);
  body.writeUInt8(77, 3);
  body.writeUInt8(0, 4);
  body.writeUInt16BE(6, 5);
  body.writeUInt16BE(5, 7);
  body.writeUInt16BE(n.length, 9);
  n.copy(body, 11);
  body.writeUInt16BE(0, 11 + n.length);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(body.length);
  return Buffer.concat([len, body]).toString('hex');
}

describe('embedded EPMD: registration from another host is refused, lookups are not', () => {
  it('an ALIVE2_REQ from another address is closed unanswered and registers nothing', async (ctx) => {
    netns.require(ctx);
    const r = await fromOtherHost(alive2('intruder', 4242));
    expect(r).toEqual({ answer: '', closed: true });
    // NAMES_REQ from the other host: answered (lookups are public), and lists no intruder.
    const names = await fromOtherHost('00016e');
    expect(names.closed).toBe(true);
    expect(Buffer.from(names.answer, 'hex').subarray(4).toString()).not.toContain('intruder');
  });

  it('the same ALIVE2_REQ over loopback registers (the check is on the address, not the request)', async (ctx) => {
    netns.require(ctx);
    const { connect } = await import('node:net');
    const answer = await new Promise<string>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => s.write(Buffer.from(alive2('local', 4243), 'hex')));
      s.once('data', (c: Buffer) => {
        resolve(c.toString('hex'));
        s.destroy();
      });
    });
    // ALIVE2_X_RESP (118) with result 0.
    expect(answer.slice(0, 4)).toBe('7600');
  });
});
