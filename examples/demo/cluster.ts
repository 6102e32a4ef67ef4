/**
 * The demo's second act: several Courier nodes on different carriers in one cluster.
 *
 *   hub@127.0.0.1    tcp (starts the embedded EPMD on a free private port) + memory + aemp, runs
 *                    a supervised `counter` service and the Erlang ⇄ AEMP bridge
 *   alpha@127.0.0.1  tcp: calls the counter, crashes it on purpose, calls again after the restart
 *   delta@memory     the in-process memory carrier: calls the counter
 *   gamma            an AEMP node (AnyEvent::MP protocol, Perl dialect) serving the port gamma#shout
 *   erl_demo@…       a real `erl`, when one is on PATH: sends to gamma#shout through the bridge
 *                    and gets the answer; the hub calls into it with rpc
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Node, call, cast, noreply, reply, rpcCall, startServer, startSupervisor, type GenServer, type Logger, type Process } from '@courier/core';
import { Tuple, atom, formatErlang, tuple, type Term } from '@courier/term';
import { tcpDist } from '@courier/transport-tcp';
import { MemoryNetwork, memoryDist } from '@courier/transport-memory';
import { aemp, type AempTransport } from '@courier/transport-aemp';
import { startBridge } from '@courier/cli';

const COUNTER = atom('counter');
const HUB = atom('hub@127.0.0.1');
const COOKIE = 'courier-demo';
const SECRET = 'courier-demo-aemp';

interface CounterState {
  total: number;
  readonly log: Logger;
}

/** The supervised service: `{add, N}` → the new total; a cast `boom` crashes it. */
const counterServer: GenServer<CounterState, null> = {
  init(self) {
    const log = self.node.log.child({ actor: 'counter' });
    log.info({}, 'counter service started');
    return { total: 0, log };
  },
  handleCall(req, _from, s) {
    if (req instanceof Tuple && req.elements[0] === atom('add')) {
      s.total += req.elements[1] as number;
      return reply(tuple(atom('total'), s.total), s);
    }
    return reply(atom('badreq'), s);
  },
  handleCast(msg, s) {
    if (msg === atom('boom')) throw new Error('counter: simulated fault (told to crash)');
    return noreply(s);
  },
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

function inProcess<T>(node: Node, body: (self: Process) => Promise<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    node.spawn(async (self) => {
      try {
        resolve(await body(self));
      } catch (e) {
        reject(e instanceof Error ? e : new Error('the process body failed', { cause: e }));
      }
    });
  });
}

const hasErl = (): boolean => spawnSync('sh', ['-c', 'command -v erl'], { stdio: 'ignore' }).status === 0;

export interface ClusterSummary {
  readonly nodes: string[];
  readonly calls: number;
  readonly counterRestarts: number;
  readonly erlang: 'joined' | 'skipped';
  readonly skipped: string[];
}

export async function runCluster(base: Logger): Promise<ClusterSummary> {
  const log = base.child({ node: 'cluster' });
  const epmdPort = await freePort();
  const aempPorts = { hub: await freePort(), gamma: await freePort() };
  log.info({ epmdPort }, 'cluster: embedded EPMD on a free private port (never the system epmd on 4369)');
  const network = new MemoryNetwork();
  const skipped: string[] = [];
  const nodes: Node[] = [];
  let erl: ChildProcess | undefined;
  try {
    const hubAemp: AempTransport = aemp({ secret: SECRET, binds: [`127.0.0.1:${aempPorts.hub}`], peers: { gamma: [`127.0.0.1:${aempPorts.gamma}`] }, extended: false });
    const hubTcp = tcpDist({ cookie: COOKIE, epmd: { port: epmdPort, embedded: true }, log: base.child({ node: HUB.name }) });
    const hubMem = memoryDist({ network, cookie: COOKIE });
    const hub = new Node({
      name: HUB,
      log: base,
      transports: [hubTcp, hubMem, hubAemp],
      // AEMP node ids have no `@`; `*@memory` is the in-process network; the rest is Erlang distribution.
      transportFor: (peer) => (!peer.name.includes('@') ? hubAemp : peer.name.endsWith('@memory') ? hubMem : hubTcp),
    });
    const alpha = new Node({
      name: 'alpha@127.0.0.1',
      log: base,
      transports: [tcpDist({ cookie: COOKIE, epmd: { port: epmdPort, embedded: false }, log: base.child({ node: 'alpha@127.0.0.1' }) })],
    });
    const delta = new Node({ name: 'delta@memory', log: base, transports: [memoryDist({ network, cookie: COOKIE })] });
    const gamma = new Node({
      name: 'gamma',
      log: base,
      transports: [aemp({ secret: SECRET, binds: [`127.0.0.1:${aempPorts.gamma}`], peers: { [HUB.name]: [`127.0.0.1:${aempPorts.hub}`] }, extended: false })],
    });
    for (const n of [hub, alpha, delta, gamma]) {
      await n.start();
      nodes.push(n);
    }

    // gamma#shout, as a Perl port would be written: [ReplyPort, Text] → snd ReplyPort, uc Text.
    gamma.spawn(
      async (self) => {
        for (;;) {
          const m = (await self.receive()) as Term[];
          if (!Array.isArray(m) || typeof m[0] !== 'string') continue;
          const text = typeof m[1] === 'string' ? m[1] : m[1] === undefined ? '' : formatErlang(m[1]);
          self.node.log.info({ port: 'gamma#shout', text, replyTo: m[0] }, 'aemp port got a message');
          self.send(m[0], ['shouted', text.toUpperCase()]);
        }
      },
      { name: atom('shout') },
    );

    // The supervised service on the hub.
    let counterStarts = 0;
    await startSupervisor(hub, { strategy: 'one_for_one', intensity: 3, period: 5 }, [
      {
        id: 'counter',
        start: (sup) => {
          counterStarts++;
          return startServer(hub, counterServer, null, { name: COUNTER, linkTo: sup });
        },
      },
    ]);
    startBridge(hub);

    // Calls over tcp (alpha) and memory (delta), a crash caused from alpha, a call after the restart.
    let calls = 0;
    const callFrom = async (n: Node, k: number): Promise<void> => {
      const r = await inProcess(n, (self) => call(self, new Tuple([COUNTER, HUB]), tuple(atom('add'), k), 5000));
      calls++;
      n.log.info({ to: `counter@${HUB.name}`, carrier: n.dist.session(HUB)?.carrier, add: k, result: formatErlang(r) }, 'service call answered');
    };
    await callFrom(alpha, 1);
    await callFrom(delta, 10);
    alpha.log.info({ to: `counter@${HUB.name}` }, 'telling the counter to crash');
    cast(alpha, new Tuple([COUNTER, HUB]), atom('boom'));
    const until = Date.now() + 3000;
    while (counterStarts < 2 || hub.whereis(COUNTER) === undefined) {
      if (Date.now() > until) throw new Error('the counter was not restarted');
      await new Promise((r) => setTimeout(r, 20));
    }
    await callFrom(alpha, 100);
    await callFrom(delta, 1000);

    // The hub sends to an AEMP port by its port id, the same send as for any destination.
    const answer = await inProcess(hub, async (self) => {
      self.send('gamma#shout', [`${HUB.name}#~${self.pid.id}.${self.pid.serial}.${self.pid.creation}`, 'hello from the hub']);
      return self.receive(undefined, 3000);
    });
    hub.log.info({ answer: JSON.stringify(answer) }, 'aemp port answered');

    // A real Erlang node, when there is one.
    let erlang: 'joined' | 'skipped' = 'skipped';
    if (!hasErl()) {
      skipped.push('erlang: erl is not on PATH (install erlang-base to see an Erlang node join and talk to gamma through the bridge)');
    } else {
      const script =
        [
          `pong = net_adm:ping('${HUB.name}')`,
          `{aemp, '${HUB.name}'} ! {send, <<"gamma#shout">>, {self(), <<"hello from Erlang">>}}`,
          `receive R -> io:format("ERL GOT ~p~n", [R]) after 5000 -> io:format("ERL TIMEOUT~n") end`,
          `receive stop -> ok after 5000 -> ok end`,
          'halt()',
        ].join(', ') + '.';
      const erlName = `erl_demo_${process.pid}@127.0.0.1`;
      erl = spawn('erl', ['-noshell', '-name', erlName, '-setcookie', COOKIE, '-start_epmd', 'false', '-eval', script], {
        env: { ...process.env, ERL_EPMD_PORT: String(epmdPort) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const got = await new Promise<string>((resolve) => {
        let out = '';
        const timer = setTimeout(() => resolve(out), 8000);
        erl?.stdout?.on('data', (d: Buffer) => {
          out += d.toString();
          if (/ERL (GOT|TIMEOUT)/.test(out)) {
            clearTimeout(timer);
            resolve(out);
          }
        });
        erl?.once('exit', () => resolve(out));
      });
      const line = /ERL GOT (.*)/s.exec(got)?.[1]?.trim().replace(/\s+/g, ' ');
      if (line !== undefined) {
        erlang = 'joined';
        hub.log.info({ from: erlName, via: 'bridge', to: 'gamma#shout', erlangReceived: line }, 'erlang message crossed to an AEMP port and back');
        const release = await inProcess(hub, (self) => rpcCall(self, atom(erlName), atom('erlang'), atom('system_info'), [atom('otp_release')], 5000));
        hub.log.info({ peer: erlName, otpRelease: formatErlang(release) }, 'rpc into erlang answered');
        hub.send(new Tuple([atom('init'), atom(erlName)]), atom('stop'));
      } else {
        skipped.push(`erlang: erl started but did not answer (${got.trim() || 'no output'})`);
      }
    }
    skipped.push('perl: no AnyEvent::MP node is started by the demo; gamma is a Courier node speaking the Perl dialect of AEMP (docs/aemp.md)');
    for (const s of skipped) log.info({ why: s.slice(s.indexOf(':') + 2) }, `cluster: skipped ${s.slice(0, s.indexOf(':'))}`);
    return { nodes: nodes.map((n) => n.name.name), calls, counterRestarts: counterStarts - 1, erlang, skipped };
  } finally {
    for (const n of [...nodes].reverse()) await n.stop();
    if (erl !== undefined && erl.exitCode === null && erl.pid !== undefined) {
      const exited = new Promise((r) => erl?.once('exit', r));
      erl.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
      if (erl.exitCode === null) erl.kill('SIGKILL');
    }
  }
}
