import { describe, expect, it } from 'vitest';
import { atom, decode, decodeTerm, termEquals } from '@courier/term';
import { ProtocolError } from '@courier/core';
import { Reassembler } from '../../src/session/fragments.js';
import { AtomCache, parseFrame } from '../../src/session/dist-header.js';
import { handshakeCapture, hex } from '../support/vectors.js';

/**
 * Reassembly of 131,69 / 131,70 fragment sequences: FragId counts down to 1, sequences of
 * different senders interleave, anything out of order or over the limit is the peer's error.
 */
const REFS = [atom('a'), atom('b')];
const bytes = (...b: number[]) => Uint8Array.from(b);

function thrown(f: () => unknown): ProtocolError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    expect((e as ProtocolError).code).toBe('BAD_FRAGMENT');
    return e as ProtocolError;
  }
  throw new Error('expected a ProtocolError');
}

describe('Reassembler', () => {
  it('a single fragment (FragId 1) is a whole message at once', () => {
    const r = new Reassembler(1000);
    expect(r.add(true, 5n, 1n, REFS, bytes(1, 2, 3))).toEqual({ refs: REFS, body: bytes(1, 2, 3) });
    expect(r.openSequences).toBe(0);
  });

  it('in order: 3, 2, 1 gives the concatenation, with the first fragment\u2019s refs', () => {
    const r = new Reassembler(1000);
    expect(r.add(true, 9n, 3n, REFS, bytes(1, 2))).toBeUndefined();
    expect(r.openSequences).toBe(1);
    expect(r.add(false, 9n, 2n, [], bytes(3, 4))).toBeUndefined();
    const whole = r.add(false, 9n, 1n, [], bytes(5));
    expect(whole?.refs).toBe(REFS);
    expect([...(whole?.body ?? [])]).toEqual([1, 2, 3, 4, 5]);
    expect(r.openSequences).toBe(0);
  });

  it('interleaved sequences of different senders each come out whole', () => {
    const r = new Reassembler(1000);
    const refsB = [atom('other')];
    const out: Array<{ seq: string; body: number[] }> = [];
    const add = (first: boolean, seq: bigint, id: bigint, data: Uint8Array, refs = REFS) => {
      const w = r.add(first, seq, id, refs, data);
      if (w) out.push({ seq: String(seq), body: [...w.body] });
    };
    add(true, 1n, 3n, bytes(10));
    add(true, 2n, 2n, bytes(20), refsB);
    add(false, 1n, 2n, bytes(11));
    add(true, 3n, 1n, bytes(30));
    add(false, 2n, 1n, bytes(21));
    add(false, 1n, 1n, bytes(12));
    expect(out).toEqual([
      { seq: '3', body: [30] },
      { seq: '2', body: [20, 21] },
      { seq: '1', body: [10, 11, 12] },
    ]);
    expect(r.openSequences).toBe(0);
  });

  it('a sequence id can be reused once its message is complete', () => {
    const r = new Reassembler(1000);
    r.add(true, 7n, 2n, REFS, bytes(1));
    expect(r.add(false, 7n, 1n, [], bytes(2))).toBeDefined();
    r.add(true, 7n, 2n, REFS, bytes(3));
    expect([...(r.add(false, 7n, 1n, [], bytes(4))?.body ?? [])]).toEqual([3, 4]);
  });

  it('out of order: a skipped fragment id is refused', () => {
    const r = new Reassembler(1000);
    r.add(true, 1n, 3n, REFS, bytes(1));
    expect(thrown(() => r.add(false, 1n, 1n, [], bytes(2))).message).toMatch(/out of order \(expected 2\)/);
  });

  it('out of order: a repeated fragment id is refused', () => {
    const r = new Reassembler(1000);
    r.add(true, 1n, 3n, REFS, bytes(1));
    r.add(false, 1n, 2n, [], bytes(2));
    thrown(() => r.add(false, 1n, 2n, [], bytes(2)));
  });

  it('a continuation of a sequence that never started is refused', () => {
    thrown(() => new Reassembler(1000).add(false, 4n, 1n, [], bytes(1)));
  });

  it('a sequence started twice is refused', () => {
    const r = new Reassembler(1000);
    r.add(true, 1n, 2n, REFS, bytes(1));
    thrown(() => r.add(true, 1n, 2n, REFS, bytes(1)));
  });

  it('fragment id 0 is refused', () => {
    thrown(() => new Reassembler(1000).add(true, 1n, 0n, REFS, bytes(1)));
  });

  it('size limit: the buffers held across open sequences may not exceed maxBytes', () => {
    // 3 fragments of 4 bytes: sequence 1 holds the 10 bytes left of its 12, and no more.
    const r = new Reassembler(10);
    r.add(true, 1n, 3n, REFS, new Uint8Array(4));
    expect(r.reservedBytes).toBe(10);
    expect(thrown(() => r.add(true, 2n, 3n, REFS, new Uint8Array(4))).message).toMatch(/exceed 10 bytes/);
    r.add(false, 1n, 2n, [], new Uint8Array(4));
    expect(thrown(() => r.add(false, 1n, 1n, [], new Uint8Array(4))).message).toMatch(/exceed 10 bytes/);
  });

  it('size limit: a sequence gets what is left when its estimate would pass maxBytes', () => {
    const r = new Reassembler(10);
    r.add(true, 1n, 2n, REFS, new Uint8Array(3));
    expect(r.reservedBytes).toBe(6);
    r.add(true, 2n, 5n, REFS, new Uint8Array(2));
    expect(r.reservedBytes).toBe(10);
    expect(r.add(false, 1n, 1n, [], new Uint8Array(3))?.body.length).toBe(6);
    expect(r.reservedBytes).toBe(4);
  });

  it('one buffer per message, made at its final size from the first fragment (FragId × its size)', () => {
    const r = new Reassembler(1 << 20);
    r.add(true, 1n, 5n, REFS, new Uint8Array(100).fill(1));
    expect(r.reservedBytes).toBe(500);
    for (const id of [4n, 3n]) r.add(false, 1n, id, [], new Uint8Array(100).fill(1));
    r.add(false, 1n, 2n, [], new Uint8Array(100).fill(2));
    const whole = r.add(false, 1n, 1n, [], new Uint8Array(40).fill(3));
    // The last fragment is short: the message is a view of the 500-byte buffer, of its 440 bytes.
    expect(whole?.body.length).toBe(440);
    expect(whole?.body.buffer.byteLength).toBe(500);
    expect([whole?.body[0], whole?.body[300], whole?.body[439]]).toEqual([1, 2, 3]);
    expect(r.reservedBytes).toBe(0);
  });

  it('two to four fragments: a buffer for the full ones and 4 KiB of the last, grown once to the exact size', () => {
    const r = new Reassembler(1 << 20);
    r.add(true, 1n, 2n, REFS, new Uint8Array(65536).fill(1));
    expect(r.reservedBytes).toBe(65536 + 4096);
    const tiny = r.add(false, 1n, 1n, [], new Uint8Array(40).fill(2));
    expect(tiny?.body.length).toBe(65576);
    expect(tiny?.body.buffer.byteLength).toBe(65536 + 4096);
    r.add(true, 2n, 2n, REFS, new Uint8Array(65536).fill(1));
    const full = r.add(false, 2n, 1n, [], new Uint8Array(30000).fill(2));
    expect(full?.body.buffer.byteLength).toBe(95536);
    expect([full?.body[65535], full?.body[65536], full?.body[95535]]).toEqual([1, 2, 2]);
    // Five or more: FragId × the first one's size.
    r.add(true, 3n, 5n, REFS, new Uint8Array(10000));
    expect(r.reservedBytes).toBe(50000);
  });

  it('a later fragment larger than the first grows the buffer, within the limit', () => {
    const r = new Reassembler(1000);
    r.add(true, 1n, 2n, REFS, bytes(1, 2));
    const whole = r.add(false, 1n, 1n, [], bytes(3, 4, 5, 6, 7));
    expect([...(whole?.body ?? [])]).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const small = new Reassembler(6);
    small.add(true, 1n, 2n, REFS, bytes(1, 2));
    expect(thrown(() => small.add(false, 1n, 1n, [], bytes(3, 4, 5, 6, 7))).message).toMatch(/exceed 6 bytes/);
  });

  it('a hostile FragId reserves no more than maxBytes', () => {
    const r = new Reassembler(1 << 16);
    r.add(true, 1n, (1n << 64n) - 1n, REFS, new Uint8Array(1000));
    expect(r.reservedBytes).toBe(1 << 16);
  });

  it('fragments spanning socket chunks are copied from the chunks, from the data offset on', () => {
    const r = new Reassembler(1000);
    // A frame of 2 + 3 + 2 bytes, of which the first 3 are a header.
    const frame = { parts: [bytes(9, 9), bytes(9, 1, 2), bytes(3, 4)], length: 7 };
    r.add(true, 1n, 2n, REFS, frame, 3);
    const whole = r.add(false, 1n, 1n, [], { parts: [bytes(9, 9, 9, 5), bytes(6)], length: 5 }, 3);
    expect([...(whole?.body ?? [])]).toEqual([1, 2, 3, 4, 5, 6]);
    const single = r.add(true, 2n, 1n, REFS, frame, 4);
    expect([...(single?.body ?? [])]).toEqual([2, 3, 4]);
  });

  it('size limit: completed messages free their bytes', () => {
    const r = new Reassembler(10);
    r.add(true, 1n, 2n, REFS, new Uint8Array(5));
    expect(r.add(false, 1n, 1n, [], new Uint8Array(5))?.body.length).toBe(10);
    r.add(true, 2n, 2n, REFS, new Uint8Array(5));
    expect(r.add(false, 2n, 1n, [], new Uint8Array(5))?.body.length).toBe(10);
  });

  it('limit on open sequences', () => {
    const r = new Reassembler(1 << 20, 3);
    for (let i = 1n; i <= 3n; i++) r.add(true, i, 2n, REFS, bytes(1));
    expect(thrown(() => r.add(true, 4n, 2n, REFS, bytes(1))).message).toMatch(/more than 3/);
  });

  it('a small fragment cut from a large chunk is copied, so it does not pin the chunk', () => {
    // maxBytes counts fragment bytes: keeping 2-byte views of 64 KiB socket chunks would let a
    // peer hold far more memory than the limit says.
    const r = new Reassembler(1000);
    const chunkA = new Uint8Array(64 * 1024);
    const chunkB = new Uint8Array(64 * 1024);
    chunkA.set([1, 2], 100);
    chunkB.set([3, 4], 200);
    r.add(true, 1n, 3n, REFS, chunkA.subarray(100, 102));
    r.add(false, 1n, 2n, [], chunkB.subarray(200, 202));
    chunkA.fill(0);
    chunkB.fill(0);
    expect([...(r.add(false, 1n, 1n, [], bytes(5))?.body ?? [])]).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('fragments end to end: a real OTP frame cut into 131,69 / 131,70 frames', () => {
  // Frame 7 of the capture: global's init_connect, 9 atom-cache refs (7 new), 193 bytes.
  const v = handshakeCapture().post_handshake_frames.find((f) => f.dist_header.number_of_atom_cache_refs === 9) as ReturnType<
    typeof handshakeCapture
  >['post_handshake_frames'][number];
  const f = hex(v.raw_hex).subarray(4);
  const headerLen = v.dist_header_hex.length / 2;
  const u64 = (x: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(x);
    return b;
  };

  for (const size of [1, 7, 50]) {
    it(`reassembles and decodes to the captured terms (data in ${size}-byte fragments)`, () => {
      // First fragment: 131,69, SeqId, FragId, then the header's refs part and the first data bytes.
      const data = f.subarray(headerLen);
      const count = Math.ceil(data.length / size);
      const wire: Buffer[] = [];
      for (let i = 0; i < count; i++) {
        const part = data.subarray(i * size, (i + 1) * size);
        const id = u64(BigInt(count - i));
        wire.push(i === 0 ? Buffer.concat([Buffer.from([131, 69]), u64(42n), id, f.subarray(2, headerLen), part]) : Buffer.concat([Buffer.from([131, 70]), u64(42n), id, part]));
      }
      // The frame uses refs that earlier frames of its direction put in the cache.
      const cache = new AtomCache();
      for (const x of handshakeCapture().post_handshake_frames) {
        if (x.seq >= v.seq) break;
        if (x.direction === v.direction) parseFrame(hex(x.raw_hex).subarray(4), cache);
      }
      const r = new Reassembler(1 << 20);
      let whole: ReturnType<Reassembler['add']>;
      for (const w of wire) {
        const p = parseFrame(w, cache);
        if (p.kind !== 'fragment') throw new Error(`expected a fragment, got ${p.kind}`);
        expect(whole).toBeUndefined();
        whole = r.add(p.first, p.seq, p.fragId, p.refs, p.data);
      }
      if (whole === undefined) throw new Error('no message');
      const opts = { atomCache: (i: number) => whole?.refs[i] };
      const c = decodeTerm(whole.body, 0, opts);
      const d = decodeTerm(whole.body, c.end, opts);
      expect(d.end).toBe(whole.body.length);
      expect(termEquals(c.term, decode(hex(v.control_resolved_etf_hex)))).toBe(true);
      expect(termEquals(d.term, decode(hex(v.payload_resolved_etf_hex as string)))).toBe(true);
    });
  }
});
