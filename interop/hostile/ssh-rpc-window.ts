import { spawn, type ChildProcess } from 'node:child_process';
import { Tuple, atom, decode, encode, type Term } from '@courier/term';
import { LengthPrefixedReader } from '@courier/stream';

/**
 * The legitimate sshrpc client of the SSH hostile suite: OpenSSH's `ssh -s sshrpc@k2r.org` (a
 * separate process, an independent SSH implementation) logged in with an allowed key, keeping
 * `window` calls `{mfa, {courier_echo, echo, [N]}}` in flight the whole time, each answered call
 * replaced after `paceMs` (a client, not a load generator: the erl beside it already keeps the
 * node busy). sshrpc answers those in request order, so each answer must be `{answer, {N, 0}}`
 * for the next N expected; anything else, or no answer for `stallMs`, is recorded in `trouble`.
 */
export interface SshLogin {
  readonly port: number;
  readonly user: string;
  readonly identity: string;
  readonly knownHosts: string;
}

const MFA = atom('mfa');
const ECHO_MOD = atom('courier_echo');
const ECHO_FUN = atom('echo');
const ANSWER = atom('answer');

function frame(t: Term): Buffer {
  const b = encode(t);
  const h = Buffer.alloc(4);
  h.writeUInt32BE(b.length);
  return Buffer.concat([h, b]);
}

export function sshArgs(l: SshLogin): string[] {
  return [
    '-F',
    '/dev/null',
    '-p',
    String(l.port),
    '-i',
    l.identity,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    `UserKnownHostsFile=${l.knownHosts}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'ConnectTimeout=10',
    '-l',
    l.user,
    '127.0.0.1',
  ];
}

export class SshRpcWindow {
  sent = 0;
  received = 0;
  readonly trouble: string[] = [];
  private stopping: (() => void) | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  private stderr = '';
  private readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    private readonly window: number,
    private readonly stallMs: number,
    private readonly paceMs: number,
  ) {
    child.stderr?.on('data', (c: Buffer) => (this.stderr = (this.stderr + c.toString()).slice(-2000)));
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        if (this.stopping === undefined) this.trouble.push(`ssh exited (code ${code}, signal ${signal}) with ${this.sent - this.received} calls owed; stderr: ${this.stderr}`);
        clearTimeout(this.stallTimer);
        resolve();
      }),
    );
    const reader = new LengthPrefixedReader(
      1 << 20,
      (f) => this.onAnswer(decode(f)),
      () => this.trouble.push('an empty frame'),
    );
    child.stdout?.on('data', (c: Buffer) => {
      try {
        reader.push(c);
      } catch (err) {
        this.trouble.push(`unreadable answer: ${(err as Error).message}`);
      }
    });
  }

  /** Start `ssh -s sshrpc@k2r.org` and fill the window; resolves at the first answer. */
  static async start(login: SshLogin, window = 8, stallMs = 5000, paceMs = 2): Promise<SshRpcWindow> {
    const child = spawn('ssh', [...sshArgs(login), '-s', 'sshrpc@k2r.org'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const w = new SshRpcWindow(child, window, stallMs, paceMs);
    for (let i = 0; i < window; i++) w.call();
    const t0 = Date.now();
    while (w.received === 0) {
      if (w.trouble.length > 0) throw new Error(`the sshrpc window did not start: ${w.trouble.join('; ')}`);
      if (Date.now() - t0 > 20_000) throw new Error(`no sshrpc answer within 20 s; ssh stderr: ${w.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return w;
  }

  private call(): void {
    if (this.stopping !== undefined) return;
    this.sent++;
    this.child.stdin?.write(frame(new Tuple([MFA, new Tuple([ECHO_MOD, ECHO_FUN, [this.sent]])])));
    this.armStall();
  }

  private armStall(): void {
    clearTimeout(this.stallTimer);
    if (this.received === this.sent) return;
    const received = this.received;
    // Judge after the answers already waiting in the pipe are read (setImmediate runs after the
    // poll phase): a test process that was itself busy for stallMs must not blame the node.
    this.stallTimer = setTimeout(
      () =>
        setImmediate(() => {
          if (this.received === received && this.received !== this.sent) this.trouble.push(`stalled: no answer for ${this.stallMs} ms after ${this.received}/${this.sent}`);
        }),
      this.stallMs,
    );
  }

  private onAnswer(t: Term): void {
    const want = this.received + 1;
    const ok = t instanceof Tuple && t.elements[0] === ANSWER && t.elements[1] instanceof Tuple && t.elements[1].elements[0] === want && t.elements[1].elements[1] === 0;
    if (!ok) this.trouble.push(`answer ${want} out of order or wrong: ${String(t)}`);
    this.received++;
    if (this.stopping !== undefined) {
      this.armStall();
      if (this.received === this.sent) this.stopping();
      return;
    }
    setTimeout(() => this.call(), this.paceMs);
  }

  /** Stop calling, wait for every answer owed, close stdin; resolves with the counts. */
  async stop(ms = 15_000): Promise<{ sent: number; received: number }> {
    const drained = new Promise<void>((resolve) => (this.stopping = resolve));
    if (this.received === this.sent) this.stopping?.();
    const t = setTimeout(() => this.stopping?.(), ms);
    await drained;
    clearTimeout(t);
    clearTimeout(this.stallTimer);
    this.child.stdin?.end();
    const kill = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(kill);
    return { sent: this.sent, received: this.received };
  }

  /** Without waiting for answers (the node is gone). */
  async kill(): Promise<void> {
    this.stopping ??= () => undefined;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}
