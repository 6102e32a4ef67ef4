import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LineReader, freePort, randomCookie } from '@courier/testkit';
import { startEchoNode, type CollectedMemory, type EchoNodeProcess } from './echo-node-process.js';
import { WINDOW, type Crash } from './hostile-target.js';
import { exchange, hex, type Exchange, type ExchangeOptions } from './raw-exchange.js';
import type { Window } from './window-checks.js';

/**
 * The target of the AEMP hostile-input suite: the echo node process on the AEMP carrier
 * (`--carrier aemp`), and next to it, in a third process, a Courier AEMP node keeping WINDOW
 * echo round trips in flight (aemp-window.ts). `runCase` sends one case and checks the node still
 * greets; a case that ends the process is recorded with the node's stderr, both processes are
 * started afresh, and the case fails — as HostileTarget does for the Erlang TCP carrier.
 */
export const AEMP_NODEID = 'hostile-aemp-target';
const root = fileURLToPath(new URL('../../', import.meta.url));

/** The peer process: aemp-window.ts, commands on stdin, one answer line each on stdout. */
interface WindowPeer {
  readonly stdout: LineReader;
  say(command: string, answer: RegExp, ms?: number): Promise<string>;
  stop(): Promise<void>;
}

async function startWindow(addr: string, secret: string): Promise<WindowPeer> {
  const child: ChildProcess = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'interop/hostile/aemp-window.ts', AEMP_NODEID, addr, secret, String(WINDOW)], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stdout = new LineReader(child.stdout as NonNullable<ChildProcess['stdout']>, () => `AEMP window peer pid ${child.pid}, stderr: ${stderr}`);
  const peer: WindowPeer = {
    stdout,
    say(command, answer, ms = 15_000) {
      child.stdin?.write(`${command}\n`);
      return stdout.waitFor(answer, ms);
    },
    async stop() {
      child.stdin?.end();
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
  await stdout.waitFor('UP', 30_000).catch(async (err: unknown) => {
    child.kill('SIGKILL');
    await exited;
    throw err;
  });
  return peer;
}

export class AempTarget {
  readonly crashes: Crash[] = [];
  /** FAILED lines the peer printed unasked, with the case that was running. */
  readonly peerTrouble: string[] = [];
  leftOpen = 0;
  cases = 0;
  rssAtStart = 0;
  /** The node's memory after a full collection, once the window runs (the leak check's baseline). */
  memoryAtStart!: CollectedMemory;
  private seen = 0;

  private constructor(
    public node: EchoNodeProcess,
    public peer: WindowPeer,
    public port: number,
    readonly secret: string,
  ) {}

  static async start(): Promise<AempTarget> {
    const secret = randomCookie();
    const { node, peer, port } = await AempTarget.boot(secret);
    const t = new AempTarget(node, peer, port, secret);
    t.rssAtStart = node.rss();
    t.memoryAtStart = await node.memory();
    return t;
  }

  private static async boot(secret: string): Promise<{ node: EchoNodeProcess; peer: WindowPeer; port: number }> {
    const port = await freePort();
    const node = await startEchoNode(['--carrier', 'aemp', '--aemp-nodeid', AEMP_NODEID, '--aemp-bind', `127.0.0.1:${port}`, '--aemp-secret', secret], {});
    try {
      return { node, peer: await startWindow(`127.0.0.1:${port}`, secret), port };
    } catch (err) {
      await node.stop();
      throw err;
    }
  }

  /** Send `bytes` as one connection; fail (after recording it) if the node did not survive. */
  async runCase(testCase: string, bytes: Uint8Array, o: ExchangeOptions = {}): Promise<Exchange> {
    this.cases++;
    const r = await exchange(this.port, bytes, o);
    if (r.closedBy === 'us') this.leftOpen++;
    await this.checkAlive(testCase, bytes);
    this.notePeerTrouble(testCase);
    return r;
  }

  /** The node still sends its greeting to a new connection; else record the crash and restart. */
  async checkAlive(testCase: string, bytes: Uint8Array): Promise<void> {
    if (this.node.running && (await this.greets())) return;
    const status = await Promise.race([this.node.exited, new Promise<null>((r) => setTimeout(() => r(null), 3000))]);
    const crash: Crash = {
      testCase,
      bytes: hex(bytes),
      exit: status === null ? 'still running but not greeting' : `exit code ${status.code}, signal ${status.signal}`,
      stderr: this.node.stderrTail(3000),
    };
    this.crashes.push(crash);
    await this.peer.stop();
    await this.node.stop();
    Object.assign(this, await AempTarget.boot(this.secret));
    this.seen = 0;
    this.rssAtStart = this.node.rss();
    this.memoryAtStart = await this.node.memory();
    throw new Error(`case "${testCase}" ended the echo node (${crash.exit}); bytes ${crash.bytes}; its stderr:\n${crash.stderr}`);
  }

  /** The AEMP peer's round-trip window, for the end-of-run checks (window-checks.ts). */
  get window(): Window {
    return { note: (c) => this.notePeerTrouble(c), trouble: this.peerTrouble, say: (c, a, ms) => this.peer.say(c, a, ms) };
  }

  async greets(): Promise<boolean> {
    const r = await exchange(this.port, new Uint8Array(0), { closeWaitMs: 3000 });
    return r.answer.toString('latin1').startsWith(`aemp;1;${AEMP_NODEID};`);
  }

  notePeerTrouble(testCase: string): void {
    const fresh = this.peer.stdout.text.slice(this.seen);
    this.seen = this.peer.stdout.text.length;
    for (const line of fresh.split('\n')) if (line.startsWith('FAILED')) this.peerTrouble.push(`${line} (during "${testCase}")`);
  }

  async stop(): Promise<void> {
    await this.peer.stop();
    await this.node.stop();
  }
}
