import { Atom, Pid, Tuple, atom, atoms, type Term } from '@courier/term';
import { ExitCall, isNormal, isShutdown, reasonFromThrow, reasonText } from './exit-reason.js';
import { GEN_CAST, noreply, reply, stop, type From, type GenServer, type NoReply, type Reply, type Stop } from './gen-server.js';
import { pidKey } from './keys.js';
import type { Process } from './process.js';
import type { ChildSpec, SupervisorFlags } from './supervisor.js';
import { isPermanent, shutdownChild, terminateAll } from './supervisor-shutdown.js';
import { checkSpec, takeSpec } from './supervisor-spec.js';

/**
 * The supervisor as a gen_server, as supervisor.erl is: its requests are supervisor.erl's
 * (`{start_child, …}`, `{terminate_child, Id}`, `{restart_child, Id}`, `{delete_child, Id}`,
 * `which_children`, `count_children`), so `supervisor:which_children({Sup, Node})` from `erl`
 * works on it. Child ids are strings here and atoms on the wire. Restarts and their failures
 * follow supervisor.erl: a child whose start fails or throws is marked `restarting` and retried
 * through `{try_again_restart, Id}` cast to itself, every attempt counting toward the intensity.
 */
const A = {
  ok: atom('ok'),
  error: atom('error'),
  restarting: atom('restarting'),
  worker: atom('worker'),
  supervisor: atom('supervisor'),
  startChild: atom('start_child'),
  terminateChild: atom('terminate_child'),
  restartChild: atom('restart_child'),
  deleteChild: atom('delete_child'),
  whichChildren: atom('which_children'),
  countChildren: atom('count_children'),
  tryAgain: atom('try_again_restart'),
  notFound: atom('not_found'),
  running: atom('running'),
  alreadyPresent: atom('already_present'),
  alreadyStarted: atom('already_started'),
  simple: atom('simple_one_for_one'),
  maxChildren: atom('max_children'),
  failedToStart: atom('failed_to_start_child'),
  invalidSpec: atom('invalid_child_spec'),
  specs: atom('specs'),
  active: atom('active'),
  supervisors: atom('supervisors'),
  workers: atom('workers'),
} as const;

/** A child: its spec, and its pid, `restarting` after a failed restart, or undefined when not running. */
export interface Child {
  readonly spec: ChildSpec;
  pid: Pid | 'restarting' | undefined;
  /** The extra start arguments of a simple_one_for_one child. */
  readonly args: Term[];
  /** The key of a simple_one_for_one child in `dynamic` (set from the start: a field added later costs a property array per child). */
  key: string | undefined;
}

/** `{error, Reason}` */
const err = (reason: Term): Tuple => new Tuple([A.error, reason]);
const okPid = (pid: Pid | undefined): Tuple => new Tuple([A.ok, pid ?? atoms.undefined]);

type Result = Reply<SupState> | NoReply<SupState> | Stop<SupState>;

export class SupState {
  /** Static children in start order. */
  readonly children: Child[] = [];
  /** simple_one_for_one children by pid key (or a `restarting:` key). */
  readonly dynamic = new Map<string, Child>();
  /** Restart times (performance.now, ms), newest first. */
  restarts: number[] = [];
  private restartingSeq = 0;

  constructor(
    readonly self: Process,
    readonly flags: Required<Omit<SupervisorFlags, 'maxChildren'>> & { readonly maxChildren: number },
    /** The simple_one_for_one template. */
    readonly template: ChildSpec | undefined,
  ) {}

  get simple(): boolean {
    return this.template !== undefined;
  }

  nextRestartingKey(): string {
    return `restarting:${++this.restartingSeq}`;
  }
}

const idAtom = (c: Child): Term => (c.key !== undefined ? atoms.undefined : atom(c.spec.id));
const idOf = (t: Term): string | undefined => (t instanceof Atom ? t.name : typeof t === 'string' ? t : undefined);
const isTemporary = (c: Child): boolean => (c.spec.restart ?? 'permanent') === 'temporary';
const childType = (c: Child): Atom => (c.spec.type === 'supervisor' ? A.supervisor : A.worker);

export const supervisorServer: GenServer<SupState, (self: Process) => SupState> = {
  async init(self, make) {
    const st = make(self);
    if (st.simple) return st;
    for (const c of st.children) {
      const r = await startOne(st, c);
      if (r instanceof Tuple) {
        // {error, Reason}: stop the ones started, in reverse order, and refuse to start.
        await terminateAll(st);
        return stop(new Tuple([atoms.shutdown, new Tuple([A.failedToStart, atom(c.spec.id), r.elements[1]])]), st);
      }
      c.pid = r;
    }
    st.children.splice(0, st.children.length, ...st.children.filter((c) => c.pid !== undefined || !isTemporary(c)));
    return st;
  },

  // Not async: a start_child whose start function returns a pid (spawnLink does) is answered
  // without a promise per step — a dynamic pool starts children by the thousand.
  handleCall(req, _from: From, st) {
    const [op, arg] = req instanceof Tuple ? req.elements : [req];
    if (req === A.whichChildren) return reply(whichChildren(st), st);
    if (req === A.countChildren) return reply(countChildren(st), st);
    if (op === A.startChild) return replyWhen(startChildReq(st, arg), st);
    if (op === A.terminateChild) return replyWhen(terminateChildReq(st, arg), st);
    if (op === A.restartChild) return replyWhen(restartChildReq(st, arg), st);
    if (op === A.deleteChild) return reply(deleteChildReq(st, arg), st);
    st.self.node.log.error({ supervisor: st.self.pid.toString(), request: reasonText(req) }, 'supervisor got an unexpected call');
    return reply(err(new Tuple([atom('unknown_call'), req])), st);
  },

  async handleCast(msg, st) {
    if (msg instanceof Tuple && msg.elements[0] === A.tryAgain) {
      const c = findRestarting(st, msg.elements[1]);
      if (c !== undefined) return afterRestart(st, await restart(st, c));
    }
    return noreply(st);
  },

  async handleInfo(msg, st) {
    if (msg instanceof Tuple && msg.elements.length === 3 && msg.elements[0] === atoms.EXIT && msg.elements[1] instanceof Pid) {
      const c = findByPid(st, msg.elements[1]);
      if (c !== undefined) return afterRestart(st, await childExited(st, c, msg.elements[2]));
      return noreply(st);
    }
    st.self.node.log.error({ supervisor: st.self.pid.toString(), msg: reasonText(msg) }, 'supervisor received an unexpected message');
    return noreply(st);
  },

  async terminate(_reason, st) {
    await terminateAll(st);
  },
};

/** `reply(value)`, now or when the value is there. */
function replyWhen(value: Term | Promise<Term>, st: SupState): Result | Promise<Result> {
  return value instanceof Promise ? value.then((v) => reply(v, st)) : reply(value, st);
}

function afterRestart(st: SupState, outcome: 'ok' | 'shutdown'): Result {
  return outcome === 'shutdown' ? stop(atoms.shutdown, st) : noreply(st);
}

// ---- starting ----------------------------------------------------------------------------

type Started = Pid | undefined | Tuple;

/**
 * do_start_child: the pid, undefined for `ignore`, or `{error, Reason}` when the start failed or
 * threw — synchronously when the start function returned its result rather than a promise.
 */
function startOne(st: SupState, c: Child): Started | Promise<Started> {
  let r: unknown;
  try {
    r = c.spec.start(st.self, ...c.args);
  } catch (e) {
    return startFailed(st, c, e);
  }
  if (r instanceof Promise)
    return r.then(
      (v: unknown) => started(st, c, v),
      (e: unknown) => startFailed(st, c, e),
    );
  return started(st, c, r);
}

function started(st: SupState, c: Child, r: unknown): Started {
  if (r === 'ignore') return undefined;
  if (!(r instanceof Pid)) return err(new Tuple([atom('bad_return_value'), r as Term]));
  const self = st.self;
  // Built only when info is on: a dynamic pool starts children by the thousand.
  if (self.node.log.isLevelEnabled?.('info') !== false) self.node.log.info({ supervisor: self.pid.toString(), child: c.spec.id, pid: r.toString() }, 'child started');
  return r;
}

function startFailed(st: SupState, c: Child, e: unknown): Tuple {
  const self = st.self;
  if (!self.alive) throw e;
  const reason = e instanceof ExitCall ? e.reason : reasonFromThrow(e);
  self.node.log.error({ supervisor: self.pid.toString(), child: c.spec.id, reason: reasonText(reason) }, 'child start failed');
  return err(reason);
}

function startChildReq(st: SupState, arg: Term): Term | Promise<Term> {
  if (st.simple) {
    // A list of integers 0..255 (`[2]` from erl or another node) travels as STRING_EXT and is
    // decoded as a JS string: it is the list of extra arguments all the same.
    const args = typeof arg === 'string' ? Array.from(arg, (ch) => ch.charCodeAt(0)) : arg;
    if (!Array.isArray(args)) return err(new Tuple([A.invalidSpec, arg]));
    if (st.dynamic.size >= st.flags.maxChildren) return err(A.maxChildren);
    const c: Child = { spec: st.template as ChildSpec, pid: undefined, args, key: undefined };
    const r = startOne(st, c);
    return r instanceof Promise ? r.then((x) => dynamicStarted(st, c, x)) : dynamicStarted(st, c, r);
  }
  return startStaticChild(st, arg);
}

function dynamicStarted(st: SupState, c: Child, r: Started): Term {
  if (r instanceof Tuple) return r;
  if (r !== undefined) storeDynamic(st, c, r);
  return okPid(r);
}

async function startStaticChild(st: SupState, arg: Term): Promise<Term> {
  const spec = takeSpec(st.self.node, arg);
  if (spec === undefined) return err(new Tuple([A.invalidSpec, arg]));
  const bad = checkSpec(spec, st.flags.autoShutdown);
  if (bad !== undefined) return err(bad);
  const old = st.children.find((c) => c.spec.id === spec.id);
  if (old !== undefined) return old.pid instanceof Pid ? err(new Tuple([A.alreadyStarted, old.pid])) : err(A.alreadyPresent);
  const c: Child = { spec, pid: undefined, args: [], key: undefined };
  const r = await startOne(st, c);
  if (r instanceof Tuple) return err(new Tuple([r.elements[1], atom(spec.id)]));
  if (r === undefined && isTemporary(c)) return okPid(undefined);
  c.pid = r;
  st.children.push(c);
  return okPid(r);
}

function storeDynamic(st: SupState, c: Child, pid: Pid | 'restarting'): void {
  if (c.key !== undefined) st.dynamic.delete(c.key);
  c.pid = pid;
  c.key = pid === 'restarting' ? st.nextRestartingKey() : pidKey(pid);
  st.dynamic.set(c.key, c);
}

// ---- finding -----------------------------------------------------------------------------

function findByPid(st: SupState, pid: Pid): Child | undefined {
  if (st.simple) return st.dynamic.get(pidKey(pid));
  const k = pidKey(pid);
  return st.children.find((c) => c.pid instanceof Pid && pidKey(c.pid) === k);
}

function findById(st: SupState, id: Term): Child | undefined {
  if (st.simple) return id instanceof Pid ? st.dynamic.get(pidKey(id)) : undefined;
  const s = idOf(id);
  return s === undefined ? undefined : st.children.find((c) => c.spec.id === s);
}

/** The child a `{try_again_restart, Id}` names, if it is still `restarting`. */
function findRestarting(st: SupState, id: Term): Child | undefined {
  const c = st.simple ? (typeof id === 'string' ? st.dynamic.get(id) : undefined) : findById(st, id);
  return c?.pid === 'restarting' ? c : undefined;
}

// ---- requests ----------------------------------------------------------------------------

async function terminateChildReq(st: SupState, id: Term): Promise<Term> {
  if (st.simple && !(id instanceof Pid)) return err(A.simple);
  const c = findById(st, id);
  if (c === undefined) return err(A.notFound);
  await shutdownChild(st, c);
  delChild(st, c);
  return A.ok;
}

async function restartChildReq(st: SupState, id: Term): Promise<Term> {
  if (st.simple) return err(A.simple);
  const c = findById(st, id);
  if (c === undefined) return err(A.notFound);
  if (c.pid === 'restarting') return err(A.restarting);
  if (c.pid !== undefined) return err(A.running);
  const r = await startOne(st, c);
  if (r instanceof Tuple) return r;
  c.pid = r;
  return okPid(r);
}

function deleteChildReq(st: SupState, id: Term): Term {
  if (st.simple) return err(A.simple);
  const c = findById(st, id);
  if (c === undefined) return err(A.notFound);
  if (c.pid === 'restarting') return err(A.restarting);
  if (c.pid !== undefined) return err(A.running);
  st.children.splice(st.children.indexOf(c), 1);
  return A.ok;
}

/** `[{Id, Child, Type, Modules}]`, newest first as supervisor.erl lists them. */
function whichChildren(st: SupState): Term {
  const list = st.simple ? [...st.dynamic.values()] : [...st.children].reverse();
  return list.map((c) => new Tuple([idAtom(c), c.pid === 'restarting' ? A.restarting : (c.pid ?? atoms.undefined), childType(c), []]));
}

function countChildren(st: SupState): Term {
  let specs = 0;
  let active = 0;
  let sups = 0;
  let workers = 0;
  if (st.simple) {
    specs = 1;
    for (const c of st.dynamic.values()) if (c.pid instanceof Pid) active++;
    if ((st.template as ChildSpec).type === 'supervisor') sups = st.dynamic.size;
    else workers = st.dynamic.size;
  } else {
    for (const c of st.children) {
      specs++;
      if (c.pid instanceof Pid && (!st.self.node.isLocal(c.pid) || st.self.node.isAlive(c.pid))) active++;
      if (c.spec.type === 'supervisor') sups++;
      else workers++;
    }
  }
  return [new Tuple([A.specs, specs]), new Tuple([A.active, active]), new Tuple([A.supervisors, sups]), new Tuple([A.workers, workers])];
}

// ---- restarts ----------------------------------------------------------------------------

/** do_restart: what a child's exit means for it and for the supervisor. */
async function childExited(st: SupState, c: Child, reason: Term): Promise<'ok' | 'shutdown'> {
  const log = st.self.node.log;
  const clean = isNormal(reason) || isShutdown(reason);
  if (!clean || isPermanent(c)) log.warn({ supervisor: st.self.pid.toString(), child: c.spec.id, reason: reasonText(reason) }, 'child terminated');
  if (isPermanent(c) || (!clean && !isTemporary(c))) return restart(st, c);
  delChild(st, c);
  return autoShutdown(st, c);
}

/** do_auto_shutdown (OTP 24+): a significant child that ended by itself may end the supervisor. */
function autoShutdown(st: SupState, c: Child): 'ok' | 'shutdown' {
  const mode = st.flags.autoShutdown;
  if (mode === 'never' || c.spec.significant !== true) return 'ok';
  if (mode === 'any_significant') return 'shutdown';
  if (st.simple) return st.dynamic.size === 0 ? 'shutdown' : 'ok';
  return st.children.some((x) => x.pid !== undefined && x.spec.significant === true) ? 'ok' : 'shutdown';
}

/** add_restart: at most `intensity` restarts within `period` seconds, on a monotonic clock. */
function addRestart(st: SupState): boolean {
  const now = performance.now();
  const threshold = now - st.flags.period * 1000;
  const kept = [now];
  for (const t of st.restarts) {
    if (t < threshold) break;
    kept.push(t);
  }
  st.restarts = kept;
  return kept.length <= st.flags.intensity;
}

async function restart(st: SupState, c: Child): Promise<'ok' | 'shutdown'> {
  if (!addRestart(st)) {
    st.self.node.log.error({ supervisor: st.self.pid.toString(), child: c.spec.id }, 'reached max restart intensity, shutting down');
    delChild(st, c);
    return 'shutdown';
  }
  const failed = st.simple ? await restartDynamic(st, c) : await restartStatic(st, c);
  if (failed !== undefined) st.self.send(st.self.pid, new Tuple([GEN_CAST, new Tuple([A.tryAgain, failed])]));
  return 'ok';
}

/** The id to try again, or undefined when the restart succeeded. */
async function restartDynamic(st: SupState, c: Child): Promise<Term | undefined> {
  const r = await startOne(st, c);
  if (r instanceof Tuple) {
    storeDynamic(st, c, 'restarting');
    return c.key;
  }
  if (r === undefined) {
    if (c.key !== undefined) st.dynamic.delete(c.key);
    return undefined;
  }
  storeDynamic(st, c, r);
  return undefined;
}

async function restartStatic(st: SupState, c: Child): Promise<Term | undefined> {
  const strategy = st.flags.strategy;
  const i = st.children.indexOf(c);
  const affected = strategy === 'one_for_one' ? [c] : strategy === 'one_for_all' ? [...st.children] : st.children.slice(i);
  c.pid = undefined;
  // terminate_children: the others, newest first; temporary ones are not restarted.
  for (const o of [...affected].reverse()) {
    if (o === c) continue;
    await shutdownChild(st, o);
    o.pid = undefined;
  }
  for (const o of affected) if (o !== c && isTemporary(o)) st.children.splice(st.children.indexOf(o), 1);
  for (const o of affected) {
    if (!st.children.includes(o)) continue;
    const r = await startOne(st, o);
    if (r instanceof Tuple) {
      o.pid = 'restarting';
      return atom(o.spec.id);
    }
    o.pid = r;
    st.self.node.log.info({ supervisor: st.self.pid.toString(), child: o.spec.id, pid: r?.toString() }, 'child restarted');
  }
  return undefined;
}

/** del_child: a temporary child's spec goes, another's stays with no pid. */
function delChild(st: SupState, c: Child): void {
  if (st.simple) {
    if (c.key !== undefined) st.dynamic.delete(c.key);
    return;
  }
  if (isTemporary(c)) {
    const i = st.children.indexOf(c);
    if (i >= 0) st.children.splice(i, 1);
  } else c.pid = undefined;
}
