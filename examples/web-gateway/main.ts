import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { startWebGateway } from './web-gateway.js';

/**
 * A web page on the cluster, signed in with its own token (README.md beside this file):
 * `npm run example:web-gateway [-- --port 8080 --ws-port 0 --user demo --erl erl@127.0.0.1 --cookie C]`.
 * The password comes from `--password` or WEB_GATEWAY_PASSWORD (else a random one, printed);
 * the token secret from PAGE_TOKEN_SECRET (else random); the cluster cookie from `--cookie` or
 * COURIER_COOKIE (else random: no cluster node can join). Prints the URL to open on stdout; logs
 * (pino, JSON) go to stderr at LOG_LEVEL (default info). SIGINT/SIGTERM stop it.
 */
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8080' },
    'ws-port': { type: 'string', default: '0' },
    user: { type: 'string' },
    password: { type: 'string' },
    name: { type: 'string', default: 'web_gw@127.0.0.1' },
    erl: { type: 'string' },
    cookie: { type: 'string' },
  },
  strict: true,
});

const env = process.env;
const port = (s: string): number => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    process.stderr.write(`web-gateway: ${s} is not a port\n`);
    process.exit(2);
  }
  return n;
};
const user = values.user ?? env['WEB_GATEWAY_USER'] ?? 'demo';
const givenPassword = values.password ?? env['WEB_GATEWAY_PASSWORD'];
const password = givenPassword ?? randomBytes(9).toString('base64url');

const log = pino({ level: env['LOG_LEVEL'] ?? 'info', redact: ['cookie', 'password', 'token'] }, pino.destination(2));
const app = await startWebGateway({
  user,
  password,
  cookie: values.cookie ?? env['COURIER_COOKIE'] ?? randomBytes(18).toString('base64url'),
  tokenSecret: env['PAGE_TOKEN_SECRET'] ?? randomBytes(32).toString('hex'),
  name: values.name,
  port: port(values.port),
  wsPort: port(values['ws-port']),
  ...(values.erl !== undefined ? { erl: values.erl } : {}),
  log,
});

process.stdout.write(
  `web gateway: open ${app.appUrl} and log in as ${user} with ${givenPassword === undefined ? `password ${password}` : 'the password given'}\n` +
    `  a page may call ${app.granted.name} on ${app.granted.node}; any other name is refused (gateway ${app.wsUrl})\n`,
);

let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    void app.stop().then(() => process.exit(0));
  });
}
