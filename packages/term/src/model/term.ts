import type { Atom } from './atom.js';
import type { BitBinary, ErlFloat, ImproperList, Tuple } from './containers.js';
import type { ErlExport, ErlFun } from './fun.js';
import type { Pid, Port, Ref } from './identifiers.js';
import type { ErlMap } from './map.js';

/**
 * A Courier term: the JS shape of an Erlang term. See docs/terms.md for the full mapping, the
 * encodings written and what round-trips.
 *
 * | Erlang                     | JS                                                        |
 * |----------------------------|-----------------------------------------------------------|
 * | atom                       | `Atom` (interned); `true`/`false` ⇄ `boolean`             |
 * | atom `undefined`           | `Atom`; JS `null` and `undefined` encode to it            |
 * | integer                    | `number` when safe, `bigint` beyond 2^53                  |
 * | float                      | `number` (non-integral) or `ErlFloat` (integral value)    |
 * | binary                     | `Uint8Array` (Buffer is one; decoded ones are views)      |
 * | bitstring                  | `BitBinary`                                               |
 * | string (STRING_EXT, bytes) | `string` (each char ≤ 0xFF); other strings encode as a    |
 * |                            | list of code points, `""` as `[]`                         |
 * | proper list                | `Term[]`                                                  |
 * | improper list              | `ImproperList`                                            |
 * | tuple                      | `Tuple`                                                   |
 * | map                        | `ErlMap` (plain objects encode as maps with atom keys)    |
 * | pid / reference / port     | `Pid` / `Ref` / `Port`                                    |
 * | fun M:F/A / local fun      | `ErlExport` / `ErlFun` (opaque)                           |
 */
export type Term =
  | Atom
  | boolean
  | number
  | bigint
  | ErlFloat
  | string
  | Uint8Array
  | BitBinary
  | Term[]
  | ImproperList
  | Tuple
  | ErlMap
  | Pid
  | Ref
  | Port
  | ErlExport
  | ErlFun
  | { readonly [key: string]: Term }
  | null
  | undefined;
