import { Atom, ImproperList, Pid, Ref, Tuple, atom, atoms, formatErlang, listItems, type Term } from '@courier/term';
import { startGlobal } from '../global/global.js';
import { applyExposed, type Outcome, type Process, type ServiceHost } from '@courier/core';

const utf8 = new TextDecoder();

/**
 * The processes an Erlang node expects every peer to run, so that Erlang tools work against a
 * Courier node unchanged:
 * - `net_kernel`: answers `{is_auth, Node}` calls with `yes` (what net_adm:ping sends);
 * - `rex`: answers `features_request` with `[erpc]`, and the legacy `{call, M, F, A, GL}` /
 *   `{cast, …}` rpc protocol (rpc:block_call, old tools) by running exposed functions;
 * - a group leader for processes Courier spawns on Erlang nodes, which answers io requests and
 *   logs their output.
 * Installed once per node, by the first Erlang-distribution transport that starts.
 */
const GEN_CALL = atom('$gen_call');
const GEN_CAST = atom('$gen_cast');
const IS_AUTH = atom('is_auth');
const YES = atom('yes');
const FEATURES_REQUEST = atom('features_request');
const FEATURES_REPLY = atom('features_reply');
const ERPC = atom('erpc');
const BADRPC = atom('badrpc');
const EXIT = atom('EXIT');
const IO_REQUEST = atom('io_request');
const REX = atom('rex');
const CALL = atom('call');
const BLOCK_CALL = atom('block_call');
const IO_REPLY = atom('io_reply');

const installed = new WeakSet<ServiceHost>();

/**
 * `visible`: the carrier connects as a visible node (PUBLISHED), so Erlang peers run `global` with
 * it and the node must run its name server (global/global.ts).
 */
export function installErlangServices(node: ServiceHost, opts: { readonly visible?: boolean } = {}): void {
  if (opts.visible === true) startGlobal(node.node);
  if (installed.has(node)) return;
  installed.add(node);
  if (node.whereis(atom('net_kernel')) === undefined) node.spawn(netKernel, { name: atom('net_kernel') });
  if (node.whereis(atom('rex')) === undefined) node.spawn(rex, { name: atom('rex') });
  node.setGroupLeader(node.spawn(groupLeader, { name: atom('courier_group_leader') }));
}

/** `{Tag, Reply}` to a gen_server-style caller; `[alias|Ref]` tags go to the alias (OTP 24+). */
export function genReply(self: Process, from: Term, reply: Term): void {
  if (!(from instanceof Tuple) || from.elements.length !== 2) return;
  const [to, tag] = from.elements as [Term, Term];
  const dest = tag instanceof ImproperList && tag.items[0] === atom('alias') && tag.tail instanceof Ref ? tag.tail : to;
  if (dest instanceof Pid || dest instanceof Ref) self.send(dest, new Tuple([tag, reply]));
}

async function netKernel(self: Process): Promise<void> {
  for (;;) {
    const m = await self.receive();
    if (m instanceof Tuple && m.elements[0] === GEN_CALL && m.elements.length === 3) {
      const req = m.elements[2];
      if (req instanceof Tuple && req.elements[0] === IS_AUTH) genReply(self, m.elements[1], YES);
      else self.node.log.debug({ request: String(req) }, 'net_kernel: unsupported call ignored');
    }
  }
}

async function rex(self: Process): Promise<void> {
  const node = self.node;
  for (;;) {
    const m = await self.receive();
    if (!(m instanceof Tuple)) continue;
    const e = m.elements;
    if (e.length === 2 && e[1] === FEATURES_REQUEST && e[0] instanceof Pid) {
      self.send(e[0], new Tuple([FEATURES_REPLY, node.name, [ERPC]]));
    } else if (e.length === 2 && e[0] instanceof Pid && isCall(e[1])) {
      // ei_rpc (erl_call, C nodes): {From, {call, M, F, A, GL}} answered by {rex, Result}.
      const from = e[0];
      const [, mod, fun, args] = e[1].elements as [Term, Atom, Atom, Term];
      self.spawn(async (worker) => {
        const o = await applyExposed(node.exposed, worker, mod, fun, listItems(args) ?? []);
        worker.send(from, new Tuple([REX, rpcResult(o)]));
      });
    } else if (e.length === 3 && e[0] === GEN_CALL) {
      const req = e[2];
      if (isCall(req)) {
        const [, mod, fun, args] = req.elements as [Term, Atom, Atom, Term[]];
        const from = e[1];
        self.spawn(async (worker) => {
          const o = await applyExposed(node.exposed, worker, mod, fun, listItems(args) ?? []);
          genReply(worker, from, rpcResult(o));
        });
      }
    } else if (e.length === 2 && e[0] === GEN_CAST) {
      const req = e[1];
      if (req instanceof Tuple && req.elements[0] === atom('cast') && req.elements.length >= 4) {
        const [, mod, fun, args] = req.elements as [Term, Atom, Atom, Term[]];
        self.spawn((worker) => applyExposed(node.exposed, worker, mod, fun, listItems(args) ?? []));
      }
    }
  }
}

function isCall(req: Term): req is Tuple {
  return (
    req instanceof Tuple &&
    (req.elements[0] === CALL || req.elements[0] === BLOCK_CALL) &&
    req.elements.length >= 4 &&
    req.elements[1] instanceof Atom &&
    req.elements[2] instanceof Atom
  );
}

/** The legacy rex reply: the value, or `{badrpc, {'EXIT', …}}` (rpc.erl's shape). */
function rpcResult(o: Outcome): Term {
  switch (o.kind) {
    case 'return':
      return o.value;
    case 'throw':
      return o.value;
    case 'exit':
      return new Tuple([BADRPC, new Tuple([EXIT, o.reason])]);
    case 'error':
      return new Tuple([BADRPC, new Tuple([EXIT, new Tuple([o.reason, o.stack])])]);
  }
}

/**
 * Unicode chardata (a binary, a string, or a possibly nested list of code points, binaries and
 * strings) as text; undefined for anything else (`put_chars` by M:F(A) is logged as a term).
 */
function chardataText(t: Term): string | undefined {
  if (t instanceof Uint8Array) return utf8.decode(t);
  if (typeof t === 'string') return t;
  if (!Array.isArray(t)) return undefined;
  let out = '';
  for (const x of t) {
    if (typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 0x10ffff) out += String.fromCodePoint(x);
    else {
      const s = chardataText(x);
      if (s === undefined) return undefined;
      out += s;
    }
  }
  return out;
}

/** Answers the io protocol for processes Courier spawned elsewhere, logging what they print. */
async function groupLeader(self: Process): Promise<void> {
  for (;;) {
    const m = await self.receive();
    if (!(m instanceof Tuple) || m.elements[0] !== IO_REQUEST || m.elements.length !== 4) continue;
    const [, from, replyAs, req] = m.elements as [Term, Term, Term, Term];
    if (req instanceof Tuple && req.elements[0] === atom('put_chars')) {
      const chars = req.elements[req.elements.length - 1];
      const text = chardataText(chars) ?? formatErlang(chars);
      self.node.log.info({ from: String(from), text }, 'remote output');
      if (from instanceof Pid) self.send(from, new Tuple([IO_REPLY, replyAs, atoms.ok]));
    } else if (from instanceof Pid) {
      self.send(from, new Tuple([IO_REPLY, replyAs, new Tuple([atoms.error, atom('enotsup')])]));
    }
  }
}
