import { Atom } from '../model/atom.js';

/** Container kinds on the encoder's stack. */
export const FrameKind = { TUPLE: 0, LIST: 1, IMPROPER: 2, FUN: 3, MAP: 4, OBJECT: 5 } as const;

/** Steps shown at each end of a path deeper than twice this. */
const PATH_EDGE = 10;

/** What {@link encodePath} reads of an encoder stack frame. */
export interface PathStep {
  readonly kind: number;
  readonly items: unknown;
  readonly index: number;
  readonly aux: unknown;
}

/**
 * Where in the term the encoder was, for error messages: `$` is the whole term, `{2}` a tuple
 * element, `[3]` a list item, `.name` a plain-object key, `#{k}` the value under map key `k`,
 * `#key` a map key itself, `.freeVars[0]` a fun's environment. Indexes count from 0.
 */
export function encodePath(frames: readonly PathStep[], base: number, depth: number): string {
  let path = '';
  for (let i = base; i < depth; i++) {
    if (i === base + PATH_EDGE && depth - base > 2 * PATH_EDGE) {
      // A very deep path: keep both ends.
      path += `…(${depth - base - 2 * PATH_EDGE} levels)…`;
      i = depth - PATH_EDGE - 1;
      continue;
    }
    const f = frames[i] as PathStep;
    switch (f.kind) {
      case FrameKind.TUPLE:
        path += `{${f.index - 1}}`;
        break;
      case FrameKind.LIST:
      case FrameKind.IMPROPER:
        path += `[${f.index - 1}]`;
        break;
      case FrameKind.FUN:
        path += `.freeVars[${f.index - 1}]`;
        break;
      case FrameKind.OBJECT:
        path += `.${(f.items as string[])[f.index - 1]}`;
        break;
      default:
        path += f.index === 1 ? '#key' : `#{${shortKey((f.aux as [unknown, unknown])[0])}}`;
    }
  }
  return path === '' ? '' : '$' + path;
}

function shortKey(k: unknown): string {
  if (k instanceof Atom) return k.name;
  if (typeof k === 'string') return JSON.stringify(k.length > 20 ? k.slice(0, 20) + '…' : k);
  if (typeof k === 'number' || typeof k === 'bigint' || typeof k === 'boolean') return String(k);
  return describeValue(k);
}

/** "a function (f)", "symbol Symbol(x)", "a Date", …: what a value is, for error messages. */
export function describeValue(v: unknown): string {
  switch (typeof v) {
    case 'function':
      return v.name === '' ? 'a function' : `a function (${v.name})`;
    case 'symbol':
      return `symbol ${String(v)}`;
    case 'object': {
      if (v === null) return 'null';
      const name = (Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null)?.constructor?.name;
      return name === undefined || name === '' ? 'an object' : `a ${name}`;
    }
    default:
      return `${typeof v} ${String(v)}`;
  }
}
