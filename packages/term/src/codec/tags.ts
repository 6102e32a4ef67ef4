/**
 * Tag bytes of the external term format (erts/doc/guides/erl_ext_dist.md), with the names the
 * OTP documentation gives them. Layouts are commented where each tag is parsed and written.
 */
export const VERSION = 131;

/**
 * Tag bytes of the external term format, named as erts/doc/guides/erl_ext_dist.md names them
 * (`SMALL_TUPLE_EXT: 104`, …).
 */
export const Tag = {
  NEW_FLOAT_EXT: 70,
  BIT_BINARY_EXT: 77,
  COMPRESSED: 80,
  ATOM_CACHE_REF: 82,
  NEW_PID_EXT: 88,
  NEW_PORT_EXT: 89,
  NEWER_REFERENCE_EXT: 90,
  SMALL_INTEGER_EXT: 97,
  INTEGER_EXT: 98,
  FLOAT_EXT: 99,
  ATOM_EXT: 100,
  REFERENCE_EXT: 101,
  PORT_EXT: 102,
  PID_EXT: 103,
  SMALL_TUPLE_EXT: 104,
  LARGE_TUPLE_EXT: 105,
  NIL_EXT: 106,
  STRING_EXT: 107,
  LIST_EXT: 108,
  BINARY_EXT: 109,
  SMALL_BIG_EXT: 110,
  LARGE_BIG_EXT: 111,
  NEW_FUN_EXT: 112,
  EXPORT_EXT: 113,
  NEW_REFERENCE_EXT: 114,
  SMALL_ATOM_EXT: 115,
  MAP_EXT: 116,
  FUN_EXT: 117,
  ATOM_UTF8_EXT: 118,
  SMALL_ATOM_UTF8_EXT: 119,
  V4_PORT_EXT: 120,
  LOCAL_EXT: 121,
} as const;
/** One tag byte of the external term format: a value of {@link Tag}. */
export type Tag = (typeof Tag)[keyof typeof Tag];

const names = new Map<number, string>(Object.entries(Tag).map(([name, tag]) => [tag, name]));

/** `'SMALL_TUPLE_EXT (104)'`, or `'tag 7'` for bytes that are not tags; for error messages. */
export function tagName(tag: number): string {
  const name = names.get(tag);
  return name === undefined ? `tag ${tag}` : `${name} (${tag})`;
}

/** Most id words a NEWER_REFERENCE_EXT may carry (V4_NC). */
export const MAX_REF_WORDS = 5;
/** Longest STRING_EXT: its length field is 16 bits. */
export const MAX_STRING_EXT = 0xffff;
/** Bytes of FLOAT_EXT's `%.20e` text field. */
export const FLOAT_EXT_BYTES = 31;
/** Bytes of a NEW_FUN_EXT Uniq (the module's MD5). */
export const FUN_UNIQ_BYTES = 16;
