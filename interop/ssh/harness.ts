import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ssh2 from 'ssh2';
import { parseErlang, type Term } from '@courier/term';
import { compileErl, findErl, requirePeer, startErl, type ErlNode } from '@courier/testkit';

const { utils } = ssh2;

/**
 * Shared set-up of the SSH interop suites: the Erlang fixtures compiled once, key pairs made at
 * test time and laid out as Erlang's ssh and OpenSSH expect them, an Erlang `ssh:daemon` serving
 * sshrpc, and the Erlang sshrpc client run as a script.
 */
export const tools = findErl();
function hasErlangSsh(): boolean {
  if (tools === null) return false;
  try {
    return execFileSync(tools.erl, ['-noshell', '-eval', 'io:format("~p", [code:which(ssh)]), halt().'], { encoding: 'utf8', timeout: 20_000 }).includes('ssh.beam');
  } catch {
    return false;
  }
}
export const erlSsh = requirePeer('erlang-ssh', hasErlangSsh(), "erl with OTP's ssh application (Debian erlang-base and erlang-ssh)");

export function hasCommand(cmd: string, args: string[] = ['-V']): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as { status?: number }).status !== undefined;
  }
}

let compiled: Promise<string> | undefined;
export function fixtures(): Promise<string> {
  const src = (f: string) => fileURLToPath(new URL(`./fixtures/${f}`, import.meta.url));
  compiled ??= compileErl(['sshrpc_server.erl', 'sshrpc_keys.erl', 'sshrpc_client.erl', 'sshrpc_roles.erl'].map(src), tools).then((c) => c.dir);
  return compiled;
}

/** An ed25519 key pair (OpenSSH format), whose public line's comment is `name`. */
export interface Key {
  readonly name: string;
  readonly privateKey: string;
  /** `ssh-ed25519 AAAA… name` */
  readonly publicLine: string;
}

/** ssh2's generator writes a malformed key about 3 times in 1000 (ssh-keygen refuses those too): keep one that parses. */
export function makeKey(name: string): Key {
  for (;;) {
    const kp = utils.generateKeyPairSync('ed25519', { comment: name });
    if (!(utils.parseKey(kp.private) instanceof Error)) return { name, privateKey: kp.private, publicLine: kp.public.trim() };
  }
}

export const bare = (k: Key): string => k.publicLine.split(' ').slice(0, 2).join(' ');
export const blob = (k: Key): Buffer => Buffer.from(k.publicLine.split(' ')[1] as string, 'base64');

/** A scratch directory with helpers to write key files into it. */
export class Scratch {
  readonly dir = mkdtempSync(join(tmpdir(), 'courier-ssh-interop-'));

  /** Write `text` at `rel` (directories made), mode 0600; returns the path. */
  file(rel: string, text: string): string {
    const p = join(this.dir, rel);
    mkdirSync(join(p, '..'), { recursive: true, mode: 0o700 });
    writeFileSync(p, text.endsWith('\n') ? text : `${text}\n`, { mode: 0o600 });
    return p;
  }

  path(rel: string): string {
    return join(this.dir, rel);
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface ErlDaemon {
  readonly port: number;
  readonly erl: ErlNode;
}

/** Erlang's ssh:daemon with the sshrpc subsystem: host key `host`, logins by `clients` (name-bound). */
export async function startErlDaemon(s: Scratch, host: Key, clients: readonly Key[], tag = 'erld'): Promise<ErlDaemon> {
  s.file(`${tag}/sys/ssh_host_ed25519_key`, host.privateKey);
  s.file(`${tag}/sys/ssh_host_ed25519_key.pub`, host.publicLine);
  s.file(`${tag}/user/authorized_keys`, clients.map((k) => k.publicLine).join('\n'));
  const erl = startErl({ codePath: [await fixtures()], eval: `sshrpc_server:main(["0", "${s.path(`${tag}/sys`)}", "${s.path(`${tag}/user`)}"]).` });
  const line = await erl.stdout.waitFor(/^LISTENING \d+/, 20_000);
  return { port: Number(line.split(' ')[1]), erl };
}

/**
 * Run Erlang's ssh client (sshrpc_client:main) as `user` with key `key` against 127.0.0.1:port
 * whose host key is `serverHost`, sending `requests` (Erlang term text; `{noreply, T}` sends T
 * without waiting). Resolves with the answers, or the connect error text.
 */
/** Erlang's ssh client (sshrpc_roles:main) asking 127.0.0.1:port for `subsystem`: `success`, `failure`, or the connect error. */
export async function erlSubsystem(s: Scratch, port: number, key: Key, serverHost: Key, subsystem: string, tag: string): Promise<string> {
  s.file(`${tag}/id_ed25519`, key.privateKey);
  s.file(`${tag}/id_ed25519.pub`, key.publicLine);
  s.file(`${tag}/known_hosts`, `[127.0.0.1]:${port} ${bare(serverHost)}`);
  const erl = startErl({ codePath: [await fixtures()], eval: `sshrpc_roles:main(["${port}", "${s.path(tag)}", "${key.name}", "${subsystem}"]).` });
  const line = await erl.stdout.waitFor(/^(SUBSYSTEM|CONNECT_ERROR)/, 30_000);
  await erl.exited;
  return line;
}

export async function runErlClient(
  s: Scratch,
  port: number,
  key: Key,
  user: string,
  serverHost: Key | undefined,
  requests: readonly string[],
  tag = 'erlc',
): Promise<{ answers: Term[]; error?: string; erl: ErlNode }> {
  s.file(`${tag}/id_ed25519`, key.privateKey);
  s.file(`${tag}/id_ed25519.pub`, key.publicLine);
  s.file(`${tag}/known_hosts`, serverHost === undefined ? '' : `[127.0.0.1]:${port} ${bare(serverHost)}`);
  const reqFile = s.file(`${tag}/requests.eterm`, requests.map((r) => `${r}.`).join('\n'));
  const erl = startErl({ codePath: [await fixtures()], eval: `sshrpc_client:main(["${port}", "${s.path(tag)}", "${user}", "${reqFile}"]).` });
  const answers: Term[] = [];
  for (;;) {
    const line = await erl.stdout.waitFor(/^(ANSWER|DONE|CONNECT_ERROR)/, 30_000);
    if (line.startsWith('DONE')) break;
    if (line.startsWith('CONNECT_ERROR')) {
      await erl.exited;
      return { answers, error: line, erl };
    }
    answers.push(parseErlang(line.slice('ANSWER '.length)));
  }
  await erl.exited;
  return { answers, erl };
}
