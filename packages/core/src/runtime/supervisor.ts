import { Atom, Pid, Tuple, atom, atoms, type Term } from '@courier/term';
import { CourierError, UsageError } from '../errors.js';
import type { Dest } from './dest.js';
import { reasonText } from './exit-reason.js';
import { call, destText, startServer, type Caller } from './gen-server.js';
import { Node } from './node.js';
import type { Process } from './process.js';
import { SupState, supervisorServer } from './supervisor-server.js';
import { checkSpec, parkSpec } from './supervisor-spec.js';

/**
 * Supervisors with OTP semantics (supervisor.erl, OTP 25): strategies one_for_one, one_for_all,
 * rest_for_one and simple_one_for_one (a dynamic supervisor: one template, children started on
 * demand with extra arguments, optionally capped by `maxChildren` as Elixir's DynamicSupervisor
 * is); restart types permanent, transient and temporary; restart intensity (more than
 * `intensity` restarts in `period` seconds, measured on a monotonic clock, and the supervisor
 * shuts its children down and exits with `shutdown`) — a restart whose start fails or throws
 * counts too, and is retried; `significant` children and `autoShutdown` (OTP 24+).
 *
 * Children must link to the supervisor they get (spawnLink, or startServer with linkTo).
 * A supervisor speaks supervisor.erl's requests, so `erl` can `supervisor:start_child/2` (for a
 * simple_one_for_one, with the extra arguments as terms), `which_children`, `count_children`,
 * `terminate_child` on it.
 */
export type Strategy = 'one_for_one' | 'one_for_all' | 'rest_for_one' | 'simple_one_for_one';
/** When a child is restarted: `permanent` always, `transient` after an abnormal exit, `temporary` never. */
export type Restart = 'permanent' | 'transient' | 'temporary';
/** Whether the supervisor stops itself when significant children exit (OTP 24's auto_shutdown). */
export type AutoShutdown = 'never' | 'any_significant' | 'all_significant';

/**
 * How a supervisor starts and restarts one child (OTP's child_spec): its id, start function, restart type,
 * shutdown and type.
 */
export interface ChildSpec {
  readonly id: string;
  /**
   * Start the child linked to `sup`, resolving to its pid, or `'ignore'` (no process, OTP's
   * `ignore`). A throw or a rejection is a failed start. The children of a simple_one_for_one
   * supervisor get the extra arguments of `startChild` after `sup`.
   */
  readonly start: (sup: Process, ...extra: Term[]) => Pid | 'ignore' | Promise<Pid | 'ignore'>;
  readonly restart?: Restart;
  /** Milliseconds to wait after `shutdown` before `kill`; 'brutal_kill' kills at once. Default 5000, 'infinity' for a supervisor. */
  readonly shutdown?: number | 'brutal_kill' | 'infinity';
  readonly type?: 'worker' | 'supervisor';
  /** With `autoShutdown`, this child ending by itself may end the supervisor (not for permanent children). */
  readonly significant?: boolean;
}

/** A supervisor's strategy and restart intensity (OTP's sup_flags). */
export interface SupervisorFlags {
  readonly strategy?: Strategy;
  /** Default 1 (OTP's). */
  readonly intensity?: number;
  /** Seconds, default 5 (OTP's). */
  readonly period?: number;
  /** Default 'never'. */
  readonly autoShutdown?: AutoShutdown;
  /** simple_one_for_one only: `startChild` fails with MAX_CHILDREN beyond this many children (DynamicSupervisor's max_children). */
  readonly maxChildren?: number;
}

/** A supervisor request answered `{error, Reason}`. */
export type SupervisorErrorCode =
  'ALREADY_STARTED' | 'ALREADY_PRESENT' | 'NOT_FOUND' | 'RUNNING' | 'RESTARTING' | 'SIMPLE_ONE_FOR_ONE' | 'MAX_CHILDREN' | 'BAD_SPEC' | 'START_FAILED';

export class SupervisorError extends CourierError {
  constructor(
    code: SupervisorErrorCode,
    message: string,
    /** The `Reason` of `{error, Reason}`. */
    readonly reason: Term,
  ) {
    super(code, message);
    this.name = 'SupervisorError';
  }
}

/** Start a supervisor; resolves once every child has started (supervisor:start_link). */
export function startSupervisor(node: Node, flags: SupervisorFlags, specs: readonly ChildSpec[], opts: { name?: Atom; linkTo?: Process } = {}): Promise<Pid> {
  const strategy = flags.strategy ?? 'one_for_one';
  const full = {
    strategy,
    intensity: flags.intensity ?? 1,
    period: flags.period ?? 5,
    autoShutdown: flags.autoShutdown ?? 'never',
    maxChildren: flags.maxChildren ?? Infinity,
  };
  if (!(full.intensity >= 0) || !(full.period > 0)) return Promise.reject(new UsageError('BAD_FLAGS', 'intensity must be ≥ 0 and period > 0 seconds'));
  if (strategy === 'simple_one_for_one' && specs.length !== 1) {
    return Promise.reject(new UsageError('BAD_SPEC', 'a simple_one_for_one supervisor takes exactly one child spec, the template of its children'));
  }
  if (flags.maxChildren !== undefined && strategy !== 'simple_one_for_one') {
    return Promise.reject(new UsageError('BAD_FLAGS', 'maxChildren applies to a simple_one_for_one supervisor only'));
  }
  const ids = new Set<string>();
  for (const s of specs) {
    const bad = checkSpec(s, full.autoShutdown);
    if (bad !== undefined) return Promise.reject(new UsageError('BAD_SPEC', `child ${s.id}: ${reasonText(bad)}`));
    if (ids.has(s.id)) return Promise.reject(new UsageError('BAD_SPEC', `two children have the id ${s.id}; ids must be unique`));
    ids.add(s.id);
  }
  const template = strategy === 'simple_one_for_one' ? specs[0] : undefined;
  // The state holds the supervisor's own process: made by its init.
  const make = (self: Process): SupState => {
    const st = new SupState(self, full, template);
    if (template === undefined) for (const spec of specs) st.children.push({ spec, pid: undefined, args: [], key: undefined });
    return st;
  };
  return startServer(node, supervisorServer, make, { name: opts.name, linkTo: opts.linkTo, trapExit: true });
}

/** A simple_one_for_one supervisor for `template` (Elixir's DynamicSupervisor). */
export function startDynamicSupervisor(node: Node, template: ChildSpec, flags: Omit<SupervisorFlags, 'strategy'> = {}, opts: { name?: Atom; linkTo?: Process } = {}): Promise<Pid> {
  return startSupervisor(node, { ...flags, strategy: 'simple_one_for_one' }, [template], opts);
}

// ---- requests (supervisor:start_child/2 and friends) ---------------------------------------
// Each takes the calling process, or the node when called from outside any process (a short-lived
// process makes the call, as a typed ServerRef.call does).

const ERROR = atom('error');
const OK = atom('ok');

function check(sup: Dest, what: string, r: Term): Term {
  if (r instanceof Tuple && r.elements.length === 2 && r.elements[0] === ERROR) {
    const reason = r.elements[1];
    const simple: Record<string, SupervisorErrorCode> = {
      already_present: 'ALREADY_PRESENT',
      not_found: 'NOT_FOUND',
      running: 'RUNNING',
      restarting: 'RESTARTING',
      simple_one_for_one: 'SIMPLE_ONE_FOR_ONE',
      max_children: 'MAX_CHILDREN',
    };
    const text = `${what} on supervisor ${destText(sup)} failed: ${reasonText(reason)}`;
    if (reason instanceof Atom && reason.name in simple) throw new SupervisorError(simple[reason.name] as SupervisorErrorCode, text, reason);
    if (reason instanceof Tuple && reason.elements[0] === atom('already_started')) throw new SupervisorError('ALREADY_STARTED', text, reason);
    if (reason instanceof Tuple && (reason.elements[0] === atom('invalid_child_spec') || reason.elements[0] === atom('bad_combination'))) {
      throw new SupervisorError('BAD_SPEC', `${text}; a spec with a start function goes only to a supervisor of this node`, reason);
    }
    throw new SupervisorError('START_FAILED', text, reason);
  }
  return r;
}

const pidOf = (r: Term): Pid | undefined => {
  const p = (r as Tuple).elements[1];
  return p instanceof Pid ? p : undefined;
};

/**
 * supervisor:start_child/2: a spec for a static supervisor (of this node), the extra start
 * arguments for a simple_one_for_one one. The new pid, or undefined when the start said `ignore`.
 */
export function startChild(self: Caller, sup: Dest, specOrArgs: ChildSpec | Term[], timeoutMs = Infinity): Promise<Pid | undefined> {
  if (Array.isArray(specOrArgs)) return call(self, sup, new Tuple([START_CHILD, specOrArgs]), timeoutMs).then((r) => pidOf(check(sup, 'start_child', r)));
  return startStaticChild(self, sup, specOrArgs, timeoutMs);
}

const START_CHILD = atom('start_child');

async function startStaticChild(self: Caller, sup: Dest, spec: ChildSpec, timeoutMs: number): Promise<Pid | undefined> {
  const parked = parkSpec(self instanceof Node ? self : self.node, spec);
  try {
    return pidOf(check(sup, 'start_child', await call(self, sup, new Tuple([START_CHILD, parked.token]), timeoutMs)));
  } finally {
    parked.drop();
  }
}

/** supervisor:terminate_child/2: by id, or by pid for a simple_one_for_one supervisor. */
export async function terminateChild(self: Caller, sup: Dest, id: string | Pid, timeoutMs = Infinity): Promise<void> {
  check(sup, 'terminate_child', await call(self, sup, new Tuple([atom('terminate_child'), typeof id === 'string' ? atom(id) : id]), timeoutMs));
}

/** supervisor:restart_child/2: start a stopped child again from its spec. */
export async function restartChild(self: Caller, sup: Dest, id: string, timeoutMs = Infinity): Promise<Pid | undefined> {
  return pidOf(check(sup, 'restart_child', await call(self, sup, new Tuple([atom('restart_child'), atom(id)]), timeoutMs)));
}

/** supervisor:delete_child/2: forget a stopped child's spec. */
export async function deleteChild(self: Caller, sup: Dest, id: string, timeoutMs = Infinity): Promise<void> {
  const r = check(sup, 'delete_child', await call(self, sup, new Tuple([atom('delete_child'), atom(id)]), timeoutMs));
  if (r !== OK) throw new SupervisorError('START_FAILED', `delete_child answered ${reasonText(r)}`, r);
}

/** One child, as `which_children` lists it: id, pid, type and modules. */
export interface ChildInfo {
  /** undefined for the children of a simple_one_for_one supervisor. */
  readonly id: string | undefined;
  readonly pid: Pid | 'restarting' | undefined;
  readonly type: 'worker' | 'supervisor';
}

/** supervisor:which_children/1, newest first as OTP lists them. */
export async function whichChildren(self: Caller, sup: Dest, timeoutMs = Infinity): Promise<ChildInfo[]> {
  const r = (await call(self, sup, atom('which_children'), timeoutMs)) as Tuple[];
  return r.map((t) => {
    const [id, pid, type] = t.elements;
    return {
      id: id instanceof Atom && id !== atoms.undefined ? id.name : undefined,
      pid: pid instanceof Pid ? pid : pid === atom('restarting') ? 'restarting' : undefined,
      type: type === atom('supervisor') ? 'supervisor' : 'worker',
    };
  });
}

/** What `count_children` reports: specs, active children, supervisors and workers. */
export interface ChildCounts {
  readonly specs: number;
  readonly active: number;
  readonly supervisors: number;
  readonly workers: number;
}

/** supervisor:count_children/1. */
export async function countChildren(self: Caller, sup: Dest, timeoutMs = Infinity): Promise<ChildCounts> {
  const r = (await call(self, sup, atom('count_children'), timeoutMs)) as Tuple[];
  const get = (k: string): number => (r.find((t) => t.elements[0] === atom(k))?.elements[1] as number | undefined) ?? 0;
  return { specs: get('specs'), active: get('active'), supervisors: get('supervisors'), workers: get('workers') };
}
