import type { ConfigProblem } from './error.js';
import { at, bool, either, list, lit, map, obj, oneOf, port, positive, required, str, type ObjectSchema } from './shape.js';

/**
 * The carrier sections of the built-in plugins, every key they read (the `kind` key is the
 * carriers list's). A key not listed here is refused by validateConfig: a plugin that learns a
 * new option adds it here, in the same change.
 */

const both = (o: Readonly<Record<string, unknown>>, path: string, a: string, b: string, why: string): ConfigProblem[] =>
  o[a] !== undefined && o[b] !== undefined ? [{ path: at(path, b), problem: `give ${a} or ${b}, not both (${why})` }] : [];

/** Erlang distribution over TCP (@courier/transport-tcp `tcpDist`). */
const ERLANG_DIST = {
  listen: obj({ host: str(), port: port() }),
  epmd: either([lit(false), obj({ host: str(), port: port(1), embedded: bool() })], 'false (EPMD-less) or a mapping { host?, port?, embedded? }'),
  peerPort: port(1),
  handshakeTimeoutMs: positive(),
  maxMessage: positive(),
  busyLimit: positive(),
  sendByReferenceMin: positive(),
};

/** The keys of a `tcp` carrier section. */
export const TCP_SECTION: ObjectSchema = obj(ERLANG_DIST);

/** One side of a TLS connection, named as OTP's ssl options (@courier/transport-tls `TlsSideOptions`). */
const TLS_SIDE = obj({
  certfile: str(),
  keyfile: str(),
  password: str(),
  cacertfile: str(),
  verify: oneOf('verify_peer', 'verify_none'),
  fail_if_no_peer_cert: bool(),
  versions: list(oneOf('tlsv1.2', 'tlsv1.3'), { minItems: 1 }),
  ciphers: either([str(), list(str())], 'an OpenSSL cipher string or a list of cipher names'),
  crlfile: str(),
});

/** Erlang distribution over TLS (@courier/transport-tls): the TCP keys, and the TLS options inline or in an optfile. */
export const TLS_SECTION: ObjectSchema = obj(
  { ...ERLANG_DIST, optfile: str(), server: TLS_SIDE, client: TLS_SIDE, checkHostname: bool(), watch: bool() },
  {
    refine: (o, path) => {
      if (o['optfile'] !== undefined) {
        return ['server', 'client'].flatMap((k) => both(o, path, 'optfile', k, 'the optfile holds the server and client options'));
      }
      if (o['server'] === undefined) {
        return [{ path: at(path, 'server'), problem: 'missing: give server.certfile and server.keyfile (and server.cacertfile to verify peers), or optfile' }];
      }
      return [];
    },
  },
);

/** The SSH carrier (@courier/transport-ssh `sshRpc`): keys are the node's credentials, one authorized_keys file per role. */
export const SSH_SECTION: ObjectSchema = obj({
  hostKey: required(str({ nonEmpty: true }), 'a file path: the private key that is this node’s host key and user key'),
  authorizedKeys: required(
    either(
      [
        str({ nonEmpty: true }),
        obj({
          sshrpc: str({ nonEmpty: true }),
          dist: str({ nonEmpty: true }),
        }),
      ],
      'a file path (sshrpc only) or a mapping { sshrpc: FILE, dist: FILE } of OpenSSH authorized_keys files, one per role',
    ),
    'a mapping { sshrpc: FILE, dist: FILE } of OpenSSH authorized_keys files, one per role (a single file path: sshrpc only)',
  ),
  bind: str({ expect: '"host:port"' }),
  knownHosts: str(),
  trustUnknown: bool(),
  peers: map(str({ expect: '"host:port"' }), 'a mapping { node@host: "host:port" }'),
  peerPort: port(1),
  sshrpc: either(
    [
      lit(false),
      obj({
        modules: map(either([lit('all'), list(str({ nonEmpty: true }))], '"all" or a list of functions (fun or fun/arity)'), 'a mapping { module: "all" | [fun, fun/arity] }'),
        names: list(str({ nonEmpty: true })),
      }),
    ],
    'false (no sshrpc) or a mapping { modules?, names? }',
  ),
});

/** `host:port` as AnyEvent::MP writes binds and seeds (`*` for any host or port). */
const AEMP_ADDRESS = str({ pattern: /^(\[[^\]]+\]|[^:\s]+|\*):(\d{1,5}|\*)$/, expect: '"host:port"' });
const AEMP_ADDRESSES = either([AEMP_ADDRESS, list(AEMP_ADDRESS)], '"host:port" or a list of them');
const FRAMINGS = either(
  [str({ pattern: /^\s*(json|cbor)\s*(,\s*(json|cbor)\s*)*$/, expect: 'json or cbor' }), list(oneOf('json', 'cbor'), { minItems: 1 })],
  'json, cbor or a list of them',
);

/** The AnyEvent::MP carrier (@courier/transport-aemp `aemp`, docs/aemp.md). */
export const AEMP_SECTION: ObjectSchema = obj(
  {
    nodeid: str(),
    secret: str({ nonEmpty: true }),
    secretFile: str(),
    bind: AEMP_ADDRESSES,
    binds: AEMP_ADDRESSES,
    seeds: AEMP_ADDRESSES,
    peers: map(AEMP_ADDRESSES, 'a mapping { nodeid: "host:port" or a list of them }'),
    framing: FRAMINGS,
    framings: FRAMINGS,
    global: bool(),
    extended: bool(),
    allowCleartext: bool(),
    tls: obj({ cert: required(str(), 'a PEM file path'), key: required(str(), 'a PEM file path'), ca: str(), allowAnon: bool() }),
    handshakeTimeoutMs: positive(),
    connectTimeoutMs: positive(),
    queryTimeoutMs: positive(),
    maxPacketBytes: positive(),
  },
  {
    refine: (o, path) => [
      ...both(o, path, 'secret', 'secretFile', 'the secret would win'),
      ...both(o, path, 'bind', 'binds', 'the same option, two spellings'),
      ...both(o, path, 'framing', 'framings', 'the same option, two spellings'),
    ],
  },
);

/** The built-in carrier kinds and their sections (what validateConfig knows without a container). */
export const BUILTIN_SECTIONS: ReadonlyMap<string, ObjectSchema> = new Map([
  ['tcp', TCP_SECTION],
  ['tls', TLS_SECTION],
  ['ssh', SSH_SECTION],
  ['aemp', AEMP_SECTION],
]);
