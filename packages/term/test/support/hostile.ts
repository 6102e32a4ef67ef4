import { deflateSync } from 'node:zlib';
import v8 from 'node:v8';
import vm from 'node:vm';
import { atom, ProtocolError, type Atom } from '@courier/term';

/**
 * Frames that cost V8 far more heap than their bytes (and a few that do not), for the heap budget
 * tests. An element is the bytes of one term without a version byte, the same size for every
 * `i`; `listFrame` repeats it inside one LIST_EXT. Atoms come through ATOM_CACHE_REF 0 (a 255-character atom) and 1 (a node
 * name), as after a distribution header: 2 bytes on the wire each.
 */
export const LONG_ATOM: Atom = atom('a'.repeat(255));
export const NODE_ATOM: Atom = atom('bomb@127.0.0.1');
export const atomCache = (i: number): Atom | undefined => (i === 0 ? LONG_ATOM : i === 1 ? NODE_ATOM : undefined);

const FUN_UNIQ = new Array<number>(16).fill(7);

/** Elements by name: each returns the bytes of element `i`. */
export const SHAPES: Record<string, (i: number) => number[]> = {
  NIL_EXT: () => [106],
  SMALL_INTEGER_EXT: (i) => [97, i & 0xff],
  ATOM_CACHE_REF: () => [82, 0],
  'empty tuple': () => [104, 0],
  'tuple {X}': (i) => [104, 1, 97, i & 0xff],
  'empty map': () => [116, 0, 0, 0, 0],
  'map #{X => []}': (i) => [116, 0, 0, 0, 1, 97, i & 0xff, 106],
  '1-byte binary': (i) => [109, 0, 0, 0, 1, i & 0xff],
  'empty binary': () => [109, 0, 0, 0, 0],
  'bitstring, dirty last byte': () => [77, 0, 0, 0, 1, 1, 0xff],
  'STRING_EXT of 2': (i) => [107, 0, 2, 65 + (i % 26), 66],
  float: (i) => [70, 0x3f, 0xf1, 0, 0, 0, 0, (i >> 8) & 0xff, i & 0xff],
  'integral float': () => [70, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0],
  'bignum of 7 bytes': (i) => [110, 7, 0, 1, 2, 3, 4, 5, 6, 1 + (i & 0x7f)],
  pid: (i) => [88, 82, 1, 0, 0, (i >> 8) & 0xff, i & 0xff, 0, 0, 0, 0, 0, 0, 0, 1],
  reference: (i) => [90, 0, 1, 82, 1, 0, 0, 0, 1, 0, 0, (i >> 8) & 0xff, i & 0xff],
  port: (i) => [89, 82, 1, 0, 0, (i >> 8) & 0xff, i & 0xff, 0, 0, 0, 1],
  export: () => [113, 82, 0, 82, 0, 97, 1],
  'improper [X | Y]': () => [108, 0, 0, 0, 1, 97, 0, 97, 0],
  'list [X]': () => [108, 0, 0, 0, 1, 97, 0, 106],
  // NEW_FUN_EXT, no free variables: Size counts from itself to the end (50 bytes).
  fun: () => [112, 0, 0, 0, 50, 0, ...FUN_UNIQ, 0, 0, 0, 0, 0, 0, 0, 0, 82, 1, 97, 0, 97, 0, 88, 82, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
};

/** The shapes whose heap is more than 10 times their bytes: the ones the budget is for. */
export const BOMB_SHAPES = [
  'NIL_EXT',
  'empty tuple',
  'tuple {X}',
  'empty map',
  'map #{X => []}',
  '1-byte binary',
  'empty binary',
  'bitstring, dirty last byte',
  'improper [X | Y]',
  'fun',
] as const;

function u32(n: number): number[] {
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

/** 131, LIST_EXT of `count` elements, NIL tail. Elements repeat with a period of 256. */
export function listFrame(elem: (i: number) => number[], count: number): Uint8Array {
  const size = elem(0).length;
  const out = new Uint8Array(7 + count * size);
  out.set([131, 108, ...u32(count)]);
  const period = Math.min(count, 256);
  for (let i = 0; i < period; i++) out.set(elem(i), 6 + i * size);
  // Copy the first period over the rest, doubling the copied run each time.
  for (let done = period; done < count; done *= 2) {
    const n = Math.min(done, count - done);
    out.copyWithin(6 + done * size, 6, 6 + n * size);
  }
  out[6 + count * size] = 106;
  return out;
}

/** A list frame of about `bytes` bytes. */
export function listFrameOfSize(elem: (i: number) => number[], bytes: number): Uint8Array {
  return listFrame(elem, Math.max(1, Math.floor((bytes - 7) / elem(0).length)));
}

/** `standalone` (131, term) as `term_to_binary(T, [compressed])` writes it: 131, 80, Size:32, zlib. */
export function compressedFrame(standalone: Uint8Array, declared = standalone.length - 1): Uint8Array {
  const z = deflateSync(standalone.subarray(1), { level: 9 });
  const out = new Uint8Array(6 + z.length);
  out.set([131, 80, ...u32(declared)]);
  out.set(z, 6);
  return out;
}

v8.setFlagsFromString('--expose-gc');
const collect = vm.runInNewContext('gc') as () => void;
/**
 * Two full collections: what the first frees may still be counted as used until its pages are
 * swept, and the second finishes that (a heap read after one collection was seen 8 bytes per
 * element high in a full run of the file, never alone).
 */
function settle(): void {
  collect();
  collect();
}

/** Heap (V8 heap and array buffers) held by what `make` returns, after full collections. */
export function retainedBytes(make: () => unknown): { bytes: number; value: unknown } {
  settle();
  const before = process.memoryUsage();
  const value = make();
  settle();
  const after = process.memoryUsage();
  return { bytes: after.heapUsed - before.heapUsed + (after.arrayBuffers - before.arrayBuffers), value };
}

/** Peak growth of the V8 heap and array buffers while `fn` runs, sampled by V8's own statistics after it. */
export function heapGrowth(fn: () => void): number {
  collect();
  const before = v8.getHeapStatistics();
  const buffersBefore = process.memoryUsage().arrayBuffers;
  fn();
  const after = v8.getHeapStatistics();
  return after.total_heap_size - before.total_heap_size + (process.memoryUsage().arrayBuffers - buffersBefore);
}

/** The ProtocolError `decodeFn` throws, and how much the heap grew meanwhile. */
export function refusal(decodeFn: () => unknown): { err: ProtocolError; growth: number } {
  let err: unknown;
  const growth = heapGrowth(() => {
    try {
      decodeFn();
    } catch (e) {
      err = e;
    }
  });
  if (!(err instanceof ProtocolError)) throw new Error(`expected a ProtocolError, got ${String(err)}`);
  return { err, growth };
}
