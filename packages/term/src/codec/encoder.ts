import { EncodeError } from '../errors.js';
import { atom, atoms, Atom } from '../model/atom.js';
import { BitBinary, ErlFloat, flattenList, hasListTail, ImproperList, Tuple } from '../model/containers.js';
import { ErlExport, ErlFun } from '../model/fun.js';
import { Pid, Port, Ref } from '../model/identifiers.js';
import { ErlMap } from '../model/map.js';
import type { Term } from '../model/term.js';
import { describeValue, encodePath, FrameKind, type PathStep } from './encode-path.js';
import { FUN_UNIQ_BYTES, MAX_STRING_EXT, Tag, VERSION } from './tags.js';
import { ScalarWriter } from './write-scalars.js';

const { TUPLE, LIST, IMPROPER, FUN, MAP, OBJECT } = FrameKind;

/** An open container: what is left to write of it. Frames are pooled per encoder. */
class Frame implements PathStep {
  kind = 0;
  /** Tuple elements, list items, free variables, object keys; or the map's entry iterator. */
  items: unknown = null;
  index = 0;
  /** Improper tail, the object, or the map entry being written. */
  aux: unknown = null;
  /** Offset of a fun's Size field. */
  mark = 0;
}

const DONE: unique symbol = Symbol('done');

/** Default {@link Encoder.maxDepth}. */
export const DEFAULT_MAX_ENCODE_DEPTH = 100_000;

/**
 * Writes terms into one growable buffer, reused from message to message. A session writes a
 * whole frame into it: `reset()`, its own header bytes, then `writeVersion()`/`writeTerm()` as the
 * protocol wants, then `finish()` for a copy (or `subarray()` for a view valid until the next
 * reset). Containers are walked with an explicit stack, so deep terms do not exhaust the call
 * stack. Values with no Erlang form raise {@link EncodeError}.
 */
export class Encoder extends ScalarWriter {
  private readonly frames: Frame[] = [];
  private depth = 0;
  /** Deepest nesting `writeTerm` accepts; deeper means a cyclic term, almost certainly. */
  maxDepth: number;
  /**
   * Binaries (BINARY_EXT, Uint8Array) of at least this many bytes are referenced rather than
   * copied into the buffer: the writer takes the message with `takeChunks()` and writes the
   * binaries as chunks of their own (a writev). Default Infinity: every binary is copied, and
   * `take()`/`finish()` return one array either way. A binary inside a fun's environment is
   * always copied (the fun's Size field counts buffer bytes).
   */
  referenceMin: number;

  constructor(opts: { initialCapacity?: number; maxDepth?: number; referenceMin?: number } = {}) {
    super(opts.initialCapacity);
    this.maxDepth = opts.maxDepth ?? DEFAULT_MAX_ENCODE_DEPTH;
    this.referenceMin = opts.referenceMin ?? Infinity;
  }

  /** The version byte 131 that starts a standalone term. */
  writeVersion(): void {
    this.writeUint8(VERSION);
  }

  /** Append the encoding of `term` (no version byte). */
  writeTerm(term: Term): void {
    const base = this.depth;
    const start = this.pos;
    try {
      let t: Term = term;
      for (;;) {
        this.writeOne(t);
        let next: Term | typeof DONE = DONE;
        while (this.depth > base && (next = this.nextChild()) === DONE);
        if (next === DONE) return;
        t = next;
      }
    } catch (err) {
      const path = encodePath(this.frames, base, this.depth);
      while (this.depth > base) this.pop();
      this.truncate(start);
      if (err instanceof EncodeError && path !== '') throw new EncodeError(`${err.message}, at ${path}`, { cause: err.cause });
      throw err;
    }
  }

  /** Write a leaf, or the header of a container (pushing a frame when it has children). */
  private writeOne(t: Term): void {
    switch (typeof t) {
      case 'number':
        if (Number.isInteger(t)) this.writeInteger(t);
        else if (Number.isFinite(t)) this.writeFloat(t);
        else throw new EncodeError(`cannot encode ${t}: Erlang floats are finite`);
        return;
      case 'string':
        this.writeString(t);
        return;
      case 'boolean':
        this.writeBoolean(t);
        return;
      case 'bigint':
        this.writeBigInt(t);
        return;
      case 'undefined':
        this.writeAtom(atoms.undefined);
        return;
      case 'object':
        break;
      default:
        throw new EncodeError(`cannot encode ${describeValue(t)}`);
    }
    if (t === null) this.writeAtom(atoms.undefined);
    else if (t instanceof Atom) this.writeAtom(t);
    else if (t instanceof Tuple) this.writeTuple(t.elements);
    else if (Array.isArray(t)) this.writeList(t);
    else if (t instanceof Uint8Array) {
      if (t.length >= this.referenceMin && !this.inFun()) this.writeBinaryByReference(t);
      else this.writeBinary(t);
    } else if (t instanceof Pid) this.writePid(t);
    else if (t instanceof Ref) this.writeRef(t);
    else if (t instanceof ErlMap) this.writeMapHeader(t.size, MAP, t.entries(), null);
    else if (t instanceof ErlFloat) this.writeErlFloat(t.value);
    else if (t instanceof ImproperList) this.writeImproper(t);
    else if (t instanceof BitBinary) this.writeBitBinary(t);
    else if (t instanceof Port) this.writePort(t);
    else if (t instanceof ErlExport) this.writeExport(t);
    else if (t instanceof ErlFun) this.writeFun(t);
    else if (isPlainObject(t)) {
      const keys = Object.keys(t);
      this.writeMapHeader(keys.length, OBJECT, keys, t);
    } else throw new EncodeError(`cannot encode ${describeValue(t)}`);
  }

  /** The next child of the innermost container, or DONE after closing it. */
  private nextChild(): Term | typeof DONE {
    const f = this.frames[this.depth - 1] as Frame;
    switch (f.kind) {
      case MAP: {
        if (f.index === 1) {
          f.index = 0;
          return (f.aux as [Term, Term])[1];
        }
        const r = (f.items as Iterator<[Term, Term]>).next();
        if (r.done === true) break;
        f.aux = r.value;
        f.index = 1;
        return r.value[0];
      }
      case OBJECT: {
        const keys = f.items as string[];
        if (f.index >= keys.length) break;
        const key = keys[f.index++] as string;
        this.writeAtom(objectKey(key));
        return (f.aux as Record<string, Term>)[key];
      }
      default: {
        const items = f.items as Term[];
        if (f.index < items.length) return items[f.index++];
        if (f.kind === LIST) this.writeUint8(Tag.NIL_EXT);
        else if (f.kind === FUN) this.setUint32At(f.mark, this.pos - f.mark);
        else if (f.kind === IMPROPER) {
          const tail = f.aux as Term;
          this.pop();
          return tail;
        }
      }
    }
    this.pop();
    return DONE;
  }

  /** Whether a fun's environment is open (its Size field is patched from buffer offsets). */
  private inFun(): boolean {
    for (let i = 0; i < this.depth; i++) if ((this.frames[i] as Frame).kind === FUN) return true;
    return false;
  }

  private push(kind: number, items: unknown, aux: unknown, mark: number): void {
    if (this.depth >= this.maxDepth) throw new EncodeError(`term nests deeper than ${this.maxDepth} (a cycle?)`);
    let f = this.frames[this.depth];
    if (f === undefined) this.frames.push((f = new Frame()));
    f.kind = kind;
    f.items = items;
    f.index = 0;
    f.aux = aux;
    f.mark = mark;
    this.depth++;
  }

  private pop(): void {
    const f = this.frames[--this.depth] as Frame;
    f.items = null;
    f.aux = null;
  }

  /** SMALL_TUPLE_EXT (Arity:8) or LARGE_TUPLE_EXT (Arity:32), then the elements. */
  private writeTuple(elements: Term[]): void {
    const n = elements.length;
    if (n <= 0xff) {
      this.ensure(2);
      this.buf[this.pos++] = Tag.SMALL_TUPLE_EXT;
      this.buf[this.pos++] = n;
    } else {
      this.writeUint8(Tag.LARGE_TUPLE_EXT);
      this.writeUint32(n);
    }
    if (n > 0) this.push(TUPLE, elements, null, 0);
  }

  /**
   * A proper list: NIL_EXT when empty; STRING_EXT when it has at most 65535 elements, all integers
   * 0..255 (as OTP writes such lists); otherwise LIST_EXT: Len:32, Elements, NIL_EXT.
   */
  private writeList(items: Term[]): void {
    const n = items.length;
    if (n === 0) {
      this.writeUint8(Tag.NIL_EXT);
    } else if (n <= MAX_STRING_EXT && isByteList(items)) {
      this.ensure(3 + n);
      this.buf[this.pos++] = Tag.STRING_EXT;
      this.buf[this.pos++] = n >> 8;
      this.buf[this.pos++] = n & 0xff;
      for (let i = 0; i < n; i++) this.buf[this.pos++] = Number(items[i]);
    } else {
      this.writeUint8(Tag.LIST_EXT);
      this.writeUint32(n);
      this.push(LIST, items, null, 0);
    }
  }

  /**
   * `[a, b | tail]`: LIST_EXT with the tail in place of NIL_EXT; `[ | tail]` is just the tail. A
   * tail that is a list is flattened first, so the bytes are those of the list Erlang sees.
   */
  private writeImproper(l: ImproperList): void {
    let { items, tail } = l;
    if (hasListTail(l)) {
      const flat = flattenList(l);
      if (flat.proper) return this.writeList(flat.items);
      ({ items, tail } = flat);
    }
    if (items.length > 0) {
      this.writeUint8(Tag.LIST_EXT);
      this.writeUint32(items.length);
    }
    this.push(IMPROPER, items, tail, 0);
  }

  /** MAP_EXT: Arity:32, then key, value, key, value… in iteration order. */
  private writeMapHeader(size: number, kind: number, items: unknown, aux: unknown): void {
    this.writeUint8(Tag.MAP_EXT);
    this.writeUint32(size);
    if (size > 0) this.push(kind, items, aux, 0);
  }

  private writeErlFloat(v: number): void {
    if (!Number.isFinite(v)) throw new EncodeError(`cannot encode float(${v}): Erlang floats are finite`);
    this.writeFloat(v);
  }

  /**
   * NEW_FUN_EXT: Size:32, Arity:8, Uniq:16 bytes, Index:32, NumFree:32, Module, OldIndex,
   * OldUniq, Pid, free variables. Size counts from itself to the end; it is patched at the end.
   */
  private writeFun(f: ErlFun): void {
    if (f.uniq.length !== FUN_UNIQ_BYTES) throw new EncodeError(`fun uniq has ${f.uniq.length} bytes, not ${FUN_UNIQ_BYTES}`);
    if (!isInt32(f.oldIndex) || !isInt32(f.oldUniq) || (f.arity & 0xff) !== f.arity || f.index >>> 0 !== f.index) {
      throw new EncodeError(`fun ${f.module.name}/${f.arity} has a field out of range`);
    }
    this.writeUint8(Tag.NEW_FUN_EXT);
    const mark = this.pos;
    this.writeUint32(0);
    this.writeUint8(f.arity);
    this.writeBytes(f.uniq);
    this.writeUint32(f.index);
    this.writeUint32(f.freeVars.length);
    this.writeAtom(f.module);
    this.writeInteger(f.oldIndex);
    this.writeInteger(f.oldUniq);
    this.writePid(f.pid);
    if (f.freeVars.length > 0) this.push(FUN, f.freeVars, null, mark);
    else this.setUint32At(mark, this.pos - mark);
  }
}

function isInt32(v: number): boolean {
  return (v | 0) === v;
}

function isByteList(items: Term[]): boolean {
  for (const e of items) {
    if (typeof e === 'number' ? (e & 0xff) !== e : typeof e !== 'bigint' || e < 0n || e > 0xffn) return false;
  }
  return true;
}

function isPlainObject(t: object): t is Record<string, Term> {
  const proto = Object.getPrototypeOf(t) as unknown;
  return proto === Object.prototype || proto === null;
}

function objectKey(key: string): Atom {
  try {
    return atom(key);
  } catch (err) {
    throw new EncodeError(`object key ${JSON.stringify(key.slice(0, 40))}… is too long for an atom`, { cause: err });
  }
}
