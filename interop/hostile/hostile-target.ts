import { fileURLToPath } from 'node:url';
import { compileErl, freePort, randomCookie, startErl, uniqueName, type ErlNode } from '@courier/testkit';
import { tools } from '../erlang/harness.js';
import { startEchoNode, type EchoNodeProcess } from './echo-node-process.js';
import { epmdNames, exchange, hex, type Exchange, type ExchangeOptions } from './raw-exchange.js';

/**
 * The target of the hostile-input suite: the echo node process (Erlang distribution over TCP, its
 * embedded EPMD on a private port) and a real `erl` next to it keeping 100 echo round trips in
 * flight (fixtures/hostile_window.erl). `runCase` sends one case and then checks the node is
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
  private erlSeen = 0;

  private constructor(
    public node: EchoNodeProcess,
    public erl: ErlNode,
    public distPort: number,
    public epmdPort: number,
    private readonly cookie: string,
  ) {}

  static async start(): Promise<HostileTarget> {
    const cookie = randomCookie();
    const { node, erl, distPort, epmdPort } = await HostileTarget.boot(cookie);
    const t = new HostileTarget(node, erl, distPort, epmdPort, cookie);
    await t.erlSays('count', /^COUNT /); // the window is running
    t.rssAtStart = node.rss();
    return t;
  }

  private static async boot(cookie: string): Promise<{ node: EchoNodeProcess; erl: ErlNode; distPort: number; epmdPort: number }> {
    const [distPort, epmdPort] = [await freePort(), await freePort()];
    const node = await startEchoNode(['--name', `${uniqueName('hostile')}@127.0.0.1`, '--cookie', cookie, '--port', String(distPort)], {
      ERL_EPMD_PORT: String(epmdPort),
    });
    const erl = startErl({
      name: `${uniqueName('window')}@127.0.0.1`,
      cookie,
      codePath: [await windowBeam()],
      env: { ERL_EPMD_PORT: String(epmdPort) },
      eval: `hostile_window:start('${node.name}', ${WINDOW}).`,
    });
    try {
      await erl.stdout.waitFor('UP', 20_000);
    } catch (err) {
      await erl.stop();
      await node.stop();
      throw err;
    }
    return { node, erl, distPort, epmdPort };
  }

  /** Send `bytes` to `port` as one connection; fail (after recording it) if the node did not survive. */
  async runCase(testCase: string, port: 'dist' | 'epmd', bytes: Uint8Array, o: ExchangeOptions = {}): Promise<Exchange> {
    this.cases++;
    const r = await exchange(port === 'dist' ? this.distPort : this.epmdPort, bytes, o);
    if (r.closedBy === 'us') this.leftOpen++;
    await this.checkAlive(testCase, bytes);
    this.noteErlTrouble(testCase);
    return r;
  }

  /** The node answers an EPMD NAMES request (its event loop runs); else record the crash and restart. */
  async checkAlive(testCase: string, bytes: Uint8Array): Promise<void> {
    if (this.node.running && (await epmdNames(this.epmdPort)) !== null) return;
    const status = await Promise.race([this.node.exited, new Promise<null>((r) => setTimeout(() => r(null), 3000))]);
    const crash: Crash = {
      testCase,
      bytes: hex(bytes),
      exit: status === null ? 'still running but not answering EPMD NAMES' : `exit code ${status.code}, signal ${status.signal}`,
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

  /** Send a command to the erl and wait for its answer line. */
  erlSays(command: string, answer: RegExp, ms = 15_000): Promise<string> {
    this.erl.write(`${command}\n`);
    return this.erl.stdout.waitFor(answer, ms);
  }

  private async restart(): Promise<void> {
    await this.erl.stop();
    await this.node.stop();
    const b = await HostileTarget.boot(this.cookie);
    Object.assign(this, b);
    this.erlSeen = 0;
    await this.erlSays('count', /^COUNT /);
    this.rssAtStart = this.node.rss();
  }

  async stop(): Promise<void> {
    await this.erl.stop();
    await this.node.stop();
  }
}
