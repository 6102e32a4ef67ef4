import { bench, describe } from 'vitest';
import { atom, decode, encode, Encoder, ErlMap, Pid, Ref, tuple, type Term } from '@courier/term';

const node = atom('courier@127.0.0.1');
const small = tuple(atom('ok'), new Pid(node, 1234, 0, 1795305583), new Ref(node, 1795305583, [186009, 53018626, 1933313332]), 42);
const smallBytes = encode(small);

/** About 1 KiB: 50 atom keys with integers, floats, binaries, strings and a nested tuple. */
const mapObject: Record<string, Term> = {};
for (let i = 0; i < 50; i++) {
  mapObject[`field_${i}`] = i % 5 === 0 ? i * 1000 : i % 5 === 1 ? i + 0.5 : i % 5 === 2 ? Buffer.from(`value-${i}`) : i % 5 === 3 ? `text ${i}` : tuple(atom('tag'), i);
}
const map = new ErlMap(Object.entries(mapObject).map(([k, v]) => [atom(k), v] as [Term, Term]));
const mapBytes = encode(map);

const mib = new Uint8Array(1 << 20).map((_, i) => i & 0xff);
const mibBytes = encode(mib);

const encoder = new Encoder();

describe(`{ok, Pid, Ref, 42} (${smallBytes.length} bytes)`, () => {
  bench('decode', () => {
    decode(smallBytes);
  });
  bench('encode', () => {
    encode(small);
  });
  bench('Encoder.writeTerm (reused buffer, no copy)', () => {
    encoder.reset();
    encoder.writeVersion();
    encoder.writeTerm(small);
  });
});

describe(`map of 50 atom keys (${mapBytes.length} bytes)`, () => {
  bench('decode', () => {
    decode(mapBytes);
  });
  bench('encode ErlMap', () => {
    encode(map);
  });
  bench('encode plain object', () => {
    encode(mapObject);
  });
});

describe('1 MiB binary', () => {
  bench('decode (zero-copy view)', () => {
    decode(mibBytes);
  });
  bench('decode with copyBinaries', () => {
    decode(mibBytes, { copyBinaries: true });
  });
  bench('encode', () => {
    encode(mib);
  });
});
