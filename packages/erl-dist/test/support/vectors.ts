import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Real OTP 25 captures, copied from shared/vectors/erlang into ../fixtures (see its README). */
const dir = fileURLToPath(new URL('../fixtures/', import.meta.url));

export const hex = (h: string): Buffer => Buffer.from(h, 'hex');

export interface AtomCacheRefVector {
  ref_index: number;
  new_cache_entry: boolean;
  segment_index: number;
  internal_segment_index: number;
  cache_index: number;
  atom: string;
}

export interface DistFrameVector {
  seq: number;
  direction: 'A->B' | 'B->A';
  note: string;
  /** With the 4-byte length prefix. */
  raw_hex: string;
  length: number;
  dist_header: { number_of_atom_cache_refs: number; long_atoms?: boolean; atom_cache_refs?: AtomCacheRefVector[] };
  dist_header_hex: string;
  control_hex: string;
  control_resolved_etf_hex: string;
  payload_hex?: string;
  payload_resolved_etf_hex?: string;
  control_op: number;
  control_name: string;
}

export interface HandshakeCapture {
  cookie: string;
  node_A: string;
  node_B: string;
  post_handshake_frames: DistFrameVector[];
}

const load = <T>(file: string): T => JSON.parse(readFileSync(dir + file, 'utf8')) as T;

export const handshakeCapture = (): HandshakeCapture => load('handshake-tcp.json');

/** mulberry32: a small seedable generator for reproducible random splits. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
