import { Pid, Tuple, atom, atoms, type Atom, type Term } from '@courier/term';
import { asError, isNormal, isShutdown, reasonText } from './exit-reason.js';
import { TIMEOUT } from './mailbox.js';
import type { Node } from './node.js';
import type { Process } from './process.js';
import { ptuple, _ } from './pattern.js';

/**
 * Supervisors with OTP semantics: strategies one_for_one, one_for_all and rest_for_one; restart
 * types permanent, transient and temporary; restart intensity (at most `intensity` restarts in
 * `period` seconds, else the supervisor shuts its children down and exits with `shutdown`).
 * Children must link to the supervisor they get (spawnLink, or startServer with linkTo).
 */
export type Strategy = 'one_for_one' | 'one_for_all' | 'rest_for_one';
export type Restart = 'permanent' | 'transient' | 'temporary';

export interface ChildSpec {
  readonly id: string;
  /** Start the child linked to `sup`, resolving to its pid. */
  readonly start: (sup: Process) => Pid | Promise<Pid>;
  readonly restart?: Restart;
  /** Milliseconds to wait after `shutdown` before `kill`; 'brutal_kill' kills at once. Default 5000. */
  readonly shutdown?: number | 'brutal_kill' | 'infinity';
}

export interface SupervisorFlags {
  readonly strategy?: Strategy;
  /** Default 1 (OTP's). */
  readonly intensity?: number;
  /** Seconds, default 5 (OTP's). */
  readonly period?: number;
}

interface Child {
  readonly spec: ChildSpec;
  pid: Pid | undefined;
}

const WHICH_CHILDREN = atom('which_children');

/** Start a supervisor; resolves once every child has started (supervisor:start_link). */
export function startSupervisor(node: Node, flags: SupervisorFlags, specs: readonly ChildSpec[], opts: { name?: Atom; linkTo?: Process } = {}): Promise<Pid> {
  return new Promise((resolve, reject) => {
    node.spawn(
      async (self) => {
        const sup = new Supervision(
          self,
          flags,
          specs.map((spec) => ({ spec, pid: undefined })),
        );
        try {
          for (const c of sup.children) await sup.startChild(c);
        } catch (e) {
          await sup.stopAll();
          reject(asError(e, 'a child of the supervisor failed to start'));
          throw e;
        }
        resolve(self.pid);
        await sup.loop(opts.linkTo?.pid);
      },
      { name: opts.name, linkTo: opts.linkTo, trapExit: true },
    );
  });
}

class Supervision {
  private readonly restarts: number[] = [];
  private readonly strategy: Strategy;
  private readonly intensity: number;
  private readonly periodMs: number;

  constructor(
    readonly self: Process,
    flags: SupervisorFlags,
    readonly children: Child[],
  ) {
    this.strategy = flags.strategy ?? 'one_for_one';
    this.intensity = flags.intensity ?? 1;
    this.periodMs = (flags.period ?? 5) * 1000;
  }

  private get log() {
    return this.self.node.log;
  }

  async startChild(c: Child): Promise<void> {
    c.pid = await c.spec.start(this.self);
    this.log.info({ supervisor: this.self.pid.toString(), child: c.spec.id, pid: c.pid.toString() }, 'child started');
  }

  async loop(parent: Pid | undefined): Promise<void> {
    for (;;) {
      const msg = await this.self.receive();
      if (msg instanceof Tuple && msg.elements[0] === atoms.EXIT && msg.elements.length === 3) {
        const from = msg.elements[1] as Pid;
        const reason = msg.elements[2];
        if (parent !== undefined && from.toString() === parent.toString() && this.self.node.isLocal(from)) {
          await this.stopAll();
          this.self.exit(reason);
        }
        const i = this.children.findIndex((c) => c.pid !== undefined && c.pid.id === from.id && c.pid.serial === from.serial && c.pid.node === from.node);
        if (i >= 0) await this.childExited(i, reason);
      } else if (msg instanceof Tuple && msg.elements[0] === atom('$gen_call') && msg.elements[2] === WHICH_CHILDREN) {
        const [, from] = msg.elements as [Term, Tuple, Term];
        const list = this.children.map((c) => new Tuple([atom(c.spec.id), c.pid ?? atoms.undefined, atom('worker'), []]));
        this.self.send(from.elements[0] as Pid, new Tuple([from.elements[1], list]));
      }
    }
  }

  private async childExited(i: number, reason: Term): Promise<void> {
    const c = this.children[i] as Child;
    c.pid = undefined;
    const restart = c.spec.restart ?? 'permanent';
    const abnormal = !isNormal(reason) && !isShutdown(reason);
    if (abnormal) this.log.warn({ supervisor: this.self.pid.toString(), child: c.spec.id, reason: reasonText(reason) }, 'child terminated');
    if (restart === 'temporary' || (restart === 'transient' && !abnormal)) {
      if (restart === 'temporary') this.children.splice(i, 1);
      return;
    }
    if (this.tooManyRestarts()) {
      this.log.error({ supervisor: this.self.pid.toString(), child: c.spec.id }, 'reached max restart intensity, shutting down');
      await this.stopAll();
      this.self.exit(atoms.shutdown);
    }
    const affected = this.strategy === 'one_for_one' ? [c] : this.strategy === 'one_for_all' ? this.children : this.children.slice(i);
    for (const other of [...affected].reverse()) if (other !== c) await this.stopChild(other);
    for (const a of affected) {
      await this.startChild(a);
      this.log.info({ supervisor: this.self.pid.toString(), child: a.spec.id, pid: a.pid?.toString() }, 'child restarted');
    }
  }

  private tooManyRestarts(): boolean {
    const now = Date.now();
    this.restarts.push(now);
    while (this.restarts.length > 0 && (this.restarts[0] as number) < now - this.periodMs) this.restarts.shift();
    return this.restarts.length > this.intensity;
  }

  /** Stop children in reverse start order. */
  async stopAll(): Promise<void> {
    for (const c of [...this.children].reverse()) await this.stopChild(c);
  }

  private async stopChild(c: Child): Promise<void> {
    const pid = c.pid;
    if (pid === undefined) return;
    c.pid = undefined;
    const self = this.self;
    const mref = self.monitor(pid);
    self.unlink(pid);
    // The EXIT from the link may already be queued: drop it, the DOWN tells the outcome.
    self.mailbox.drop((m) => m instanceof Tuple && m.elements[0] === atoms.EXIT && m.elements[1] === pid);
    const shutdown = c.spec.shutdown ?? 5000;
    const down = ptuple(atoms.DOWN, mref, _, _, _);
    if (shutdown === 'brutal_kill') {
      self.exit(pid, atoms.kill);
      await self.receive(down);
      return;
    }
    self.exit(pid, atoms.shutdown);
    const r = await self.receive(down, shutdown === 'infinity' ? Infinity : shutdown);
    if (r === TIMEOUT) {
      self.exit(pid, atoms.kill);
      await self.receive(down);
    }
  }
}
