import { describe, expect, it } from 'vitest';
import { ProtocolError } from '@courier/core';
import { FrameParser } from '../../src/session/frame-parser.js';

function framed(...bodies: Uint8Array[]): Buffer {
  return Buffer.concat(
    bodies.flatMap((b) => {
      const h = Buffer.alloc(4);
      h.writeUInt32BE(b.length);
      return [h, b];
    }),
  );
}

function drain(p: FrameParser): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let f = p.next(); f !== undefined; f = p.next()) out.push(f);
  return out;
}

const bodies = [Buffer.from('first'), Buffer.alloc(0), Buffer.alloc(3000, 7), Buffer.from([131, 106]), Buffer.alloc(70_000, 9)];

describe('FrameParser', () => {
  for (const size of [1, 2, 3, 7, 4096, 1 << 20]) {
    it(`splits frames fed ${size} bytes at a time (ticks included)`, () => {
      const stream = framed(...bodies);
      const p = new FrameParser(1 << 20);
      const got: Uint8Array[] = [];
      for (let at = 0; at < stream.length; at += size) {
        p.push(stream.subarray(at, at + size));
        got.push(...drain(p));
      }
      expect(got).toHaveLength(bodies.length);
      got.forEach((f, i) => expect(Buffer.from(f).equals(bodies[i] as Buffer), `frame ${i}`).toBe(true));
      expect(p.pending).toBe(0);
    });
  }

  it('returns a view when a frame lies in one chunk, a copy when it spans chunks', () => {
    const chunk = framed(Buffer.from('abc'));
    const p = new FrameParser(100);
    p.push(chunk);
    const view = p.next() as Uint8Array;
    expect(view.buffer).toBe(chunk.buffer);
    const two = framed(Buffer.from('defg'));
    p.push(two.subarray(0, 6));
    expect(p.next()).toBeUndefined();
    p.push(two.subarray(6));
    const copy = p.next() as Uint8Array;
    expect(copy.buffer).not.toBe(two.buffer);
    expect(Buffer.from(copy).toString()).toBe('defg');
  });

  it('refuses a frame over the limit from its header alone, with the stream offset', () => {
    const p = new FrameParser(1024);
    p.push(framed(Buffer.from('ok')));
    expect(Buffer.from(p.next() as Uint8Array).toString()).toBe('ok');
    p.push(Buffer.from([0xff, 0xff]));
    expect(p.next()).toBeUndefined();
    p.push(Buffer.from([0xff, 0xff])); // 4 GiB declared, 0 bytes of it present
    let err: unknown;
    try {
      p.next();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe('FRAME_TOO_LARGE');
    expect((err as ProtocolError).offset).toBe(6);
  });

  it('accepts a frame exactly at the limit', () => {
    const p = new FrameParser(10);
    p.push(framed(Buffer.alloc(10, 1)));
    expect(p.next()?.length).toBe(10);
  });

  it('keeps many small chunks without losing its place', () => {
    const stream = framed(...Array.from({ length: 300 }, (_, i) => Buffer.from(`frame-${i}`)));
    const p = new FrameParser(100);
    const got: string[] = [];
    for (let at = 0; at < stream.length; at += 1) {
      p.push(stream.subarray(at, at + 1));
      if (at % 97 === 0) got.push(...drain(p).map((f) => Buffer.from(f).toString()));
    }
    got.push(...drain(p).map((f) => Buffer.from(f).toString()));
    expect(got).toEqual(Array.from({ length: 300 }, (_, i) => `frame-${i}`));
  });
});
