import { EncodeError } from '../errors.js';
import { MAX_ATOM_CHARS, type Atom } from '../model/atom.js';
import { Tag } from './tags.js';

/**
 * Pre-encoded atoms: tag, length and UTF-8 name, computed once per atom. Atoms are interned and
 * never freed, so this cache is bounded by the atom table. Atoms are always written with the UTF-8
 * tags, as OTP 26+ does by default and OTP 25 does on distribution connections:
 * SMALL_ATOM_UTF8_EXT (119, Len:8) when the name fits 255 bytes, else ATOM_UTF8_EXT (118, Len:16).
 */
const cache = new Map<Atom, Uint8Array>();
const encoder = new TextEncoder();

export function atomBytes(a: Atom): Uint8Array {
  return cache.get(a) ?? encodeAtom(a);
}

function encodeAtom(a: Atom): Uint8Array {
  const name = a.name;
  let chars = 0;
  for (let i = 0; i < name.length; i++, chars++) {
    const c = name.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = name.charCodeAt(i + 1);
      if (c > 0xdbff || !(d >= 0xdc00 && d <= 0xdfff)) {
        throw new EncodeError(`atom ${JSON.stringify(name)} contains an unpaired surrogate`);
      }
      i++;
    }
  }
  if (chars > MAX_ATOM_CHARS) throw new EncodeError(`atom of ${chars} characters is longer than ${MAX_ATOM_CHARS}`);
  const text = encoder.encode(name);
  const small = text.length <= 0xff;
  const out = new Uint8Array(text.length + (small ? 2 : 3));
  if (small) {
    out[0] = Tag.SMALL_ATOM_UTF8_EXT;
    out[1] = text.length;
    out.set(text, 2);
  } else {
    out[0] = Tag.ATOM_UTF8_EXT;
    out[1] = text.length >> 8;
    out[2] = text.length & 0xff;
    out.set(text, 3);
  }
  cache.set(a, out);
  return out;
}
