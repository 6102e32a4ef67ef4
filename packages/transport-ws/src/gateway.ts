import { Atom, ErlMap, ImproperList, Pid, Tuple, atom, type Term } from '@courier/term';
import { ProxyTable, pidKey, type Node } from '@courier/core';
import type { PageDirectory } from './page-door.js';
import type { PageInfo } from './page-types.js';
import { GatewayPagePolicy, proxyRequestFrom } from './gateway-policy.js';

const GATEWAY_PROXY = atom('gateway_proxy');
const ERROR = atom('error');
const dec = new TextDecoder();

/** What a proxy can stand for: a pid, `{Name, Node}`, or an AEMP port id `"nodeid#port"`. */
export type GatewayTarget = Pid | { readonly name: Atom; readonly node: Atom } | string;

/** Options of {@link startGateway}. */
export interface GatewayOptions {
  /** The registered name pages (and Erlang) ask for proxies (default `gateway`). */
  readonly name?: Atom;
  /** Which nodes are pages, reachable only through this gateway (default: the session is on the ws carrier). */
  readonly isPage?: (node: Atom) => boolean;
  /**
   * The WebSocket listener whose pages (its `pages` option) this gateway serves: they reach what
   * their grants list, through proxies of their own, and nothing else (docs/ws.md).
   */
  readonly ws?: { readonly pages?: PageDirectory };
}

/** A running gateway: its process, the proxies it makes between pages and the cluster, and `stop`. */
export interface Gateway {
  /** The gateway process (registered). */
  readonly pid: Pid;
  /** The proxy pid (a pid of this node) standing for `target`; made on demand, once per target (and page, with `forPage`). */
  proxyFor(target: GatewayTarget, forPage?: Atom): Pid;
  /** A message bound for `to`: every pid of a node `to` cannot reach (a page's for the cluster, the cluster's for a page) becomes a proxy. */
  translate(msg: Term, to: Atom): Term;
  /** Stops the gateway: its process, its proxies and its page policy. */
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
 *   (`{gateway_proxy, Target, {error, Reason}}` when the target's node cannot be reached, or a
 *   page is not granted it: `not_granted`);
 * - `gen_server:call({gateway, Gw}, {proxy, Target})` → `Proxy`;
 *
 * where Target is a pid, `{Name, Node}`, or an AEMP port id (`<<"nodeid#port">>`). Pids inside
 * messages crossing a proxy are translated: a page's pid bound for the cluster (Erlang, Perl) and a
 * cluster pid bound for a page become proxies too, so replies and monitors find their way back.
 *
 * With `ws` (a listener with `pages`), the pages it let in are held to {@link GatewayPagePolicy}:
 * a page asks for proxies of the names and ports its grant lists (never `rex`, `net_kernel`, …),
 * gets proxies of its own, and every operation of its session may address those proxies only.
 */
export function startGateway(node: Node, opts: GatewayOptions = {}): Gateway {
  const self = node.name;
  const name = opts.name ?? atom('gateway');
  const pages = opts.ws?.pages;
  const isPage = opts.isPage ?? ((n: Atom) => node.dist.session(n)?.carrier === 'ws');
  const log = node.log.child({ gateway: true });
  const proxies = new ProxyTable(node, log);
  const policy = new GatewayPagePolicy(node, name, log);
  const pageOf = (n: Atom): PageInfo | undefined => pages?.get(n);

  function translate(t: Term, to: Atom): Term {
    if (t instanceof Pid) {
      // Toward a page: every pid becomes a proxy of that page's own (or is one already).
      if (pageOf(to) !== undefined) return t.node === to || policy.owns(to, t) ? t : proxyFor(t, to);
      return t.node !== self && t.node !== to && (isPage(t.node) || isPage(to)) ? proxyFor(t) : t;
    }
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

  function proxyFor(target: GatewayTarget, forPage?: Atom): Pid {
    const pid = makeProxy(target, forPage === undefined ? '' : `|${forPage.name}`);
    // A page's proxy is its alone; a proxy standing for a page's pid is that page's to answer.
    const owner = forPage ?? (target instanceof Pid && pageOf(target.node) !== undefined ? target.node : undefined);
    if (owner !== undefined) policy.give(owner, pid, forPage !== undefined);
    return pid;
  }

  function makeProxy(target: GatewayTarget, suffix: string): Pid {
    if (target instanceof Pid) {
      return proxies.get({
        key: `pid:${pidKey(target)}${suffix}`,
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
        key: `port:${target}${suffix}`,
        watch: (p) => p.monitor({ name: target.slice(hash + 1), node: nodeid }),
        forward: (p, m) => p.send(target, translate(m, to)),
        describe: { port: target },
      });
    }
    const { name: n, node: at } = target;
    return proxies.get({
      key: `name:${n.name}@${at.name}${suffix}`,
      watch: (p) => p.monitor({ name: n, node: at }),
      forward: (p, m) => p.send({ name: n, node: at }, translate(m, at)),
      describe: { name: n.name, node: at.name },
    });
  }

  /** The proxy, with its monitor on the wire before anyone can use it; an error tuple when the node is out of reach or a page is not granted the target. */
  async function made(target: GatewayTarget | undefined, requester: Pid): Promise<Term> {
    if (target === undefined) return new Tuple([ERROR, atom('badarg')]);
    const page = pageOf(requester.node);
    if (page !== undefined) {
      const why = policy.refuseTarget(target, page);
      if (why !== undefined) {
        log.warn({ identity: page.identity, page: page.node.name, target: targetText(target), why }, 'page proxy request refused');
        return new Tuple([ERROR, atom('not_granted')]);
      }
    }
    const at = nodeOf(target);
    if (at !== self && !(await node.connect(at).catch(() => false))) return new Tuple([ERROR, atom('noconnection')]);
    const pid = proxyFor(target, page?.node);
    await settle();
    return pid;
  }

  const pid = node.spawn(
    async (p) => {
      for (;;) {
        const m = await p.receive();
        const r = proxyRequestFrom(m);
        if (r === undefined) continue;
        try {
          const answer = await made(targetOf(r.target), r.replyTo);
          p.send(r.replyTo, r.ref === undefined ? new Tuple([GATEWAY_PROXY, r.target, answer]) : new Tuple([r.ref, answer]));
        } catch (err) {
          log.warn({ err }, 'gateway: proxy request failed');
        }
      }
    },
    { name },
  );
  pages?.setPolicy(policy);

  return {
    pid,
    proxyFor,
    translate,
    stop() {
      pages?.setPolicy(undefined);
      node.exitSignal(undefined, pid, atom('kill'));
      proxies.stopAll();
    },
  };
}

function targetText(t: GatewayTarget): string {
  return t instanceof Pid ? t.toString() : typeof t === 'string' ? t : `{${t.name.name},${t.node.name}}`;
}
