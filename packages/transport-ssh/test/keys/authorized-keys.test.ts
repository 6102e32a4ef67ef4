import { describe, expect, it } from 'vitest';
import { AuthorizedKeys, fingerprint } from '@courier/transport-ssh';
import { bare, makeKey } from '../support/keys.js';

const blob = (line: string): Buffer => Buffer.from(line.split(' ')[1] as string, 'base64');

describe('AuthorizedKeys', () => {
  const a = makeKey('a@host');
  const b = makeKey('b@host', 'ecdsa');

  it('maps each key to the node name in its comment, with or without options', () => {
    const ak = AuthorizedKeys.parse(['# comment line', '', a.publicLine, `restrict,no-pty ${b.publicLine}`].join('\n'));
    expect(ak.problems).toEqual([]);
    expect(ak.size).toBe(2);
    expect([...(ak.lookup(blob(a.publicLine))?.names ?? [])]).toEqual(['a@host']);
    const eb = ak.lookup(blob(b.publicLine));
    expect(eb?.type).toBe('ecdsa-sha2-nistp256');
    expect([...(eb?.names ?? [])]).toEqual(['b@host']);
    expect(eb?.fingerprint).toBe(fingerprint(blob(b.publicLine)));
    expect(ak.lookup(blob(makeKey('c@host').publicLine))).toBeUndefined();
  });

  it('one key listed twice may claim both names', () => {
    const ak = AuthorizedKeys.parse(`${a.publicLine}\n${bare(a)} alias@host`);
    expect([...(ak.lookup(blob(a.publicLine))?.names ?? [])].sort()).toEqual(['a@host', 'alias@host']);
  });

  it('skips, with the reason, lines it cannot bind or enforce', () => {
    const text = [
      bare(a), // no comment
      `${bare(a)} two words`,
      `from="10.0.0.0/8" ${a.publicLine}`,
      `command="/bin/sh" ${a.publicLine}`,
      `cert-authority ${a.publicLine}`,
      'ssh-ed25519 !!!notbase64 x@host',
      'ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQ x@host', // an rsa blob under an ed25519 name
      'not-a-key AAAA x@host',
    ].join('\n');
    const ak = AuthorizedKeys.parse(text, 'ak');
    expect(ak.size).toBe(0);
    expect(ak.problems).toHaveLength(8);
    expect(ak.problems[0]).toMatch(/^ak:1: no comment/);
    expect(ak.problems[1]).toMatch(/^ak:2: .*blanks/);
    expect(ak.problems[2]).toMatch(/^ak:3: option from is not supported/);
    expect(ak.problems[3]).toMatch(/option command is not supported/);
    expect(ak.problems[4]).toMatch(/option cert-authority is not supported/);
    expect(ak.problems[5]).toMatch(/does not decode/);
    expect(ak.problems[6]).toMatch(/does not decode/);
    expect(ak.problems[7]).toMatch(/^ak:8: unknown key type/);
  });

  it('reads expiry-time=', () => {
    const ak = AuthorizedKeys.parse(`expiry-time="20200102" ${a.publicLine}\nexpiry-time="209901021530" ${b.publicLine}`);
    expect(ak.lookup(blob(a.publicLine))?.expires?.toISOString().slice(0, 10)).toBe('2020-01-02');
    expect(ak.lookup(blob(b.publicLine))?.expires?.getUTCFullYear()).toBe(2099);
  });

  it('a quoted option may hold blanks and commas', () => {
    const ak = AuthorizedKeys.parse(`restrict,expiry-time="20991231" ${a.publicLine}`);
    expect(ak.problems).toEqual([]);
    expect(ak.size).toBe(1);
  });

  it('a missing file is a UsageError', () => {
    expect(() => AuthorizedKeys.load('/nonexistent/authorized_keys')).toThrow(/cannot read the authorized keys file/);
  });
});
