import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Test certificates made at test time with the `openssl` command: a test CA and node
 * certificates it signs (SAN DNS:localhost, IP:127.0.0.1, serverAuth + clientAuth), an untrusted
 * CA with its own node certificate, and an expired certificate from the trusted CA.
 */
export interface TestCerts {
  readonly dir: string;
  readonly ca: string;
  readonly node: { readonly cert: string; readonly key: string };
  readonly other: { readonly cert: string; readonly key: string };
  readonly untrustedCa: string;
  readonly untrusted: { readonly cert: string; readonly key: string };
  readonly expired: { readonly cert: string; readonly key: string };
  /** Issue one more certificate from the trusted CA (for reload tests). */
  issue(name: string): { cert: string; key: string };
  /** Issue one from the trusted CA with the given subjectAltName (`DNS:a,IP:…`). */
  issueFor(name: string, san: string): { cert: string; key: string };
  /** Revoke a certificate of the trusted CA; returns the path of the CRL that lists it. */
  revoke(certPath: string): string;
}

export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const run = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });

export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'courier-certs-'));
  const ext = join(dir, 'node.ext');
  writeFileSync(
    ext,
    'subjectAltName=DNS:localhost,DNS:127.0.0.1,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n',
  );

  const ca = (name: string) => {
    run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '30', '-subj', `/CN=${name}`], dir);
    return join(dir, `${name}.pem`);
  };
  const issue = (caName: string, name: string, extFile = ext) => {
    run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir);
    run(
      ['x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.pem`, '-CAkey', `${caName}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '30', '-extfile', extFile],
      dir,
    );
    return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
  };

  const trusted = ca('test-ca');
  const node = issue('test-ca', 'node');
  const other = issue('test-ca', 'other');
  const untrustedCa = ca('untrusted-ca');
  const untrusted = issue('untrusted-ca', 'untrusted');

  // An expired certificate: `openssl ca` lets us set the validity window in the past.
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(
    join(dir, 'ca.cnf'),
    `[ca]\ndefault_ca=test\n[test]\ndir=${dir}\ndatabase=$dir/index.txt\nserial=$dir/serial\nnew_certs_dir=$dir\ncertificate=$dir/test-ca.pem\nprivate_key=$dir/test-ca.key\ndefault_md=sha256\ndefault_crl_days=30\npolicy=any\nunique_subject=no\ncopy_extensions=none\n[any]\ncommonName=supplied\n[ext]\nsubjectAltName=DNS:localhost,DNS:127.0.0.1,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n`,
  );
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'expired.key', '-out', 'expired.csr', '-subj', '/CN=expired'], dir);
  run(
    [
      'ca',
      '-batch',
      '-config',
      'ca.cnf',
      '-in',
      'expired.csr',
      '-out',
      'expired.pem',
      '-startdate',
      '20200101000000Z',
      '-enddate',
      '20200201000000Z',
      '-extensions',
      'ext',
      '-notext',
    ],
    dir,
  );

  return {
    dir,
    ca: trusted,
    node,
    other,
    untrustedCa,
    untrusted,
    expired: { cert: join(dir, 'expired.pem'), key: join(dir, 'expired.key') },
    issue: (name: string) => issue('test-ca', name),
    issueFor(name: string, san: string) {
      const f = join(dir, `${name}.ext`);
      writeFileSync(f, `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n`);
      return issue('test-ca', name, f);
    },
    revoke(certPath: string) {
      run(['ca', '-batch', '-config', 'ca.cnf', '-revoke', certPath], dir);
      run(['ca', '-batch', '-config', 'ca.cnf', '-gencrl', '-crldays', '30', '-out', 'test-ca.crl'], dir);
      return join(dir, 'test-ca.crl');
    },
  };
}

/** An `-ssl_dist_optfile` for an Erlang node using `cert`/`key` and trusting `ca`. */
export function sslDistOptfile(
  dir: string,
  name: string,
  o: { cert: string; key: string; ca: string; verify?: 'verify_peer' | 'verify_none'; failIfNoPeerCert?: boolean; versions?: string[]; clientCert?: boolean },
): string {
  const verify = o.verify ?? 'verify_peer';
  const versions = o.versions ? `, {versions, [${o.versions.map((v) => `'${v}'`).join(',')}]}` : '';
  const clientCert = o.clientCert === false ? '' : `{certfile, "${o.cert}"}, {keyfile, "${o.key}"}, `;
  const text = `[{server, [{certfile, "${o.cert}"}, {keyfile, "${o.key}"}, {cacertfile, "${o.ca}"}, {verify, ${verify}}, {fail_if_no_peer_cert, ${o.failIfNoPeerCert ?? verify === 'verify_peer'}}${versions}]},
 {client, [${clientCert}{cacertfile, "${o.ca}"}, {verify, ${verify}}${versions}]}].\n`;
  const path = join(dir, `${name}.conf`);
  writeFileSync(path, text);
  return path;
}
