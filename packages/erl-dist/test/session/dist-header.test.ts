import { describe, expect, it } from 'vitest';
import { atom, decode, decodeTerm, encode, termEquals, tuple, type Atom, type Term } from '@courier/term';
import { ProtocolError, type DistOp } from '@courier/core';
import { decodeControl } from '../../src/control/control.js';
import { AtomCache, parseFrame } from '../../src/session/dist-header.js';
import { handshakeCapture, hex, type DistFrameVector } from '../support/vectors.js';

/**
 * The distribution header (131,68 / 69 / 70) against the 28 frames of a real OTP 25 connection
 * that negotiated DIST_HDR_ATOM_CACHE: new and cached atom-cache refs, one cache per direction,
 * kept in capture order exactly as a receiving node keeps it.
 */
const capture = handshakeCapture();
const frames = capture.post_handshake_frames;

/** What decodeControl makes of each op number seen in the capture. */
const OP_NAME: Record<number, DistOp['op']> = { 6: 'reg_send', 19: 'monitor_p', 20: 'demonitor_p', 22: 'send' };

const body = (v: DistFrameVector) => hex(v.raw_hex).subarray(4);

interface Decoded {
  refs: readonly Atom[];
  control: Term;
  payload: Term | undefined;
}

/** Parse every frame in capture order, with one atom cache per direction. */
function decodeAll(): Decoded[] {
  const caches = { 'A->B': new AtomCache(), 'B->A': new AtomCache() };
  return frames.map((v) => {
    const f = body(v);
    const p = parseFrame(f, caches[v.direction]);
    if (p.kind !== 'message') throw new Error(`frame ${v.seq} parsed as ${p.kind}`);
    const opts = { atomCache: (i: number) => p.refs[i] };
    const c = decodeTerm(p.body, p.offset, opts);
    let payload: Term | undefined;
    if (c.end < f.length) {
      const d = decodeTerm(p.body, c.end, opts);
      expect(d.end).toBe(f.length);
      payload = d.term;
    }
    return { refs: p.refs, control: c.term, payload };
  });
}

describe('dist header of real OTP 25 frames', () => {
  it('uses real atom-cache refs, new and cached, in both directions', () => {
    const refs = frames.flatMap((v) => v.dist_header.atom_cache_refs ?? []);
    expect(refs.some((r) => r.new_cache_entry)).toBe(true);
    expect(refs.some((r) => !r.new_cache_entry)).toBe(true);
    expect(new Set(frames.filter((v) => v.dist_header.number_of_atom_cache_refs > 0).map((v) => v.direction))).toEqual(new Set(['A->B', 'B->A']));
  });

  it('every header parses to the captured refs and ends where the control message starts', () => {
    const caches = { 'A->B': new AtomCache(), 'B->A': new AtomCache() };
    for (const v of frames) {
      const p = parseFrame(body(v), caches[v.direction]);
      expect(p.kind, `frame ${v.seq}`).toBe('message');
      if (p.kind !== 'message') continue;
      expect(p.offset, `frame ${v.seq} header length`).toBe(v.dist_header_hex.length / 2);
      const want = (v.dist_header.atom_cache_refs ?? []).map((r) => r.atom);
      expect(
        p.refs.map((a) => a.name),
        `frame ${v.seq} refs`,
      ).toEqual(want);
      // The cache now holds each ref at its cache index (segment * 256 + internal index).
      for (const r of v.dist_header.atom_cache_refs ?? []) expect(caches[v.direction].get(r.cache_index)).toBe(atom(r.atom));
    }
  });

  it('control and payload decode, through the atom cache, to the captured standalone terms', () => {
    const decoded = decodeAll();
    frames.forEach((v, i) => {
      const d = decoded[i] as Decoded;
      expect(termEquals(d.control, decode(hex(v.control_resolved_etf_hex))), `frame ${v.seq} control`).toBe(true);
      if (v.payload_resolved_etf_hex === undefined) expect(d.payload, `frame ${v.seq} payload`).toBeUndefined();
      else expect(termEquals(d.payload, decode(hex(v.payload_resolved_etf_hex))), `frame ${v.seq} payload`).toBe(true);
    });
  });

  it('control and payload sit exactly where the capture says', () => {
    const caches = { 'A->B': new AtomCache(), 'B->A': new AtomCache() };
    for (const v of frames) {
      const f = body(v);
      const p = parseFrame(f, caches[v.direction]);
      if (p.kind !== 'message') throw new Error('not a message');
      const c = decodeTerm(f, p.offset, { atomCache: (i) => p.refs[i] });
      expect(Buffer.from(f.subarray(p.offset, c.end)).toString('hex')).toBe(v.control_hex);
      expect(Buffer.from(f.subarray(c.end)).toString('hex')).toBe(v.payload_hex ?? '');
    }
  });

  it('decodeControl accepts every captured control message', () => {
    const decoded = decodeAll();
    frames.forEach((v, i) => {
      const d = decoded[i] as Decoded;
      const op = decodeControl(d.control, d.payload);
      expect(op.op, `frame ${v.seq} (${v.control_name})`).toBe(OP_NAME[v.control_op]);
    });
  });

  it('a cached ref without the frame that defined it is a protocol error (fresh cache)', () => {
    const v = frames.find((x) => (x.dist_header.atom_cache_refs ?? []).some((r) => !r.new_cache_entry)) as DistFrameVector;
    expect(() => parseFrame(body(v), new AtomCache())).toThrow(ProtocolError);
    expect(() => parseFrame(body(v), new AtomCache())).toThrow(/empty entry/);
  });

  it('every truncation of every header is a ProtocolError, never another exception', () => {
    for (const v of frames) {
      const f = body(v);
      const headerLen = v.dist_header_hex.length / 2;
      for (let n = 0; n < headerLen; n++) {
        // Fresh caches at the right state would be needed for cached refs: replay the direction up to v.
        const cache = cacheBefore(v);
        let err: unknown;
        try {
          parseFrame(f.subarray(0, n), cache);
        } catch (e) {
          err = e;
        }
        expect(err, `frame ${v.seq} cut at ${n}`).toBeInstanceOf(ProtocolError);
      }
    }
  });

  it('the terms after a header, cut anywhere, fail with ProtocolError only', () => {
    for (const v of frames.slice(0, 6)) {
      const f = body(v);
      const p = parseFrame(f, cacheBefore(v));
      if (p.kind !== 'message') throw new Error('not a message');
      for (let n = p.offset; n < p.offset + v.control_hex.length / 2; n++) {
        expect(() => decodeTerm(f.subarray(0, n), p.offset, { atomCache: (i) => p.refs[i] })).toThrow(ProtocolError);
      }
    }
  });
});

/** The atom cache of v's direction as it was just before v arrived. */
function cacheBefore(v: DistFrameVector): AtomCache {
  const cache = new AtomCache();
  for (const x of frames) {
    if (x === v) break;
    if (x.direction === v.direction) parseFrame(body(x), cache);
  }
  return cache;
}

/** A 131,68 header with the given refs (new entries get their text), LongAtoms as asked. */
function header(refs: Array<{ segment: number; index: number; text?: Uint8Array }>, longAtoms = false): Buffer {
  const n = refs.length;
  const flags = Buffer.alloc((n >> 1) + 1);
  const setHalf = (i: number, v: number) => (flags[i >> 1] = (flags[i >> 1] as number) | (v << ((i & 1) * 4)));
  refs.forEach((r, i) => setHalf(i, (r.text ? 8 : 0) | r.segment));
  setHalf(n, longAtoms ? 1 : 0);
  const parts: Buffer[] = [Buffer.from([131, 68, n]), flags];
  for (const r of refs) {
    parts.push(Buffer.from([r.index]));
    if (r.text) {
      const len = Buffer.alloc(longAtoms ? 2 : 1);
      if (longAtoms) len.writeUInt16BE(r.text.length);
      else len[0] = r.text.length;
      parts.push(len, Buffer.from(r.text));
    }
  }
  return Buffer.concat(parts);
}

describe('dist header: constructed cases', () => {
  it('LongAtoms: 2-byte lengths, and a 255-character UTF-8 atom', () => {
    const long = 'é'.repeat(255);
    const h = header(
      [
        { segment: 3, index: 7, text: Buffer.from(long, 'utf8') },
        { segment: 0, index: 1, text: Buffer.from('ok') },
      ],
      true,
    );
    const cache = new AtomCache();
    const p = parseFrame(h, cache);
    expect(p.kind === 'message' && p.refs).toEqual([atom(long), atom('ok')]);
    expect(cache.get(3 * 256 + 7)).toBe(atom(long));
  });

  it('an odd number of refs puts LongAtoms in the low half of the last flag byte', () => {
    const h = header([
      { segment: 1, index: 2, text: Buffer.from('x') },
      { segment: 2, index: 3, text: Buffer.from('y') },
      { segment: 7, index: 255, text: Buffer.from('z') },
    ]);
    const p = parseFrame(h, new AtomCache());
    expect(p.kind === 'message' && p.refs.map((a) => a.name)).toEqual(['x', 'y', 'z']);
    expect(p.kind === 'message' && p.offset).toBe(h.length);
  });

  it('refuses an atom-cache entry over 255 characters with a ProtocolError', () => {
    const h = header([{ segment: 0, index: 0, text: Buffer.from('a'.repeat(256)) }], true);
    let err: unknown;
    try {
      parseFrame(h, new AtomCache());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe('BAD_DIST_HEADER');
  });

  it('refuses an atom-cache entry that is not UTF-8', () => {
    const h = header([{ segment: 0, index: 0, text: Uint8Array.from([0x61, 0xff, 0x62]) }]);
    expect(() => parseFrame(h, new AtomCache())).toThrow(ProtocolError);
  });

  it('pass-through frames, unknown header types and stray first bytes', () => {
    const p = parseFrame(Buffer.from([112, 131, 100]), new AtomCache());
    expect(p).toMatchObject({ kind: 'pass', offset: 1 });
    expect(() => parseFrame(Buffer.from([131, 99, 0]), new AtomCache())).toThrow(/unknown distribution header type 99/);
    expect(() => parseFrame(Buffer.from([0, 68, 0]), new AtomCache())).toThrow(ProtocolError);
    expect(() => parseFrame(Buffer.from([131]), new AtomCache())).toThrow(ProtocolError);
  });

  it('fragment headers: 131,69 with seq, fragment id and refs; 131,70 with seq and fragment id', () => {
    const first = Buffer.concat([
      Buffer.from([131, 69]),
      u64(0x0102030405060708n),
      u64(3n),
      header([{ segment: 0, index: 9, text: Buffer.from('hello') }]).subarray(2),
      Buffer.from([1, 2, 3]),
    ]);
    const cache = new AtomCache();
    const p = parseFrame(first, cache);
    expect(p.kind).toBe('fragment');
    if (p.kind !== 'fragment') return;
    expect(p).toMatchObject({ first: true, seq: 0x0102030405060708n, fragId: 3n });
    expect(p.refs).toEqual([atom('hello')]);
    expect([...p.data]).toEqual([1, 2, 3]);
    const next = parseFrame(Buffer.concat([Buffer.from([131, 70]), u64(0x0102030405060708n), u64(2n), Buffer.from([4, 5])]), cache);
    expect(next).toMatchObject({ kind: 'fragment', first: false, seq: 0x0102030405060708n, fragId: 2n });
    expect(() => parseFrame(Buffer.concat([Buffer.from([131, 69]), u64(1n), u64(1n)]), cache)).toThrow(/truncated/);
    expect(() => parseFrame(Buffer.concat([Buffer.from([131, 70]), u64(1n), Buffer.from([0])]), cache)).toThrow(/truncated/);
  });

  it('round trip: a header written by hand carries a control message through the cache', () => {
    const h = header([{ segment: 1, index: 4, text: Buffer.from('net_kernel') }]);
    const term = Buffer.concat([Buffer.from([104, 2, 82, 0, 97, 7])]); // {ATOM_CACHE_REF 0, 7}
    const f = Buffer.concat([h, term]);
    const p = parseFrame(f, new AtomCache());
    if (p.kind !== 'message') throw new Error('not a message');
    const c = decodeTerm(f, p.offset, { atomCache: (i) => p.refs[i] });
    expect(termEquals(c.term, tuple(atom('net_kernel'), 7))).toBe(true);
    expect(termEquals(c.term, decode(encode(tuple(atom('net_kernel'), 7))))).toBe(true);
  });
});

function u64(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(v);
  return b;
}
