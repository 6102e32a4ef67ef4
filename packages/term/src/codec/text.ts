/**
 * Byte → string conversions for atoms and STRING_EXT. Latin-1 is one char per byte (never
 * TextDecoder's 'latin1', which is windows-1252). UTF-8 is validated strictly and keeps a leading
 * BOM, as OTP does; pure ASCII takes the Latin-1 path and skips TextDecoder.
 */
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const SHORT = 24;
const hasBuffer = typeof Buffer === 'function';

/** The bytes `[start, end)` of `buf`, one char each. */
export function latin1(buf: Uint8Array, start: number, end: number): string {
  if (end - start <= SHORT) {
    let s = '';
    for (let i = start; i < end; i++) s += String.fromCharCode(buf[i] as number);
    return s;
  }
  // Node's Buffer is the fast path; a browser node (no Buffer) builds the string in slices.
  if (hasBuffer) return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
  let s = '';
  for (let i = start; i < end; i += 8192) s += String.fromCharCode(...buf.subarray(i, Math.min(end, i + 8192)));
  return s;
}

/** True when every byte of `[start, end)` is below 0x80. */
export function isAscii(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if ((buf[i] as number) >= 0x80) return false;
  return true;
}

/** The UTF-8 text of `[start, end)`, or `undefined` when the bytes are not valid UTF-8. */
export function utf8(buf: Uint8Array, start: number, end: number): string | undefined {
  if (isAscii(buf, start, end)) return latin1(buf, start, end);
  try {
    return utf8Decoder.decode(buf.subarray(start, end));
  } catch {
    return undefined;
  }
}

/** Code points in well-formed UTF-8 `[start, end)`: the bytes that are not continuation bytes. */
export function utf8CodePoints(buf: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) if (((buf[i] as number) & 0xc0) !== 0x80) n++;
  return n;
}
