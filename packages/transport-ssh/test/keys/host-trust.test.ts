import { describe, expect, it } from 'vitest';
import { HostKeyError, HostTrust, KnownHosts, fingerprint } from '@courier/transport-ssh';
import { captureLog } from '@courier/testkit';
import { bare, makeKey } from '../support/keys.js';

const blob = (line: string): Buffer => Buffer.from(line.split(' ')[1] as string, 'base64');
const id = { host: '127.0.0.1', port: 2222, node: 'b@host' };

describe('HostTrust', () => {
  const k = makeKey('b@host');
  const other = makeKey('b@host');

  it('refuses a key pinned nowhere, printing its fingerprint and the known_hosts line that trusts it', () => {
    const err = new HostTrust({ knownHosts: KnownHosts.parse('', '/tmp/kh') }, captureLog().logger).verify(id, blob(k.publicLine));
    expect(err).toBeInstanceOf(HostKeyError);
    expect(err?.code).toBe('UNKNOWN_HOST_KEY');
    expect(err?.fingerprint).toBe(fingerprint(blob(k.publicLine)));
    expect(err?.message).toContain(fingerprint(blob(k.publicLine)));
    expect(err?.message).toContain(`[127.0.0.1]:2222,b@host ${bare(k)}`);
    expect(err?.message).toContain('/tmp/kh');
  });

  it('accepts a key pinned in known_hosts by node name or address, or by fingerprint', () => {
    const log = captureLog().logger;
    expect(new HostTrust({ knownHosts: KnownHosts.parse(`b@host ${bare(k)}`) }, log).verify(id, blob(k.publicLine))).toBeUndefined();
    expect(new HostTrust({ knownHosts: KnownHosts.parse(`[127.0.0.1]:2222 ${bare(k)}`) }, log).verify(id, blob(k.publicLine))).toBeUndefined();
    expect(new HostTrust({ fingerprints: { 'b@host': fingerprint(blob(k.publicLine)) } }, log).verify(id, blob(k.publicLine))).toBeUndefined();
  });

  it('a different key than the pinned one is HOST_KEY_MISMATCH', () => {
    const log = captureLog().logger;
    expect(new HostTrust({ knownHosts: KnownHosts.parse(`b@host ${bare(k)}`) }, log).verify(id, blob(other.publicLine))?.code).toBe('HOST_KEY_MISMATCH');
    expect(new HostTrust({ fingerprints: { 'b@host': [fingerprint(blob(k.publicLine))] } }, log).verify(id, blob(other.publicLine))?.code).toBe('HOST_KEY_MISMATCH');
  });

  it('trustUnknown accepts an unpinned key and logs its fingerprint; a mismatch stays refused', () => {
    const log = captureLog();
    const t = new HostTrust({ trustUnknown: true, knownHosts: KnownHosts.parse(`c@host ${bare(k)}`) }, log.logger);
    expect(t.verify(id, blob(k.publicLine))).toBeUndefined();
    expect(log.find('warn', fingerprint(blob(k.publicLine)))).toHaveLength(1);
    expect(t.verify({ ...id, node: 'c@host' }, blob(other.publicLine))?.code).toBe('HOST_KEY_MISMATCH');
  });
});
