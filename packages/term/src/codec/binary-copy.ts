/**
 * Copying a binary out of a decoder's input. A view of the input keeps its whole ArrayBuffer
 * alive: a socket chunk of up to 64 KiB that held many messages, or a reassembled message of up
 * to maxMessage bytes. `copySmallBinaries` (DecodeOptions) copies a binary out when it is at most
 * {@link PIN_SHARE} of that ArrayBuffer, as Erlang does with a binary in a distribution buffer
 * (a sub-binary of the buffer only past 25% of it, erts external.c); the rest stay views.
 *
 * Copies of up to {@link POOLED_MAX} bytes go into a shared slab of `SLAB` (8 KiB) bytes, as Node's
 * `Buffer.allocUnsafe` pools small buffers: a fresh ArrayBuffer costs 1–4 µs and ~190 bytes of
 * heap beyond its bytes, a slot in the slab ~60 ns and nothing but the view (measured on Node 22,
 * docs/performance.md). A kept copy then pins at most one slab of other small binaries.
 */
export const PIN_SHARE = 0.25;
/** Largest binary copied into the slab: a slab then lasts 8 copies or more (a fresh 8 KiB slab costs ~2 µs). */
export const POOLED_MAX = 1024;
export const SLAB = 8192;

const EMPTY = new Uint8Array(0);
let slab = EMPTY;
/** Bytes of the slab handed out: none is made until the first small copy. */
let used = SLAB;

/** Whether a binary of `n` bytes in `buf` should be copied out rather than viewed. */
export function pins(buf: Uint8Array, n: number): boolean {
  return n <= buf.buffer.byteLength * PIN_SHARE;
}

/** `n` bytes of `buf` at `start` in a fresh buffer of their own, or a slot of the slab when small. */
export function copyOut(buf: Uint8Array, start: number, n: number, pooled: boolean): Uint8Array {
  let out: Uint8Array;
  if (pooled && n === 0) {
    // One empty binary for all: it has no bytes to change, and pins no slab.
    return EMPTY;
  } else if (pooled) {
    if (n > SLAB - used) {
      slab = new Uint8Array(SLAB);
      used = 0;
    }
    out = slab.subarray(used, used + n);
    // 8-byte aligned slots, as Node's pool.
    used = (used + n + 7) & ~7;
  } else {
    out = new Uint8Array(n);
  }
  if (n <= 64) for (let i = 0; i < n; i++) out[i] = buf[start + i] as number;
  // A plain Uint8Array over the bytes: a Buffer's own subarray goes through its species constructor, several times slower.
  else out.set(new Uint8Array(buf.buffer, buf.byteOffset + start, n));
  return out;
}

const hasBuffer = typeof Buffer === 'function';
const allocUnzeroed = hasBuffer ? (n: number): Uint8Array => Buffer.allocUnsafeSlow(n) : undefined;
/** Below this, zeroing costs less than the allocation: a plain Uint8Array. */
const UNINITIALIZED_MIN = 4096;

/**
 * A buffer of `n` bytes that are not zeroed first (Node's `Buffer.allocUnsafeSlow`; a zeroed
 * Uint8Array where there is no Buffer), for a buffer the caller fills entirely before anything
 * reads it: a message reassembled from fragments, a frame copied from socket chunks. Zeroing a
 * 64 KiB buffer that is overwritten at once was a tenth of a receiving node's CPU
 * (docs/performance.md). The caller zeroes any part it hands out unwritten.
 */
export function uninitialized(n: number): Uint8Array {
  if (allocUnzeroed === undefined || n < UNINITIALIZED_MIN) return new Uint8Array(n);
  const b = allocUnzeroed(n);
  return new Uint8Array(b.buffer, b.byteOffset, n);
}
