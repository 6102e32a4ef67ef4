import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Atom, consultErlang } from '@courier/term';
import { defaultEpmdPort, names } from '@courier/transport-tcp';
import { nodeNameOf, type Strategy } from './strategy.js';

/**
 * EPMD host scanning, as `net_adm:world/0` and libcluster's `ErlangHosts`: the hosts of a
 * `.hosts.erlang` file (or a list), each host's EPMD asked for its names (NAMES_REQ), and every
 * name found becomes `<name>@<host>` with the host as the file writes it — so write the hosts as
 * the nodes' `-name`s do (a fully qualified name or an address).
 */
export interface EpmdHostsOptions {
  /** Hosts to scan, besides those of the hosts file. */
  readonly hosts?: readonly string[];
  /**
   * The `.hosts.erlang` file: a path, `false` for none, or absent to look where net_adm does —
   * the current directory, then the home directory (OTP also looks in its root directory).
   * The file is read again each round, so an edit takes effect without a restart.
   */
  readonly hostsFile?: string | false;
  /** The EPMD port on every host (ERL_EPMD_PORT or 4369). */
  readonly epmdPort?: number;
  /** How long one host's EPMD has to answer; a host that does not is skipped for the round. */
  readonly timeoutMs?: number;
}

/** One EPMD's answer budget; a host past it has no nodes this round (as net_adm:world skips it). */
export const EPMD_SCAN_TIMEOUT_MS = 2000;

/**
 * The hosts of a `.hosts.erlang` text: Erlang terms each ending with `.`, every one an atom
 * (`'host.example.com'.`, `localhost.`), `%` comments allowed — what `file:consult/1` reads.
 */
export function parseHostsErlang(text: string, file = '.hosts.erlang'): string[] {
  let terms;
  try {
    terms = consultErlang(text);
  } catch (err) {
    throw new RangeError(`${file}: not Erlang terms each ending with a dot (${(err as Error).message})`, { cause: err });
  }
  return terms.map((t, i) => {
    if (!(t instanceof Atom)) throw new RangeError(`${file}: term ${i + 1} is not a host name atom such as 'host.example.com'`);
    return t.name;
  });
}

/** The hosts of the first `.hosts.erlang` found where net_adm looks (the current directory, then home); none: []. */
async function defaultHostsFile(): Promise<string[]> {
  for (const dir of [process.cwd(), homedir()]) {
    const file = join(dir, '.hosts.erlang');
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text !== undefined) return parseHostsErlang(text, file);
  }
  return [];
}

async function hostsOf(o: EpmdHostsOptions): Promise<string[]> {
  const fromFile = o.hostsFile === false ? [] : o.hostsFile === undefined ? await defaultHostsFile() : parseHostsErlang(await readFile(o.hostsFile, 'utf8'), o.hostsFile);
  return [...new Set([...(o.hosts ?? []), ...fromFile])];
}

function withDeadline<T>(p: Promise<T>, ms: number, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    const onAbort = () => reject(new Error('abandoned'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => {
      clearTimeout(t);
      signal.removeEventListener('abort', onAbort);
    });
  });
}

/**
 * A strategy that asks the EPMD of every host (from `.hosts.erlang` or a list) for its names, as
 * `net_adm:world/0` and libcluster's `ErlangHosts`: each name found is `<name>@<host>`.
 */
export function epmdHosts(o: EpmdHostsOptions = {}): Strategy {
  return {
    kind: 'epmd-hosts',
    async resolve(signal) {
      const port = o.epmdPort ?? defaultEpmdPort();
      const timeout = o.timeoutMs ?? EPMD_SCAN_TIMEOUT_MS;
      const perHost = await Promise.all(
        (await hostsOf(o)).map((host) =>
          withDeadline(names({ host, port }), timeout, signal).then(
            (list) => list.map((n) => nodeNameOf(n.name, host)),
            // No EPMD there (the host is gone or not up yet): no nodes on it this round.
            () => [],
          ),
        ),
      );
      return perHost.flat();
    },
  };
}
