import { EtfErrorCode } from '../errors.js';
import { Atom, atoms } from '../model/atom.js';
import { BitBinary, ImproperList, Tuple } from '../model/containers.js';
import { keyCost } from '../model/key.js';
import { ErlMap } from '../model/map.js';
import type { Term } from '../model/term.js';
import { Cursor } from './cursor.js';
import { HeapCost } from './heap-cost.js';
import { MAX_ELEMENTS, MAX_MAP_ENTRIES } from './limits.js';
import { finishFun, readExport, readFunHeader, type FunHeader } from './read-fun.js';
import { readAtomBody, readBig, readNewFloat, readOldFloat, readPid, readPort, readRef } from './scalars.js';
import { Tag, tagName } from './tags.js';
import { latin1 } from './text.js';

const { TRUNCATED, LIMIT, BAD_VALUE, UNKNOWN_TAG, UNSUPPORTED_TAG } = EtfErrorCode;

const TUPLE = 0;
const LIST = 1;
const MAP = 2;
const FUN = 3;

/** The items of a map frame: never written. */
const NO_ITEMS: Term[] = [];
/** Longest map key text: V8's strings end at 2^29 - 24 characters. */
const MAX_KEY_CHARS = 1 << 28;
/**
 * A list whose tail continues it (LIST_EXT or STRING_EXT tails, which OTP accepts) grows past the
 * array made for its first items: each further element may cost half a slot more as V8 grows it.
 */
const GROWN_SLOT = HeapCost.SLOT + HeapCost.SLOT / 2;

/** An open container on the explicit stack. One fixed shape for every kind. */
class Frame {
  constructor(
    readonly kind: number,
    /** Offset of the container's tag, for errors. */
    readonly at: number,
    /** Children still to read (for a list: items, not counting the tail). */
    public remaining: number,
    /** Element array, made at its final size when the count is known, filled through `fill`. */
    readonly items: Term[],
    readonly map: ErlMap | null,
    readonly fun: FunHeader | null,
  ) {}
  /** List: the items are read and the next term is the improper tail. Map: a key awaits its value. */
  flag = false;
  key: Term = undefined;
  /** Items written so far. */
  fill = 0;
}

/**
 * The decoder proper: one pass over the input with a cursor and an explicit stack of open
 * containers, so nesting depth costs heap, not call stack, and is bounded by `maxDepth`.
 *
 * Allocation is bounded twice. By the input: `pending` counts the terms announced by open
 * containers and not yet started; each needs at least one byte, so a container may announce no
 * more children than `end - pos - pending`, and a 4-byte length of 2^32-1 fails before any array
 * exists. By the heap budget (`maxHeapBytes`): each term is charged what V8 will allocate for it
 * (`HeapCost`) before it is made, a container for itself and the slots of all its elements when it
 * opens, a map entry for its key's text before the key is built.
 */
export class Decoder extends Cursor {
  private readonly stack: Frame[] = [];
  private pending = 1;

  /** Decode one term starting at `pos` (no version byte; no compressed tag here). */
  term(): Term {
    const stack = this.stack;
    let value: Term;
    next: for (;;) {
      const at = this.pos;
      this.pending--;
      const tag = this.u8('term');
      switch (tag) {
        case Tag.SMALL_INTEGER_EXT: // UInt8
          value = this.u8('SMALL_INTEGER_EXT');
          break;
        case Tag.INTEGER_EXT: // Int32
          value = this.i32('INTEGER_EXT');
          break;
        case Tag.SMALL_ATOM_UTF8_EXT:
        case Tag.ATOM_UTF8_EXT:
        case Tag.ATOM_EXT:
        case Tag.SMALL_ATOM_EXT:
        case Tag.ATOM_CACHE_REF: {
          const a = readAtomBody(this, tag, at);
          value = a === atoms.true ? true : a === atoms.false ? false : a;
          break;
        }
        case Tag.SMALL_TUPLE_EXT: // Arity:8, Elements
        case Tag.LARGE_TUPLE_EXT: {
          // Arity:32, Elements
          const n = tag === Tag.SMALL_TUPLE_EXT ? this.u8('tuple arity') : this.u32('tuple arity');
          if (n === 0) {
            this.charge(HeapCost.TUPLE + HeapCost.NIL, at);
            value = new Tuple([]);
            break;
          }
          this.open(TUPLE, at, n, n, null, null);
          continue next;
        }
        case Tag.NIL_EXT:
          this.charge(HeapCost.NIL, at);
          value = [];
          break;
        case Tag.STRING_EXT: {
          // Len:16, Characters (one byte each)
          const n = this.u16('string length');
          this.need(n, 'string');
          if (n > 1) this.charge(HeapCost.STRING + n, at);
          value = latin1(this.buf, this.pos, this.pos + n);
          this.pos += n;
          break;
        }
        case Tag.LIST_EXT: {
          // Len:32, Elements, Tail
          const n = this.u32('list length');
          const f = this.open(LIST, at, n, n + 1, null, null);
          if (n > 0 || this.listTail(f)) continue next;
          value = this.pop(f.items);
          break;
        }
        case Tag.BINARY_EXT: // Len:32, Data
          value = this.bytes(this.u32('binary length'), 'binary');
          break;
        case Tag.BIT_BINARY_EXT:
          value = this.bitBinary(at);
          break;
        case Tag.NEW_FLOAT_EXT:
          value = readNewFloat(this, at);
          break;
        case Tag.SMALL_BIG_EXT:
        case Tag.LARGE_BIG_EXT:
          value = readBig(this, tag, at);
          break;
        case Tag.NEW_PID_EXT:
        case Tag.PID_EXT:
          value = readPid(this, tag);
          break;
        case Tag.NEWER_REFERENCE_EXT:
        case Tag.NEW_REFERENCE_EXT:
        case Tag.REFERENCE_EXT:
          value = readRef(this, tag, at);
          break;
        case Tag.V4_PORT_EXT:
        case Tag.NEW_PORT_EXT:
        case Tag.PORT_EXT:
          value = readPort(this, tag);
          break;
        case Tag.MAP_EXT: {
          // Arity:32, then Arity key/value pairs
          const n = this.u32('map arity');
          if (n === 0) {
            this.charge(HeapCost.MAP, at);
            value = new ErlMap();
            break;
          }
          this.open(MAP, at, n, 2 * n, new ErlMap(), null);
          continue next;
        }
        case Tag.EXPORT_EXT:
          value = readExport(this, at);
          break;
        case Tag.NEW_FUN_EXT: {
          const h = readFunHeader(this);
          if (h.numFree === 0) {
            value = finishFun(this, h, [], at);
            break;
          }
          this.open(FUN, at, h.numFree, h.numFree, null, h);
          continue next;
        }
        case Tag.FLOAT_EXT:
          value = readOldFloat(this, at);
          break;
        case Tag.COMPRESSED:
          return this.fail(UNSUPPORTED_TAG, 'a compressed term (80) may only stand at the top level', at);
        case Tag.LOCAL_EXT:
          return this.fail(UNSUPPORTED_TAG, 'LOCAL_EXT (121) is only meaningful inside the node that made it', at);
        case Tag.FUN_EXT:
          return this.fail(UNSUPPORTED_TAG, 'FUN_EXT (117) was removed in OTP 23', at);
        default:
          return this.fail(UNKNOWN_TAG, `unknown ${tagName(tag)}`, at);
      }

      // Deliver `value` to the innermost open container, closing every container it completes.
      for (;;) {
        // Checked by length: reading stack[-1] is a lookup of the property "-1" up the prototype chain.
        if (stack.length === 0) return value;
        const f = stack[stack.length - 1] as Frame;
        switch (f.kind) {
          case TUPLE:
            f.items[f.fill++] = value;
            if (--f.remaining > 0) continue next;
            value = this.pop(new Tuple(f.items));
            break;
          case LIST:
            if (f.flag) {
              if (f.fill > 0) this.charge(HeapCost.IMPROPER, f.at);
              value = this.pop(f.fill === 0 ? value : new ImproperList(f.items, value));
              break;
            }
            f.items[f.fill++] = value;
            if (--f.remaining > 0 || this.listTail(f)) continue next;
            value = this.pop(f.items);
            break;
          case MAP: {
            if (!f.flag) {
              f.key = value;
              f.flag = true;
              continue next;
            }
            const map = f.map as ErlMap;
            const size = map.size;
            this.chargeKey(f.key, f.at);
            map.set(f.key, value);
            if (map.size === size) this.fail(BAD_VALUE, `map has a duplicate key after ${size} entries`, f.at);
            f.flag = false;
            f.key = undefined;
            if (--f.remaining > 0) continue next;
            value = this.pop(map);
            break;
          }
          default:
            f.items[f.fill++] = value;
            if (--f.remaining > 0) continue next;
            value = this.pop(finishFun(this, f.fun as FunHeader, f.items, f.at));
        }
      }
    }
  }

  /**
   * Push a container announcing `slots` child terms, after checking them against the input left,
   * the element limits, the depth and the heap budget, in that order.
   */
  private open(kind: number, at: number, n: number, slots: number, map: ErlMap | null, fun: FunHeader | null): Frame {
    if (slots > this.end - this.pos - this.pending) {
      this.fail(TRUNCATED, `${tagName(this.buf[at] as number)} announces ${n} elements, more than the input holds`, at);
    }
    if (n > (kind === MAP ? MAX_MAP_ENTRIES : MAX_ELEMENTS)) {
      this.fail(LIMIT, `${tagName(this.buf[at] as number)} of ${n} elements is more than a JS ${kind === MAP ? 'Map' : 'array'} can hold here`, at);
    }
    if (this.stack.length >= this.limits.maxDepth) this.fail(LIMIT, `terms nest deeper than maxDepth ${this.limits.maxDepth}`, at);
    if (kind === MAP) this.charge(HeapCost.MAP + n * HeapCost.MAP_ENTRY, at);
    else this.charge((kind === TUPLE ? HeapCost.TUPLE + HeapCost.ARRAY : HeapCost.ARRAY) + n * HeapCost.SLOT, at);
    this.pending += slots;
    const f = new Frame(kind, at, n, kind === MAP ? NO_ITEMS : new Array<Term>(n), map, fun);
    this.stack.push(f);
    return f;
  }

  /** A map key is kept as its `termKey` text: charge that text (atoms' keys are shared) before it is built. */
  private chargeKey(key: Term, at: number): void {
    if (key instanceof Atom || typeof key === 'boolean') return;
    if (key instanceof Uint8Array) {
      // `b`, at most 10 digits of length, `:`, a char per byte (model/key.ts): no walk needed.
      this.charge(HeapCost.STRING + key.length + 12, at);
      return;
    }
    const chars = keyCost(key, Math.min(this.heapLeft, MAX_KEY_CHARS));
    if (chars > MAX_KEY_CHARS) this.fail(LIMIT, `a map key whose text would pass ${MAX_KEY_CHARS} characters`, at);
    this.charge(HeapCost.STRING + chars, at);
  }

  private pop(value: Term): Term {
    this.stack.pop();
    return value;
  }

  /**
   * After a list's items comes its tail. NIL ends the list; STRING_EXT and LIST_EXT tails (which
   * OTP never writes, but accepts) continue the same list, so `[1 | [2]]` decodes as `[1, 2]`.
   * Returns true when more terms belong to this frame: further items, or an improper tail.
   */
  private listTail(f: Frame): boolean {
    for (;;) {
      const at = this.pos;
      if (at >= this.end) this.need(1, 'list tail');
      const tag = this.buf[at] as number;
      if (tag === Tag.NIL_EXT) {
        this.pos++;
        this.pending--;
        return false;
      }
      if (tag === Tag.STRING_EXT) {
        this.pos++;
        this.pending--;
        const n = this.u16('string length');
        this.need(n, 'string');
        this.grow(f, n, at);
        const { buf, pos } = this;
        const items = f.items;
        for (let i = pos; i < pos + n; i++) items[f.fill++] = buf[i];
        this.pos += n;
        return false;
      }
      if (tag !== Tag.LIST_EXT) {
        f.flag = true;
        return true;
      }
      this.pos++;
      this.pending--;
      const n = this.u32('list length');
      if (n + 1 > this.end - this.pos - this.pending) this.fail(TRUNCATED, `list tail announces ${n} elements, more than the input holds`, at);
      this.grow(f, n, at);
      this.pending += n + 1;
      if (n > 0) {
        f.remaining = n;
        return true;
      }
    }
  }

  /** A list tail adds `n` items to the list of `f`: check the element limit, charge the slots. */
  private grow(f: Frame, n: number, at: number): void {
    if (f.fill + n > MAX_ELEMENTS) this.fail(LIMIT, `a list of more than ${MAX_ELEMENTS} elements is more than a JS array can hold here`, at);
    this.charge(n * GROWN_SLOT, at);
  }

  /**
   * BIT_BINARY_EXT: Len:32, Bits:8 (bits used in the last byte, 1..8; 0 only when Len is 0), Data.
   * Unused low bits of the last byte are cleared, as OTP does, so equal bitstrings compare equal.
   */
  private bitBinary(at: number): Uint8Array | BitBinary {
    const len = this.u32('bitstring length');
    const bits = this.u8('bitstring bits');
    if (len === 0 ? bits !== 0 : bits < 1 || bits > 8) this.fail(BAD_VALUE, `bitstring of ${len} bytes with ${bits} bits in the last byte`, at);
    this.need(len, 'bitstring');
    const last = this.buf[this.pos + len - 1] as number;
    const mask = (0xff << (8 - bits)) & 0xff;
    const clean = len === 0 || bits === 8 || (last & ~mask) === 0;
    const bytes = this.bytes(len, 'bitstring', !clean || this.limits.copyBinaries);
    if (len === 0 || bits === 8) return bytes;
    if (!clean) bytes[len - 1] = last & mask;
    this.charge(HeapCost.BIT_BINARY, at);
    return new BitBinary(bytes, bits);
  }
}
