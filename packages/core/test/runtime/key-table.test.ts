import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyTable } from '../../src/runtime/key-table.js';

/** KeyTable (a process's monitors) behaves as a Map by string key: the same answers for any sequence of operations. */
describe('KeyTable', () => {
  const key = fc.constantFrom('a', 'b', 'c', 'd', 'e');
  const op = fc.oneof(fc.record({ kind: fc.constant('set' as const), key, value: fc.integer() }), fc.record({ kind: fc.constant('delete' as const), key }));

  it('answers get, has, size, delete and the set of values as a Map does', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const t = new KeyTable<number>();
        const m = new Map<string, number>();
        for (const o of ops) {
          if (o.kind === 'set') {
            t.set(o.key, o.value);
            m.set(o.key, o.value);
          } else expect(t.delete(o.key)).toBe(m.delete(o.key));
          expect(t.size).toBe(m.size);
          for (const k of ['a', 'b', 'c', 'd', 'e']) {
            expect(t.get(k)).toBe(m.get(k));
            expect(t.has(k)).toBe(m.has(k));
          }
          expect(new Map(t.entries())).toEqual(m);
          expect([...t.values()].sort()).toEqual([...m.values()].sort());
        }
      }),
    );
  });

  it('a lone entry coming and going never makes a Map', () => {
    const t = new KeyTable<number>();
    for (let i = 0; i < 100; i++) {
      t.set(`k${i}`, i);
      expect(t.delete(`k${i}`)).toBe(true);
    }
    expect((t as unknown as { m: unknown }).m).toBeUndefined();
  });
});
