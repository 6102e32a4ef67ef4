import { ProxyTable, pidKey, type Node } from '@courier/core';
import { Atom, ErlMap, ImproperList, Pid, Tuple, atom, atoms, type Term } from '@courier/term';

/**
 * The Erlang ⇄ AEMP bridge (docs/bridge.md). A Courier node with an Erlang carrier (tcp/tls) and
 * an AEMP carrier runs two registered processes:
 *
 * - `aemp` (Erlang addresses it as `{aemp, BridgeNode}`):
 *     `{send, <<"nodeid#port">>, Msg}`            relays Msg to the AEMP port;
 *     `gen_server:call({aemp, B}, {proxy, Port})` returns a **proxy pid** standing for the port:
 *       `P ! Msg` reaches the port, `monitor(process, P)` fires `DOWN` when the port dies, with its
 *       reason; `link(P)` works the same way (the proxy exits with the port's reason);
 *     `{proxy, ReplyTo, Port}`                    the same without gen_server: `{aemp_proxy, Port, P}`.
 * - `erlang` (AEMP addresses it as the port `<bridge>#erlang`):
 *     `snd "<bridge>#erlang", "name", "node@host", @msg`  relays to the registered name `{name, 'node@host'}`.
 *
 * Pids crossing are translated: an Erlang pid in a message bound for AEMP becomes the port id of a
 * proxy on the bridge (`<bridge>#~id.serial.creation`) that forwards to it and dies with it, so the
 * AEMP side can `snd` to it and `mon` it; a pid of an AEMP node (Courier peers, extended mapping)
 * bound for Erlang becomes a proxy pid too. Proxies are made on demand, once per pid or port, and
 * end when what they stand for ends.
 */
export interface BridgeOptions {
  /** Which nodes are on the Erlang side (default: names with `@`, but not the bridge itself). */
  readonly isErlang?: (node: Atom) => boolean;
  /** Registered name Erlang addresses (default `aemp`). */
  readonly aempName?: string;
  /** Registered name (port) AEMP addresses (default `erlang`). */
  readonly erlangName?: string;
}

/** A running bridge: its two registered processes, the proxies it made, and the term translation both ways. */
export interface Bridge {
  /** The proxy pid standing for an AEMP port id (made on demand). */
  proxyForPort(portId: string): Pid;
  /** The proxy pid (a local pid, an AEMP port of the bridge) standing for an Erlang pid. */
  proxyForPid(pid: Pid): Pid;
  /** Messages as they cross. */
  toAemp(msg: Term): Term;
  /** A term bound for Erlang, with AEMP port ids and pids made proxies and plain objects maps. */
  toErlang(msg: Term): Term;
  readonly aempPid: Pid;
  readonly erlangPid: Pid;
  /** Stop the bridge's processes and proxies. */
  stop(): void;
}

const SEND = atom('send');
const PROXY = atom('proxy');
const GEN_CALL = atom('$gen_call');
const AEMP_PROXY = atom('aemp_proxy');
const enc = new TextEncoder();
/** Two turns of the event loop: a new proxy's body has run and its mon1 has been flushed to the socket. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
};
const dec = new TextDecoder();

function textOf(t: Term): string | undefined {
  if (typeof t === 'string') return t;
  if (t instanceof Uint8Array) return dec.decode(t);
  if (t instanceof Atom) return t.name;
  return undefined;
}

function isPlainObject(t: unknown): t is Record<string, Term> {
  return typeof t === 'object' && t !== null && Object.getPrototypeOf(t) === Object.prototype;
}

/** Start the Erlang ⇄ AEMP bridge's registered processes (`aemp`, `erlang`) on a node with both carriers. */
export function startBridge(node: Node, opts: BridgeOptions = {}): Bridge {
  const self = node.name;
  const isErlang = opts.isErlang ?? ((n: Atom) => n !== self && n.name.includes('@'));
  const log = node.log.child({ bridge: true });
  const proxies = new ProxyTable(node, log);

  function proxyForPort(portId: string): Pid {
    const hash = portId.indexOf('#');
    const nodeid = portId.slice(0, hash);
    const port = portId.slice(hash + 1);
    return proxies.get({
      key: `port:${portId}`,
      watch: (p) => p.monitor({ name: port, node: nodeid }),
      forward: (p, m) => p.send(portId, toAempMessage(m)),
      reason: (r) => toErlang(r),
      describe: { port: portId },
    });
  }

  function proxyForPid(pid: Pid): Pid {
    return proxies.get({
      key: `pid:${pidKey(pid)}`,
      linkTarget: pid,
      watch: (p) => p.monitor(pid),
      forward: (p, m) => p.send(pid, toErlangMessage(m)),
      reason: (r) => toAemp(r),
      describe: { pid: pid.toString() },
    });
  }

  /** A term bound for AEMP: Erlang pids become proxies; the rest is left to the AEMP value mapping. */
  function toAemp(t: Term): Term {
    if (t instanceof Pid) return isErlang(t.node) ? proxyForPid(t) : t;
    if (Array.isArray(t)) return t.map(toAemp);
    if (t instanceof Tuple) return new Tuple(t.elements.map(toAemp));
    if (t instanceof ErlMap) return new ErlMap([...t].map(([k, v]) => [toAemp(k), toAemp(v)] as const));
    if (t instanceof ImproperList) return new ImproperList(t.items.map(toAemp), toAemp(t.tail));
    return t;
  }

  /** A term bound for Erlang: strings are UTF-8 binaries, objects maps with binary keys, arrays lists, AEMP pids proxies. */
  function toErlang(t: Term): Term {
    if (typeof t === 'string') return enc.encode(t);
    if (t === null || t === undefined) return atoms.undefined;
    if (t instanceof Pid) return t.node !== self && !isErlang(t.node) ? proxyForPort(`${t.node.name}#~${t.id}.${t.serial}.${t.creation}`) : t;
    if (Array.isArray(t)) return t.map(toErlang);
    if (t instanceof Tuple) return new Tuple(t.elements.map(toErlang));
    if (t instanceof ErlMap) return new ErlMap([...t].map(([k, v]) => [toErlang(k), toErlang(v)] as const));
    if (isPlainObject(t)) return new ErlMap(Object.entries(t).map(([k, v]) => [enc.encode(k), toErlang(v)] as const));
    return t;
  }

  /** An Erlang message to an AEMP port: a tuple is spread as the port's `@msg`. */
  function toAempMessage(m: Term): Term {
    return m instanceof Tuple ? m.elements.map(toAemp) : toAemp(m);
  }

  /** An AEMP message (`@msg`, an array) to Erlang: one value is itself, several a tuple. */
  function toErlangMessage(m: Term): Term {
    if (!Array.isArray(m)) return toErlang(m);
    return m.length === 1 ? toErlang(m[0]) : new Tuple(m.map(toErlang));
  }

  const aempPid = node.spawn(
    async (p) => {
      for (;;) {
        const m = await p.receive();
        if (!(m instanceof Tuple)) continue;
        const [tag, a, b] = m.elements;
        try {
          if (tag === SEND && m.elements.length === 3) {
            const port = textOf(a);
            if (port?.includes('#')) p.send(port, toAempMessage(b));
          } else if (tag === PROXY && m.elements.length === 3 && a instanceof Pid) {
            const port = textOf(b);
            if (port?.includes('#')) {
              await node.connect(port.slice(0, port.indexOf('#'))).catch(() => false);
              const proxyPid = proxyForPort(port);
              await settle();
              p.send(a, new Tuple([AEMP_PROXY, b, proxyPid]));
            }
          } else if (tag === GEN_CALL && a instanceof Tuple && b instanceof Tuple) {
            const [from, ref] = a.elements as [Pid, Term];
            const [op, port, msg] = b.elements;
            const text = textOf(port);
            let reply: Term = new Tuple([atom('error'), atom('badarg')]);
            if (text?.includes('#') && op === PROXY) {
              // The proxy's monitor must be on the wire before the caller can act on the reply:
              // connect first, then let the proxy start (its mon1 goes out) and only then reply.
              await node.connect(text.slice(0, text.indexOf('#'))).catch(() => false);
              reply = proxyForPort(text);
              await settle();
            } else if (text?.includes('#') && op === SEND && msg !== undefined) {
              p.send(text, toAempMessage(msg));
              reply = atoms.ok;
            }
            p.send(from, new Tuple([ref, reply]));
          }
        } catch (err) {
          log.warn({ err }, 'bridge: message to AEMP dropped');
        }
      }
    },
    { name: atom(opts.aempName ?? 'aemp') },
  );

  const erlangPid = node.spawn(
    async (p) => {
      for (;;) {
        const m = await p.receive();
        if (!Array.isArray(m) || m.length < 2) {
          log.warn({ msg: String(m) }, 'bridge: to Erlang, a message is [name | pid, node, @msg]');
          continue;
        }
        const [dest, nodeName, ...rest] = m;
        const msg = toErlangMessage(rest);
        const nodeText = textOf(nodeName);
        try {
          if (dest instanceof Pid) p.send(dest, toErlangMessage([nodeName, ...rest]));
          else if (textOf(dest) !== undefined && nodeText !== undefined) p.send(new Tuple([atom(textOf(dest) as string), atom(nodeText)]), msg);
        } catch (err) {
          log.warn({ err }, 'bridge: message to Erlang dropped');
        }
      }
    },
    { name: atom(opts.erlangName ?? 'erlang') },
  );

  return {
    proxyForPort,
    proxyForPid,
    toAemp,
    toErlang,
    aempPid,
    erlangPid,
    stop() {
      for (const pid of [aempPid, erlangPid]) node.exitSignal(undefined, pid, atom('kill'));
      proxies.stopAll();
    },
  };
}
