import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { atom, decode, encode, ErlFun, Pid, Port, Ref, termEquals, type Term } from '@courier/term';
import { fromHex, toHex } from '../support/bytes.js';
import { fullEncodings, loadCorpus, type CorpusEntry } from '../support/corpus.js';

/**
 * The OTP 25 corpus (shared/vectors/erlang/etf-corpus.json, copied into test/fixtures): every complete encoding
 * decodes, all encodings of one entry decode to the same term, Courier's re-encodings decode back
 * to it, and where OTP's bytes are unique, Courier writes the same bytes.
 */
const corpus = loadCorpus();
const full = corpus.entries.filter((e) => e.t2b_hex !== undefined);
const truncated = corpus.entries.filter((e) => e.t2b_truncated === true);

/** Entries whose bytes Courier cannot reproduce, and why. */
const bytesDiffer: Record<string, string> = {
  port_open_port: 'OTP 25 writes NEW_PORT_EXT (89); Courier writes V4_PORT_EXT (120), as OTP 26+',
  port_foreign: 'as port_open_port',
  all_types_tuple: 'contains a port',
};

function owned(e: CorpusEntry): Term {
  return decode(fromHex(e.t2b_hex as string));
}

describe('etf-corpus.json', () => {
  it('holds the entries its README describes', () => {
    expect(corpus.otp_release).toBe('25');
    expect(corpus.entries).toHaveLength(corpus.count);
    expect(full.length + truncated.length).toBe(corpus.count);
    expect(truncated.map((e) => e.id).sort()).toEqual(['list_65536_bytes', 'list_70000_ints', 'string_65535']);
  });

  it.each(full.map((e) => [e.id, e] as const))('%s: every encoding decodes to the same term', (_, e) => {
    const t = owned(e);
    for (const { label, hex } of fullEncodings(e)) {
      expect(termEquals(decode(fromHex(hex)), t), label).toBe(true);
    }
  });

  it.each(full.map((e) => [e.id, e] as const))('%s: re-encodings, plain and compressed, decode back', (_, e) => {
    const t = owned(e);
    expect(termEquals(decode(encode(t)), t)).toBe(true);
    expect(termEquals(decode(encode(t, { compressed: true })), t)).toBe(true);
  });

  it.each(full.filter((e) => e.hashed_map_order_varies !== true).map((e) => [e.id, e] as const))('%s: the plain re-encoding is OTP minor_version 2 byte for byte', (id, e) => {
    const expected = e.variants?.minor_version_2_hex ?? e.t2b_hex;
    const actual = toHex(encode(owned(e)));
    if (id in bytesDiffer) expect(actual).not.toBe(expected);
    else expect(actual).toBe(expected);
  });

  it('maps over 32 keys equal their deterministic encoding as terms', () => {
    const hashed = full.filter((e) => e.hashed_map_order_varies === true);
    expect(hashed.length).toBe(3);
    for (const e of hashed) {
      expect(termEquals(owned(e), decode(fromHex(e.variants?.deterministic_hex as string)))).toBe(true);
    }
  });

  it('pids, refs, ports and funs carry the fields of their structure', () => {
    for (const e of full.filter((x) => x.structure !== undefined)) {
      const s = e.structure as Record<string, unknown>;
      const t = owned(e);
      if (s.type === 'pid') expect(t).toEqual(new Pid(atom(s.node as string), s.id as number, s.serial as number, s.creation as number));
      if (s.type === 'reference') expect(t).toEqual(new Ref(atom(s.node as string), s.creation as number, s.id_words as number[]));
      if (s.type === 'port') expect(t).toEqual(new Port(atom(s.node as string), s.id as number, s.creation as number));
      if (s.type === 'local fun') {
        const f = t as ErlFun;
        expect(f).toBeInstanceOf(ErlFun);
        expect([f.module.name, f.arity, f.index, f.oldIndex, f.oldUniq, f.freeVars.length]).toEqual([s.module, s.arity, s.index, s.old_index, s.old_uniq, s.num_free]);
        expect(toHex(f.uniq)).toBe(s.uniq_hex);
        expect(f.pid.node.name).toBe(corpus.generator_node);
        expect(f.pid.creation).toBe(corpus.generator_node_creation);
      }
    }
  });

  describe('encodings over 16 KiB, rebuilt from their Erlang expressions', () => {
    const rebuilt: Record<string, Term> = {
      string_65535: 'x'.repeat(65535),
      list_65536_bytes: 'x'.repeat(65536),
      list_70000_ints: Array.from({ length: 70000 }, (_, i) => i + 1),
    };
    it.each(truncated.map((e) => [e.id, e] as const))('%s: Courier writes the very bytes OTP wrote', (id, e) => {
      const bytes = encode(rebuilt[id]);
      expect(bytes.length).toBe(e.size);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(e.t2b_sha256);
      expect(toHex(bytes.subarray(0, 64))).toBe(e.t2b_head_hex);
      expect(toHex(bytes.subarray(bytes.length - 64))).toBe(e.t2b_tail_hex);
      expect(termEquals(decode(bytes), rebuilt[id])).toBe(true);
      if (e.compressed_truncated !== true) {
        expect(termEquals(decode(fromHex(e.compressed_hex as string)), rebuilt[id])).toBe(true);
      }
    });
  });
});
