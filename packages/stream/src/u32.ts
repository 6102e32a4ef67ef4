/** The unsigned 32-bit big-endian integer at `o` of `b` (a frame's length prefix); `b` holds 4 bytes there. */
export function u32be(b: Uint8Array, o: number): number {
  return ((b[o] as number) * 0x1000000 + (((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number))) >>> 0;
}
