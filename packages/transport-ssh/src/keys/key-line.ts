/**
 * One line of an OpenSSH key file (authorized_keys, known_hosts): fields separated by blanks,
 * where an options or host-pattern field may hold blanks inside double quotes.
 * Splits off `count` leading fields and returns them with the rest of the line.
 */
export function splitFields(line: string, count: number): { fields: string[]; rest: string } | undefined {
  const fields: string[] = [];
  let i = 0;
  const n = line.length;
  while (fields.length < count) {
    while (i < n && (line[i] === ' ' || line[i] === '\t')) i++;
    if (i >= n) return undefined;
    let start = i;
    let quoted = false;
    while (i < n && (quoted || (line[i] !== ' ' && line[i] !== '\t'))) {
      if (line[i] === '"') quoted = !quoted;
      else if (line[i] === '\\' && quoted) i++;
      i++;
    }
    fields.push(line.slice(start, i));
    start = i;
  }
  return { fields, rest: line.slice(i).trim() };
}

/** Lines that carry data: no blank lines, no `#` comments. With their 1-based numbers, for messages. */
export function dataLines(text: string): Array<{ line: string; no: number }> {
  const out: Array<{ line: string; no: number }> = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line !== '' && !line.startsWith('#')) out.push({ line, no: i + 1 });
  });
  return out;
}

/** Public key type names OpenSSH writes in key files. */
export function isKeyType(s: string): boolean {
  return /^(ssh-(ed25519|ed448|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-[a-z0-9-]+@openssh\.com|ssh-[a-z0-9-]+-cert-v01@openssh\.com)$/.test(s);
}

/** The base64 key blob of a line, or undefined when it does not decode to a blob of the named type. */
export function decodeBlob(type: string, b64: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return undefined;
  const blob = Buffer.from(b64, 'base64');
  if (blob.length < 4 + type.length) return undefined;
  const n = blob.readUInt32BE(0);
  return n === type.length && blob.toString('latin1', 4, 4 + n) === type ? blob : undefined;
}
