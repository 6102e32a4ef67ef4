import { Atom, ErlMap, ImproperList, Pid, Tuple, atom, type Term } from '@courier/term';
import { ProxyTable, pidKey, type Node } from '@courier/core';

const PROXY = atom('proxy');
const GEN_CALL = atom('$gen_call');
const GATEWAY_PROXY = atom('gateway_proxy');
const ERROR = atom('error');
const dec = new TextDecoder();

/** What a proxy can stand for: a pid, `{Name, Node}`, or an AEMP port id `"nodeid#port"`. */
export type GatewayTarget = Pid | { readonly name: Atom; readonly node: Atom } | string;

export interface GatewayOptions {
  /** The registered name pages (and Erlang) ask for proxies (default `gateway`). */
  readonly name?: Atom;
  /** Which nodes are pages, reachable only through this gateway (default: the session is on the ws carrier). */
  readonly isPage?: (node: Atom) => boolean;
}

export interface Gateway {
  /** The gateway process (registered). */
  readonly pid: Pid;
  /** The proxy pid (a pid of this node) standing for `target`; made on demand, once per target. */
  proxyFor(target: GatewayTarget): Pid;
  /** A message bound for `to`: every pid of a node `to` cannot reach (a page's for the cluster, the cluster's for a page) becomes a proxy. */
  translate(msg: Term, to: Atom): Term;
  stop(): void;
}

/** Two turns of the event loop: a new proxy has run and its monitor is on the wire. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
};

function targetOf(t: Term): GatewayTarget | undefined {
  if (t instanceof Pid) return t;
  if (t instanceof Tuple && t.elements.length === 2 && t.elements[0] instanceof Atom && t.elements[1] instanceof Atom) return { name: t.elements[0], node: t.elements[1] };
  const s = typeof t === 'string' ? t : t instanceof Uint8Array ? dec.decode(t) : undefined;
  return s !== undefined && s.indexOf('#') > 0 ? s : undefined;
}

function nodeOf(t: GatewayTarget): Atom {
  if (t instanceof Pid) return t.node;
  if (typeof t === 'string') return atom(t.slice(0, t.indexOf('#')));
  return t.node;
}

/**
 * The gateway's proxies (docs/ws.md): a page node is connected to its gateway only, and the
 * cluster cannot dial into a page, so a pid on the far side of the gateway is unreachable from
 * either side. A proxy — a process of the gateway, made by {@link ProxyTable} as the Erlang ⇄ AEMP
 * bridge makes its own — stands for it: it forwards what it gets, monitors its target, and exits
 * with the target's reason, so links and monitors on the proxy behave as on the target.
 *
 * - `{proxy, ReplyTo, Target}` → `ReplyTo ! {gateway_proxy, Target, Proxy}`
 *   (`{gateway_proxy, Target, {error, Reason}}` when the target's node cannot be reached);
 * - `gen_server:call({gateway, Gw}, {proxy, Target})` → `Proxy`;
 *
 * where Target is a pid, `{Name, Node}`, or an AEMP port id (`<<"nodeid#port">>`). Pids inside
 * messages crossing a proxy are translated: a page's pid bound for the cluster (Erlang, Perl) and a
 * cluster pid bound for a page become proxies too, so replies and monitors find their way back.
 */
export function startGateway(node: Node, opts: GatewayOptions = {}): Gateway {
  const self = node.name;
  const isPage = opts.isPage ?? ((n: Atom) => node.dist.session(n)?.carrier === 'ws');
  const log = node.log.child({ gateway: true });
  const proxies = new ProxyTable(node, log);

  function translate(t: Term, to: Atom): Term {
    if (t instanceof Pid) return t.node !== self && t.node !== to && (isPage(t.node) || isPage(to)) ? proxyFor(t) : t;
    if (Array.isArray(t)) return t.map((x) => translate(x, to));
    if (t instanceof Tuple) return new Tuple(t.elements.map((x) => translate(x, to)));
    if (t instanceof ErlMap) return new ErlMap([...t].map(([k, v]) => [translate(k, to), translate(v, to)] as const));
    if (t instanceof ImproperList)
      return new ImproperList(
        t.items.map((x) => translate(x, to)),
        translate(t.tail, to),
      );
    return t;
  }

  function proxyFor(target: GatewayTarget): Pid {
    if (target instanceof Pid) {
      return proxies.get({
        key: `pid:${pidKey(target)}`,
        linkTarget: target,
        watch: (p) => p.monitor(target),
        forward: (p, m) => p.send(target, translate(m, target.node)),
        describe: { pid: target.toString() },
      });
    }
    if (typeof target === 'string') {
      const hash = target.indexOf('#');
      const nodeid = target.slice(0, hash);
      const to = atom(nodeid);
      return proxies.get({
        key: `port:${target}`,
        watch: (p) => p.monitor({ name: target.slice(hash + 1), node: nodeid }),
        forward: (p, m) => p.send(target, translate(m, to)),
        describe: { port: target },
      });
    }
    const { name, node: at } = target;
    return proxies.get({
      key: `name:${name.name}@${at.name}`,
      watch: (p) => p.monitor({ name, node: at }),
      forward: (p, m) => p.send({ name, node: at }, translate(m, at)),
      describe: { name: name.name, node: at.name },
    });
  }

  /** The proxy, with its monitor on the wire before anyone can use it; an error tuple when the node is out of reach. */
  async function made(target: GatewayTarget): Promise<Term> {
    const at = nodeOf(target);
    if (at !== self && !(await node.connect(at).catch(() => false))) return new Tuple([ERROR, atom('noconnection')]);
    const pid = proxyFor(target);
    await settle();
    return pid;
  }

  const pid = node.spawn(
    async (p) => {
      for (;;) {
        const m = await p.receive();
        if (!(m instanceof Tuple)) continue;
        const [tag, a, b] = m.elements;
        try {
          if (tag === PROXY && m.elements.length === 3 && a instanceof Pid) {
            const target = targetOf(b);
            p.send(a, new Tuple([GATEWAY_PROXY, b, target === undefined ? new Tuple([ERROR, atom('badarg')]) : await made(target)]));
          } else if (tag === GEN_CALL && a instanceof Tuple && b instanceof Tuple && b.elements[0] === PROXY && b.elements.length === 2) {
            const [from, ref] = a.elements as [Pid, Term];
            const target = targetOf(b.elements[1]);
            p.send(from, new Tuple([ref, target === undefined ? new Tuple([ERROR, atom('badarg')]) : await made(target)]));
          }
        } catch (err) {
          log.warn({ err }, 'gateway: proxy request failed');
        }
      }
    },
    { name: opts.name ?? atom('gateway') },
  );

  return {
    pid,
    proxyFor,
    translate,
    stop() {
      node.exitSignal(undefined, pid, atom('kill'));
      proxies.stopAll();
    },
  };
}
