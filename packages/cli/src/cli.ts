/**
 * `courier`: a command in the spirit of erl_call and `epmd -names`: node, names, ping, send, call,
 * aemp, sshrpc-subsystem. Each command's usage, options and examples are in help.ts (`courier
 * <command> --help`) and docs/cli.md. Terms are typed and printed in Erlang syntax. The cookie
 * comes from --cookie, COURIER_COOKIE or ~/.erlang.cookie. Exit codes (EXIT): 0 done, 1 the
 * remote side said no (pang from a reachable node, badrpc, an exception), 2 usage or configuration
 * error, 3 the node could not be reached.
 */
import { parseArgs } from 'node:util';
import { hostname } from 'node:os';
import pino from 'pino';
import { CourierError, HIDDEN_BY_DEFAULT, Node, RpcError, CallError, call, rpcCall, UsageError } from '@courier/core';
import { Atom, Tuple, atom, formatErlang, parseErlang, type Term } from '@courier/term';
import { defaultEpmdPort, names } from '@courier/transport-tcp';
import type { Container } from 'inversify';
import { CLUSTER_FORMATION, OBSERVER, buildNode, defaultContainer, startServices } from './container.js';
import type { startCluster } from './cluster.js';
import { loadConfig, loadNodeConfig } from './config/load.js';
import { ConfigError, validateConfig, type CarrierSection, type CourierConfig } from './config/schema.js';
import { checkNode } from './commands/check.js';
import { COMMANDS, helpFor, usageLine } from './help.js';
import { didYouMean } from './config/suggest.js';
import { aempCommand } from './commands/aemp.js';
import { sshrpcSubsystem } from './commands/sshrpc-subsystem.js';
import { LogTap, OBSERVER_FLAGS, observeOptionsFrom, parseObserverAddress, type observe } from '@courier/observer';

/** The exit codes of `courier` (docs/cli.md): 0 done, 1 refused by the remote side, 2 usage or configuration, 3 unreachable. */
export const EXIT = { OK: 0, REFUSED: 1, USAGE: 2, UNREACHABLE: 3 } as const;

const OPTIONS = {
  config: { type: 'string' },
  name: { type: 'string' },
  sname: { type: 'string' },
  cookie: { type: 'string' },
  carrier: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-cacert': { type: 'string' },
  'tls-optfile': { type: 'string' },
  'epmd-port': { type: 'string' },
  port: { type: 'string' },
  'log-level': { type: 'string' },
  timeout: { type: 'string' },
  visible: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  check: { type: 'boolean' },
  seed: { type: 'string', multiple: true },
  peer: { type: 'string', multiple: true },
  secret: { type: 'string' },
  hold: { type: 'string' },
  target: { type: 'string' },
  allow: { type: 'string', multiple: true },
  'allow-name': { type: 'string', multiple: true },
  ...OBSERVER_FLAGS,
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

const out = (s: string) => process.stdout.write(s + '\n');
const err = (s: string) => process.stderr.write(`courier: ${s}\n`);

/** The flags that describe a node, which a configuration file replaces. */
const NODE_FLAGS = ['name', 'sname', 'cookie', 'carrier', 'tls-cert', 'tls-key', 'tls-cacert', 'tls-optfile', 'epmd-port', 'port', 'visible'] as const;

/**
 * The configuration from --config (checked by validateConfig: an unknown key anywhere is an error
 * naming the file and the key path), or from the echo-node style flags.
 */
export function configFrom(v: Values, defaultName: string, echo: boolean): CourierConfig {
  if (v.config) {
    const mixed = NODE_FLAGS.filter((k) => v[k] !== undefined).map((k) => `--${k}`);
    if (mixed.length > 0) throw new UsageError('USAGE', `${mixed.join(', ')} would be ignored with --config ${v.config}: say it in the file instead (docs/configuration.md)`);
    return loadConfig(v.config);
  }
  const name = v.name ?? (v.sname ? `${v.sname}@${hostname().split('.')[0]}` : defaultName);
  const kinds = (v.carrier ?? 'tcp').split(',').map((s) => s.trim());
  const epmd = v['epmd-port'] ? { port: Number(v['epmd-port']) } : undefined;
  const carriers: CarrierSection[] = kinds.map((kind) => {
    const listen = v.port ? { port: Number(v.port) } : undefined;
    if (kind !== 'tls') return { kind, listen, epmd };
    if (v['tls-optfile']) return { kind, optfile: v['tls-optfile'], listen, epmd };
    return { kind, listen, epmd, server: { certfile: v['tls-cert'], keyfile: v['tls-key'], cacertfile: v['tls-cacert'] } };
  });
  return validateConfig({ node: { name, cookie: v.cookie, hidden: v.visible ? false : HIDDEN_BY_DEFAULT.tcp }, carriers, echo });
}

/** A node's configuration and the container to build it from (with the plugins its file names loaded). */
interface Resolved {
  readonly config: CourierConfig;
  readonly container: Container;
  readonly file?: string;
  readonly plugins?: readonly string[];
}

/** configFrom, and for --config the file's `plugins` loaded into the container (loadNodeConfig). */
async function resolveConfig(v: Values, defaultName: string, echo: boolean): Promise<Resolved> {
  if (!v.config) return { config: configFrom(v, defaultName, echo), container: defaultContainer() };
  const mixed = NODE_FLAGS.filter((k) => v[k] !== undefined).map((k) => `--${k}`);
  if (mixed.length > 0) throw new UsageError('USAGE', `${mixed.join(', ')} would be ignored with --config ${v.config}: say it in the file instead (docs/configuration.md)`);
  const r = await loadNodeConfig(v.config);
  return { config: r.config, container: r.container, file: v.config, plugins: r.plugins.map((p) => p.specifier) };
}

function logger(v: Values, config?: CourierConfig) {
  const level = v['log-level'] ?? config?.log?.level ?? process.env['LOG_LEVEL'] ?? 'warn';
  return pino({ level, redact: ['cookie'] }, pino.destination(2));
}

/** A short-lived client node: hidden, unique name, on the host of the target. */
async function clientNode(v: Values, target: string): Promise<Node> {
  const host = target.includes('@') ? target.split('@')[1] : '127.0.0.1';
  const { config, container } = await resolveConfig(v, `courier_cli_${process.pid}@${host}`, false);
  const node = buildNode(config, { container, log: logger(v, config) });
  await node.start();
  return node;
}

/** The hidden node of an sshrpc subsystem session: its own name, and the target as its only peer. */
async function subsystemNode(v: Values, name: string, target: string): Promise<Node> {
  const config = configFrom(v, name, false);
  const node = buildNode({ ...config, node: { ...config.node, name, hidden: true, allow: [target] } }, { log: logger(v, config) });
  await node.start();
  return node;
}

function inProcess<T>(node: Node, body: (self: import('@courier/core').Process) => Promise<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    node.spawn(async (self) => {
      // What the body returns or throws (synchronously too) goes to the caller unchanged.
      const run = async (): Promise<T> => body(self);
      await run().then(resolve, reject);
    });
  });
}

/** `--observer HOST:PORT` (or `PORT`, on loopback): where the live web observer and /metrics listen (docs/observer.md). */
export const parseObserver = parseObserverAddress;

async function cmdNode(v: Values): Promise<number> {
  // The observer's flags (and a bind beyond loopback without a token) are refused before the node starts.
  const observer = observeOptionsFrom(v);
  const { config, container, file, plugins } = await resolveConfig(v, '', true);
  if (v.check) {
    for (const line of checkNode({ config, container, file, plugins })) out(line);
    return EXIT.OK;
  }
  // `courier node` logs at info unless the flag or the configuration's log.level says otherwise.
  const tap = new LogTap(logger({ ...v, 'log-level': v['log-level'] ?? config.log?.level ?? 'info' }, config));
  const log = tap.logger;
  const node = buildNode(config, { container, log });
  startServices(node, config, container);
  let stopping = false;
  const formed: { cluster?: ReturnType<typeof startCluster> } = {};
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    await formed.cluster?.stop();
    await node.stop();
    process.exit(EXIT.OK);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  await node.start();
  // Cluster formation (the `cluster` section) starts once the node listens; READY does not wait for peers.
  formed.cluster = container.get<typeof startCluster>(CLUSTER_FORMATION)(node, config, log);
  // The observer listens before READY, so READY means everything asked for is up.
  const o = observer === undefined ? undefined : await container.get<typeof observe>(OBSERVER)(node, { ...observer, logTap: tap });
  out(`READY ${node.name.name}`);
  if (o !== undefined) out(`OBSERVER ${o.url}`);
  return new Promise<number>(() => undefined);
}

async function cmdNames(v: Values, host = '127.0.0.1'): Promise<number> {
  const port = v['epmd-port'] ? Number(v['epmd-port']) : defaultEpmdPort();
  const list = await names({ host, port });
  out(`epmd: up and running on port ${port} with data:`);
  for (const n of list) out(`name ${n.name} at port ${n.port}`);
  return EXIT.OK;
}

async function cmdPing(v: Values, target: string): Promise<number> {
  const node = await clientNode(v, target);
  try {
    const peer = atom(target);
    const up = await node.connect(peer);
    let ok = false;
    if (up) {
      const r = await inProcess(node, (self) => call(self, new Tuple([atom('net_kernel'), peer]), new Tuple([atom('is_auth'), node.name]), timeout(v)).catch(() => undefined));
      ok = r === atom('yes');
    }
    out(ok ? 'pong' : 'pang');
    // As `call`: a node that cannot be reached is 3, one that answered but refused is 1 — a refused
    // handshake (a wrong cookie) fails the connect too, so a name its host's EPMD knows counts as answered.
    return ok ? EXIT.OK : up || (await registered(v, target)) ? EXIT.REFUSED : EXIT.UNREACHABLE;
  } finally {
    await node.stop();
  }
}

/** Whether `target`'s host has it registered in EPMD (over the TCP carrier's EPMD port); false when that cannot be told. */
async function registered(v: Values, target: string): Promise<boolean> {
  const [name, host] = target.split('@');
  if (name === undefined || host === undefined) return false;
  const port = v['epmd-port'] ? Number(v['epmd-port']) : defaultEpmdPort();
  try {
    return (await names({ host, port })).some((n) => n.name === name);
  } catch {
    return false;
  }
}

async function cmdSend(v: Values, destText: string, termText: string): Promise<number> {
  const dest = parseErlang(destText);
  const msg = parseErlang(termText);
  if (!(dest instanceof Tuple) || dest.elements.length !== 2 || !(dest.elements[0] instanceof Atom) || !(dest.elements[1] instanceof Atom)) {
    throw new UsageError('BAD_DEST', `DEST is {Name, 'node@host'}, not ${destText}`);
  }
  const peer = dest.elements[1];
  const node = await clientNode(v, peer.name);
  try {
    if (!(await node.connect(peer))) {
      err(`cannot reach ${peer.name}`);
      return EXIT.UNREACHABLE;
    }
    node.send(dest, msg);
    // Let the message leave before the connection closes.
    await new Promise((r) => setTimeout(r, 50));
    out('ok');
    return EXIT.OK;
  } finally {
    await node.stop();
  }
}

async function cmdCall(v: Values, target: string, mod: string, fun: string, argsText: string): Promise<number> {
  const args = parseErlang(argsText ?? '[]');
  const list: Term[] = Array.isArray(args) ? args : typeof args === 'string' ? Array.from(args, (c) => c.charCodeAt(0)) : [args];
  const node = await clientNode(v, target);
  try {
    const result = await inProcess(node, (self) => rpcCall(self, atom(target), atom(mod), atom(fun), list, timeout(v)));
    out(formatErlang(result));
    return EXIT.OK;
  } catch (e) {
    if (e instanceof RpcError) {
      out(formatErlang(new Tuple([atom('badrpc'), new Tuple([atom('EXIT'), e.kind === 'error' ? new Tuple([e.reason, e.erlangStack]) : e.reason])])));
      return EXIT.REFUSED;
    }
    if (e instanceof CallError && e.code === 'NOCONNECTION') {
      out(formatErlang(new Tuple([atom('badrpc'), atom('nodedown')])));
      return EXIT.UNREACHABLE;
    }
    if (e instanceof CallError && e.code === 'TIMEOUT') {
      out(formatErlang(new Tuple([atom('badrpc'), atom('timeout')])));
      return EXIT.REFUSED;
    }
    throw e;
  } finally {
    await node.stop();
  }
}

function timeout(v: Values): number {
  return v.timeout ? Number(v.timeout) : 10_000;
}

/** Run `courier ARGV` (without the program name); resolves to the exit code. Output goes to stdout and stderr. */
export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    // One line for what is wrong, then the usage of the command it was for: no stack trace.
    const unknown = /^Unknown option '(--?[^']+)'/.exec((e as Error).message)?.[1];
    const flags = Object.keys(OPTIONS).map((k) => `--${k}`);
    err(unknown !== undefined ? `unknown option ${unknown}${didYouMean(unknown, flags)}` : (e as Error).message);
    process.stderr.write(usageLine(argv.find((a) => COMMANDS[a] !== undefined)) + '\n');
    return EXIT.USAGE;
  }
  const {
    values: v,
    positionals: [cmd, ...rest],
  } = parsed;
  if (cmd === 'help') {
    out(helpFor(rest[0]));
    return EXIT.OK;
  }
  if (v.help || cmd === undefined) {
    out(helpFor(cmd));
    return cmd === undefined && !v.help ? EXIT.USAGE : EXIT.OK;
  }
  if (v.check && cmd !== 'node') {
    err(`--check is an option of courier node, not of courier ${cmd}`);
    process.stderr.write(usageLine(cmd) + '\n');
    return EXIT.USAGE;
  }
  const need = (n: number) => {
    if (rest.length < n) throw new UsageError('USAGE', `${cmd} needs ${n} argument${n > 1 ? 's' : ''}\n${usageLine(cmd)}`);
  };
  try {
    switch (cmd) {
      case 'node':
        return await cmdNode(v);
      case 'names':
        return await cmdNames(v, rest[0]);
      case 'ping':
        need(1);
        return await cmdPing(v, rest[0] as string);
      case 'send':
        need(2);
        return await cmdSend(v, rest[0] as string, rest[1] as string);
      case 'call':
        need(3);
        return await cmdCall(v, rest[0] as string, rest[1] as string, rest[2] as string, rest[3] ?? '[]');
      case 'aemp':
        need(1);
        return await aempCommand(rest, {
          config: v.config,
          seed: v.seed,
          peer: v.peer,
          secret: v.secret,
          timeoutMs: timeout(v),
          holdMs: v.hold ? Number(v.hold) : undefined,
          log: logger(v),
          out,
        });
      case 'sshrpc-subsystem':
        return await sshrpcSubsystem({
          target: v.target,
          allow: v.allow,
          allowName: v['allow-name'],
          timeoutMs: timeout(v),
          log: logger(v),
          startNode: (name, target) => subsystemNode(v, name, target),
        });
      default:
        err(`unknown command ${cmd}`);
        process.stderr.write(usageLine(undefined) + '\n');
        return EXIT.USAGE;
    }
  } catch (e) {
    // A configuration's problems, one a line: `courier: node.cokie in node.yaml: unknown key; …`.
    if (e instanceof ConfigError) for (const p of e.message.split('\n')) err(p);
    else err(e instanceof Error ? e.message : String(e));
    if (e instanceof UsageError || (e instanceof CourierError && (e.code === 'TERM_SYNTAX' || e.code === 'CONFIG'))) return EXIT.USAGE;
    if (e instanceof CourierError) return EXIT.UNREACHABLE;
    return EXIT.USAGE;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      err(String(e));
      process.exit(EXIT.USAGE);
    },
  );
}
