/**
 * rpc into Erlang: a Courier node starts the embedded EPMD on a free private port, a real `erl`
 * registers with it, and Courier calls Erlang functions with `rpcCall` (erpc/rpc under the hood).
 *
 *   node --conditions=source --import tsx examples/basics/rpc-erlang.ts
 *
 * Needs `erl` on PATH; without it, says so and exits 0.
 */
import { Node, rpcCall } from '@courier/core';
import { atom, formatErlang, parseErlang } from '@courier/term';
import { tcpDist } from '@courier/transport-tcp';
import { freePort, hasErl, inProcess, startErl, stopErl, until } from './util.js';

async function main(): Promise<void> {
  if (!hasErl()) {
    console.log('skipped: erl is not on PATH (install erlang-base)');
    return;
  }
  const cookie = 'rpc-example';
  const epmdPort = await freePort();
  const node = new Node({ name: `courier_${process.pid}@127.0.0.1`, transports: [tcpDist({ cookie, epmd: { port: epmdPort, embedded: true } })] });
  await node.start();
  const erlName = atom(`erl_rpc_${process.pid}@127.0.0.1`);
  const erl = startErl(erlName.name, cookie, epmdPort, 'receive after infinity -> ok end.');
  try {
    await until(() => node.connect(erlName), 15_000, `${erlName.name} to come up`);
    const calls: Array<[string, string, string]> = [
      ['lists', 'reverse', '[[1, 2, 3]]'],
      ['erlang', 'system_info', '[otp_release]'],
      ['string', 'uppercase', '[<<"courier">>]'],
      ['maps', 'from_list', '[[{a, 1}, {b, <<"x">>}]]'],
    ];
    for (const [m, f, args] of calls) {
      const r = await inProcess(node, (self) => rpcCall(self, erlName, atom(m), atom(f), parseErlang(args) as never, 5000));
      console.log(`${m}:${f}(${args.slice(1, -1)}) -> ${formatErlang(r)}`);
    }
  } finally {
    await node.stop();
    await stopErl(erl);
  }
}

main().catch((err: unknown) => {
  console.error(`rpc-erlang: ${(err as Error).message}`);
  process.exitCode = 1;
});
