import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Node, rpcCall, type Logger } from '@courier/core';
import { atom, formatErlang, type Term } from '@courier/term';
import { aemp } from '@courier/transport-aemp';
import { randomCookie, uniqueName, type ErlNode } from '@courier/testkit';
import { buildNode, startBridge, startEcho, validateConfig, type Bridge } from '@courier/cli';
import { erlNode, erlPeer, freePort, inProcess, startEpmd, type Epmd } from './harness.js';

/**
 * The newcomer's path of issue 18: an `erl` shell sends through the bridge to the echo node's AEMP
 * port (`<nodeid>#echo`, the Courier dialect, as `npm run echo-node -- --carrier aemp` serves it).
 * The echo port used to drop the message silently (its reply address arrived as a pid, not a port
 * id string) and the `erl` side timed out with nothing logged anywhere.
 */
let epmd: Epmd;
let e: ErlNode;
let bridgeNode: Node;
let bridge: Bridge;
let echoNode: Node;
let echoId: string;
const warnings: string[] = [];
const secret = 'bridge-echo-secret';

const recorder: Logger = {
  trace() {},
  debug() {},
  info() {},
  warn: (_obj: unknown, msg?: string) => void warnings.push(msg ?? ''),
  error: (_obj: unknown, msg?: string) => void warnings.push(msg ?? ''),
  child: () => recorder,
};

beforeAll(async () => {
  if (!erlPeer.available) return;
  epmd = await startEpmd();
  const cookie = randomCookie();
  e = await erlNode(epmd, cookie);
  const [bridgePort, echoPort] = [await freePort(), await freePort()];
  const bridgeName = `${uniqueName('bridge')}@127.0.0.1`;
  echoId = uniqueName('courier-echo');
  bridgeNode = buildNode(
    validateConfig({
      node: { name: bridgeName, cookie },
      carriers: [
        { kind: 'tcp', epmd: { port: epmd.port, embedded: false } },
        { kind: 'aemp', secret, bind: `127.0.0.1:${bridgePort}`, peers: { [echoId]: `127.0.0.1:${echoPort}` } },
      ],
    }),
  );
  await bridgeNode.start();
  bridge = startBridge(bridgeNode);
  echoNode = new Node({
    name: echoId,
    transports: [aemp({ secret, binds: [`127.0.0.1:${echoPort}`], peers: { [bridgeName]: [`127.0.0.1:${bridgePort}`] } })],
    log: recorder,
  });
  startEcho(echoNode);
  await echoNode.start();
}, 60_000);

afterAll(async () => {
  bridge?.stop();
  await echoNode?.stop();
  await bridgeNode?.stop();
  await e?.stop();
  await epmd?.stop();
});

describe('Erlang → bridge → the echo node’s AEMP port', () => {
  it('answers {self(), hello} sent from erl (the reply address crosses as a pid)', async (ctx) => {
    erlPeer.require(ctx);
    const r = await inProcess(bridgeNode, (self) =>
      rpcCall(self, atom(e.node as string), atom('courier_peer'), atom('bridge_call'), [bridgeNode.name, Buffer.from(`${echoId}#echo`), atom('hello'), 10_000] as Term[], 15_000),
    );
    expect(formatErlang(r)).toBe('{ok,hello}');
    expect(warnings).toEqual([]);
  });

  it('logs a message it cannot answer instead of dropping it silently', async (ctx) => {
    erlPeer.require(ctx);
    echoNode.send(atom('echo'), 42);
    const end = Date.now() + 5000;
    while (warnings.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(warnings).toEqual(['echo: message ignored: expected {FromPid, Msg} or [ReplyPort, ...Args]']);
  });
});
