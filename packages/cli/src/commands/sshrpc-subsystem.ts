import type { Readable, Writable } from 'node:stream';
import { CallError, ErlangException, RpcError, UsageError, rpcCall, type Logger, type Node, type Process, type ServiceHost } from '@courier/core';
import { Atom, Tuple, atom, type Term } from '@courier/term';
import { serveSshRpcStdio, type SshRpcHost, type SshRpcPolicy } from '@courier/transport-ssh';

/**
 * `courier sshrpc-subsystem --target NODE --allow M:F[/A]… [--allow-name NAME…]`: an OpenSSH
 * subsystem program serving sshrpc on stdin/stdout, so the system's sshd (its keys, its
 * hardening, its logs) is the SSH server:
 *
 *     Subsystem sshrpc@k2r.org /usr/bin/courier sshrpc-subsystem --target app@127.0.0.1 --allow courier_echo:add/2 --config /etc/courier/rpc.yaml
 *
 * Each session is one short-lived hidden node (`sshrpc_<pid>@host`) that reaches the running
 * target node over the Erlang distribution (the cookie, as `courier call`: --cookie,
 * COURIER_COOKIE, ~/.erlang.cookie of the login user, or node.cookieFile of --config) and runs
 * each allowed call there with erpc; the target may be a Courier or an Erlang node. The
 * allow-list is applied here, before anything reaches the target, and is deny by default: only
 * the functions named by --allow (an arity when given) are callable, and `{send, Name, Msg}`
 * reaches `{Name, Target}` only for names given by --allow-name. The program cannot know what the
 * target exposes, so there is no "everything" form.
 */
export interface SshRpcSubsystemOptions {
  readonly target?: string;
  readonly allow?: readonly string[];
  readonly allowName?: readonly string[];
  readonly timeoutMs: number;
  /** Start the hidden node (named `name`, allowed to talk to `target` only) that reaches the target. */
  readonly startNode: (name: string, target: string) => Promise<Node>;
  readonly log: Logger;
  readonly input?: Readable;
  readonly output?: Writable;
  /** The login sshd authenticated; default `$USER` / `$LOGNAME`. */
  readonly user?: string;
}

const BADRPC = atom('badrpc');

/** `M:F` or `M:F/A` entries as an sshrpc policy's modules: `{ M: ['F', 'F/A'] }`. */
export function parseAllow(entries: readonly string[]): Record<string, string[]> {
  const modules: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (const e of entries) {
    const m = /^([^:\s/]+):([^:\s/]+)(?:\/(\d{1,3}))?$/.exec(e.trim());
    if (m === null) throw new UsageError('USAGE', `--allow ${JSON.stringify(e)}: give MODULE:FUNCTION or MODULE:FUNCTION/ARITY`);
    const [, mod, fun, arity] = m as unknown as [string, string, string, string | undefined];
    (modules[mod] ??= []).push(arity === undefined ? fun : `${fun}/${arity}`);
  }
  return modules;
}

export async function sshrpcSubsystem(o: SshRpcSubsystemOptions): Promise<number> {
  const target = o.target;
  if (target === undefined || !/^[^@\s]+@[^@\s]+$/.test(target)) throw new UsageError('USAGE', 'sshrpc-subsystem needs --target NODE@HOST: the running node the calls go to');
  const modules = parseAllow(o.allow ?? []);
  const names = [...(o.allowName ?? [])];
  if (Object.keys(modules).length === 0 && names.length === 0) {
    throw new UsageError('USAGE', 'sshrpc-subsystem allows nothing by default: name what callers may do with --allow MODULE:FUNCTION[/ARITY] (and --allow-name NAME for sends)');
  }
  const host = target.slice(target.indexOf('@') + 1);
  const node = await o.startNode(`sshrpc_${process.pid}@${host}`, target);
  try {
    const peer = atom(target);
    if (!(await node.connect(peer))) {
      o.log.error({ target }, 'sshrpc subsystem: cannot reach the target node');
      return 3;
    }
    // The functions callers may name, as local functions that run the call on the target.
    for (const [mod, funs] of Object.entries(modules)) {
      const fns: Record<string, (this: Process, ...args: Term[]) => Promise<Term>> = {};
      for (const f of new Set(funs.map((x) => x.split('/')[0] as string))) fns[f] = forwarder(peer, atom(mod), atom(f), o.timeoutMs);
      node.expose(mod, fns);
    }
    const policy: SshRpcPolicy = { modules, names };
    return await serveSshRpcStdio({
      input: o.input ?? process.stdin,
      output: o.output ?? process.stdout,
      user: o.user ?? process.env['USER'] ?? process.env['LOGNAME'] ?? 'unknown',
      host: towardTarget(node.services, peer),
      policy,
      log: o.log.child({ subsystem: 'sshrpc', target }),
    });
  } finally {
    await node.stop();
  }
}

/** `M:F(Args)` run on `peer` by erpc, its outcome (return, throw, exit, error) passed on as the caller would see it locally. */
function forwarder(peer: Atom, m: Atom, f: Atom, timeoutMs: number): (this: Process, ...args: Term[]) => Promise<Term> {
  return async function (this: Process, ...args: Term[]): Promise<Term> {
    try {
      return await rpcCall(this, peer, m, f, args, timeoutMs);
    } catch (e) {
      if (e instanceof RpcError) throw new ErlangException(e.kind, e.reason);
      if (e instanceof CallError) throw new ErlangException('exit', new Tuple([BADRPC, e.code === 'TIMEOUT' ? atom('timeout') : atom('nodedown')]));
      throw e;
    }
  };
}

/** The local node, except that a registered name a caller sends to is the target's (`{Name, Target}`). */
function towardTarget(services: ServiceHost, peer: Atom): SshRpcHost {
  return {
    name: services.name,
    exposed: services.exposed,
    spawn: (body, opts) => services.spawn(body, opts),
    isAlive: (pid) => services.isAlive(pid),
    send: (dest, msg) => services.send(dest instanceof Atom ? new Tuple([dest, peer]) : dest, msg),
  };
}
