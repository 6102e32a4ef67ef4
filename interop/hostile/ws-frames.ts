import { randomBytes } from 'node:crypto';

/**
 * WebSocket bytes as a hostile client writes them (RFC 6455): the HTTP upgrade request and frames
 * with every header field under the caller's control — FIN, the RSV bits, any opcode, masked or
 * not, the payload length in any of its three encodings, or a length that lies.
 */
export const OP = { CONTINUATION: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa } as const;

export interface FrameSpec {
  readonly opcode: number;
  readonly payload?: Uint8Array;
  /** Default true. */
  readonly fin?: boolean;
  /** RSV1..3 as a 3-bit number (RSV1 = 4). Default 0. */
  readonly rsv?: number;
  /** Default: masked with a random key, as a client must. `false`: unmasked; bytes: this key. */
  readonly mask?: boolean | Uint8Array;
  /** The length encoding: 7-bit, 16-bit or 64-bit (default: the shortest that fits). */
  readonly lengthAs?: 7 | 16 | 64;
  /** The length the header declares, whatever the payload (to lie about it). */
  readonly declared?: bigint;
}

/** One frame: `FIN RSV Opcode | MASK Len [ExtLen] [MaskKey] Payload`. */
export function frame(f: FrameSpec): Buffer {
  const payload = Buffer.from(f.payload ?? new Uint8Array(0));
  const len = f.declared ?? BigInt(payload.length);
  const lengthAs = f.lengthAs ?? (len < 126n ? 7 : len < 65536n ? 16 : 64);
  const key = f.mask === false ? undefined : f.mask === true || f.mask === undefined ? randomBytes(4) : Buffer.from(f.mask);
  const head: number[] = [((f.fin ?? true) ? 0x80 : 0) | (((f.rsv ?? 0) & 7) << 4) | (f.opcode & 0xf)];
  const m = key ? 0x80 : 0;
  if (lengthAs === 7) head.push(m | Number(len & 0x7fn));
  else if (lengthAs === 16) head.push(m | 126, Number((len >> 8n) & 0xffn), Number(len & 0xffn));
  else {
    head.push(m | 127);
    for (let i = 7; i >= 0; i--) head.push(Number((len >> BigInt(8 * i)) & 0xffn));
  }
  const body = Buffer.from(payload);
  if (key) for (let i = 0; i < body.length; i++) body[i] = (body[i] as number) ^ (key[i & 3] as number);
  return Buffer.concat([Buffer.from(head), key ?? Buffer.alloc(0), body]);
}

/** `bytes` as binary messages of at most `size` bytes each (a byte stream cut into messages). */
export function binaryMessages(bytes: Uint8Array, size: number): Buffer {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(frame({ opcode: OP.BINARY, payload: bytes.subarray(at, at + size) }));
  return Buffer.concat(out);
}

/** `bytes` as ONE binary message of `size`-byte fragments (a first frame, then continuations). */
export function fragmentedMessage(bytes: Uint8Array, size: number): Buffer {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) {
    out.push(frame({ opcode: at === 0 ? OP.BINARY : OP.CONTINUATION, fin: at + size >= bytes.length, payload: bytes.subarray(at, at + size) }));
  }
  return Buffer.concat(out);
}

/** A close frame's payload: `Code:16` and a reason. */
export function closePayload(code: number, reason: Uint8Array | string = ''): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code & 0xffff);
  return Buffer.concat([b, typeof reason === 'string' ? Buffer.from(reason) : Buffer.from(reason)]);
}

export interface UpgradeSpec {
  readonly method?: string;
  readonly path?: string;
  /** Header lines replacing the defaults of the same name; `undefined` removes one. */
  readonly headers?: Record<string, string | undefined>;
  /** Lines added verbatim after the headers (duplicates, huge ones, malformed ones). */
  readonly extra?: readonly string[];
}

/** A browser-like upgrade request to the Courier subprotocol. */
export function upgradeRequest(o: UpgradeSpec = {}): Buffer {
  const headers: Record<string, string | undefined> = {
    Host: '127.0.0.1',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
    'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Protocol': 'courier-erldist-6',
    ...o.headers,
  };
  const lines = [`${o.method ?? 'GET'} ${o.path ?? '/courier'} HTTP/1.1`];
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) lines.push(`${k}: ${v}`);
  lines.push(...(o.extra ?? []));
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

/** A frame the node sent (servers do not mask). */
export interface ServerFrame {
  readonly fin: boolean;
  readonly opcode: number;
  readonly payload: Buffer;
}

/** Parse the node's frames from `b`; the bytes of an incomplete last frame are left in `rest`. */
export function parseFrames(b: Buffer): { frames: ServerFrame[]; rest: Buffer } {
  const frames: ServerFrame[] = [];
  let at = 0;
  for (;;) {
    if (b.length - at < 2) break;
    const b0 = b[at] as number;
    const b1 = b[at + 1] as number;
    let len = b1 & 0x7f;
    let h = 2;
    if (len === 126) {
      if (b.length - at < 4) break;
      len = b.readUInt16BE(at + 2);
      h = 4;
    } else if (len === 127) {
      if (b.length - at < 10) break;
      len = Number(b.readBigUInt64BE(at + 2));
      h = 10;
    }
    if (b1 & 0x80) h += 4; // a masked server frame would be a protocol error; skip its key
    if (b.length - at < h + len) break;
    frames.push({ fin: (b0 & 0x80) !== 0, opcode: b0 & 0xf, payload: b.subarray(at + h, at + h + len) });
    at += h + len;
  }
  return { frames, rest: b.subarray(at) };
}

/** The status code of the node's close frame, if it sent one. */
export function closeCode(frames: readonly ServerFrame[]): number | undefined {
  const c = frames.find((f) => f.opcode === OP.CLOSE);
  return c === undefined ? undefined : c.payload.length >= 2 ? c.payload.readUInt16BE(0) : 1005;
}

/** The payloads of the node's binary messages, joined: the byte stream it sent. */
export function binaryStream(frames: readonly ServerFrame[]): Buffer {
  return Buffer.concat(frames.filter((f) => f.opcode === OP.BINARY || f.opcode === OP.CONTINUATION).map((f) => f.payload));
}
