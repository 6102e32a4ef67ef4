import { ProtocolError } from '../errors.js';
import { atom } from '../model/atom.js';
import { ErlFloat, ImproperList, Tuple } from '../model/containers.js';
import { ErlMap } from '../model/map.js';
import type { Term } from '../model/term.js';

/**
 * Erlang term syntax → Term, for configuration files (`-ssl_dist_optfile`, `sys.config`-style
 * files) and the CLI (`courier send N '{ok, [1, <<"x">>, #{a => 1}]}'`). Covers literals only:
 * atoms (bare and quoted), integers (with `Base#digits` and `$c`), floats, strings, binaries
 * (`<<"text">>`, `<<1,2,3>>`, `<<"a"/utf8>>`), tuples, lists with `|` tails, and maps. A trailing
 * `.` is allowed. `%` starts a comment. Errors are ProtocolError with the offset.
 */
export function parseErlang(text: string): Term {
  const p = new Parser(text);
  p.ws();
  const t = p.term();
  p.ws();
  if (p.peek() === '.') {
    p.pos++;
    p.ws();
  }
  if (p.pos !== text.length) p.fail('unexpected text after the term');
  return t;
}

/** Several terms each ending with `.` (what file:consult/1 reads). */
export function consultErlang(text: string): Term[] {
  const p = new Parser(text);
  const out: Term[] = [];
  p.ws();
  while (p.pos < text.length) {
    out.push(p.term());
    p.ws();
    p.expect('.');
    p.ws();
  }
  return out;
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', s: ' ', e: '\x1b', b: '\b', f: '\f', v: '\v', d: '\x7f', '0': '\0' };

class Parser {
  pos = 0;
  constructor(readonly source: string) {}

  peek(): string | undefined {
    return this.source[this.pos];
  }

  fail(msg: string): never {
    throw new ProtocolError('TERM_SYNTAX', msg, this.pos);
  }

  expect(ch: string): void {
    if (this.source[this.pos] !== ch) this.fail(`expected '${ch}'`);
    this.pos++;
  }

  ws(): void {
    for (;;) {
      const c = this.source[this.pos];
      if (c === ' ' || c === '\n' || c === '\t' || c === '\r') this.pos++;
      else if (c === '%') {
        while (this.pos < this.source.length && this.source[this.pos] !== '\n') this.pos++;
      } else return;
    }
  }

  term(): Term {
    this.ws();
    const c = this.peek();
    if (c === undefined) this.fail('unexpected end of input');
    if (c === '{') return this.tuple();
    if (c === '[') return this.list();
    if (c === '"') return this.string();
    if (c === "'") return atom(this.quoted("'"));
    if (c === '<' && this.source[this.pos + 1] === '<') return this.binary();
    if (c === '#' && this.source[this.pos + 1] === '{') return this.map();
    if (c === '$') return this.char();
    if (c === '-' || c === '+' || (c >= '0' && c <= '9')) return this.number();
    if (/[a-z]/.test(c)) return this.bareAtom();
    this.fail(`unexpected '${c}'`);
  }

  private seq<T>(close: string, item: () => T): T[] {
    const out: T[] = [];
    this.ws();
    if (this.peek() === close) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(item());
      this.ws();
      if (this.peek() === ',') {
        this.pos++;
        continue;
      }
      this.expect(close);
      return out;
    }
  }

  private tuple(): Tuple {
    this.pos++;
    return new Tuple(this.seq('}', () => this.term()));
  }

  private list(): Term {
    this.pos++;
    this.ws();
    if (this.peek() === ']') {
      this.pos++;
      return [];
    }
    const items: Term[] = [];
    for (;;) {
      items.push(this.term());
      this.ws();
      const c = this.peek();
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === '|') {
        this.pos++;
        const tail = this.term();
        this.ws();
        this.expect(']');
        if (Array.isArray(tail)) return [...items, ...tail];
        if (typeof tail === 'string') return [...items, ...Array.from(tail, (ch) => ch.codePointAt(0) as number)];
        return new ImproperList(items, tail);
      }
      this.expect(']');
      return items;
    }
  }

  private map(): ErlMap {
    this.pos += 2;
    const m = new ErlMap();
    this.seq('}', () => {
      const k = this.term();
      this.ws();
      if (this.source.startsWith('=>', this.pos)) this.pos += 2;
      else this.fail("expected '=>'");
      m.set(k, this.term());
      return 0;
    });
    return m;
  }

  private binary(): Uint8Array {
    this.pos += 2;
    const bytes: number[] = [];
    this.ws();
    if (this.source.startsWith('>>', this.pos)) {
      this.pos += 2;
      return new Uint8Array(0);
    }
    for (;;) {
      this.ws();
      if (this.peek() === '"') {
        const text = this.string();
        this.ws();
        let utf8 = false;
        if (this.peek() === '/') {
          const m = /^\/(utf8|latin1)/.exec(this.source.slice(this.pos));
          if (!m) this.fail('only /utf8 and /latin1 segments are supported');
          utf8 = m[1] === 'utf8';
          this.pos += m[0].length;
        }
        const str = typeof text === 'string' ? text : String.fromCodePoint(...(text as number[]));
        if (utf8) bytes.push(...Buffer.from(str, 'utf8'));
        else
          for (const ch of str) {
            const cp = ch.codePointAt(0) as number;
            if (cp > 255) bytes.push(...Buffer.from(ch, 'utf8'));
            else bytes.push(cp);
          }
      } else {
        const n = this.term();
        if (typeof n !== 'number' || !Number.isInteger(n)) this.fail('binary segments are integers or strings');
        bytes.push(n & 0xff);
      }
      this.ws();
      if (this.peek() === ',') {
        this.pos++;
        continue;
      }
      if (!this.source.startsWith('>>', this.pos)) this.fail("expected '>>'");
      this.pos += 2;
      return Uint8Array.from(bytes);
    }
  }

  /** A string literal: a JS string when every character fits a byte (STRING_EXT), else code points. */
  private string(): Term {
    const text = this.quoted('"');
    for (const ch of text) if ((ch.codePointAt(0) as number) > 255) return Array.from(text, (c) => c.codePointAt(0) as number);
    return text;
  }

  private quoted(q: string): string {
    this.pos++;
    let out = '';
    for (;;) {
      const c = this.source[this.pos++];
      if (c === undefined) this.fail('unterminated quote');
      if (c === q) return out;
      if (c === '\\') out += this.escape();
      else out += c;
    }
  }

  private escape(): string {
    const c = this.source[this.pos++];
    if (c === undefined) this.fail('unterminated escape');
    if (c in ESCAPES) return ESCAPES[c] as string;
    if (c === 'x') {
      const m = /^\{([0-9a-fA-F]+)\}|^([0-9a-fA-F]{2})/.exec(this.source.slice(this.pos));
      if (!m) this.fail('bad \\x escape');
      this.pos += m[0].length;
      return String.fromCodePoint(parseInt((m[1] ?? m[2]) as string, 16));
    }
    if (c >= '0' && c <= '7') {
      const m = /^[0-7]{0,2}/.exec(this.source.slice(this.pos)) as RegExpExecArray;
      this.pos += m[0].length;
      return String.fromCharCode(parseInt(c + m[0], 8));
    }
    return c;
  }

  private char(): number {
    this.pos++;
    const c = this.source[this.pos++];
    if (c === undefined) this.fail('unterminated $ character');
    if (c === '\\') return this.escape().codePointAt(0) as number;
    return c.codePointAt(0) as number;
  }

  private number(): Term {
    const m = /^[+-]?(\d+)#([0-9a-zA-Z]+)|^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(this.source.slice(this.pos));
    if (!m) this.fail('bad number');
    this.pos += m[0].length;
    if (m[2] !== undefined) {
      const neg = m[0].startsWith('-');
      const base = Number(m[1]);
      let v = 0n;
      for (const d of m[2].toLowerCase()) {
        const x = parseInt(d, 36);
        if (x >= base) this.fail(`digit ${d} in base ${base}`);
        v = v * BigInt(base) + BigInt(x);
      }
      return normal(neg ? -v : v);
    }
    if (m[3] !== undefined || m[4] !== undefined) {
      if (m[3] === undefined) this.fail('a float needs a fraction (1.0e3)');
      const f = Number(m[0]);
      return Number.isInteger(f) ? new ErlFloat(f) : f;
    }
    return normal(BigInt(m[0]));
  }

  private bareAtom(): Term {
    const m = /^[a-z][a-zA-Z0-9_@]*/.exec(this.source.slice(this.pos)) as RegExpExecArray;
    this.pos += m[0].length;
    if (m[0] === 'true') return true;
    if (m[0] === 'false') return false;
    return atom(m[0]);
  }
}

function normal(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}
