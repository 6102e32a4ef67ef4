import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { compileErl, freePort, randomCookie, startErl, uniqueName, type ErlNode } from '@courier/testkit';
import { tools } from '../erlang/harness.js';
import { startEchoNode, type CollectedMemory, type EchoNodeProcess } from './echo-node-process.js';
import { epmdNames, exchange, hex, type Exchange, type ExchangeOptions } from './raw-exchange.js';
import type { Window } from './window-checks.js';

/**
 * The target of the hostile-input suite: the echo node process (Erlang distribution over TCP, or
 * what `HostileTargetOptions` add: TLS, SSH, the observer; its embedded EPMD on a private port)
 * and a real `erl` next to it keeping 100 echo round trips in flight
 * (fixtures/hostile_window.erl). `runCase` sends one case and then checks the node is
 * still there; when a case ends the process, the crash is recorded with the node's stderr, the
 * node and the erl are started afresh (so the cases after it still run), and the case fails.
 */
export interface Crash {
  readonly testCase: string;
  readonly bytes: string;
  readonly exit: string;
  readonly stderr: string;
}

export const WINDOW = 100;

/** What to start besides the defaults (Erlang distribution over TCP, no observer). */
export interface HostileTargetOptions {
  /** More echo-node arguments, after the Erlang TCP ones (e.g. `--carrier tcp,ssh --ssh-bind …`, `--carrier tls …`). */
  readonly args?: readonly string[];
  /** More erl arguments, e.g. `-proto_dist inet_tls -ssl_dist_optfile F`. */
  readonly erlArgs?: readonly string[];
  /** Serve the observer (`--observer 127.0.0.1:PORT`) on `observerPort`. */
  readonly observer?: boolean;
  /** After each case, besides EPMD NAMES: the listener under test still answers. */
  readonly probe?: (t: HostileTarget) => Promise<boolean>;
}

export type Listener = 'dist' | 'epmd' | 'observer';

let compiled: Promise<string> | undefined;
function windowBeam(): Promise<string> {
  compiled ??= compileErl([fileURLToPath(new URL('./fixtures/hostile_window.erl', import.meta.url))], tools).then((c) => c.dir);
  return compiled;
}

export class HostileTarget {
  readonly crashes: Crash[] = [];
  /** Lines the erl printed unasked (FAILED …, NODEDOWN), with the case that was running. */
  readonly erlTrouble: string[] = [];
  /** Connections the node had not closed `closeWaitMs` after our FIN. */
  leftOpen = 0;
  cases = 0;
  rssAtStart = 0;
  /** The node's memory after a full collection, once the window runs (the leak check's baseline). */
  memoryAtStart!: CollectedMemory;
  private erlSeen = 0;

  private constructor(
    public node: EchoNodeProcess,
    public erl: ErlNode,
    public distPort: number,
    public epmdPort: number,
    /** The observer's port (0 without `observer`). */
    public observerPort: number,
    /** The cookie of the echo node and the erl (a case that completes a handshake needs it). */
    readonly cookie: string,
    private readonly opts: HostileTargetOptions = {},
  ) {}

  static async start(opts: HostileTargetOptions = {}): Promise<HostileTarget> {
    const cookie = randomCookie();
    const { node, erl, distPort, epmdPort, observerPort } = await HostileTarget.boot(cookie, opts);
    const t = new HostileTarget(node, erl, distPort, epmdPort, observerPort, cookie, opts);
    await t.erlSays('count', /^COUNT /); // the window is running
    t.rssAtStart = node.rss();
    t.memoryAtStart = await node.memory();
    return t;
  }

  private static async boot(
    cookie: string,
    opts: HostileTargetOptions,
  ): Promise<{ node: EchoNodeProcess; erl: ErlNode; distPort: number; epmdPort: number; observerPort: number }> {
    const [distPort, epmdPort, observerPort] = [await freePort(), await freePort(), opts.observer ? await freePort() : 0];
    const observer = opts.observer ? ['--observer', `127.0.0.1:${observerPort}`] : [];
    const node = await startEchoNode(['--name', `${uniqueName('hostile')}@127.0.0.1`, '--cookie', cookie, '--port', String(distPort), ...(opts.args ?? []), ...observer], {
      ERL_EPMD_PORT: String(epmdPort),
    });
    const erl = startErl({
      name: `${uniqueName('window')}@127.0.0.1`,
      cookie,
      codePath: [await windowBeam()],
      env: { ERL_EPMD_PORT: String(epmdPort) },
      eval: `hostile_window:start('${node.name}', ${WINDOW}).`,
      args: [...(opts.erlArgs ?? [])],
    });
    try {
      // The echo node prints READY before its observer listens.
      if (opts.observer) await listening(observerPort, 20_000);
      await erl.stdout.waitFor('UP', 20_000);
    } catch (err) {
      await erl.stop();
      await node.stop();
      throw err;
    }
    return { node, erl, distPort, epmdPort, observerPort };
  }

  portOf(listener: Listener): number {
    return listener === 'dist' ? this.distPort : listener === 'epmd' ? this.epmdPort : this.observerPort;
  }

  /** Send `bytes` to `port` as one connection; fail (after recording it) if the node did not survive. */
  async runCase(testCase: string, port: Listener, bytes: Uint8Array, o: ExchangeOptions = {}): Promise<Exchange> {
    this.cases++;
    const r = await exchange(this.portOf(port), bytes, o);
    if (r.closedBy === 'us') this.leftOpen++;
    await this.checkAlive(testCase, bytes);
    this.noteErlTrouble(testCase);
    return r;
  }

  /**
   * The node answers an EPMD NAMES request (its event loop runs) and the probe of the listener
   * under test, if any; else record the crash and restart.
   */
  async checkAlive(testCase: string, bytes: Uint8Array): Promise<void> {
    const names = this.node.running && (await epmdNames(this.epmdPort)) !== null;
    const probed = names && (this.opts.probe === undefined || (await this.opts.probe(this)));
    if (probed) return;
    const status = await Promise.race([this.node.exited, new Promise<null>((r) => setTimeout(() => r(null), 3000))]);
    const crash: Crash = {
      testCase,
      bytes: hex(bytes),
      exit:
        status !== null
          ? `exit code ${status.code}, signal ${status.signal}`
          : names
            ? 'still running but the listener under test does not answer'
            : 'still running but not answering EPMD NAMES',
      stderr: this.node.stderrTail(3000),
    };
    this.crashes.push(crash);
    await this.restart();
    throw new Error(`case "${testCase}" ended the echo node (${crash.exit}); bytes ${crash.bytes}; its stderr:\n${crash.stderr}`);
  }

  /** Lines the erl printed since the last look that say its traffic suffered. */
  noteErlTrouble(testCase: string): void {
    const text = this.erl.stdout.text;
    const fresh = text.slice(this.erlSeen);
    this.erlSeen = text.length;
    for (const line of fresh.split('\n')) if (/^(FAILED|NODEDOWN)/.test(line)) this.erlTrouble.push(`${line} (during "${testCase}")`);
  }

  /** The erl's round-trip window, for the end-of-run checks (window-checks.ts). */
  get window(): Window {
    return { note: (c) => this.noteErlTrouble(c), trouble: this.erlTrouble, say: (c, a, ms) => this.erlSays(c, a, ms) };
  }

  /** Send a command to the erl and wait for its answer line. */
  erlSays(command: string, answer: RegExp, ms = 15_000): Promise<string> {
    this.erl.write(`${command}\n`);
    return this.erl.stdout.waitFor(answer, ms);
  }

  private async restart(): Promise<void> {
    await this.erl.stop();
    await this.node.stop();
    const b = await HostileTarget.boot(this.cookie, this.opts);
    Object.assign(this, b);
    this.erlSeen = 0;
    await this.erlSays('count', /^COUNT /);
    this.rssAtStart = this.node.rss();
    this.memoryAtStart = await this.node.memory();
  }

  async stop(): Promise<void> {
    await this.erl.stop();
    await this.node.stop();
  }
}

/** Resolves once something accepts connections on 127.0.0.1:`port`. */
async function listening(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!(await canConnect(port))) {
    if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}
