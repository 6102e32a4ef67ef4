import { ProtocolError, type Term } from '@courier/term';
import { Decoder, Encoder } from 'cbor-x';
import { fromCourierCbor, fromCourierJson, toCourier } from '../values/extended.js';
import { fromPerlCbor, toPerl } from '../values/natural.js';
import { CborSplitter } from './cbor-splitter.js';
import { parseJsonExact } from './json-exact.js';
import { JsonSplitter } from './json-splitter.js';
import { encodeSpliced, largeBinaries } from './spliced.js';
import type { StreamSplitter } from './splitter.js';

/** The framings Courier speaks, in its default order of preference. Perl's `storable` is not one. */
export const FRAMINGS = ['json', 'cbor'] as const;
/** An AEMP framing Courier speaks: `json` or `cbor`. */
export type Framing = (typeof FRAMINGS)[number];

/** Whether `s` names a {@link Framing} Courier speaks. */
export const isFraming = (s: string): s is Framing => s === 'json' || s === 'cbor';

/** Which value mapping a connection uses: natural with Perl, extended between Courier nodes. */
export type Dialect = 'perl' | 'courier';

const EMPTY = new Uint8Array(0);
const CBOR_OPTIONS = { useRecords: false, mapsAsObjects: false, tagUint8Array: false, variableMapSize: true, pack: false } as const;

/**
 * Reads the peer's packets: splits its framing and decodes each packet to an array of terms in
 * the connection's dialect. Throws ProtocolError on malformed input.
 */
export class PacketReader {
  private readonly splitter: StreamSplitter;
  private readonly json: JsonSplitter | undefined;
  private readonly cbor: Decoder | undefined;
  /**
   * JSON items found and not yet returned, in stream order: where each lies (its chunk, or its
   * one copy) and whether it needs exact decoding. Several items of one chunk are decoded to
   * text with one call and parsed from slices of it; a per-item view and toString cost more than
   * JSON.parse of a small packet (docs/performance.md).
   */
  private readonly items: Uint8Array[] = [];
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  private readonly longs: boolean[] = [];
  private count = 0;
  private at = 0;
  /** Items before `runTo` share the decoding below: `text` from byte `textBase` of their chunk, or per item when `text` is ''. */
  private runTo = 0;
  private text = '';
  private textBase = 0;
  /** A splitter error met while looking ahead: thrown once the items before it are returned. */
  private failure: ProtocolError | undefined = undefined;

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

  /** Feeds received bytes; complete packets are then taken out one by one. */
  push(chunk: Uint8Array): void {
    this.splitter.push(chunk);
  }

  /** The next packet, or undefined until more bytes arrive. */
  next(): Term[] | undefined {
    let raw: unknown;
    if (this.json !== undefined) {
      if (this.at === this.count && !this.fill(this.json)) return undefined;
      raw = this.parse(this.at++);
      if (this.at === this.count) this.release();
    } else {
      const bytes = this.splitter.next();
      if (bytes === undefined) return undefined;
      try {
        raw = (this.cbor as Decoder).decode(bytes);
      } catch (e) {
        throw this.undecodable(e);
      }
    }
    try {
      const t = this.dialect === 'courier' ? (this.json ? fromCourierJson(raw) : fromCourierCbor(raw)) : this.json ? (raw as Term) : fromPerlCbor(raw);
      return t as Term[];
    } catch (e) {
      throw new ProtocolError('BAD_VALUE', `a packet holds a malformed value (${(e as Error).message})`, 0, { cause: e });
    }
  }

  /** Take every whole JSON item the splitter has; false when there is none (or throw its error). */
  private fill(s: JsonSplitter): boolean {
    const items = this.items;
    this.release();
    if (this.failure !== undefined) throw this.failure;
    for (;;) {
      try {
        if (!s.nextSpan()) break;
      } catch (e) {
        if (this.count === 0 || !(e instanceof ProtocolError)) throw e;
        this.failure = e;
        break;
      }
      const k = this.count++;
      items[k] = s.spanBytes;
      this.starts[k] = s.spanStart;
      this.ends[k] = s.spanEnd;
      this.longs[k] = s.longNumber;
    }
    s.spanBytes = EMPTY;
    return this.count > 0;
  }

  /** Drop the references to chunks and text once their items are returned: an idle connection pins nothing. */
  private release(): void {
    for (let i = 0; i < this.count; i++) this.items[i] = EMPTY;
    this.count = this.at = this.runTo = 0;
    this.text = '';
  }

  /** Item `k` parsed; its chunk's run of items is decoded to text once. */
  private parse(k: number): unknown {
    if (k >= this.runTo) {
      // The run of items sharing this one's bytes.
      const bytes = this.items[k] as Uint8Array;
      let last = k;
      while (last + 1 < this.count && this.items[last + 1] === bytes) last++;
      this.runTo = last + 1;
      const from = this.starts[k] as number;
      const to = this.ends[last] as number;
      const text = (bytes instanceof Buffer ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)).toString('utf8', from, to);
      // As many UTF-16 units as bytes only when every byte was one character: then byte offsets are text offsets.
      this.text = last > k && text.length === to - from ? text : '';
      this.textBase = from;
      if (last === k) return this.decode(k, text);
    }
    const text = this.text !== '' ? this.text.slice((this.starts[k] as number) - this.textBase, (this.ends[k] as number) - this.textBase) : this.itemText(k);
    return this.decode(k, text);
  }

  private decode(k: number, text: string): unknown {
    try {
      return this.longs[k] === true ? parseJsonExact(text) : JSON.parse(text);
    } catch (e) {
      throw this.undecodable(e);
    }
  }

  private itemText(k: number): string {
    const bytes = this.items[k] as Uint8Array;
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8', this.starts[k], this.ends[k]);
  }

  private undecodable(e: unknown): ProtocolError {
    return new ProtocolError(`${this.framing.toUpperCase()}_BAD_PACKET`, `a ${this.framing} packet does not decode (${(e as Error).message})`, 0, { cause: e });
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
    if (this.cbor === undefined) this.texts.push(JSON.stringify(values));
    else if (largeBinaries.count === 0) this.chunks.push(this.cbor.encode(values));
    else {
      // Binaries of SEND_BY_REFERENCE_MIN+ bytes go out as chunks of their own (writev), uncopied.
      largeBinaries.count = 0;
      for (const c of encodeSpliced(this.cbor, values)) this.chunks.push(c);
    }
  }

  /** Chunks and texts queued (a packet with large binaries is several chunks). */
  get queued(): number {
    return this.texts.length + this.chunks.length;
  }

  /** Everything queued, as chunks to write (empty when nothing is). */
  take(): Uint8Array[] {
    if (this.cbor !== undefined) {
      const out = adjoin(this.chunks);
      this.chunks = [];
      return out;
    }
    if (this.texts.length === 0) return [];
    const text = this.texts.length === 1 ? (this.texts[0] as string) : this.texts.join('');
    this.texts = [];
    return [Buffer.from(text, 'utf8')];
  }
}

/**
 * Chunks with every run of byte-adjacent ones (views of one buffer, each starting where the one
 * before ends) made one view: cbor-x writes consecutive packets next to each other in its buffer,
 * so a flush is one chunk, not one socket write per packet, and nothing is copied.
 */
export function adjoin(chunks: Uint8Array[]): Uint8Array[] {
  if (chunks.length < 2) return chunks;
  const out: Uint8Array[] = [];
  let first = 0;
  let end = (chunks[0] as Uint8Array).byteOffset + (chunks[0] as Uint8Array).length;
  for (let i = 1; i <= chunks.length; i++) {
    const c = chunks[i];
    const f = chunks[first] as Uint8Array;
    if (c !== undefined && c.buffer === f.buffer && c.byteOffset === end) {
      end += c.length;
      continue;
    }
    out.push(i - first === 1 ? f : new Uint8Array(f.buffer, f.byteOffset, end - f.byteOffset));
    if (c === undefined) break;
    first = i;
    end = c.byteOffset + c.length;
  }
  return out;
}
