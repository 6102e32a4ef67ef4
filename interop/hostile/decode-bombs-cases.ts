import { deflateSync } from 'node:zlib';
import { atom, atoms, DEFAULT_MAX_TERM_BYTES, encode, Tuple, type Pid } from '@courier/term';

/**
 * Distribution frames an authenticated peer can send to make a Courier node decode far more than
 * it received: each is `<<Len:32, 131, 68, 0, Control, Payload>>`, a REG_SEND to a name nobody
 * registered, so a message that does get through is dropped without traffic.
 */
export interface DecodeBomb {
  readonly name: string;
  /** The whole frame, length prefix included, sent by the peer whose pid is `from`. */
  build(from: Pid): Uint8Array;
  /** What the node must do: close the connection with this ProtocolError code, or take it. */
  readonly expect: { readonly closeWith: string } | 'accepted';
}

const NOBODY = atom('courier_decode_bomb_nobody');

function u32(n: number): number[] {
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

/** `<<Len:32, 131, 68, 0, {6, From, '', nobody}, Payload>>`, the payload given as its bytes (no 131). */
function regSendFrame(from: Pid, payload: Uint8Array): Uint8Array {
  const control = encode(new Tuple([6, from, atoms.empty, NOBODY])).subarray(1);
  const bodyLength = 3 + control.length + payload.length;
  const out = new Uint8Array(4 + bodyLength);
  out.set([...u32(bodyLength), 131, 68, 0]);
  out.set(control, 7);
  out.set(payload, 7 + control.length);
  return out;
}

/** LIST_EXT of `count` copies of `elem`, NIL tail (no version byte). */
function list(elem: readonly number[], count: number): Uint8Array {
  const out = new Uint8Array(6 + count * elem.length);
  out.set([108, ...u32(count)]);
  out.set(elem, 5);
  for (let done = 1; done < count; done *= 2) out.copyWithin(5 + done * elem.length, 5, 5 + Math.min(done, count - done) * elem.length);
  out[out.length - 1] = 106;
  return out;
}

/** 64 MiB of NIL_EXT in a list, compressed: about 65 KB on the wire. */
function compressedNils(): Uint8Array {
  const nils = list([106], DEFAULT_MAX_TERM_BYTES - 6);
  const z = deflateSync(nils, { level: 9 });
  const out = new Uint8Array(5 + z.length);
  out.set([80, ...u32(nils.length)]);
  out.set(z, 5);
  return out;
}

/**
 * #{[[…[A, A, …], 1]…, 1] => []} with 20,000 atoms of 255 characters 2,000 lists deep: its key
 * used to be built by copying the atoms once per level (over a minute of the node's one thread).
 */
function deepKey(): Uint8Array {
  const key: number[] = [116, 0, 0, 0, 1];
  for (let i = 0; i < 2000; i++) key.push(108, 0, 0, 0, 2);
  key.push(108, ...u32(20_000));
  const longAtom = [119, 255, ...new Array<number>(255).fill(0x61)];
  for (let i = 0; i < 20_000; i++) key.push(...longAtom);
  key.push(106);
  for (let i = 0; i < 2000; i++) key.push(97, 1, 106);
  key.push(106);
  return new Uint8Array(key);
}

export const DECODE_BOMBS: readonly DecodeBomb[] = [
  { name: 'a compressed bomb: 64 MiB of NILs in 65 KB', build: (from) => regSendFrame(from, compressedNils()), expect: { closeWith: 'ETF_LIMIT' } },
  // 10 MB that would take 450 MB of heap: refused once the 129 MiB budget is spent.
  { name: 'an object-count bomb: 2 million empty maps in 10 MB', build: (from) => regSendFrame(from, list([116, 0, 0, 0, 0], 2_000_000)), expect: { closeWith: 'ETF_LIMIT' } },
  { name: 'a map key of 20,000 long atoms 2,000 lists deep (decoded, and quickly)', build: (from) => regSendFrame(from, deepKey()), expect: 'accepted' },
  // A frame header announcing 256 MiB, past the 64 MiB maxMessage, and a few bytes of it.
  { name: 'an oversized frame: 256 MiB announced', build: () => new Uint8Array([...u32(256 * 1024 * 1024), 131, 68, 0, 104, 0]), expect: { closeWith: 'FRAME_TOO_LARGE' } },
];
