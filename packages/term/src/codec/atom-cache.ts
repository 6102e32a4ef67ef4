import type { Atom } from '../model/atom.js';
import { FNV_OFFSET, fnv1a } from './fnv.js';

/**
 * A direct-mapped cache from the bytes of an atom on the wire to the interned Atom, so that the
 * atoms every message repeats (node names, `ok`, `$gen_call`) skip text decoding and the atom
 * table lookup. A slot holds the last atom whose bytes hashed to it; a collision just replaces it.
 */
const SLOTS = 1024;
const MAX_BYTES = 64;

const slotBytes: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(SLOTS).fill(undefined);
const slotUtf8 = new Uint8Array(SLOTS);
const slotAtom: (Atom | undefined)[] = new Array<Atom | undefined>(SLOTS).fill(undefined);

function slot(buf: Uint8Array, start: number, len: number, utf8: boolean): number {
  // Seeded with the encoding.
  const h = fnv1a(buf, start, start + len, utf8 ? FNV_OFFSET : 0x050c5d1f);
  return (h ^ (h >>> 15)) & (SLOTS - 1);
}

/** The atom whose name has these bytes in this encoding (Latin-1 or UTF-8), if cached. */
export function cachedAtom(buf: Uint8Array, start: number, len: number, utf8: boolean): Atom | undefined {
  if (len > MAX_BYTES) return undefined;
  const s = slot(buf, start, len, utf8);
  const bytes = slotBytes[s];
  if (bytes === undefined || bytes.length !== len || slotUtf8[s] !== (utf8 ? 1 : 0)) return undefined;
  for (let i = 0; i < len; i++) if (bytes[i] !== buf[start + i]) return undefined;
  return slotAtom[s];
}

/** Remember a decoded atom under its bytes. */
export function cacheAtom(buf: Uint8Array, start: number, len: number, utf8: boolean, a: Atom): void {
  if (len > MAX_BYTES) return;
  const s = slot(buf, start, len, utf8);
  slotBytes[s] = buf.slice(start, start + len);
  slotUtf8[s] = utf8 ? 1 : 0;
  slotAtom[s] = a;
}
