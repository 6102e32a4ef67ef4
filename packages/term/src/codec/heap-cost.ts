/**
 * The decode cost model: how many bytes of JS heap each decoded term makes V8 allocate, so that one
 * decode can be held to `maxHeapBytes` before it allocates, whatever the peer sends. Bytes on the
 * wire are a poor measure: an empty map is 5 bytes and 216 bytes of heap, NIL 1 byte and 32,
 * ATOM_CACHE_REF 2 bytes and nothing but its slot.
 *
 * Measured on Node 20 (V8 11.3, x64, no pointer compression: 8-byte pointers) with a million of
 * each shape in a list, heap after GC (`packages/term/test/codec/heap-budget.test.ts` checks that
 * the model stays an upper bound of what V8 really takes). Every term also costs its SLOT in the
 * element array of its parent; that is charged when the parent announces its elements.
 */
export const HeapCost = {
  /** A pointer in an element array. Integers (small), atoms, `true`/`false` cost nothing more. */
  SLOT: 8,
  /** A JSArray (32) with its element store header (16); its n slots are charged as n × SLOT. */
  ARRAY: 48,
  /** NIL, `[]`: a JSArray sharing V8's empty element store. */
  NIL: 32,
  /** A Tuple object; its elements are an ARRAY. */
  TUPLE: 32,
  /** An ImproperList object; its items are an ARRAY. */
  IMPROPER: 40,
  /** An ErlMap with its empty JS Map. */
  MAP: 224,
  /** One map entry: the `[key, value]` pair and the hash table's share; plus the key's text (`keyCost`). */
  MAP_ENTRY: 120,
  /** A Uint8Array view into the input. */
  BINARY: 96,
  /** A copied binary (copyBinaries, or a bitstring whose unused bits are cleared): its ArrayBuffer; plus its bytes. */
  BINARY_COPY: 112,
  /** The BitBinary around a binary whose last byte is partial. */
  BIT_BINARY: 40,
  /** A float that is not integral: a HeapNumber. */
  FLOAT: 16,
  /** An integral float as ErlFloat. */
  ERL_FLOAT: 32,
  /** A bigint; plus its magnitude rounded up to 8 bytes, and the hex text it is built from (2 bytes a byte). 24: CI measured 53 bytes for a 7-byte bignum in a list, over the 16-byte figure's bound. */
  BIGINT: 24,
  /** A string of 2 characters or more (STRING_EXT, map key text): header and alignment; plus one byte a character. */
  STRING: 24,
  PID: 56,
  PORT: 48,
  /** A Ref and its id array; plus a SLOT per id word. */
  REF: 96,
  EXPORT: 48,
  /** An ErlFun and its FunHeader; its copied 16-byte Uniq is a copied binary; its free variables an ARRAY. */
  FUN: 176,
} as const;
