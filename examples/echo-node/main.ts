import { parseArgs } from 'node:util';
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import pino from 'pino';
import { Node } from '@courier/core';
import { tcpDist, type ErlDistOptions } from '@courier/transport-tcp';
import { loadTlsOptions, tcpTlsDist, tlsDist, type TlsDistOptions, type Verify } from '@courier/transport-tls';
import { startEcho } from './echo-module.js';

/**
 * The runnable echo node: `npm run -s echo-node -- --name NAME@HOST --cookie COOKIE`.
 * Prints `READY <node name>` on stdout once it listens and is registered in EPMD; logs (pino,
 * JSON) go to stderr at --log-level / LOG_LEVEL (default info). SIGINT/SIGTERM stop it cleanly.
 */
const { values } = parseArgs({
  options: {
    name: { type: 'string' },
    sname: { type: 'string' },
    cookie: { type: 'string' },
    'log-level': { type: 'string' },
    hidden: { type: 'boolean' },
    visible: { type: 'boolean' },
    port: { type: 'string' },
    'net-ticktime': { type: 'string' },
    carrier: { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'tls-cacert': { type: 'string' },
    'tls-optfile': { type: 'string' },
    'tls-verify': { type: 'string' },
  },
  strict: true,
});

function fail(msg: string): never {
  process.stderr.write(`echo-node: ${msg}\n`);
  process.exit(2);
}

const name = values.name ?? (values.sname ? `${values.sname}@${hostname().split('.')[0]}` : undefined);
if (!name || !name.includes('@')) fail('give --name alive@host (or --sname alive)');
let cookie = values.cookie ?? process.env['COURIER_COOKIE'];
if (!cookie) {
  try {
    cookie = readFileSync(`${homedir()}/.erlang.cookie`, 'utf8').trim();
  } catch {
    fail('give --cookie COOKIE (or set COURIER_COOKIE, or create ~/.erlang.cookie)');
  }
}
const level = values['log-level'] ?? process.env['LOG_LEVEL'] ?? 'info';
const log = pino({ level, redact: ['cookie'] }, pino.destination(2));

const carriers = new Set((values.carrier ?? 'tcp').split(',').map((c) => c.trim()));
for (const c of carriers) if (c !== 'tcp' && c !== 'tls') fail(`unknown carrier ${c} (tcp, tls, or tcp,tls)`);
const dist: ErlDistOptions = {
  cookie,
  hidden: values.visible ? false : values.hidden ?? true,
  listen: values.port ? { port: Number(values.port) } : undefined,
  netTicktime: values['net-ticktime'] ? Number(values['net-ticktime']) : undefined,
};

function tlsOptions(): TlsDistOptions {
  if (values['tls-optfile']) return loadTlsOptions(values['tls-optfile']);
  if (!values['tls-cert'] || !values['tls-key']) fail('--carrier tls needs --tls-cert FILE and --tls-key FILE (and --tls-cacert FILE to verify peers), or --tls-optfile FILE');
  const verify = values['tls-verify'] as Verify | undefined;
  return { server: { certfile: values['tls-cert'], keyfile: values['tls-key'], cacertfile: values['tls-cacert'], verify } };
}

let transport;
try {
  transport = carriers.has('tls') ? (carriers.has('tcp') ? tcpTlsDist({ ...dist, tls: tlsOptions() }) : tlsDist({ ...dist, tls: tlsOptions() })) : tcpDist(dist);
} catch (err) {
  fail((err as Error).message);
}
const node = new Node({ name, log, transports: [transport] });
startEcho(node);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping');
  await node.stop();
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));

node.start().then(
  () => process.stdout.write(`READY ${node.name.name}\n`),
  (err: unknown) => {
    log.error({ err }, 'cannot start');
    fail((err as Error).message);
  },
);
