import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rpcCall, type Node } from '@courier/core';
import { atom } from '@courier/term';
import { epmdHosts, formCluster, type Cluster, type MembershipChange } from '@courier/discovery';
import { randomCookie, uniqueName, type ErlNode } from '@courier/testkit';
import { courierNode, erlNode, erlPeer, inProcess, startEpmd, until, type Epmd } from '../erlang/harness.js';

/**
 * Cluster formation by EPMD host scanning against real OTP 25: OTP's own epmd on a free port,
 * `erl` nodes registered with it, a `.hosts.erlang` naming the host, and a Courier node that
 * finds and connects them as net_adm:world does — while erl's net_adm:world_list finds it.
 */
let epmd: Epmd | undefined;
let dir: string;
const cookie = randomCookie();
const erls: ErlNode[] = [];
const nodes: Node[] = [];
const clusters: Cluster[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cf-epmd-'));
  if (erlPeer.available) epmd = await startEpmd();
});
afterAll(async () => {
  for (const c of clusters) await c.stop();
  for (const n of nodes) await n.stop();
  for (const e of erls) await e.stop();
  await epmd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('EPMD host scanning (.hosts.erlang)', () => {
  it('finds the erl nodes registered on each host, connects them, and drops one that stops', async (ctx) => {
    erlPeer.require(ctx);
    const e = epmd as Epmd;
    const [e1, e2] = await Promise.all([erlNode(e, cookie, { name: uniqueName('cfscan') }), erlNode(e, cookie, { name: uniqueName('cfscan') })]);
    erls.push(e1, e2);
    const hosts = join(dir, '.hosts.erlang');
    writeFileSync(hosts, "% scanned by the formation\n'127.0.0.1'.\n");
    const c = await courierNode(e, cookie, { name: uniqueName('cfts') });
    nodes.push(c);
    const cl = formCluster(c, { strategies: [epmdHosts({ hostsFile: hosts, epmdPort: e.port })], intervalMs: 200 });
    clusters.push(cl);
    const seen: MembershipChange[] = [];
    cl.changes$.subscribe((x) => seen.push(x));
    await until(() => cl.members().length === 2, 15_000, 'both erl nodes joined');
    expect(
      cl
        .members()
        .map((m) => m.name)
        .sort(),
    ).toEqual([e1.node, e2.node].sort());
    // Connected at net_adm:ping level, seen from the erl side too (Courier is hidden by default).
    const hidden = await inProcess(c, (self) => rpcCall(self, atom(e1.node as string), atom('erlang'), atom('nodes'), [atom('hidden')], 5000));
    expect(hidden).toEqual([c.name]);
    // One erl stops: it leaves at nodedown, and EPMD no longer lists it, so it is not retried.
    await erls.splice(1, 1)[0]?.stop();
    await until(() => cl.members().length === 1, 15_000, 'the stopped erl left');
    expect(seen.filter((x) => x.type === 'left').map((x) => [x.node.name, x.type === 'left' && x.reason])).toEqual([[e2.node, 'nodedown']]);
    expect(cl.members().map((m) => m.name)).toEqual([e1.node]);
  });

  it("an erl node's net_adm:world_list finds the Courier node the same way", async (ctx) => {
    erlPeer.require(ctx);
    const e = epmd as Epmd;
    const c = await courierNode(e, cookie, { name: uniqueName('cfworld') });
    nodes.push(c);
    const w = await erlNode(e, cookie, {
      name: uniqueName('cfworld'),
      eval: `io:format("UP~n"), W = net_adm:world_list(['127.0.0.1']), io:format("WORLD ~p~n", [lists:member('${c.name.name}', W)]).`,
    });
    erls.push(w);
    expect(await w.stdout.waitFor('WORLD', 15_000)).toBe('WORLD true');
    expect(c.nodes('hidden').map((n) => n.name)).toContain(w.node);
  });
});
