import { ProtocolError } from '@courier/core';

// EPMD wire messages (erl_dist_protocol "EPMD Protocol"). Requests carry a 2-byte length;
// responses do not. All integers are big-endian.

/** Tag of ALIVE2_REQ: register a node (its port, type, versions and alive name). */
export const ALIVE2_REQ = 120; // 'x'
/** Tag of ALIVE2_X_RESP: `118 Result Creation:32`, the answer to a registration (OTP 23+). */
export const ALIVE2_X_RESP = 118; // 'v'  result, creation:32
/** Tag of ALIVE2_RESP: `121 Result Creation:16`, the answer to a node that registered with highest version 5. */
export const ALIVE2_RESP = 121; // 'y'   result, creation:16 (peers that registered highest version 5)
/** Tag of PORT_PLEASE2_REQ: where does the node with this alive name listen? */
export const PORT_PLEASE2_REQ = 122; // 'z'
/** Tag of PORT2_RESP, the answer to PORT_PLEASE2_REQ. */
export const PORT2_RESP = 119; // 'w'
/** Tag of NAMES_REQ: the registered names and ports (what `epmd -names` prints). */
export const NAMES_REQ = 110; // 'n'
/** Tag of DUMP_REQ (debugging; Courier's EPMD does not answer it). */
export const DUMP_REQ = 100; // 'd'
/** Tag of KILL_REQ (stop EPMD; Courier's EPMD does not answer it). */
export const KILL_REQ = 107; // 'k'

/** Node type of an Erlang node in ALIVE2_REQ and PORT2_RESP (`M`). */
export const NODE_TYPE_NORMAL = 77; // 'M'
/** Node type of a hidden node (`H`). */
export const NODE_TYPE_HIDDEN = 72; // 'H'
/** Protocol 0: TCP/IPv4 (the only one defined). */
export const PROTOCOL_TCP = 0;

/** One registered node, as ALIVE2_REQ carries it and PORT2_RESP returns it. */
export interface NodeEntry {
  readonly name: string;
  readonly port: number;
  readonly nodeType: number;
  readonly protocol: number;
  readonly highest: number;
  readonly lowest: number;
  readonly extra: Uint8Array;
}

/** The request bytes of ALIVE2_REQ, with its 2-byte length. */
export function alive2Req(e: NodeEntry): Buffer {
  const name = Buffer.from(e.name, 'utf8');
  const body = Buffer.alloc(1 + 2 + 1 + 1 + 2 + 2 + 2 + name.length + 2 + e.extra.length);
  let o = body.writeUInt8(ALIVE2_REQ, 0);
  o = body.writeUInt16BE(e.port, o);
  o = body.writeUInt8(e.nodeType, o);
  o = body.writeUInt8(e.protocol, o);
  o = body.writeUInt16BE(e.highest, o);
  o = body.writeUInt16BE(e.lowest, o);
  o = body.writeUInt16BE(name.length, o);
  o += name.copy(body, o);
  o = body.writeUInt16BE(e.extra.length, o);
  body.set(e.extra, o);
  return withLength(body);
}

/**
 * Parse the body of ALIVE2_REQ (after tag): `PortNo:16 NodeType:8 Protocol:8 Highest:16 Lowest:16
 * Nlen:16 Name Elen:16 Extra`.
 */
export function parseAlive2Req(b: Buffer): NodeEntry {
  need(b, 13, 'ALIVE2_REQ');
  const nlen = b.readUInt16BE(9);
  need(b, 11 + nlen + 2, 'ALIVE2_REQ');
  const name = b.subarray(11, 11 + nlen).toString('utf8');
  const elen = b.readUInt16BE(11 + nlen);
  need(b, 13 + nlen + elen, 'ALIVE2_REQ');
  return {
    port: b.readUInt16BE(1),
    nodeType: b[3] as number,
    protocol: b[4] as number,
    highest: b.readUInt16BE(5),
    lowest: b.readUInt16BE(7),
    name,
    extra: Uint8Array.prototype.slice.call(b, 13 + nlen, 13 + nlen + elen),
  };
}

/** The request bytes of PORT_PLEASE2_REQ for `alive` (the name part of a node name), with its 2-byte length. */
export function portPlease2Req(alive: string): Buffer {
  return withLength(Buffer.concat([Buffer.from([PORT_PLEASE2_REQ]), Buffer.from(alive, 'utf8')]));
}

/** PORT2_RESP: `119 Result [PortNo NodeType Protocol Highest Lowest Nlen Name Elen Extra]`. */
export function port2Resp(e: NodeEntry | undefined): Buffer {
  if (e === undefined) return Buffer.from([PORT2_RESP, 1]);
  const req = alive2Req(e);
  // The PORT2 body is the ALIVE2 body after its tag, preceded by tag 119 and result 0.
  return Buffer.concat([Buffer.from([PORT2_RESP, 0]), req.subarray(3)]);
}

/** Parse a complete PORT2_RESP; undefined when the name is not registered. */
export function parsePort2Resp(b: Buffer): NodeEntry | undefined {
  need(b, 2, 'PORT2_RESP');
  if (b[0] !== PORT2_RESP) throw new ProtocolError('EPMD_BAD_RESPONSE', `EPMD answered tag ${b[0]} to PORT_PLEASE2_REQ`, 0);
  if (b[1] !== 0) return undefined;
  const body = Buffer.concat([Buffer.from([ALIVE2_REQ]), b.subarray(2)]);
  return parseAlive2Req(body);
}

/** ALIVE2_X_RESP, the answer to a registration: `result` (0 ok) and a 32-bit creation. */
export function alive2XResp(result: number, creation: number): Buffer {
  const b = Buffer.alloc(6);
  b[0] = ALIVE2_X_RESP;
  b[1] = result;
  b.writeUInt32BE(creation >>> 0, 2);
  return b;
}

/** ALIVE2_RESP, the answer to a registration with HighestVersion < 6: a 16-bit creation. */
export function alive2Resp(result: number, creation: number): Buffer {
  const b = Buffer.alloc(4);
  b[0] = ALIVE2_RESP;
  b[1] = result;
  b.writeUInt16BE(creation & 0xffff, 2);
  return b;
}

/** NAMES_RESP: EPMD's port, then a `name N at port P` line per node. */
export function namesResp(epmdPort: number, entries: readonly NodeEntry[]): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(epmdPort);
  const text = entries.map((e) => `name ${e.name} at port ${e.port}\n`).join('');
  return Buffer.concat([head, Buffer.from(text, 'utf8')]);
}

/** Parse NAMES_RESP text into name → port. */
export function parseNamesResp(b: Buffer): Array<{ name: string; port: number }> {
  need(b, 4, 'NAMES_RESP');
  const out: Array<{ name: string; port: number }> = [];
  for (const line of b.subarray(4).toString('utf8').split('\n')) {
    const m = /^name (.+) at port (\d+)$/.exec(line);
    if (m) out.push({ name: m[1] as string, port: Number(m[2]) });
  }
  return out;
}

/** `body` preceded by its 2-byte length, as every request to EPMD is. */
export function withLength(body: Buffer): Buffer {
  const b = Buffer.alloc(2 + body.length);
  b.writeUInt16BE(body.length, 0);
  body.copy(b, 2);
  return b;
}

function need(b: Buffer, n: number, what: string): void {
  if (b.length < n) throw new ProtocolError('EPMD_TRUNCATED', `${what} is truncated (${b.length} of ${n} bytes)`, b.length);
}
