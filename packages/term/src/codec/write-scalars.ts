import { EncodeError } from '../errors.js';
import { atoms, type Atom } from '../model/atom.js';
import type { BitBinary } from '../model/containers.js';
import type { ErlExport } from '../model/fun.js';
import type { Pid, Port, Ref } from '../model/identifiers.js';
import { atomBytes } from './atom-bytes.js';
import { magnitudeBytes, writeMagnitude, writeSafeMagnitude } from './bigint.js';
import { MAX_REF_WORDS, MAX_STRING_EXT, Tag } from './tags.js';
import { WriteBuffer } from './write-buffer.js';

const INT32_MIN = -0x8000_0000;
const INT32_MAX = 0x7fff_ffff;

function isUint32(v: number): boolean {
  return v >>> 0 === v;
}

/** Writers for every term that contains no other term (atoms inside pids etc. aside). */
export class ScalarWriter extends WriteBuffer {
  /**
   * Ports as V4_PORT_EXT (64-bit id; default, what OTP 26+ writes and needs DFLAG_V4_NC on a
   * connection), or, when false, as NEW_PORT_EXT (32-bit id) for a peer without V4_NC.
   */
  v4Ports = true;
  /** Writes an atom as SMALL_ATOM_UTF8_EXT or ATOM_UTF8_EXT, from bytes pre-encoded once per atom. */
  writeAtom(a: Atom): void {
    this.writeBytes(atomBytes(a));
  }

  /** A JS number that is an integer: SMALL_INTEGER_EXT, INTEGER_EXT or SMALL_BIG_EXT. */
  writeInteger(v: number): void {
    if (v >= 0 && v <= 0xff) {
      // SMALL_INTEGER_EXT: UInt8
      this.ensure(2);
      this.buf[this.pos++] = Tag.SMALL_INTEGER_EXT;
      this.buf[this.pos++] = v;
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      // INTEGER_EXT: Int32
      this.ensure(5);
      this.buf[this.pos++] = Tag.INTEGER_EXT;
      this.dv.setInt32(this.pos, v);
      this.pos += 4;
    } else if (Number.isSafeInteger(v)) {
      // SMALL_BIG_EXT: n:8, Sign:8, n little-endian magnitude bytes (n ≤ 7 here)
      this.ensure(10);
      this.buf[this.pos] = Tag.SMALL_BIG_EXT;
      this.buf[this.pos + 2] = v < 0 ? 1 : 0;
      const n = writeSafeMagnitude(this.buf, this.pos + 3, Math.abs(v));
      this.buf[this.pos + 1] = n;
      this.pos += 3 + n;
    } else {
      this.writeBigInt(BigInt(v));
    }
  }

  /** SMALL_BIG_EXT (n:8) or LARGE_BIG_EXT (n:32), Sign:8, magnitude; small values as integers. */
  writeBigInt(v: bigint): void {
    if (v >= -0x8000_0000n && v <= 0x7fff_ffffn) {
      this.writeInteger(Number(v));
      return;
    }
    const magnitude = v < 0n ? -v : v;
    const n = magnitudeBytes(magnitude);
    if (n > 0xffff_ffff) throw new EncodeError(`integer of ${n} bytes is too large for LARGE_BIG_EXT`);
    this.ensure(6 + n);
    if (n <= 0xff) {
      this.buf[this.pos++] = Tag.SMALL_BIG_EXT;
      this.buf[this.pos++] = n;
    } else {
      this.buf[this.pos++] = Tag.LARGE_BIG_EXT;
      this.dv.setUint32(this.pos, n);
      this.pos += 4;
    }
    this.buf[this.pos++] = v < 0n ? 1 : 0;
    writeMagnitude(this.buf, this.pos, magnitude, n);
    this.pos += n;
  }

  /** NEW_FLOAT_EXT: IEEE 754 double, big-endian. The caller has checked the value is finite. */
  writeFloat(v: number): void {
    this.ensure(9);
    this.buf[this.pos++] = Tag.NEW_FLOAT_EXT;
    this.dv.setFloat64(this.pos, v);
    this.pos += 8;
  }

  /**
   * A JS string as a charlist: STRING_EXT (Len:16, one byte per char) when every char is ≤ 0xFF
   * and it has at most 65535 chars; otherwise LIST_EXT of code points then NIL_EXT. "" is NIL_EXT.
   */
  writeString(s: string): void {
    const n = s.length;
    if (n === 0) {
      this.writeUint8(Tag.NIL_EXT);
      return;
    }
    if (n <= MAX_STRING_EXT) {
      this.ensure(3 + n);
      const { buf } = this;
      const start = this.pos;
      buf[start] = Tag.STRING_EXT;
      buf[start + 1] = n >> 8;
      buf[start + 2] = n & 0xff;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0xff) break;
        buf[start + 3 + i] = c;
      }
      if (i === n) {
        this.pos = start + 3 + n;
        return;
      }
    }
    this.writeCodePointList(s);
  }

  private writeCodePointList(s: string): void {
    // LIST_EXT: Len:32, Elements, Tail. The length is patched once the code points are counted.
    this.ensure(5);
    this.buf[this.pos] = Tag.LIST_EXT;
    const lengthAt = this.pos + 1;
    this.pos += 5;
    let count = 0;
    for (const ch of s) {
      this.writeInteger(ch.codePointAt(0) as number);
      count++;
    }
    this.setUint32At(lengthAt, count);
    this.writeUint8(Tag.NIL_EXT);
  }

  /** BINARY_EXT: Len:32, Data. */
  writeBinary(bytes: Uint8Array): void {
    this.ensure(5 + bytes.length);
    this.buf[this.pos++] = Tag.BINARY_EXT;
    this.dv.setUint32(this.pos, bytes.length);
    this.pos += 4;
    this.writeBytes(bytes);
  }

  /**
   * BINARY_EXT whose Data is not copied into the buffer but referenced (see `takeChunks`): the
   * binary must not change until the chunks are written.
   */
  writeBinaryByReference(bytes: Uint8Array): void {
    this.ensure(5);
    this.buf[this.pos++] = Tag.BINARY_EXT;
    this.dv.setUint32(this.pos, bytes.length);
    this.pos += 4;
    this.reference(bytes);
  }

  /** BIT_BINARY_EXT: Len:32, Bits:8, Data with the unused low bits of the last byte cleared. */
  writeBitBinary(b: BitBinary): void {
    const { bytes, bits } = b;
    if (!Number.isInteger(bits) || bits < 1 || bits > 8) throw new EncodeError(`BitBinary with ${bits} bits in its last byte (1..8)`);
    if (bits === 8 || bytes.length === 0) {
      this.writeBinary(bytes);
      return;
    }
    this.ensure(6 + bytes.length);
    this.buf[this.pos++] = Tag.BIT_BINARY_EXT;
    this.dv.setUint32(this.pos, bytes.length);
    this.pos += 4;
    this.buf[this.pos++] = bits;
    this.writeBytes(bytes);
    this.buf[this.pos - 1] = (bytes[bytes.length - 1] as number) & (0xff << (8 - bits));
  }

  /** NEW_PID_EXT: Node, ID:32, Serial:32, Creation:32. */
  writePid(p: Pid): void {
    if (!isUint32(p.id) || !isUint32(p.serial) || !isUint32(p.creation)) throw new EncodeError(`pid ${String(p)} has a field outside 0..2^32-1`);
    this.writeUint8(Tag.NEW_PID_EXT);
    this.writeAtom(p.node);
    this.ensure(12);
    this.dv.setUint32(this.pos, p.id);
    this.dv.setUint32(this.pos + 4, p.serial);
    this.dv.setUint32(this.pos + 8, p.creation);
    this.pos += 12;
  }

  /** NEWER_REFERENCE_EXT: Len:16, Node, Creation:32, ID:32 × Len. */
  writeRef(r: Ref): void {
    const { ids } = r;
    if (ids.length < 1 || ids.length > MAX_REF_WORDS) throw new EncodeError(`reference with ${ids.length} id words (1..${MAX_REF_WORDS})`);
    if (!isUint32(r.creation) || !ids.every(isUint32)) throw new EncodeError(`reference ${String(r)} has a field outside 0..2^32-1`);
    this.ensure(3);
    this.buf[this.pos++] = Tag.NEWER_REFERENCE_EXT;
    this.dv.setUint16(this.pos, ids.length);
    this.pos += 2;
    this.writeAtom(r.node);
    this.ensure(4 + 4 * ids.length);
    this.dv.setUint32(this.pos, r.creation);
    this.pos += 4;
    for (const id of ids) {
      this.dv.setUint32(this.pos, id);
      this.pos += 4;
    }
  }

  /** V4_PORT_EXT: Node, ID:64, Creation:32 (or NEW_PORT_EXT: Node, ID:32, Creation:32 without v4Ports). */
  writePort(p: Port): void {
    const id = typeof p.id === 'bigint' ? p.id : Number.isSafeInteger(p.id) ? BigInt(p.id) : -1n;
    if (id < 0n || id > 0xffff_ffff_ffff_ffffn || !isUint32(p.creation)) throw new EncodeError(`port ${String(p)} has a field out of range`);
    if (!this.v4Ports) {
      if (id > 0xffff_ffffn) throw new EncodeError(`port ${String(p)} has a 64-bit id, which a peer without DFLAG_V4_NC cannot take`);
      this.writeUint8(Tag.NEW_PORT_EXT);
      this.writeAtom(p.node);
      this.ensure(8);
      this.dv.setUint32(this.pos, Number(id));
      this.dv.setUint32(this.pos + 4, p.creation);
      this.pos += 8;
      return;
    }
    this.writeUint8(Tag.V4_PORT_EXT);
    this.writeAtom(p.node);
    this.ensure(12);
    this.dv.setBigUint64(this.pos, id);
    this.dv.setUint32(this.pos + 8, p.creation);
    this.pos += 12;
  }

  /** EXPORT_EXT: Module (atom), Function (atom), Arity (SMALL_INTEGER_EXT). */
  writeExport(e: ErlExport): void {
    if (!Number.isInteger(e.arity) || e.arity < 0 || e.arity > 0xff) throw new EncodeError(`fun ${e.module.name}:${e.fun.name}/${e.arity}: arity outside 0..255`);
    this.writeUint8(Tag.EXPORT_EXT);
    this.writeAtom(e.module);
    this.writeAtom(e.fun);
    this.writeInteger(e.arity);
  }

  /** Writes `true` or `false` as the atom of that name (Erlang has no boolean type). */
  writeBoolean(v: boolean): void {
    this.writeAtom(v ? atoms.true : atoms.false);
  }
}
