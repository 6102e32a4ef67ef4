import { connect, type Socket } from 'node:net';
import { freePort } from '@courier/testkit';
import { Scratch, bare, blob, makeKey, type Key } from '../ssh/harness.js';
import { HostileTarget } from './hostile-target.js';
import { exchange, type Exchange, type ExchangeOptions } from './raw-exchange.js';
import { SshRpcWindow } from './ssh-rpc-window.js';
import { SshSession, type ChannelExchange, type ChannelOptions } from './ssh-session.js';

/**
 * The target of the SSH hostile-input suite: the echo node process with `--carrier tcp,ssh`
 * (HostileTarget: its Erlang TCP port, its private EPMD and a real `erl` keeping 100 echo round
 * trips in flight), and beside them a legitimate sshrpc client, OpenSSH's `ssh -s` with an allowed
 * key, keeping calls in flight (ssh-rpc-window.ts). Cases go to the SSH port as raw TCP before
 * authentication, or into subsystem channels of an SSH connection logged in with another allowed
 * key (`intruder`). After each case the node must still answer (HostileTarget.checkAlive); a
 * crash restarts everything, as there.
 */
export const INTRUDER = 'intruder@127.0.0.1';
export const LEGIT = 'legit@127.0.0.1';

export class SshTarget {
  /** SSH connections a channel case cost us (the node closed more than the channel). */
  readonly lostConnections: string[] = [];
  /** Channels the node had not closed `closeWaitMs` after our EOF. */
  channelsLeftOpen = 0;
  /** Highest RSS seen while cases ran (sampled every 50 ms). */
  peakRss = 0;
  /** What the sshrpc window recorded (stalls, wrong answers), with the case that was running. */
  readonly windowTrouble: string[] = [];
  private windowSeen = 0;
  /** Cases after which the node's RSS was 16 MiB or more above what it was before them. */
  readonly rssJumps: string[] = [];
  private session: SshSession | undefined;
  private lastRss = 0;
  private readonly sampler: NodeJS.Timeout;

  private constructor(
    readonly t: HostileTarget,
    readonly sshPort: number,
    readonly scratch: Scratch,
    readonly keys: { readonly host: Key; readonly intruder: Key; readonly legit: Key; readonly stranger: Key },
    public window: SshRpcWindow,
  ) {
    this.peakRss = t.node.rss();
    this.lastRss = this.peakRss;
    this.sampler = setInterval(() => {
      try {
        this.peakRss = Math.max(this.peakRss, this.t.node.rss());
      } catch {
        // between a crash and the restart
      }
    }, 50);
  }

  static async start(): Promise<SshTarget> {
    const s = new Scratch();
    const keys = { host: makeKey('hostile-ssh-host'), intruder: makeKey(INTRUDER), legit: makeKey(LEGIT), stranger: makeKey('stranger@127.0.0.1') };
    const sshPort = await freePort();
    s.file('host_key', keys.host.privateKey);
    s.file('authorized_keys', [keys.intruder.publicLine, keys.legit.publicLine].join('\n'));
    s.file('legit', keys.legit.privateKey);
    s.file('known_hosts', `[127.0.0.1]:${sshPort} ${bare(keys.host)}`);
    const t = await HostileTarget.start({
      args: [
        '--carrier',
        'tcp,ssh',
        '--ssh-bind',
        `127.0.0.1:${sshPort}`,
        '--ssh-host-key',
        s.path('host_key'),
        '--ssh-authorized-keys',
        s.path('authorized_keys'),
        '--ssh-dist-keys',
        s.path('authorized_keys'),
      ],
    });
    const window = await SshRpcWindow.start(SshTarget.legitLogin(sshPort, s));
    const target = new SshTarget(t, sshPort, s, keys, window);
    t.rssAtStart = t.node.rss();
    t.memoryAtStart = await t.node.memory();
    return target;
  }

  private static legitLogin(port: number, s: Scratch) {
    return { port, user: LEGIT, identity: s.path('legit'), knownHosts: s.path('known_hosts') };
  }

  /** How the intruder (or another key and name) logs in. */
  login(key: Key = this.keys.intruder, user = key.name) {
    return { port: this.sshPort, user, privateKey: key.privateKey, hostKey: blob(this.keys.host) };
  }

  /** One raw TCP connection to the SSH port before authentication. */
  async runRaw(testCase: string, bytes: Uint8Array, o: ExchangeOptions = {}): Promise<Exchange> {
    this.t.cases++;
    const r = await exchange(this.sshPort, bytes, o);
    if (r.closedBy === 'us') this.t.leftOpen++;
    await this.checkAlive(testCase, bytes);
    return r;
  }

  /** One subsystem channel of the intruder's SSH connection (made again if a case cost it). */
  async runChannel(testCase: string, subsystem: string, bytes: Uint8Array, o: ChannelOptions = {}): Promise<ChannelExchange> {
    this.t.cases++;
    if (this.session === undefined || this.session.lost) this.session = await SshSession.connect(this.login());
    const session = this.session;
    let r: ChannelExchange | undefined;
    let err: Error | undefined;
    try {
      r = await session.exchange(subsystem, bytes, o);
    } catch (e) {
      err = e instanceof Error ? e : new Error(String(e));
    }
    // Give a dropped connection's close a moment to arrive before judging.
    if (r?.closedBy === 'node') await new Promise((go) => setImmediate(go));
    if (session.lost) this.lostConnections.push(`${testCase}: ${session.lostWhy}`);
    if (r?.closedBy === 'us') this.channelsLeftOpen++;
    await this.checkAlive(testCase, bytes);
    if (err !== undefined) throw err;
    return r as ChannelExchange;
  }

  /** The node answers (EPMD NAMES), and the erl and the sshrpc window saw no trouble; after a crash, everything restarts. */
  async checkAlive(testCase: string, bytes: Uint8Array): Promise<void> {
    try {
      await this.t.checkAlive(testCase, bytes);
      const rss = this.t.node.rss();
      if (rss - this.lastRss >= 16 * 2 ** 20) this.rssJumps.push(`${testCase}: ${(this.lastRss / 2 ** 20).toFixed(0)} → ${(rss / 2 ** 20).toFixed(0)} MiB`);
      this.lastRss = rss;
    } catch (err) {
      this.session = undefined;
      await this.window.kill();
      this.window = await SshRpcWindow.start(SshTarget.legitLogin(this.sshPort, this.scratch));
      this.windowSeen = 0;
      throw err;
    }
    this.t.noteErlTrouble(testCase);
    this.noteWindowTrouble(testCase);
  }

  /** Lines the sshrpc window recorded since the last look, with the case that was running. */
  noteWindowTrouble(testCase: string): void {
    const fresh = this.window.trouble.slice(this.windowSeen);
    this.windowSeen = this.window.trouble.length;
    for (const x of fresh) this.windowTrouble.push(`${x} (during "${testCase}")`);
  }

  /** A TCP connection to the SSH port that sends `bytes` (maybe none) and then nothing; resolves when the node closes it. */
  silent(bytes: Uint8Array = Buffer.alloc(0), localAddress?: string): { socket: Socket; closed: Promise<number> } {
    const t0 = Date.now();
    const socket = connect({ port: this.sshPort, host: '127.0.0.1', localAddress });
    socket.on('error', () => undefined);
    socket.on('data', () => undefined);
    if (bytes.length > 0) socket.write(bytes);
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - t0)));
    return { socket, closed };
  }

  async stop(): Promise<void> {
    clearInterval(this.sampler);
    this.session?.end();
    await this.window.kill();
    await this.t.stop();
    this.scratch.cleanup();
  }
}
