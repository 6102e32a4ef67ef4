/**
 * Bignum digits as SMALL_BIG_EXT / LARGE_BIG_EXT carry them: magnitude bytes, least significant
 * first. Large magnitudes go through hex text, which V8 converts in linear time (shifting a bigint
 * byte by byte would be quadratic).
 */
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Integers decode to `number` when safe, else `bigint`. */
export function normalizeInt(v: bigint): number | bigint {
  return v >= -0x1f_ffff_ffff_ffffn && v <= 0x1f_ffff_ffff_ffffn ? Number(v) : v;
}

/** The integer whose magnitude is the `n` little-endian bytes at `start`. */
export function intFromLittleEndian(buf: Uint8Array, start: number, n: number, negative: boolean): number | bigint {
  if (n <= 6) {
    // At most 48 bits: exact in a double.
    let v = 0;
    for (let i = start + n - 1; i >= start; i--) v = v * 256 + (buf[i] as number);
    return negative ? -v || 0 : v;
  }
  if (n <= 8) {
    // A 64-bit magnitude (the common bignum: Erlang's integers past 2^59 or 2^27): two 32-bit halves.
    let lo = 0;
    let hi = 0;
    for (let i = start + 3; i >= start; i--) lo = lo * 256 + (buf[i] as number);
    for (let i = start + n - 1; i >= start + 4; i--) hi = hi * 256 + (buf[i] as number);
    if (hi < 0x20_0000) {
      // Below 2^53: exact in a double, as normalizeInt would give it.
      const v = hi * 0x1_0000_0000 + lo;
      return negative ? -v || 0 : v;
    }
    const m = (BigInt(hi) << 32n) | BigInt(lo);
    return negative ? -m : m;
  }
  const parts = new Array<string>(n);
  for (let i = 0; i < n; i++) parts[i] = HEX[buf[start + n - 1 - i] as number] as string;
  const magnitude = BigInt('0x' + parts.join(''));
  return normalizeInt(negative ? -magnitude : magnitude);
}

/** Bytes needed for the magnitude of `v` (0 for zero). */
export function magnitudeBytes(magnitude: bigint): number {
  if (magnitude === 0n) return 0;
  if (magnitude <= 0xffff_ffff_ffff_ffffn) {
    let n = 0;
    for (let m = magnitude; m > 0n; m >>= 8n) n++;
    return n;
  }
  return (magnitude.toString(16).length + 1) >> 1;
}

/** Write the `n` magnitude bytes of `magnitude`, least significant first, at `pos`. */
export function writeMagnitude(out: Uint8Array, pos: number, magnitude: bigint, n: number): void {
  if (n <= 8) {
    let m = magnitude;
    for (let i = 0; i < n; i++) {
      out[pos + i] = Number(m & 0xffn);
      m >>= 8n;
    }
    return;
  }
  const hex = magnitude.toString(16);
  // Walk the hex text from its end two digits at a time; an odd length leaves one digit last.
  let h = hex.length;
  for (let i = 0; i < n; i++) {
    const lo = h - 2 < 0 ? 0 : h - 2;
    out[pos + i] = parseInt(hex.slice(lo, h), 16);
    h = lo;
  }
}

/** Write the magnitude bytes of a non-negative safe integer; returns how many were written. */
export function writeSafeMagnitude(out: Uint8Array, pos: number, magnitude: number): number {
  let n = 0;
  for (let m = magnitude; m > 0; n++) {
    const b = m % 256;
    out[pos + n] = b;
    m = (m - b) / 256;
  }
  return n;
}
