/**
 * Greeting line 1 (Transport.pm:170-188):
 * `<protocol>;<version>;<nodeid>;<auth methods accepted>;<framings accepted>[;<key>=<value>]*`.
 * Line 2 is a nonce. Key=value pairs come from a Perl hash, in random order: the HMAC is always
 * computed over the raw received line, never over one rebuilt from this parse.
 */
export const PROTOCOL = 'aemp';
/** The AEMP protocol version Courier speaks (AnyEvent::MP 2.x). */
export const PROTOCOL_VERSION = 1;

/**
 * Greeting line 1 parsed: `<protocol>;<version>;<nodeid>;<auths>;<framings>[;<key>=<value>]*`
 * (Transport.pm).
 */
export interface Greeting {
  readonly protocol: string;
  readonly version: number;
  readonly nodeid: string;
  readonly auths: readonly string[];
  readonly framings: readonly string[];
  readonly kv: Readonly<Record<string, string>>;
}

/** Greeting line 1 for our side (without the line feed). */
export function formatGreeting(g: Omit<Greeting, 'protocol' | 'version'>): string {
  for (const field of [g.nodeid, ...g.auths, ...g.framings]) {
    if (/[;,\r\n]/.test(field)) throw new RangeError(`a greeting field may not contain ';', ',' or a line break: ${JSON.stringify(field)}`);
  }
  const pairs = Object.entries(g.kv).map(([k, v]) => `;${k}=${v}`);
  return `${PROTOCOL};${PROTOCOL_VERSION};${g.nodeid};${g.auths.join(',')};${g.framings.join(',')}${pairs.join('')}`;
}

/** Parse line 1 as Perl does (`split /;/`, pairs by `/^([^=]+)(?:=(.*))?/`); undefined when it has fewer than 5 fields. */
export function parseGreeting(line: string): Greeting | undefined {
  const f = line.split(';');
  if (f.length < 5) return undefined;
  // Keys come from the peer: no prototype, so `__proto__` is a key like any other.
  const kv = Object.create(null) as Record<string, string>;
  for (const pair of f.slice(5)) {
    const m = /^([^=]+)(?:=(.*))?$/s.exec(pair);
    if (m) kv[m[1] as string] = m[2] ?? '';
  }
  const list = (s: string): string[] => (s === '' ? [] : s.split(','));
  return {
    protocol: f[0] as string,
    version: Number(f[1]),
    nodeid: f[2] as string,
    auths: list(f[3] as string),
    framings: list(f[4] as string),
    kv,
  };
}
