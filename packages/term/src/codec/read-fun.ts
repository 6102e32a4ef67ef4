import { EtfErrorCode } from '../errors.js';
import type { Atom } from '../model/atom.js';
import { ErlExport, ErlFun } from '../model/fun.js';
import type { Pid } from '../model/identifiers.js';
import type { Term } from '../model/term.js';
import type { Cursor } from './cursor.js';
import { HeapCost } from './heap-cost.js';
import { readAtom, readPidTerm, readSmallInt } from './scalars.js';
import { FUN_UNIQ_BYTES } from './tags.js';

/** The fixed part of a NEW_FUN_EXT, read before its free variables. */
export interface FunHeader {
  /** Offset of the Size field, which counts the bytes from itself to the end of the fun. */
  readonly sizeAt: number;
  readonly size: number;
  readonly arity: number;
  readonly uniq: Uint8Array;
  readonly index: number;
  readonly numFree: number;
  readonly module: Atom;
  readonly oldIndex: number;
  readonly oldUniq: number;
  readonly pid: Pid;
}

/**
 * NEW_FUN_EXT: Size:32, Arity:8, Uniq:16 bytes, Index:32, NumFree:32, Module (atom),
 * OldIndex (integer), OldUniq (integer), Pid, then NumFree free-variable terms.
 */
export function readFunHeader(c: Cursor): FunHeader {
  c.charge(HeapCost.FUN, c.pos - 1);
  const sizeAt = c.pos;
  const size = c.u32('fun size');
  const arity = c.u8('fun arity');
  // Always copied: 16 bytes, and a fun should not pin the whole input buffer.
  const uniq = c.bytes(FUN_UNIQ_BYTES, 'fun uniq', true);
  const index = c.u32('fun index');
  const numFree = c.u32('fun free variable count');
  const module = readAtom(c);
  const oldIndex = readSmallInt(c, 'fun old index');
  const oldUniq = readSmallInt(c, 'fun old uniq');
  const pid = readPidTerm(c);
  return { sizeAt, size, arity, uniq, index, numFree, module, oldIndex, oldUniq, pid };
}

/** The fun, once its free variables are read; checks the Size field against what was read. */
export function finishFun(c: Cursor, h: FunHeader, freeVars: Term[], at: number): ErlFun {
  const actual = c.pos - h.sizeAt;
  if (actual !== h.size) c.fail(EtfErrorCode.BAD_VALUE, `NEW_FUN_EXT size field says ${h.size} bytes, the fun has ${actual}`, at);
  return new ErlFun(h.arity, h.uniq, h.index, h.module, h.oldIndex, h.oldUniq, h.pid, freeVars);
}

/** EXPORT_EXT: Module (atom), Function (atom), Arity (SMALL_INTEGER_EXT; OTP also takes INTEGER_EXT). */
export function readExport(c: Cursor, at: number): ErlExport {
  c.charge(HeapCost.EXPORT, at);
  const module = readAtom(c);
  const fun = readAtom(c);
  const arity = readSmallInt(c, 'export arity');
  if (arity < 0 || arity > 255) c.fail(EtfErrorCode.BAD_VALUE, `export arity ${arity} is outside 0..255`, at);
  return new ErlExport(module, fun, arity);
}
