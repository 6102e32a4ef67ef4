import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { requirePeer } from '@courier/testkit';
import { KnownHosts, fingerprint, hostNames } from '@courier/transport-ssh';
import { bare, makeKey, tempDir } from '../support/keys.js';

const blob = (line: string): Buffer => Buffer.from(line.split(' ')[1] as string, 'base64');
let keygen = false;
try {
  execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' });
} catch (err) {
  keygen = (err as { status?: number }).status !== undefined;
}
const sshKeygen = requirePeer('ssh-keygen', keygen, "OpenSSH's ssh-keygen (Debian openssh-client)");

describe('KnownHosts', () => {
  const k = makeKey('b@host');
  const other = makeKey('b@host');
  const ec = makeKey('b@host', 'ecdsa');

  it('finds a key by host, [host]:port, node name, wildcard; refuses negated names', () => {
    const kh = KnownHosts.parse([`db.example,[10.0.0.5]:2222 ${bare(k)}`, `b@host ${bare(k)}`, `*.courier.test,!evil.courier.test ${bare(k)}`].join('\n'));
    expect(kh.check(['db.example'], blob(k.publicLine))).toBe('ok');
    expect(kh.check(hostNames('10.0.0.5', 2222), blob(k.publicLine))).toBe('ok');
    expect(kh.check(hostNames('10.0.0.5', 22), blob(k.publicLine))).toBe('unknown');
    expect(kh.check(['x', 'b@host'], blob(k.publicLine))).toBe('ok');
    expect(kh.check(['n1.courier.test'], blob(k.publicLine))).toBe('ok');
    expect(kh.check(['evil.courier.test'], blob(k.publicLine))).toBe('unknown');
  });

  it('another key is a mismatch, of the same type or another (not a new host); pinned types are listed', () => {
    const kh = KnownHosts.parse(`b@host ${bare(k)}`);
    expect(kh.check(['b@host'], blob(other.publicLine))).toBe('mismatch');
    expect(kh.check(['b@host'], blob(ec.publicLine))).toBe('mismatch');
    expect(kh.pinnedTypes(['b@host'])).toEqual(['ssh-ed25519']);
    expect(kh.pinnedTypes(['c@host'])).toEqual([]);
    expect(kh.check(['c@host'], blob(other.publicLine))).toBe('unknown');
  });

  it('@revoked wins whatever the host; @cert-authority lines are skipped with the reason', () => {
    const kh = KnownHosts.parse(`b@host ${bare(k)}\n@revoked * ${bare(k)}\n@cert-authority *.x ${bare(other)}`, 'kh');
    expect(kh.check(['b@host'], blob(k.publicLine))).toBe('revoked');
    expect(kh.problems).toEqual(['kh:3: host certificates (@cert-authority) are not supported: line skipped']);
  });

  it('reads the hashed names ssh-keygen -H writes', (ctx) => {
    sshKeygen.require(ctx);
    const d = tempDir();
    try {
      const f = d.file('known_hosts', `[127.0.0.1]:2222,b@host ${bare(k)}\n`);
      execFileSync('ssh-keygen', ['-H', '-f', f], { stdio: 'ignore' });
      const text = readFileSync(f, 'utf8');
      expect(text).toMatch(/^\|1\|/);
      const kh = KnownHosts.parse(text);
      expect(kh.check(hostNames('127.0.0.1', 2222), blob(k.publicLine))).toBe('ok');
      expect(kh.check(['b@host'], blob(k.publicLine))).toBe('ok');
      expect(kh.check(hostNames('127.0.0.1', 2223), blob(k.publicLine))).toBe('unknown');
    } finally {
      d.cleanup();
    }
  });

  it('fingerprints as ssh-keygen -lf prints them', (ctx) => {
    sshKeygen.require(ctx);
    const d = tempDir();
    try {
      for (const key of [k, ec]) {
        const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', d.file('k.pub', `${key.publicLine}\n`)], { encoding: 'utf8' });
        expect(out.split(' ')[1]).toBe(fingerprint(blob(key.publicLine)));
      }
    } finally {
      d.cleanup();
    }
  });

  it('a missing file is an empty table', () => {
    expect(KnownHosts.load('/nonexistent/known_hosts').check(['x'], blob(k.publicLine))).toBe('unknown');
  });
});
