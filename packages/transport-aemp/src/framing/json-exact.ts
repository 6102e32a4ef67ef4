/**
 * JSON.parse loses integers past 2^53, which Perl writes for 64-bit values. For the rare packet
 * whose splitter saw a long digit run, integer literals of 16+ digits are rewritten as marked
 * strings and turned into bigint (or number, when safe) by a reviver. Strings are copied
 * verbatim, so their content is never touched.
 */
const MARK = '\u0000n:';
const MAX_EXACT = 2n ** 53n;

/**
 * JSON.parse that keeps integers past 2^53 exact (Perl writes 64-bit values): integer literals of 16 digits
 * or more become bigint, or number when safe.
 */
export function parseJsonExact(text: string): unknown {
  let out = '';
  let last = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22) {
      // Skip a string with its escapes.
      i++;
      while (i < n) {
        const c = text.charCodeAt(i);
        if (c === 0x5c) i += 2;
        else if (c === 0x22) break;
        else i++;
      }
      i++;
      continue;
    }
    if (ch === 0x2d || (ch >= 0x30 && ch <= 0x39)) {
      let j = i + 1;
      while (j < n && isNumberChar(text.charCodeAt(j))) j++;
      const token = text.slice(i, j);
      if (/^-?\d{16,}$/.test(token)) {
        out += text.slice(last, i) + JSON.stringify(MARK + token);
        last = j;
      }
      i = j;
      continue;
    }
    i++;
  }
  if (last === 0) return JSON.parse(text);
  return JSON.parse(out + text.slice(last), (_k, v: unknown) => {
    if (typeof v !== 'string' || !v.startsWith(MARK)) return v;
    const b = BigInt(v.slice(MARK.length));
    return b >= -MAX_EXACT && b <= MAX_EXACT ? Number(b) : b;
  });
}

function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d;
}
