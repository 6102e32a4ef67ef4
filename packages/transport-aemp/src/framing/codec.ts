import { ProtocolError, type Term } from '@courier/term';
import { Decoder, Encoder } from 'cbor-x';
import { fromCourierCbor, fromCourierJson, toCourier } from '../values/extended.js';
import { fromPerlCbor, toPerl } from '../values/natural.js';
import { CborSplitter } from './cbor-splitter.js';
import { parseJsonExact } from './json-exact.js';
import { JsonSplitter } from './json-splitter.js';
import type { StreamSplitter } from './splitter.js';

/** The framings Courier speaks, in its default order of preference. Perl's `storable` is not one. */
export const FRAMINGS = ['json', 'cbor'] as const;
export type Framing = (typeof FRAMINGS)[number];

export const isFraming = (s: string): s is Framing => s === 'json' || s === 'cbor';

/** Which value mapping a connection uses: natural with Perl, extended between Courier nodes. */
export type Dialect = 'perl' | 'courier';

const CBOR_OPTIONS = { useRecords: false, mapsAsObjects: false, tagUint8Array: false, variableMapSize: true, pack: false } as const;

/**
 * Reads the peer's packets: splits its framing and decodes each packet to an array of terms in
 * the connection's dialect. Throws ProtocolError on malformed input.
 */
export class PacketReader {
  private readonly splitter: StreamSplitter;
  private readonly json: JsonSplitter | undefined;
  private readonly cbor: Decoder | undefined;

  constructor(
    readonly framing: Framing,
    readonly dialect: Dialect,
    maxPacketBytes: number,
  ) {
    if (framing === 'json') this.splitter = this.json = new JsonSplitter(maxPacketBytes);
    else {
      this.splitter = new CborSplitter(maxPacketBytes);
      this.cbor = new Decoder(CBOR_OPTIONS);
    }
  }

  push(chunk: Uint8Array): void {
    this.splitter.push(chunk);
  }

  /** The next packet, or undefined until more bytes arrive. */
  next(): Term[] | undefined {
    const bytes = this.splitter.next();
    if (bytes === undefined) return undefined;
    let raw: unknown;
    try {
      if (this.json !== undefined) {
        const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8');
        raw = this.json.longNumber ? parseJsonExact(text) : JSON.parse(text);
      } else {
        raw = (this.cbor as Decoder).decode(bytes);
      }
    } catch (e) {
      throw new ProtocolError(`${this.framing.toUpperCase()}_BAD_PACKET`, `a ${this.framing} packet does not decode (${(e as Error).message})`, 0, { cause: e });
    }
    try {
      const t = this.dialect === 'courier' ? (this.json ? fromCourierJson(raw) : fromCourierCbor(raw)) : this.json ? (raw as Term) : fromPerlCbor(raw);
      return t as Term[];
    } catch (e) {
      throw new ProtocolError('BAD_VALUE', `a packet holds a malformed value (${(e as Error).message})`, 0, { cause: e });
    }
  }
}

/**
 * Writes packets in the framing the peer asked for. Terms are mapped by the connection's
 * dialect; JSON packets of one flush are joined into one string and encoded once.
 */
export class PacketWriter {
  private readonly cbor: Encoder | undefined;
  private texts: string[] = [];
  private chunks: Uint8Array[] = [];

  constructor(
    readonly framing: Framing,
    readonly dialect: Dialect,
  ) {
    if (framing === 'cbor') this.cbor = new Encoder(CBOR_OPTIONS);
  }

  /** A term as a wire value of this connection (throws EncodeError when it has none). */
  value(t: Term): unknown {
    if (this.dialect === 'courier') return toCourier(t, this.framing);
    return toPerl(t, this.framing === 'cbor' ? 'bytes' : 'latin1');
  }

  /** Queue one packet of wire values (already mapped by {@link value}). */
  packet(values: unknown[]): void {
    if (this.cbor !== undefined) this.chunks.push(this.cbor.encode(values));
    else this.texts.push(JSON.stringify(values));
  }

  get queued(): number {
    return this.texts.length + this.chunks.length;
  }

  /** Everything queued, as chunks to write (empty when nothing is). */
  take(): Uint8Array[] {
    if (this.cbor !== undefined) {
      const out = this.chunks;
      this.chunks = [];
      return out;
    }
    if (this.texts.length === 0) return [];
    const text = this.texts.length === 1 ? (this.texts[0] as string) : this.texts.join('');
    this.texts = [];
    return [Buffer.from(text, 'utf8')];
  }
}
