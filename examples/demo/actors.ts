import { cast, noreply, reply, type GenServer, type Logger } from '@courier/core';
import { Pid, Tuple, atom, tuple, type Atom, type Term } from '@courier/term';

/**
 * The two supervised servers of the demo. `ping` ticks on a timer and casts `{ping, N, Self}`
 * to the registered `pong`; `pong` counts what it handled and casts `{pong, N, Handled}` back.
 * The first incarnation of `pong` throws on purpose; its restarted self starts counting from zero.
 */
export const PING = atom('ping');
export const PONG = atom('pong');
export const DONE = atom('done');
export const STATS = atom('stats');
const TICK = atom('tick');

export interface PingArgs {
  /** Milliseconds between pings. */
  readonly every: number;
  /** Stop pinging after this many pongs came back, and tell `report`. */
  readonly rounds: number;
  readonly report: Pid | Atom;
}

interface PingState extends PingArgs {
  readonly log: Logger;
  sent: number;
  got: number;
}

export const pingServer: GenServer<PingState, PingArgs> = {
  init(self, args) {
    self.sendAfter(args.every, self.pid, TICK);
    return { ...args, log: self.node.log.child({ actor: 'ping' }), sent: 0, got: 0 };
  },
  handleInfo(msg, s, self) {
    if (msg !== TICK || s.got >= s.rounds) return noreply(s);
    s.sent++;
    cast(self, PONG, tuple(PING, s.sent, self.pid));
    self.sendAfter(s.every, self.pid, TICK);
    return noreply(s);
  },
  handleCast(msg, s, self) {
    if (!(msg instanceof Tuple) || msg.elements[0] !== PONG) return noreply(s);
    const [, n, handled] = msg.elements;
    s.got++;
    s.log.info({ n, pongHandled: handled }, 'pong received');
    if (s.got === s.rounds) self.send(s.report, tuple(DONE, s.sent, s.got));
    return noreply(s);
  },
};

export interface PongArgs {
  /** Throw while handling this ping (counted from this incarnation's start); none when undefined. */
  readonly crashAt: number | undefined;
}

interface PongState {
  readonly crashAt: number | undefined;
  readonly log: Logger;
  handled: number;
}

export const pongServer: GenServer<PongState, PongArgs> = {
  init(self, args) {
    return { crashAt: args.crashAt, log: self.node.log.child({ actor: 'pong' }), handled: 0 };
  },
  handleCast(msg, s, self) {
    if (!(msg instanceof Tuple) || msg.elements[0] !== PING) return noreply(s);
    const [, n, from] = msg.elements as [Term, number, Pid];
    s.handled++;
    if (s.handled === s.crashAt) throw new Error(`simulated fault while handling ping ${n}`);
    s.log.info({ n, handled: s.handled }, 'ping received');
    cast(self, from, tuple(PONG, n, s.handled));
    return noreply(s);
  },
  handleCall(request, _from, s) {
    if (request === STATS) return reply(s.handled, s);
    return reply(atom('unknown_request'), s);
  },
};
