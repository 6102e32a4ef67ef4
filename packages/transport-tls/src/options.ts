import { readFileSync } from 'node:fs';
import { Atom, consultErlang, type Term } from '@courier/term';
import { UsageError } from '@courier/core';

/**
 * TLS options as OTP users write them in an `-ssl_dist_optfile`: one set for the `server` side
 * (accepting) and one for the `client` side (dialing). Names follow OTP's ssl options.
 *
 * Defaults (secure unless told otherwise):
 * - `verify` is `verify_peer` when a `cacertfile` is given, else `verify_none` (logged at warn);
 * - the server requires a client certificate (`fail_if_no_peer_cert`) when it verifies peers;
 * - a client without its own `certfile`/`keyfile` presents the server's (one node certificate,
 *   as most OTP deployments use), so mutual authentication works with one pair of files;
 * - versions TLS 1.2 and 1.3 (OTP's dist defaults to 1.2 only; both interoperate);
 * - `checkHostname`: the client checks the server certificate against the host part of the node
 *   name (OTP does this with verify_peer and SNI); off by default for loopback test clusters.
 */
export type Verify = 'verify_peer' | 'verify_none';
/** A TLS version, as OTP's `versions` option names it. */
export type TlsVersion = 'tlsv1.2' | 'tlsv1.3';

/**
 * TLS options of one side (the `server` accepting, or the `client` dialing), named as OTP's ssl options:
 * certfile, keyfile, cacertfile, verify, versions, ciphers, crlfile, ….
 */
export interface TlsSideOptions {
  readonly certfile?: string;
  readonly keyfile?: string;
  readonly password?: string;
  readonly cacertfile?: string;
  readonly verify?: Verify;
  /** Server only: refuse clients without a certificate. */
  readonly fail_if_no_peer_cert?: boolean;
  readonly versions?: readonly TlsVersion[];
  /** OpenSSL cipher list (`ECDHE-RSA-AES128-GCM-SHA256:…`) or an array of names. */
  readonly ciphers?: string | readonly string[];
  /** A PEM CRL file checked against peer certificates. */
  readonly crlfile?: string;
}

/**
 * TLS options as OTP users write them in an `-ssl_dist_optfile`: one set for the server side and one for the
 * client side, hostname checking and certificate reloading.
 */
export interface TlsDistOptions {
  readonly server?: TlsSideOptions;
  readonly client?: TlsSideOptions;
  /** Client: the server certificate must match the target node's host. Default false. */
  readonly checkHostname?: boolean;
  /** Reload certificates when their files change. Default true. */
  readonly watch?: boolean;
}

/** Load options from a file: JSON (`{ "server": {…}, "client": {…} }`) or an OTP ssl_dist_optfile. */
export function loadTlsOptions(path: string): TlsDistOptions {
  const text = readFileSync(path, 'utf8');
  if (/^\s*\{/.test(text)) {
    try {
      return JSON.parse(text) as TlsDistOptions;
    } catch (err) {
      throw new UsageError('TLS_OPTFILE', `${path} is not valid JSON: ${(err as Error).message}`);
    }
  }
  let terms: Term[];
  try {
    terms = consultErlang(text);
  } catch (err) {
    throw new UsageError('TLS_OPTFILE', `${path} is neither JSON nor an Erlang ssl_dist_optfile: ${(err as Error).message}`);
  }
  return fromErlang(terms[0], path);
}

/** `[{server, [{certfile, "…"}, …]}, {client, […]}]` → TlsDistOptions. */
export function fromErlang(t: Term, where = 'ssl_dist_optfile'): TlsDistOptions {
  if (!Array.isArray(t)) throw new UsageError('TLS_OPTFILE', `${where}: expected [{server, [...]}, {client, [...]}]`);
  const out: { server?: TlsSideOptions; client?: TlsSideOptions } = {};
  for (const entry of t) {
    const [side, opts] = pair(entry, where);
    if (side !== 'server' && side !== 'client') throw new UsageError('TLS_OPTFILE', `${where}: unknown section ${side} (server or client)`);
    if (!Array.isArray(opts)) throw new UsageError('TLS_OPTFILE', `${where}: the ${side} options must be a list`);
    const o: Record<string, unknown> = {};
    for (const opt of opts) {
      const [k, v] = pair(opt, `${where} ${side}`);
      o[k] = value(v);
    }
    out[side] = o;
  }
  return out;
}

function pair(t: Term, where: string): [string, Term] {
  if (t === null || typeof t !== 'object' || !('elements' in t) || !Array.isArray(t.elements) || t.elements.length !== 2 || !(t.elements[0] instanceof Atom)) {
    throw new UsageError('TLS_OPTFILE', `${where}: expected {Key, Value} tuples`);
  }
  return [t.elements[0].name, t.elements[1]];
}

function value(v: Term): unknown {
  if (v instanceof Atom) return v.name;
  if (Array.isArray(v)) return v.map(value);
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  return v;
}

/** The options of one side with defaults applied and checked. */
export interface ResolvedSide {
  readonly certfile: string | undefined;
  readonly keyfile: string | undefined;
  readonly password: string | undefined;
  readonly cacertfile: string | undefined;
  readonly verify: Verify;
  readonly failIfNoPeerCert: boolean;
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3';
  readonly maxVersion: 'TLSv1.2' | 'TLSv1.3';
  readonly ciphers: string | undefined;
  readonly crlfile: string | undefined;
}

/**
 * One side's TLS options with the defaults applied (a client without a certificate presents the server's;
 * verify_peer when a CA is given).
 */
export function resolveSide(o: TlsSideOptions | undefined, fallback: TlsSideOptions | undefined, side: 'server' | 'client'): ResolvedSide {
  const certfile = o?.certfile ?? fallback?.certfile;
  const keyfile = o?.keyfile ?? (o?.certfile === undefined ? fallback?.keyfile : undefined);
  const cacertfile = o?.cacertfile ?? fallback?.cacertfile;
  const verify = o?.verify ?? (cacertfile !== undefined ? 'verify_peer' : 'verify_none');
  if (verify !== 'verify_peer' && verify !== 'verify_none') throw new UsageError('TLS_OPTION', `${side}.verify must be verify_peer or verify_none, not ${String(verify)}`);
  if (verify === 'verify_peer' && cacertfile === undefined) {
    throw new UsageError('TLS_NO_CA', `${side}.verify is verify_peer but no cacertfile is given: pass the CA bundle that signed your peers (--tls-cacert)`);
  }
  if ((certfile === undefined) !== (keyfile === undefined)) {
    throw new UsageError('TLS_NO_KEY', `${side}: certfile and keyfile go together (--tls-cert and --tls-key)`);
  }
  const versions = o?.versions ?? ['tlsv1.2', 'tlsv1.3'];
  const map = { 'tlsv1.2': 'TLSv1.2', 'tlsv1.3': 'TLSv1.3' } as const;
  const vs = versions.map((v) => {
    const m = map[v];
    if (m === undefined) throw new UsageError('TLS_OPTION', `${side}.versions: ${String(v)} is not supported (tlsv1.2, tlsv1.3)`);
    return m;
  });
  const sorted = [...vs].sort();
  const ciphers = o?.ciphers === undefined ? undefined : typeof o.ciphers === 'string' ? o.ciphers : o.ciphers.join(':');
  return {
    certfile,
    keyfile,
    password: o?.password ?? fallback?.password,
    cacertfile,
    verify,
    failIfNoPeerCert: side === 'server' && (o?.fail_if_no_peer_cert ?? verify === 'verify_peer'),
    minVersion: sorted[0] as 'TLSv1.2' | 'TLSv1.3',
    maxVersion: sorted[sorted.length - 1] as 'TLSv1.2' | 'TLSv1.3',
    ciphers,
    crlfile: o?.crlfile ?? fallback?.crlfile,
  };
}
