import type { Atom } from '../model/atom.js';

/** Options of {@link decode} and {@link decodeTerm}. Every limit guards against hostile input. */
export interface DecodeOptions {
  /** Most containers open at once (tuple in list in map …). Default 2048. */
  maxDepth?: number;
  /**
   * Most bytes one term may occupy: the input of `decode`, the remaining input of `decodeTerm`, and
   * the declared uncompressed size of a compressed term (checked before inflating). Default 64 MiB.
   */
  maxTermBytes?: number;
  /**
   * Most bytes of JS heap one decode may create, as the decode cost model (`codec/heap-cost.ts`,
   * docs/terms.md) estimates them before allocating: a small frame of empty maps or a compressed
   * term can otherwise make V8 allocate 50 times its size. Default `HEAP_PER_TERM_BYTE` (2) ×
   * `maxTermBytes` + `HEAP_FLOOR` (1 MiB): 129 MiB with the defaults.
   */
  maxHeapBytes?: number;
  /** Most magnitude bytes of one bignum (SMALL_BIG_EXT / LARGE_BIG_EXT). Default 64 KiB. */
  maxBigBytes?: number;
  /** Copy binaries out of the input instead of returning views into it. Default false. */
  copyBinaries?: boolean;
  /**
   * Copy out a binary that is at most a quarter of the input's ArrayBuffer (Erlang's rule for
   * binaries in a distribution buffer), so that keeping it does not keep the whole buffer (a
   * socket chunk, a reassembled message) alive; larger ones stay views. Small copies share 8 KiB
   * slabs, as Node's Buffer pool does (codec/binary-copy.ts). Default false: every binary is a view.
   */
  copySmallBinaries?: boolean;
  /**
   * The input's buffer is reused once decode returns (a carrier's read buffer): every binary is
   * copied out, small ones into the shared slabs as with `copySmallBinaries`. Default false.
   */
  inputReused?: boolean;
  /**
   * Resolves ATOM_CACHE_REF (82) indexes, for terms following a distribution header. Return
   * `undefined` for an unknown index (decoding then fails with `ETF_ATOM_CACHE_MISS`).
   */
  atomCache?: (index: number) => Atom | undefined;
}

/** Default of {@link DecodeOptions.maxDepth}: most containers open at once while decoding. */
export const DEFAULT_MAX_DEPTH = 2048;
/** 64 MiB: also the default message limit of every distribution connection (`maxMessage`). */
export const DEFAULT_MAX_TERM_BYTES = 64 * 1024 * 1024;
/** Default of {@link DecodeOptions.maxBigBytes}: 64 KiB of magnitude for one bignum. */
export const DEFAULT_MAX_BIG_BYTES = 64 * 1024;
/** The default `maxHeapBytes` is this many times `maxTermBytes`, plus {@link HEAP_FLOOR}. */
export const HEAP_PER_TERM_BYTE = 2;
/** Added to the default `maxHeapBytes`, so that a small `maxTermBytes` still lets a small term of maps through. */
export const HEAP_FLOOR = 1024 * 1024;
/**
 * Most elements of one list or tuple, and entries of one map: past about 112 million elements
 * V8 aborts the whole process when an array grows (a fatal error, not an exception), and a JS Map
 * holds at most 2^24 entries. Only reachable with a `maxTermBytes` far above the default.
 */
export const MAX_ELEMENTS = 1 << 26;
export const MAX_MAP_ENTRIES = (1 << 24) - 1;
/** Most magnitude bytes of a bignum whatever `maxBigBytes` says: V8's BigInts end at 2^30 bits. */
export const MAX_BIGINT_BYTES = 1 << 26;

/** {@link DecodeOptions} with every default filled in: built per decode call, or once by {@link decodeLimits}. */
export interface DecodeLimits {
  /** {@link DecodeOptions.maxDepth}, or its default. */
  readonly maxDepth: number;
  /** {@link DecodeOptions.maxTermBytes}, or its default. */
  readonly maxTermBytes: number;
  /** {@link DecodeOptions.maxHeapBytes}, or its default (from maxTermBytes). */
  readonly maxHeapBytes: number;
  /** {@link DecodeOptions.maxBigBytes}, or its default. */
  readonly maxBigBytes: number;
  /** {@link DecodeOptions.copyBinaries} (default false). */
  readonly copyBinaries: boolean;
  /** {@link DecodeOptions.copySmallBinaries} (default false). */
  readonly copySmallBinaries: boolean;
  /** {@link DecodeOptions.inputReused} (default false). */
  readonly inputReused: boolean;
  /** {@link DecodeOptions.atomCache}: what ATOM_CACHE_REF indexes resolve to; none outside a distribution header. */
  readonly atomCache: ((index: number) => Atom | undefined) | undefined;
}

const DEFAULT_LIMITS: DecodeLimits = {
  maxDepth: DEFAULT_MAX_DEPTH,
  maxTermBytes: DEFAULT_MAX_TERM_BYTES,
  maxHeapBytes: HEAP_PER_TERM_BYTE * DEFAULT_MAX_TERM_BYTES + HEAP_FLOOR,
  maxBigBytes: DEFAULT_MAX_BIG_BYTES,
  copyBinaries: false,
  copySmallBinaries: false,
  inputReused: false,
  atomCache: undefined,
};

/**
 * `opts` resolved once, for `decodeTermWith` message after message (frozen: the options of later
 * calls cannot drift from what was checked). A limit that is not a number ≥ 0 is a RangeError.
 */
export function decodeLimits(opts: DecodeOptions): DecodeLimits {
  return Object.freeze(resolveLimits(opts));
}

/** Fill in the defaults. A limit that is not a number ≥ 0 is the caller's bug: RangeError. */
export function resolveLimits(opts: DecodeOptions | undefined): DecodeLimits {
  if (opts === undefined) return DEFAULT_LIMITS;
  const maxTermBytes = limit(opts, 'maxTermBytes', DEFAULT_MAX_TERM_BYTES);
  return {
    maxDepth: limit(opts, 'maxDepth', DEFAULT_MAX_DEPTH),
    maxTermBytes,
    maxHeapBytes: limit(opts, 'maxHeapBytes', HEAP_PER_TERM_BYTE * maxTermBytes + HEAP_FLOOR),
    maxBigBytes: limit(opts, 'maxBigBytes', DEFAULT_MAX_BIG_BYTES),
    copyBinaries: opts.copyBinaries ?? false,
    copySmallBinaries: opts.copySmallBinaries ?? false,
    inputReused: opts.inputReused ?? false,
    atomCache: opts.atomCache,
  };
}

function limit(opts: DecodeOptions, name: 'maxDepth' | 'maxTermBytes' | 'maxHeapBytes' | 'maxBigBytes', fallback: number): number {
  const v = opts[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !(v >= 0)) throw new RangeError(`DecodeOptions.${name} must be a number ≥ 0, not ${String(v)}`);
  return v;
}
