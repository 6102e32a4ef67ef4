/**
 * The Erlang ⇄ AEMP bridge (docs/bridge.md), three nodes in one program plus a real `erl`:
 *
 *   bridge@127.0.0.1   Courier: tcp (embedded EPMD on a free private port) + aemp; `bridge: true`
 *                      in its configuration starts the bridge
 *   perlish            Courier speaking AnyEvent::MP's Perl dialect (extended: false), port perlish#echo
 *   erl_bridge_…       erl: sends to perlish#echo through the bridge and gets the answer; registers
 *                      `greeter`, which the AEMP side reaches as [name, node, @msg] via bridge#erlang
 *
 *   node --conditions=source --import tsx examples/basics/bridge.ts
 *
 * Needs `erl` on PATH; without it, says so and exits 0.
 */
import { Node } from '@courier/core';
import { atom, type Term } from '@courier/term';
import { aemp } from '@courier/transport-aemp';
import { buildNode, validateConfig } from '@courier/cli';
import { freePort, hasErl, startErl, stopErl } from './util.js';

async function main(): Promise<void> {
  if (!hasErl()) {
    console.log('skipped: erl is not on PATH (install erlang-base)');
    return;
  }
  const [epmdPort, bridgePort, perlPort] = [await freePort(), await freePort(), await freePort()];
  const secret = 'bridge-example';
  const cookie = 'bridge-example';
  const bridgeName = 'bridge@127.0.0.1';
  const erlName = `erl_bridge_${process.pid}@127.0.0.1`;
  const bridge = buildNode(
    validateConfig({
      node: { name: bridgeName, cookie },
      carriers: [
        { kind: 'tcp', epmd: { port: epmdPort } },
        { kind: 'aemp', secret, bind: `127.0.0.1:${bridgePort}`, peers: { perlish: `127.0.0.1:${perlPort}` }, extended: false },
      ],
      bridge: true,
    }),
  );
  const perlish = new Node({
    name: 'perlish',
    transports: [aemp({ secret, binds: [`127.0.0.1:${perlPort}`], peers: { [bridgeName]: [`127.0.0.1:${bridgePort}`] }, extended: false })],
  });
  await bridge.start();
  await perlish.start();

  // perlish#echo, as a Perl echo port: [ReplyPort, @args] → snd ReplyPort, "echo", @args;
  // then it greets the Erlang registered name `greeter` through the bridge.
  perlish.spawn(
    async (self) => {
      for (;;) {
        const m = (await self.receive()) as Term[];
        console.log(`perlish#echo got ${JSON.stringify(m)}`);
        self.send(m[0] as string, ['echo', ...m.slice(1)]);
        self.send(`${bridgeName}#erlang`, ['greeter', erlName, 'hello from AEMP']);
      }
    },
    { name: atom('echo') },
  );

  const script = `register(greeter, self()),
    pong = net_adm:ping('${bridgeName}'),
    {aemp, '${bridgeName}'} ! {send, <<"perlish#echo">>, {self(), <<"hi from Erlang">>}},
    [receive R -> io:format("erl got ~p~n", [R]) after 5000 -> io:format("erl timeout~n") end || _ <- [1, 2]],
    halt().`;
  const lines: string[] = [];
  const erl = startErl(erlName, cookie, epmdPort, script, (l) => {
    lines.push(l);
    console.log(l);
  });
  try {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 10_000);
      erl.once('exit', () => (clearTimeout(t), resolve()));
    });
    const ok = lines.some((l) => l.includes('{<<"echo">>,<<"hi from Erlang">>}')) && lines.some((l) => l.includes('<<"hello from AEMP">>'));
    console.log(ok ? 'bridge: Erlang → AEMP → Erlang and AEMP → Erlang name both crossed' : 'bridge: something did not cross');
    if (!ok) process.exitCode = 1;
  } finally {
    await stopErl(erl);
    await perlish.stop();
    await bridge.stop();
  }
}

main().catch((err: unknown) => {
  console.error(`bridge: ${(err as Error).message}`);
  process.exitCode = 1;
});
