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
  /** Most magnitude bytes of one bignum (SMALL_BIG_EXT / LARGE_BIG_EXT). Default 64 KiB. */
  maxBigBytes?: number;
  /** Copy binaries out of the input instead of returning views into it. Default false. */
  copyBinaries?: boolean;
  /**
   * Resolves ATOM_CACHE_REF (82) indexes, for terms following a distribution header. Return
   * `undefined` for an unknown index (decoding then fails with `ETF_ATOM_CACHE_MISS`).
   */
  atomCache?: (index: number) => Atom | undefined;
}

export const DEFAULT_MAX_DEPTH = 2048;
export const DEFAULT_MAX_TERM_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_BIG_BYTES = 64 * 1024;

/** {@link DecodeOptions} with every default filled in, built once per decode call. */
export interface DecodeLimits {
  readonly maxDepth: number;
  readonly maxTermBytes: number;
  readonly maxBigBytes: number;
  readonly copyBinaries: boolean;
  readonly atomCache: ((index: number) => Atom | undefined) | undefined;
}

const DEFAULT_LIMITS: DecodeLimits = {
  maxDepth: DEFAULT_MAX_DEPTH,
  maxTermBytes: DEFAULT_MAX_TERM_BYTES,
  maxBigBytes: DEFAULT_MAX_BIG_BYTES,
  copyBinaries: false,
  atomCache: undefined,
};

export function resolveLimits(opts: DecodeOptions | undefined): DecodeLimits {
  if (opts === undefined) return DEFAULT_LIMITS;
  return {
    maxDepth: opts.maxDepth ?? DEFAULT_MAX_DEPTH,
    maxTermBytes: opts.maxTermBytes ?? DEFAULT_MAX_TERM_BYTES,
    maxBigBytes: opts.maxBigBytes ?? DEFAULT_MAX_BIG_BYTES,
    copyBinaries: opts.copyBinaries ?? false,
    atomCache: opts.atomCache,
  };
}
