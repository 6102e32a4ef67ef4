import { parseArgs } from 'node:util';
import { homedir, hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { HIDDEN_BY_DEFAULT, Node } from '@courier/core';
import { tcpDist, type ErlDistOptions } from '@courier/transport-tcp';
import { loadTlsOptions, tcpTlsDist, tlsDist, type TlsDistOptions, type Verify } from '@courier/transport-tls';
import { parseHostPort, sshRpc, type SshTransport } from '@courier/transport-ssh';
import { wsDist, type WsDistTransport } from '@courier/transport-ws';
import { startEcho } from './echo-module.js';
import { globalRegister, startPg } from '@courier/erl-dist';
import { Tuple, atom, type Pid } from '@courier/term';
import { startAempEchoNode } from './aemp-node.js';
import { LogTap, OBSERVER_FLAGS, observe, observeOptionsFrom } from '@courier/observer';

/**
 * The runnable echo node: `npm run -s echo-node -- --name NAME@HOST --cookie COOKIE`, or on the
 * AEMP carrier `npm run -s echo-node -- --carrier aemp --aemp-nodeid ID --aemp-bind HOST:PORT
 * --aemp-secret S [--aemp-seed HOST:PORT]` (serving `ID#echo`; see docs/aemp.md).
 * With `--carrier ssh --ssh-bind HOST:PORT --ssh-host-key FILE --ssh-authorized-keys FILE`
 * (alone, or with tcp/tls: `--carrier tcp,ssh`) it also serves `courier_echo` over sshrpc
 * (`ssh -s sshrpc@k2r.org`) to the keys listed there; `--ssh-dist-keys FILE` (an authorized_keys
 * file too) lists the keys that get the Courier distribution subsystem (full node access);
 * `--ssh-known-hosts FILE` pins the host keys of the Courier peers it dials over SSH. No cookie is
 * needed for SSH alone.
 * `--ws HOST:PORT` also accepts the Courier distribution over WebSocket there (`ws://HOST:PORT/courier`,
 * the same cookie; docs/limits.md bounds what a peer may send before it has shown it).
 * `--busy-limit BYTES` sets the output queued per connection past which senders are held back
 * (Erlang's dist_buf_busy_limit, default 1 MiB; docs/limits.md).
 * `--observer HOST:PORT` serves the live web observer and /metrics there (docs/observer.md): read-only;
 * beyond loopback only with `--observer-token T` (or COURIER_OBSERVER_TOKEN), which it then asks of
 * every request (`--observer-metrics-token`: of /metrics too); `--observer-hostname NAME` and
 * `--observer-origin ORIGIN` add names and page origins it answers to.
 * Prints `READY <node name>` on stdout once it listens (and is registered in EPMD); logs (pino,
 * JSON) go to stderr at --log-level / LOG_LEVEL (default info). SIGINT/SIGTERM stop it cleanly.
 */
const USAGE = `usage: npm run -s echo-node -- --name NAME@HOST | --sname NAME [--cookie C] [options]
       npm run -s echo-node -- --carrier aemp --aemp-nodeid ID --aemp-bind HOST:PORT --aemp-secret S [--aemp-seed HOST:PORT]

Runs the echo node: an \`echo\` process answering {From, Msg} with {echo, Msg} and a module
\`courier_echo\` (echo/1, add/2, crash/1, sleep/1). Prints \`READY <name>\` once it listens;
logs (JSON) go to stderr. SIGINT/SIGTERM stop it.

node:
  --name NAME@HOST        the node name (long names)
  --sname NAME            short name: NAME@<this host's short name>, as erl -sname
  --cookie C              the cookie (default COURIER_COOKIE, then ~/.erlang.cookie)
  --visible               a visible node: in the peers' nodes(); the echo process is also the global
                          name {courier_echo, Node} and in the pg group courier_echo (default hidden)
  --hidden                hidden (the default)
  --port P                the listening port (default any, registered in EPMD)
  --net-ticktime S        net_ticktime in seconds (default 60)
  --busy-limit BYTES      output queued per connection before senders wait (default 1 MiB; docs/limits.md)
  --log-level L           fatal … trace (default info, or LOG_LEVEL)
carriers:
  --carrier K             tcp (default), tls, ssh, aemp, or a list: tcp,tls / tcp,ssh
  --tls-cert F --tls-key F [--tls-cacert F] [--tls-verify verify_peer|verify_none]   the TLS carrier's PEM files
  --tls-optfile F         an OTP ssl_dist optfile (as erl -ssl_dist_optfile) instead of the --tls-* files;
                          the same file an erl peer is started with
  --ssh-bind HOST:PORT --ssh-host-key F --ssh-authorized-keys F [--ssh-dist-keys F] [--ssh-known-hosts F]
                          the SSH carrier (sshrpc to the authorized keys; distribution to the dist keys)
  --aemp-nodeid ID --aemp-bind HOST:PORT --aemp-secret S [--aemp-seed HOST:PORT…] [--aemp-framing json|cbor]
  --ws HOST:PORT          also accept the Courier distribution over WebSocket there
observer:
  --observer HOST:PORT [--observer-token T] [--observer-metrics-token] [--observer-hostname N] [--observer-origin O]

examples:
  npm run -s echo-node -- --name ts@127.0.0.1 --cookie secret
  npm run -s echo-node -- --sname ts --cookie secret --visible
  npm run -s echo-node -- --name ts@127.0.0.1 --cookie secret --carrier tls --tls-optfile ./dist.conf
  npm run -s echo-node -- --carrier aemp --aemp-nodeid courier-echo --aemp-bind 127.0.0.1:4040 --aemp-secret S

exit codes: 0 stopped by a signal; 2 a usage error (nothing started) or the node could not start`;

const OPTIONS = {
  name: { type: 'string' },
  sname: { type: 'string' },
  cookie: { type: 'string' },
  'log-level': { type: 'string' },
  hidden: { type: 'boolean' },
  visible: { type: 'boolean' },
  port: { type: 'string' },
  'net-ticktime': { type: 'string' },
  'busy-limit': { type: 'string' },
  carrier: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-cacert': { type: 'string' },
  'tls-optfile': { type: 'string' },
  'tls-verify': { type: 'string' },
  'ssh-bind': { type: 'string' },
  'ssh-host-key': { type: 'string' },
  'ssh-authorized-keys': { type: 'string' },
  'ssh-dist-keys': { type: 'string' },
  'ssh-known-hosts': { type: 'string' },
  'aemp-nodeid': { type: 'string' },
  'aemp-bind': { type: 'string' },
  'aemp-secret': { type: 'string' },
  'aemp-seed': { type: 'string', multiple: true },
  'aemp-framing': { type: 'string' },
  ...OBSERVER_FLAGS,
  ws: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The flags; a misspelt one is a line naming it and the usage, exit 2 (not a stack trace). */
const values = (() => {
  try {
    return parseArgs({ options: OPTIONS, strict: true }).values;
  } catch (err) {
    const unknown = /^Unknown option '(--?[^']+)'/.exec((err as Error).message)?.[1];
    const what = unknown !== undefined ? `unknown option ${unknown}` : (err as Error).message;
    process.stderr.write(`echo-node: ${what}\n${USAGE.slice(0, USAGE.indexOf('\n\n'))}\n(--help for every option)\n`);
    process.exit(2);
  }
})();
if (values.help) {
  process.stdout.write(USAGE + '\n');
  process.exit(0);
}

function fail(msg: string): never {
  process.stderr.write(`echo-node: ${msg}\n`);
  process.exit(2);
}

/** `--observer HOST:PORT` (or `PORT`, on loopback) and its access flags, refused before the node starts (docs/observer.md). */
const observerOptions = (() => {
  try {
    return observeOptionsFrom(values);
  } catch (err) {
    return fail((err as Error).message);
  }
})();

/** The live web observer and /metrics, when asked for. */
function startObserver(node: Node, tap?: LogTap): void {
  if (observerOptions === undefined) return;
  // observe() logs `observer listening` with its URL.
  observe(node, { ...observerOptions, ...(tap ? { logTap: tap } : {}) }).catch((err: unknown) => fail((err as Error).message));
}

if (values.carrier === 'aemp') runAempEchoNode();
else startErlangEchoNode();

/** `--carrier aemp`: see aemp-node.ts and docs/aemp.md. */
function runAempEchoNode(): void {
  const log = pino({ level: values['log-level'] ?? process.env['LOG_LEVEL'] ?? 'info', redact: ['secret'] }, pino.destination(2));
  const seeds = (values['aemp-seed'] ?? []).flatMap((s) => s.split(',')).filter((s) => s !== '');
  const flags = { nodeid: values['aemp-nodeid'], bind: values['aemp-bind'], secret: values['aemp-secret'], seeds, framing: values['aemp-framing'] };
  startAempEchoNode(flags, log, fail).then(
    (node) => {
      stopOnSignals(node, log);
      startObserver(node);
      process.stdout.write(`READY ${node.name.name}\n`);
    },
    (err: unknown) => {
      log.error({ err }, 'cannot start');
      fail((err as Error).message);
    },
  );
}

function startErlangEchoNode(): void {
  const name = values.name ?? (values.sname ? `${values.sname}@${hostname().split('.')[0]}` : undefined);
  if (!name || !name.includes('@')) fail('give --name alive@host (or --sname alive)');
  const carriers = new Set((values.carrier ?? 'tcp').split(',').map((c) => c.trim()));
  for (const c of carriers) if (c !== 'tcp' && c !== 'tls' && c !== 'ssh') fail(`unknown carrier ${c} (tcp, tls, ssh, or a list such as tcp,ssh)`);
  const erlangDist = carriers.has('tcp') || carriers.has('tls');
  let cookie = values.cookie ?? process.env['COURIER_COOKIE'];
  if (!cookie && (erlangDist || values.ws !== undefined)) {
    try {
      cookie = readFileSync(`${homedir()}/.erlang.cookie`, 'utf8').trim();
    } catch {
      fail('give --cookie COOKIE (or set COURIER_COOKIE, or create ~/.erlang.cookie)');
    }
  }
  const level = values['log-level'] ?? process.env['LOG_LEVEL'] ?? 'info';
  const log = pino({ level, redact: ['cookie'] }, pino.destination(2));

  const dist: ErlDistOptions = {
    cookie: cookie ?? '',
    hidden: values.visible ? false : (values.hidden ?? HIDDEN_BY_DEFAULT.tcp),
    listen: values.port ? { port: Number(values.port) } : undefined,
    netTicktime: values['net-ticktime'] ? Number(values['net-ticktime']) : undefined,
    busyLimit: busyLimit(),
  };

  /** `--busy-limit BYTES`: the output queued per connection before senders are held back (dist_buf_busy_limit; docs/limits.md). */
  function busyLimit(): number | undefined {
    const v = values['busy-limit'];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) fail(`--busy-limit wants a number of bytes, not ${v}`);
    return n;
  }

  function tlsOptions(): TlsDistOptions {
    if (values['tls-optfile']) return loadTlsOptions(values['tls-optfile']);
    if (!values['tls-cert'] || !values['tls-key']) fail('--carrier tls needs --tls-cert FILE and --tls-key FILE (and --tls-cacert FILE to verify peers), or --tls-optfile FILE');
    const verify = values['tls-verify'] as Verify | undefined;
    return { server: { certfile: values['tls-cert'], keyfile: values['tls-key'], cacertfile: values['tls-cacert'], verify } };
  }

  function sshTransport(): SshTransport {
    const bind = values['ssh-bind'];
    const hostKey = values['ssh-host-key'];
    const sshrpcKeys = values['ssh-authorized-keys'];
    const distKeys = values['ssh-dist-keys'];
    if (!bind || !hostKey || (!sshrpcKeys && !distKeys))
      fail('--carrier ssh needs --ssh-bind HOST:PORT, --ssh-host-key FILE and --ssh-authorized-keys FILE (sshrpc) and/or --ssh-dist-keys FILE (distribution)');
    const listen = parseHostPort(bind, '--ssh-bind');
    // Each flag names the authorized_keys file of one role; --ssh-authorized-keys alone grants sshrpc only.
    const authorizedKeys = distKeys === undefined ? (sshrpcKeys as string) : { sshrpc: sshrpcKeys, dist: distKeys };
    return sshRpc({ hostKey, authorizedKeys, knownHosts: values['ssh-known-hosts'], listen, peerPort: listen.port });
  }

  /** `--ws HOST:PORT`: the Courier distribution over WebSocket, listening there (dialing out stays on the first carrier). */
  function wsTransport(spec: string): WsDistTransport {
    const { host, port } = parseHostPort(spec, '--ws');
    const hidden = values.visible ? false : (values.hidden ?? HIDDEN_BY_DEFAULT.ws);
    return wsDist({ cookie: cookie ?? '', hidden, listen: { host, port }, netTicktime: dist.netTicktime, busyLimit: dist.busyLimit });
  }

  const transports = [];
  try {
    if (erlangDist) {
      transports.push(carriers.has('tls') ? (carriers.has('tcp') ? tcpTlsDist({ ...dist, tls: tlsOptions() }) : tlsDist({ ...dist, tls: tlsOptions() })) : tcpDist(dist));
    }
    if (carriers.has('ssh')) transports.push(sshTransport());
    if (values.ws !== undefined) transports.push(wsTransport(values.ws));
  } catch (err) {
    fail((err as Error).message);
  }
  const tap = new LogTap(log);
  const node = new Node({ name, log: tap.logger, transports });
  const echo = startEcho(node);

  stopOnSignals(node, log);

  node.start().then(
    async () => {
      // Visible: the echo process is also `{courier_echo, NodeName}` in global and a member of the
      // pg group courier_echo (scope pg), before READY says the contract holds.
      if (values.visible) await visibleEcho(node, echo);
      startObserver(node, tap);
      process.stdout.write(`READY ${node.name.name}\n`);
    },
    (err: unknown) => {
      log.error({ err }, 'cannot start');
      fail((err as Error).message);
    },
  );
}

async function visibleEcho(node: Node, echo: Pid): Promise<void> {
  if (!(await globalRegister(node, new Tuple([atom('courier_echo'), node.name]), echo))) throw new Error('the global name {courier_echo, Node} is taken');
  startPg(node).join(atom('courier_echo'), echo);
}

/** SIGINT/SIGTERM: stop the node (closing connections, leaving EPMD) and exit 0, once. */
function stopOnSignals(node: Node, log: pino.Logger): void {
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    await node.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}
