/** FNV-1a's 32-bit offset basis: the usual seed of {@link fnv1a}. */
export const FNV_OFFSET = 0x811c9dc5;

/**
 * FNV-1a over `buf[start, end)`, from `seed` (FNV_OFFSET, or a variant of it to keep two kinds of
 * keys apart): the hash of the byte-keyed caches of decoded atoms and map keys, whose hits are
 * then checked byte by byte.
 */
export function fnv1a(buf: Uint8Array, start: number, end: number, seed: number): number {
  let h = seed;
  for (let i = start; i < end; i++) h = Math.imul(h ^ (buf[i] as number), 0x01000193);
  return h;
}
