import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Captured Perl AnyEvent::MP 2.02 traffic (secret `testsecret`), copied from shared/vectors/aemp into ./fixtures (see its README). */
export interface Side {
  readonly greeting1: string;
  readonly greeting2_nonce: string;
  readonly auth_line: string;
}
export interface Packet {
  readonly wire?: string;
  readonly hex?: string;
  readonly decoded: unknown;
}
export interface Vector {
  readonly secret: string;
  readonly client: Side;
  readonly server: Side;
  readonly client_sends_framing: string;
  readonly server_sends_framing: string;
  readonly client_to_server_packets: readonly Packet[];
  readonly server_to_client_packets: readonly Packet[];
  readonly client_to_server_raw_hex: string;
  readonly server_to_client_raw_hex: string;
}

const dir = fileURLToPath(new URL('./fixtures/', import.meta.url));

export function vector(name: 'perl_perl_json' | 'perl_perl_cbor' | 'probe_perl_json'): Vector {
  const raw = JSON.parse(readFileSync(`${dir}${name}.json`, 'utf8')) as Record<string, unknown>;
  return {
    ...(raw as unknown as Vector),
    client: raw['client (connecting side)'] as Side,
    server: raw['server (listening side, 127.0.0.1:4040)'] as Side,
  };
}

/** `{"$bytes": "x"}` (a Perl byte string in the capture's notation) → `"x"`, recursively. */
export function plain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === '$bytes') return o['$bytes'];
    return Object.fromEntries(keys.map((k) => [k, plain(o[k])]));
  }
  return v;
}

/** The bytes after the three handshake lines of a raw capture. */
export function afterHandshake(hex: string): Buffer {
  const b = Buffer.from(hex, 'hex');
  let at = 0;
  for (let lines = 0; lines < 3; lines++) at = b.indexOf(0x0a, at) + 1;
  return b.subarray(at);
}
