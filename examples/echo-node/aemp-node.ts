import type { Logger } from 'pino';
import { Node } from '@courier/core';
import { aemp, type AempTransport, type Framing } from '@courier/transport-aemp';
import { startEcho } from './echo-module.js';

export interface AempFlags {
  readonly nodeid?: string;
  readonly bind?: string;
  readonly secret?: string;
  readonly seeds: readonly string[];
  readonly framing?: string;
}

/**
 * The echo node on the AEMP carrier: a node `nodeid` listening on `bind`, joined to `seeds`,
 * serving `<nodeid>#echo` (registered in the family `echo`). Resolves with the node
 * once it listens and, with seeds, has a master.
 */
export async function startAempEchoNode(flags: AempFlags, log: Logger, fail: (msg: string) => never): Promise<Node> {
  const nodeid = flags.nodeid;
  if (!nodeid) fail('--carrier aemp needs --aemp-nodeid ID');
  const secret = flags.secret ?? process.env['COURIER_AEMP_SECRET'];
  if (!secret) fail('--carrier aemp needs --aemp-secret S (or COURIER_AEMP_SECRET)');
  const framings = flags.framing ? (flags.framing.split(',') as Framing[]) : undefined;
  if (framings?.some((f) => f !== 'json' && f !== 'cbor')) fail('--aemp-framing is json, cbor or both (cbor,json)');
  let transport: AempTransport;
  try {
    transport = aemp({ secret, binds: [flags.bind ?? '127.0.0.1:0'], seeds: flags.seeds, framings });
  } catch (err) {
    fail((err as Error).message);
  }
  const node = new Node({ name: nodeid, log, transports: [transport] });
  startEcho(node);
  await node.start();
  if (flags.seeds.length > 0) await transport.attached(30_000);
  // Registered with or without seeds: a node that is a seed (or becomes global) lists it too.
  transport.registry.dbReg('echo', `${nodeid}#echo`);
  return node;
}
