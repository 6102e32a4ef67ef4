import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CARRIER_PLUGIN, ConfigError, buildNode, configProblems, defaultContainer, loadConfig, shape, validateConfig, type CarrierPlugin, type CourierConfig } from '@courier/cli';
import { aempOptions } from '../../src/plugins/aemp.js';
import { carrierSchemas, configSchema } from '../../src/config/schema.js';
import { at } from '../../src/config/shape.js';
import { REPO, markdownConfigs } from './repo-configs.js';
import { edited, levels } from './schema-walk.js';

/** Configuration refuses what it does not know: unknown keys at every level, wrong types, with the key path. */
const dir = mkdtempSync(join(tmpdir(), 'courier-strict-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const base = { node: { name: 'a@127.0.0.1', cookie: 'c' }, carriers: [{ kind: 'tcp' }] };
const problems = (raw: unknown) => configProblems(raw).map((p) => `${p.path}: ${p.problem}`);
/** The first problem of validateConfig, as `path: problem`. */
const first = (raw: unknown): string => {
  try {
    validateConfig(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message.split('\n')[0] as string;
  }
  throw new Error('accepted');
};

describe('the example of the issue', () => {
  it('`node.cokie` in node.yaml: unknown key; did you mean `cookie`?', () => {
    const f = file('node.yaml', 'node:\n  name: a@127.0.0.1\n  cokie: secret\ncarriers:\n  - kind: tcp\n');
    let err: unknown;
    try {
      loadConfig(f);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.message).toBe(`node.cokie in ${f}: unknown key; did you mean cookie?`);
    expect([e.field, e.file, e.code]).toEqual(['node.cokie', f, 'CONFIG']);
    expect(e.problems).toEqual([{ path: 'node.cokie', problem: 'unknown key; did you mean cookie?' }]);
  });
});

describe('an unknown key is refused at each level, naming its path', () => {
  const tls = { kind: 'tls', server: { certfile: 'n.pem', keyfile: 'n.key' } };
  const aemp = { kind: 'aemp', secret: 's' };
  const ssh = { kind: 'ssh', hostKey: 'k', authorizedKeys: 'a' };
  it.each([
    ['top', { ...base, rotues: [] }, 'rotues: unknown key; did you mean routes?'],
    ['top, nothing close', { ...base, observer: {} }, 'observer: unknown key (known here: node, log, carriers, routes, echo, bridge, cluster, plugins)'],
    ['node', { ...base, node: { name: 'a@h', cookie_file: 'f' } }, 'node.cookie_file: unknown key; did you mean cookieFile?'],
    ['log', { ...base, log: { levle: 'info' } }, 'log.levle: unknown key; did you mean level?'],
    ['routes[i]', { ...base, routes: [{ match: '*', carier: 'tcp' }] }, 'routes[0].carier: unknown key; did you mean carrier?'],
    ['tcp', { ...base, carriers: [{ kind: 'tcp', peerport: 4370 }] }, 'carriers[0].peerport: unknown key; did you mean peerPort?'],
    ['tcp listen', { ...base, carriers: [{ kind: 'tcp', listen: { prot: 1 } }] }, 'carriers[0].listen.prot: unknown key; did you mean port?'],
    ['tcp epmd', { ...base, carriers: [{ kind: 'tcp', epmd: { embeded: true } }] }, 'carriers[0].epmd.embeded: unknown key; did you mean embedded?'],
    ['tls', { ...base, carriers: [{ ...tls, checkhostname: true }] }, 'carriers[0].checkhostname: unknown key; did you mean checkHostname?'],
    ['tls server', { ...base, carriers: [{ kind: 'tcp' }, { ...tls, server: { certfle: 'n.pem' } }] }, 'carriers[1].server.certfle: unknown key; did you mean certfile?'],
    ['tls client', { ...base, carriers: [{ ...tls, client: { failIfNoPeerCert: true } }] }, 'carriers[0].client.failIfNoPeerCert: unknown key; did you mean fail_if_no_peer_cert?'],
    ['ssh', { ...base, carriers: [{ ...ssh, knownhosts: 'k' }] }, 'carriers[0].knownhosts: unknown key; did you mean knownHosts?'],
    [
      'ssh, the old undocumented option',
      { ...base, carriers: [{ ...ssh, strictHostKeys: true }] },
      /^carriers\[0\]\.strictHostKeys: unknown key \(known here: hostKey, authorizedKeys, /,
    ],
    ['aemp', { ...base, carriers: [{ ...aemp, seed: ['h:1'] }] }, 'carriers[0].seed: unknown key; did you mean seeds?'],
    ['aemp tls', { ...base, carriers: [{ ...aemp, tls: { cert: 'c', key: 'k', cafile: 'ca' } }] }, 'carriers[0].tls.cafile: unknown key (known here: cert, key, ca, allowAnon)'],
  ])('%s', (_level, raw, expected) => {
    if (typeof expected === 'string') expect(first(raw)).toBe(expected);
    else expect(first(raw)).toMatch(expected);
  });

  it('keys that name the prototype of an object are keys like any other', () => {
    const json = '{"node":{"name":"a@h","__proto__":{"cookie":"x"}},"carriers":[{"kind":"tcp","constructor":1}],"toString":2}';
    expect(problems(JSON.parse(json))).toEqual([
      'node.__proto__: unknown key (known here: name, cookie, cookieFile, hidden, netTicktime, distAutoConnect, allow, busyPollMicros)',
      expect.stringMatching(/^carriers\[0\]\.constructor: unknown key/),
      expect.stringMatching(/^toString: unknown key/),
    ]);
    const yaml = loadConfig.bind(null, file('proto.yaml', 'node: { name: a@h, hasOwnProperty: 1 }\ncarriers: [{ kind: tcp }]\n'));
    expect(yaml).toThrow(/node\.hasOwnProperty in .*proto\.yaml: unknown key/);
  });
});

describe('every mapping of every configuration in docs/configuration.md refuses a key it does not know', () => {
  const schema = configSchema(carrierSchemas(undefined));
  // A block naming plugins needs them loaded to know its kinds (examples.test.ts checks it so; test/plugins refuses unknown keys in a plugin's section).
  const cases = markdownConfigs(join(REPO, 'docs/configuration.md'))
    .filter((c) => (c.raw as { plugins?: unknown }).plugins === undefined)
    .flatMap((c) => [...levels(schema, c.raw)].map((l) => ({ ...l, where: c.where, raw: c.raw })));

  it('walks them all', () => {
    const paths = new Set(cases.map((c) => c.path.replace(/\[\d+\]/g, '[]')));
    for (const p of [
      '',
      'node',
      'log',
      'routes[]',
      'carriers[]',
      'carriers[].listen',
      'carriers[].epmd',
      'carriers[].server',
      'carriers[].client',
      'carriers[].tls',
      'cluster',
      'cluster.strategies[]',
    ])
      expect(paths).toContain(p);
  });

  it.each(cases.map((c) => [`${c.where} ${c.path || '(top)'}`, c] as const))('%s: an added key', (_name, c) => {
    const raw = edited(c.raw, c.steps, (o) => (o['zzUnknown'] = 1));
    expect(problems(raw)).toEqual([`${at(c.path, 'zzUnknown')}: unknown key (known here: ${[...c.schema.fields.keys()].join(', ')})`]);
  });

  /** Two neighbouring letters swapped: one edit from the key, further from every other. */
  const swapped = (k: string): string => {
    const i = [...k].findIndex((ch, j) => j >= Math.min(1, k.length - 2) && k[j + 1] !== undefined && k[j + 1] !== ch);
    return k.slice(0, i) + (k[i + 1] as string) + (k[i] as string) + k.slice(i + 2);
  };
  const misspelt = cases.flatMap((c) =>
    Object.keys(c.value)
      .filter((k) => k !== c.tag)
      .map((k) => [`${c.where} ${at(c.path, k)}`, c, k] as const),
  );
  it.each(misspelt)('%s: misspelt, with the key it stands for', (_name, c, key) => {
    const wrong = swapped(key);
    const raw = edited(c.raw, c.steps, (o) => {
      o[wrong] = o[key];
      delete o[key];
    });
    expect(problems(raw)).toContain(`${at(c.path, wrong)}: unknown key; did you mean ${key}?`);
  });
});

describe('wrong types and values are refused with their path', () => {
  const carrier = (c: Record<string, unknown>) => ({ ...base, carriers: [c] });
  it.each([
    [{ ...base, node: { name: 5 } }, 'node.name: must be a node name alive@host, not 5'],
    [{ ...base, node: { name: 'a@h', cookie: null } }, 'node.cookie: must be a string, not null'],
    [{ ...base, node: { name: 'a@h', hidden: 'yes' } }, 'node.hidden: must be true or false, not "yes"'],
    [{ ...base, node: { name: 'a@h', netTicktime: 0 } }, 'node.netTicktime: must be a positive number, not 0'],
    [{ ...base, node: { name: 'a@h', distAutoConnect: 'nevr' } }, 'node.distAutoConnect: must be one of on, once, never, not "nevr"; did you mean never?'],
    [{ ...base, node: { name: 'a@h', allow: ['b@h', 'nohost'] } }, 'node.allow[1]: must be a node name alive@host, not "nohost"'],
    [{ ...base, log: { level: 'verbose' } }, 'log.level: must be one of fatal, error, warn, info, debug, trace, silent, not "verbose"'],
    [{ ...base, carriers: { kind: 'tcp' } }, 'carriers: must be a list of a mapping with kind (tcp, tls, ssh, aemp), not a mapping'],
    [{ ...base, routes: 'tcp' }, 'routes: must be a list of a mapping { match, carrier }, not "tcp"'],
    [carrier({ kind: 'tsl' }), 'carriers[0].kind: unknown carrier "tsl" (known: tcp, tls, ssh, aemp); did you mean tls?'],
    [carrier({ kind: 3 }), 'carriers[0].kind: must be one of tcp, tls, ssh, aemp, not 3'],
    [carrier({ kind: 'tcp', listen: { port: 70000 } }), 'carriers[0].listen.port: must be a port number (0-65535), not 70000'],
    [carrier({ kind: 'tcp', listen: { port: 1.5 } }), 'carriers[0].listen.port: must be a port number (0-65535), not 1.5'],
    [carrier({ kind: 'tcp', listen: 4370 }), 'carriers[0].listen: must be a mapping { host?, port? }, not 4370'],
    [carrier({ kind: 'tcp', epmd: true }), 'carriers[0].epmd: must be false (EPMD-less) or a mapping { host?, port?, embedded? }, not true'],
    [carrier({ kind: 'tcp', busyLimit: -1 }), 'carriers[0].busyLimit: must be a positive number, not -1'],
    [carrier({ kind: 'tls', server: { verify: 'peer' } }), 'carriers[0].server.verify: must be one of verify_peer, verify_none, not "peer"'],
    [carrier({ kind: 'tls', server: { versions: ['tlsv1.1'] } }), 'carriers[0].server.versions[0]: must be one of tlsv1.2, tlsv1.3, not "tlsv1.1"; did you mean tlsv1.2?'],
    [carrier({ kind: 'tls', server: { ciphers: 5 } }), 'carriers[0].server.ciphers: must be an OpenSSL cipher string or a list of cipher names, not 5'],
    [carrier({ kind: 'ssh', authorizedKeys: 'a' }), 'carriers[0].hostKey: missing: a file path: the private key that is this node’s host key and user key'],
    [carrier({ kind: 'ssh', hostKey: 'k', authorizedKeys: 'a', peers: { 'b@h': 22 } }), 'carriers[0].peers["b@h"]: must be "host:port", not 22'],
    [carrier({ kind: 'aemp', bind: 'nowhere' }), 'carriers[0].bind: must be "host:port" or a list of them, not "nowhere"'],
    [carrier({ kind: 'aemp', framing: 'xml' }), 'carriers[0].framing: must be json, cbor or a list of them, not "xml"'],
    [carrier({ kind: 'aemp', framings: ['json', 'xml'] }), 'carriers[0].framings[1]: must be one of json, cbor, not "xml"'],
    [carrier({ kind: 'aemp', tls: { cert: 'c' } }), 'carriers[0].tls.key: missing: a PEM file path'],
  ])('%# %j', (raw, expected) => {
    expect(first(raw)).toBe(expected);
  });

  it('the required keys, then the whole', () => {
    expect(first({})).toBe('node: missing: give at least node.name (alive@host)');
    expect(first({ node: { name: 'a@h' }, carriers: [] })).toBe('carriers: give at least one carrier, e.g. [{ kind: tcp }]');
    expect(first({ node: { name: 'a@h' }, carriers: [{ port: 1 }] })).toBe('carriers[0].kind: missing: each carrier names its kind (tcp, tls, ssh, aemp)');
    expect(first('node: a')).toBe('(root): must be a mapping with node and carriers, not "node: a"');
  });
});

describe('keys that contradict each other', () => {
  it.each([
    [[{ kind: 'tcp' }, { kind: 'tcp', listen: { port: 1 } }], 'carriers[1].kind: a second tcp carrier (carriers[0] is one): one section per kind'],
    [[{ kind: 'aemp', bind: 'h:1', binds: ['h:2'] }], 'carriers[0].binds: give bind or binds, not both (the same option, two spellings)'],
    [[{ kind: 'aemp', framing: 'json', framings: 'cbor' }], 'carriers[0].framings: give framing or framings, not both (the same option, two spellings)'],
    [[{ kind: 'aemp', secret: 's', secretFile: 'f' }], 'carriers[0].secretFile: give secret or secretFile, not both (the secret would win)'],
    [[{ kind: 'tls', optfile: 'o', server: {} }], 'carriers[0].server: give optfile or server, not both (the optfile holds the server and client options)'],
    [[{ kind: 'tls' }], 'carriers[0].server: missing: give server.certfile and server.keyfile (and server.cacertfile to verify peers), or optfile'],
  ])('%#', (carriers, expected) => {
    expect(first({ ...base, carriers })).toBe(expected);
  });

  it('routes name a configured carrier; the bridge needs both worlds', () => {
    expect(first({ ...base, routes: [{ match: '*', carrier: 'tpc' }] })).toBe('routes[0].carrier: must be one of the configured carriers (tcp); did you mean tcp?');
    expect(first({ ...base, bridge: true })).toBe('bridge: the bridge needs an aemp carrier and an Erlang one (tcp or tls)');
  });

  it('tcp and tls are one transport: what they share is given once', () => {
    const raw = {
      ...base,
      carriers: [
        { kind: 'tcp', listen: { port: 4370 } },
        { kind: 'tls', listen: { port: 4371 }, server: {} },
      ],
    };
    expect(() => buildNode(validateConfig(raw))).toThrow(/^carriers\[1\]\.listen: differs from carriers\[0\]\.listen: tcp and tls run as one transport/);
  });
});

describe('every problem, in the order of the file', () => {
  it('one a line, each naming the file', () => {
    const f = file('many.yaml', 'node:\n  name: a@h\n  cokie: c\ncarriers:\n  - { kind: tcp, lisen: { port: 1 } }\n  - { kind: tls, server: { certfle: x } }\nbrige: true\n');
    expect(() => loadConfig(f)).toThrow(
      [
        `node.cokie in ${f}: unknown key; did you mean cookie?`,
        `carriers[0].lisen in ${f}: unknown key; did you mean listen?`,
        `carriers[1].server.certfle in ${f}: unknown key; did you mean certfile?`,
        `brige in ${f}: unknown key; did you mean bridge?`,
      ].join('\n'),
    );
  });

  it('a file that is not a configuration says so, naming the file', () => {
    expect(() => loadConfig(file('list.yaml', '- a\n- b\n'))).toThrow(/^.*list\.yaml: must be a mapping with node and carriers, not a list$/);
    expect(() => loadConfig(file('bad.yaml', 'node: [\n'))).toThrow(/bad\.yaml: not valid JSON or YAML/);
    expect(() => loadConfig(file('dup.yaml', 'node: { name: a@h }\nnode: { name: b@h }\ncarriers: [{ kind: tcp }]\n'))).toThrow(
      /dup\.yaml: not valid JSON or YAML: Map keys must be unique/,
    );
    expect(() => loadConfig(join(dir, 'absent.yaml'))).toThrow(/absent\.yaml: cannot read the file \(ENOENT\)/);
  });
});

describe('the same gate wherever a configuration enters', () => {
  it('buildNode refuses a configuration built in code that validateConfig never saw', () => {
    const raw = { ...base, carriers: [{ kind: 'tcp', lisen: { port: 0 } }] } as unknown as CourierConfig;
    expect(() => buildNode(raw)).toThrow(/^carriers\[0\]\.lisen: unknown key; did you mean listen\?$/);
  });

  it('aempOptions, called directly, checks its section', () => {
    expect(() => aempOptions({ index: 2, section: { kind: 'aemp', secret: 's', seedz: [] } }, { node: { name: 'a@h' } })).toThrow(
      /^carriers\[2\]\.seedz: unknown key; did you mean seeds\?$/,
    );
  });

  it("a plugin's schema makes its kind and keys known; a plugin without one checks its own section", () => {
    const fake = { name: 'x', start: () => Promise.resolve(), stop: () => Promise.resolve(), dialer: () => undefined } as never;
    const strict: CarrierPlugin = { kinds: ['quic'], schemas: { quic: shape.obj({ port: shape.port() }) }, create: () => fake };
    const open: CarrierPlugin = { kinds: ['udp'], create: () => fake };
    const c = defaultContainer();
    c.bind<CarrierPlugin>(CARRIER_PLUGIN).toConstantValue(strict);
    c.bind<CarrierPlugin>(CARRIER_PLUGIN).toConstantValue(open);
    const plugins = c.getAll<CarrierPlugin>(CARRIER_PLUGIN);
    const with_ = (carriers: unknown[]) => configProblems({ ...base, carriers }, { plugins }).map((p) => `${p.path}: ${p.problem}`);
    expect(
      with_([
        { kind: 'quic', port: 1 },
        { kind: 'udp', anything: { goes: 1 } },
      ]),
    ).toEqual([]);
    expect(with_([{ kind: 'quic', prot: 1 }])).toEqual(['carriers[0].prot: unknown key; did you mean port?']);
    expect(with_([{ kind: 'quik' }])).toEqual(['carriers[0].kind: unknown carrier "quik" (known: tcp, tls, ssh, aemp, quic, udp); did you mean quic?']);
  });
});
