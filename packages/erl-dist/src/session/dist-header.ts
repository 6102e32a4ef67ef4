import { MAX_ATOM_CHARS, atom, type Atom } from '@courier/term';
import { ProtocolError } from '@courier/core';

/**
 * The first bytes of a distribution frame (erl_ext_dist "Distribution Header"):
 *
 *   112, 131 Ctrl, [131 Payload]                                  pass-through ('p')
 *   131, 68, N:8, [Flags:(N/2+1), Refs], Ctrl, [Payload]          normal header
 *   131, 69, SeqId:64, FragId:64, N:8, [Flags, Refs], data        first fragment
 *   131, 70, SeqId:64, FragId:64, data                            next fragment
 *
 * Flags hold a half-byte per atom-cache ref (NewCacheEntryFlag:1, SegmentIndex:3; ref 0 in the
 * low half of the first byte) and a last half-byte with LongAtoms in bit 0. A new entry is
 * InternalSegmentIndex:8, Len:8|16, text; an old one is InternalSegmentIndex:8. Terms after the
 * header refer to atoms with ATOM_CACHE_REF (82, index into this header's refs).
 */
export const PASS_THROUGH = 112;
export const VERSION_MAGIC = 131;
export const DIST_HEADER = 68;
export const DIST_FRAG_HEADER = 69;
export const DIST_FRAG_CONT = 70;

/**
 * One distribution frame parsed: a pass-through message, a normal or fragmented header with its atom-cache
 * refs, or a continuation fragment, and where its control message starts.
 */
export type ParsedFrame =
  | { readonly kind: 'pass'; readonly body: Uint8Array; readonly offset: number }
  | { readonly kind: 'message'; readonly refs: readonly Atom[]; readonly body: Uint8Array; readonly offset: number }
  | {
      readonly kind: 'fragment';
      readonly first: boolean;
      readonly seq: bigint;
      readonly fragId: bigint;
      readonly refs: readonly Atom[];
      /** The fragment's bytes after its header (of `f`: only the start of them when `f` is a head). */
      readonly data: Uint8Array;
      /** Where `data` starts in the frame. */
      readonly offset: number;
    };

/** The atom cache of one direction of one connection: 8 segments × 256 entries. */
export class AtomCache {
  private readonly entries: Array<Atom | undefined> = new Array<Atom | undefined>(2048);
  /** The atom at cache index `i` (segment × 256 + entry), if set. */
  get(i: number): Atom | undefined {
    return this.entries[i];
  }
  /** Sets cache index `i` to atom `a`. */
  set(i: number, a: Atom): void {
    this.entries[i] = a;
  }
}

const NO_REFS: readonly Atom[] = [];

/**
 * Parses a frame's distribution header (131,68 normal, 131,69 first fragment, 131,70 continuation, or
 * pass-through 112), updating the connection's atom cache.
 */
export function parseFrame(f: Uint8Array, cache: AtomCache): ParsedFrame {
  if (f[0] === PASS_THROUGH) return { kind: 'pass', body: f, offset: 1 };
  if (f[0] !== VERSION_MAGIC || f.length < 2) throw bad(`frame starts with ${f[0]}, expected 112 or 131`, 0);
  switch (f[1]) {
    case DIST_HEADER: {
      const { refs, end } = readRefs(f, 2, cache);
      return { kind: 'message', refs, body: f, offset: end };
    }
    case DIST_FRAG_HEADER: {
      need(f, 19, 'fragment header');
      const seq = u64(f, 2);
      const fragId = u64(f, 10);
      const { refs, end } = readRefs(f, 18, cache);
      return { kind: 'fragment', first: true, seq, fragId, refs, data: f.subarray(end), offset: end };
    }
    case DIST_FRAG_CONT: {
      need(f, 18, 'fragment');
      return { kind: 'fragment', first: false, seq: u64(f, 2), fragId: u64(f, 10), refs: NO_REFS, data: f.subarray(18), offset: 18 };
    }
    default:
      throw bad(`unknown distribution header type ${f[1]}`, 1);
  }
}

/** Bytes of a first fragment's header (131,69) that almost always hold all of it: a few atom cache refs. */
export const FRAGMENT_HEAD = 4096;

/**
 * The header of a fragment frame (131,69 or 131,70) of `length` bytes from `head`, the frame's
 * first bytes: undefined when the frame is no fragment or `head` ends inside the header (the
 * caller then parses the whole frame). Nothing is read past `head`.
 */
export function parseFragmentHead(head: Uint8Array, length: number, cache: AtomCache): Extract<ParsedFrame, { kind: 'fragment' }> | undefined {
  if (head[0] !== VERSION_MAGIC || (head[1] !== DIST_FRAG_HEADER && head[1] !== DIST_FRAG_CONT)) return undefined;
  if (head[1] === DIST_FRAG_HEADER && head.length < length && !refsWithin(head, 18)) return undefined;
  return parseFrame(head, cache) as Extract<ParsedFrame, { kind: 'fragment' }>;
}

/** The atom cache refs at `at` end inside `f` (so that parsing them cannot run out of bytes). */
function refsWithin(f: Uint8Array, at: number): boolean {
  if (f.length < at + 1) return false;
  const n = f[at] as number;
  let o = at + 1;
  if (n === 0) return true;
  const flagsAt = o;
  o += (n >> 1) + 1;
  if (f.length < o) return false;
  const half = (i: number) => ((f[flagsAt + (i >> 1)] as number) >> ((i & 1) * 4)) & 0xf;
  const lenBytes = (half(n) & 1) === 1 ? 2 : 1;
  for (let i = 0; i < n; i++) {
    o++;
    if ((half(i) & 8) === 0) continue;
    if (f.length < o + lenBytes) return false;
    o += lenBytes + (lenBytes === 2 ? ((f[o] as number) << 8) | (f[o + 1] as number) : (f[o] as number));
  }
  return f.length >= o;
}

function readRefs(f: Uint8Array, at: number, cache: AtomCache): { refs: readonly Atom[]; end: number } {
  need(f, at + 1, 'distribution header');
  const n = f[at] as number;
  let o = at + 1;
  if (n === 0) return { refs: NO_REFS, end: o };
  const flagBytes = (n >> 1) + 1;
  need(f, o + flagBytes, 'atom cache flags');
  const flagsAt = o;
  o += flagBytes;
  const half = (i: number) => ((f[flagsAt + (i >> 1)] as number) >> ((i & 1) * 4)) & 0xf;
  const longAtoms = (half(n) & 1) === 1;
  const refs = new Array<Atom>(n);
  for (let i = 0; i < n; i++) {
    const h = half(i);
    const segment = h & 7;
    need(f, o + 1, 'atom cache ref');
    const index = segment * 256 + (f[o++] as number);
    if ((h & 8) !== 0) {
      let len: number;
      if (longAtoms) {
        need(f, o + 2, 'atom cache ref');
        len = ((f[o] as number) << 8) | (f[o + 1] as number);
        o += 2;
      } else {
        need(f, o + 1, 'atom cache ref');
        len = f[o++] as number;
      }
      need(f, o + len, 'atom text');
      const a = atomText(f, o, len);
      o += len;
      cache.set(index, a);
      refs[i] = a;
    } else {
      const a = cache.get(index);
      if (a === undefined) throw bad(`atom cache ref to empty entry ${index}`, o - 1);
      refs[i] = a;
    }
  }
  return { refs, end: o };
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A new cache entry's text: UTF-8 (UTF8_ATOMS is mandatory) of at most 255 characters, as in ETF. */
function atomText(f: Uint8Array, at: number, len: number): Atom {
  let name: string;
  try {
    name = utf8.decode(f.subarray(at, at + len));
  } catch {
    throw bad('atom cache entry is not valid UTF-8', at);
  }
  if (name.length > MAX_ATOM_CHARS && [...name].length > MAX_ATOM_CHARS) {
    throw bad(`atom cache entry of ${len} bytes is longer than ${MAX_ATOM_CHARS} characters`, at);
  }
  return atom(name);
}

function need(f: Uint8Array, n: number, what: string): void {
  if (f.length < n) throw bad(`truncated ${what}`, f.length);
}

function bad(msg: string, offset: number): ProtocolError {
  return new ProtocolError('BAD_DIST_HEADER', msg, offset);
}

/** A big-endian 64-bit unsigned integer (fragment headers only, so no DataView per frame). */
function u64(f: Uint8Array, at: number): bigint {
  return new DataView(f.buffer, f.byteOffset + at, 8).getBigUint64(0);
}
