import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { ErlFloat, Pid, Tuple, VERSION, atom, encode, type Term } from '@courier/term';
import { mutatedOf } from './dist-cases.js';
import type { ChannelOptions } from './ssh-session.js';

/**
 * Hostile input on an authenticated `sshrpc@k2r.org` channel (docs/ssh.md): every frame is
 * `<<Len:32/big, term_to_binary(Request)/binary>>`. The node answers what it understands,
 * refuses the rest with `{error, …}` (a bad term or an oversized length closes the channel with
 * exit status 1), and runs only what its allow-list permits. Each case checks the answers it can
 * predict; every case must leave the SSH connection, the node and the other clients unharmed.
 */
export interface RpcCase {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly opts?: ChannelOptions;
  /** The node must close the channel without our EOF. */
  readonly nodeCloses?: boolean;
  /** What the answers must be; returns a complaint, or undefined when they are right. */
  readonly check?: (answers: Term[], exit: number | undefined) => string | undefined;
}

/** The sshrpc server's frame limit (transport-ssh options.ts default). */
export const MAX_FRAME = 16 * 1024 * 1024;

const t = (...xs: Term[]): Tuple => new Tuple(xs);
const a = atom;
const bytes = (...xs: number[]): Buffer => Buffer.from(xs);
const concat = (...bs: Uint8Array[]): Buffer => Buffer.concat(bs);
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

/** `<<Len:32, Body>>`; `len` overrides the length field. */
export const frame32 = (body: Uint8Array, len?: number): Buffer => concat(u32(len ?? body.length), body);
/** A frame holding `term_to_binary(T)`. */
export const rpcFrame = (term: Term): Buffer => frame32(encode(term));
/** A frame holding 131 and then `etf` (a hand-made term body). */
const etf = (...xs: Uint8Array[]): Buffer => frame32(concat(bytes(VERSION), ...xs));

const mfa = (m: Term, f: Term, args: Term): Tuple => t(a('mfa'), t(m, f, args));
const echo = (x: Term): Tuple => mfa(a('courier_echo'), a('echo'), [x]);

/** A term of `n` elements of the empty tuple in a list, compressed (tag 80): a few KiB that inflate to 2n+6 bytes. */
export function compressedBomb(n: number, declared?: number): Buffer {
  const inner = Buffer.alloc(6 + 2 * n);
  inner[0] = 108; // LIST_EXT
  inner.writeUInt32BE(n, 1);
  for (let i = 0; i < n; i++) inner[5 + 2 * i] = 104; // SMALL_TUPLE_EXT, arity 0
  inner[5 + 2 * n] = 106; // NIL_EXT
  return etf(bytes(80), u32(declared ?? inner.length), deflateSync(inner));
}

/** `depth` lists nested in one another (LIST_EXT of one element each), ending in []. */
function nested(depth: number): Buffer {
  const b = Buffer.alloc(depth * 5 + 1 + depth);
  let o = 0;
  for (let i = 0; i < depth; i++) {
    b[o] = 108;
    b.writeUInt32BE(1, o + 1);
    o += 5;
  }
  b[o++] = 106;
  b.fill(106, o); // each list's tail
  return b;
}

const answerIs = (want: (x: Term) => boolean, what: string) => (answers: Term[]) =>
  answers.length === 1 && want(answers[0]) ? undefined : `want ${what}, got ${answers.map(String).join(', ') || 'nothing'}`;
const tag = (x: Term, name: string, n?: number): x is Tuple => x instanceof Tuple && x.elements[0] === a(name) && (n === undefined || x.elements.length === n);
/** `{error, bad_term}` then exit status 1. */
const badTerm = (answers: Term[], exit: number | undefined): string | undefined =>
  answerIs((x) => tag(x, 'error', 2) && x.elements[1] === a('bad_term'), '{error, bad_term}')(answers) ?? (exit === 1 ? undefined : `exit status ${exit}, want 1`);
/** `{error, {frame_too_large, Max}}` then exit status 1. */
const tooLarge = (answers: Term[], exit: number | undefined): string | undefined =>
  answerIs((x) => tag(x, 'error', 2) && tag(x.elements[1], 'frame_too_large'), '{error, {frame_too_large, Max}}')(answers) ??
  (exit === 1 ? undefined : `exit status ${exit}, want 1`);
/** sshrpc's refusal of `{mfa, {M, F, A}}`: `{answer, {{exec_error, {not_allowed, _}}, -1}}`. */
const notAllowed = answerIs(
  (x) => tag(x, 'answer', 2) && x.elements[1] instanceof Tuple && tag(x.elements[1].elements[0], 'exec_error') && tag(x.elements[1].elements[0].elements[1], 'not_allowed'),
  '{answer, {{exec_error, {not_allowed, _}}, -1}}',
);
const badRequest = answerIs((x) => tag(x, 'error', 2) && tag(x.elements[1], 'bad_request'), '{error, {bad_request, _}}');
const tupleRefused = answerIs((x) => tag(x, 'answer', 2) && x.elements[1] instanceof Tuple && x.elements[1].elements[1] === -1, '{answer, {_, -1}}');
const nothing = (answers: Term[]): string | undefined => (answers.length === 0 ? undefined : `want no answer, got ${answers.map(String).join(', ')}`);
const keep = { keepOpen: true, closeWaitMs: 3000 } as const;

export function rpcNamedCases(): RpcCase[] {
  const good = rpcFrame(echo(1));
  const foreignPid = new Pid(a('nobody@nowhere'), 1, 0, 1);
  return [
    // Length fields.
    { name: 'length 0 (an empty frame)', bytes: u32(0), opts: keep, nodeCloses: true, check: badTerm },
    { name: 'length 0xFFFFFFFF', bytes: concat(u32(0xffff_ffff), Buffer.alloc(64)), opts: keep, nodeCloses: true, check: tooLarge },
    { name: 'length one past the 16 MiB limit', bytes: concat(u32(MAX_FRAME + 1), Buffer.alloc(64)), opts: keep, nodeCloses: true, check: tooLarge },
    { name: 'length 16 MiB (the limit), 100 bytes sent, EOF', bytes: concat(u32(MAX_FRAME), Buffer.alloc(100)), check: nothing },
    { name: 'length beyond the data (100 said, 10 sent), EOF', bytes: concat(u32(100), bytes(VERSION), Buffer.alloc(9)), check: nothing },
    {
      name: 'length shorter than the term (trailing term bytes read as the next length)',
      bytes: concat(frame32(encode(echo(2)), 5), Buffer.alloc(8)),
      nodeCloses: true,
      opts: keep,
      check: badTerm,
    },
    { name: 'three bytes of a length, EOF', bytes: bytes(0, 0, 1), check: nothing },
    { name: 'a good frame cut in its term, EOF', bytes: good.subarray(0, good.length - 3), check: nothing },
    { name: 'a good frame one byte at a time', bytes: good, opts: { pieces: 1 }, check: answerIs((x) => tag(x, 'answer', 2), '{answer, {1, 0}}') },
    // Bodies that are not external terms.
    { name: 'no version byte', bytes: frame32(encode(echo(1)).subarray(1)), opts: keep, nodeCloses: true, check: badTerm },
    { name: 'version 130', bytes: frame32(concat(bytes(130), encode(echo(1)).subarray(1))), opts: keep, nodeCloses: true, check: badTerm },
    { name: 'an unknown tag (0)', bytes: etf(bytes(0)), opts: keep, nodeCloses: true, check: badTerm },
    { name: 'a term followed by trailing bytes', bytes: frame32(concat(encode(echo(1)), bytes(1, 2, 3))), opts: keep, nodeCloses: true, check: badTerm },
    { name: 'ATOM_EXT claiming 65535 bytes', bytes: etf(bytes(100, 0xff, 0xff), Buffer.from('abc')), opts: keep, nodeCloses: true, check: badTerm },
    { name: 'an atom of 256 characters', bytes: etf(bytes(118, 1, 0), Buffer.alloc(256, 0x61)), opts: keep, nodeCloses: true, check: badTerm },
    { name: 'an atom of invalid UTF-8', bytes: etf(bytes(119, 3, 0xff, 0xfe, 0x80)), opts: keep, nodeCloses: true, check: badTerm },
    { name: 'LIST_EXT claiming 2^32-1 elements', bytes: etf(bytes(108), u32(0xffff_ffff), bytes(106)), opts: keep, nodeCloses: true, check: badTerm },
    { name: 'LARGE_TUPLE_EXT claiming 2^32-1 elements', bytes: etf(bytes(105), u32(0xffff_ffff)), opts: keep, nodeCloses: true, check: badTerm },
    { name: 'MAP_EXT claiming 2^32-1 pairs', bytes: etf(bytes(116), u32(0xffff_ffff)), opts: keep, nodeCloses: true, check: badTerm },
    { name: 'BINARY_EXT claiming 4 GiB', bytes: etf(bytes(109), u32(0xffff_ffff), Buffer.alloc(8)), opts: keep, nodeCloses: true, check: badTerm },
    {
      name: 'a 16 MiB bignum (LARGE_BIG_EXT, over the 64 KiB limit)',
      bytes: etf(bytes(111), u32(1 << 24), bytes(0), Buffer.alloc(1024, 0xff)),
      opts: keep,
      nodeCloses: true,
      check: badTerm,
    },
    { name: 'a map with a duplicate key', bytes: etf(bytes(116), u32(2), bytes(97, 1, 97, 1, 97, 1, 97, 2)), opts: keep, nodeCloses: true, check: badTerm },
    { name: 'an atom cache reference outside the distribution', bytes: etf(bytes(82, 0)), opts: keep, nodeCloses: true, check: badTerm },
    { name: 'a distribution header (131, 68)', bytes: etf(bytes(68, 0)), opts: keep, nodeCloses: true, check: badTerm },
    { name: 'LOCAL_EXT (121)', bytes: etf(bytes(121), Buffer.alloc(16)), opts: keep, nodeCloses: true, check: badTerm },
    { name: 'a bitstring with 9 bits in its last byte', bytes: etf(bytes(77), u32(1), bytes(9, 0xff)), opts: keep, nodeCloses: true, check: badTerm },
    // Compressed terms.
    { name: 'compressed, declaring 4 GiB', bytes: etf(bytes(80), u32(0xffff_ffff), deflateSync(Buffer.from([106]))), opts: keep, nodeCloses: true, check: badTerm },
    { name: 'compressed, declaring 0 bytes', bytes: etf(bytes(80), u32(0), deflateSync(Buffer.from([106]))), opts: keep, nodeCloses: true, check: badTerm },
    { name: 'compressed, inflating past its declared size (declares 100, inflates to 2 MiB)', bytes: compressedBomb(1 << 20, 100), opts: keep, nodeCloses: true, check: badTerm },
    { name: 'compressed, not a zlib stream', bytes: etf(bytes(80), u32(100), Buffer.alloc(50, 0x42)), opts: keep, nodeCloses: true, check: badTerm },
    {
      name: 'compressed inside a tuple (only allowed at the top)',
      bytes: etf(bytes(104, 1, 80), u32(1), deflateSync(Buffer.from([106]))),
      opts: keep,
      nodeCloses: true,
      check: badTerm,
    },
    {
      name: 'a compressed-term bomb: 16 KiB inflating to 16 MiB of 8 million empty tuples',
      bytes: compressedBomb((MAX_FRAME - 8) / 2),
      opts: { closeWaitMs: 20_000 },
    },
    // Nesting.
    { name: 'lists nested 100 000 deep', bytes: etf(nested(100_000)), opts: keep, nodeCloses: true, check: badTerm },
    {
      name: 'tuples nested 3000 deep (past the 2048 limit)',
      bytes: etf(Buffer.from(Array.from({ length: 3000 }, () => [104, 1]).flat()), bytes(106)),
      opts: keep,
      nodeCloses: true,
      check: badTerm,
    },
    {
      name: 'lists nested 2000 deep in an echo (under the limit)',
      bytes: etf(
        bytes(104, 2),
        bytes(100, 0, 3),
        Buffer.from('mfa'),
        bytes(104, 3, 100, 0, 12),
        Buffer.from('courier_echo'),
        bytes(100, 0, 4),
        Buffer.from('echo'),
        bytes(108),
        u32(1),
        nested(2000),
        bytes(106),
      ),
    },
    // Terms of the wrong shape.
    { name: '{mfa, {1, 2, 3}}', bytes: rpcFrame(mfa(1, 2, 3)), check: tupleRefused },
    { name: '{mfa, {courier_echo, echo, not_a_list}}', bytes: rpcFrame(mfa(a('courier_echo'), a('echo'), a('not_a_list'))), check: tupleRefused },
    { name: '{mfa, {<<"courier_echo">>, echo, [1]}} (module as a binary)', bytes: rpcFrame(mfa(Buffer.from('courier_echo'), a('echo'), [1])), check: tupleRefused },
    { name: '{mfa, {courier_echo, echo}} (two elements)', bytes: rpcFrame(t(a('mfa'), t(a('courier_echo'), a('echo')))), check: tupleRefused },
    { name: '{mfa, courier_echo, echo} (flat, three elements)', bytes: rpcFrame(t(a('mfa'), a('courier_echo'), a('echo'))), check: badRequest },
    { name: '{mfa, courier_echo, echo, 42} (flat, args not a list)', bytes: rpcFrame(t(a('mfa'), a('courier_echo'), a('echo'), 42)), check: badRequest },
    { name: '{call, Id, "courier_echo", echo, [1]} (module as a string)', bytes: rpcFrame(t(a('call'), 1, 'courier_echo', a('echo'), [1])), check: badRequest },
    { name: '{cast, 1, 2, 3}', bytes: rpcFrame(t(a('cast'), 1, 2, 3)), check: badRequest },
    { name: '{send, 123, x} (destination a number)', bytes: rpcFrame(t(a('send'), 123, a('x'))), check: badRequest },
    { name: '{spawn, Id, courier_echo} (too short)', bytes: rpcFrame(t(a('spawn'), 1, a('courier_echo'))), check: badRequest },
    { name: '{whoami, extra}', bytes: rpcFrame(t(a('whoami'), a('extra'))), check: badRequest },
    { name: '{} (the empty tuple)', bytes: rpcFrame(t()), check: badRequest },
    { name: 'an unknown tuple tag {format_disk, all}', bytes: rpcFrame(t(a('format_disk'), a('all'))), check: badRequest },
    { name: 'a bare atom', bytes: rpcFrame(a('mfa')), check: badRequest },
    { name: 'a list of requests', bytes: rpcFrame([echo(1), echo(2)]), check: badRequest },
    { name: 'a tuple of 65 536 atoms', bytes: rpcFrame(t(...Array.from({ length: 65_536 }, () => a('mfa')))), check: badRequest },
    {
      name: 'an improper list as the arguments',
      bytes: etf(
        bytes(104, 2, 119, 3),
        Buffer.from('mfa'),
        bytes(104, 3, 119, 12),
        Buffer.from('courier_echo'),
        bytes(119, 4),
        Buffer.from('echo'),
        bytes(108),
        u32(1),
        bytes(97, 1, 97, 2),
      ),
      check: tupleRefused,
    },
    {
      name: 'a NaN float as the argument to echo (no Erlang form for the answer)',
      bytes: etf(
        bytes(104, 2, 119, 3),
        Buffer.from('mfa'),
        bytes(104, 3, 119, 12),
        Buffer.from('courier_echo'),
        bytes(119, 4),
        Buffer.from('echo'),
        bytes(108),
        u32(1),
        bytes(70, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0),
        bytes(106),
      ),
    },
    {
      name: 'a sleep of 2^53 ms, a negative sleep, a float sleep',
      bytes: concat(
        rpcFrame(t(a('cast'), a('courier_echo'), a('sleep'), [2 ** 53])),
        rpcFrame(mfa(a('courier_echo'), a('sleep'), [-1])),
        rpcFrame(mfa(a('courier_echo'), a('sleep'), [new ErlFloat(0.5)])),
      ),
    },
    { name: 'a crash with a 1 MiB reason', bytes: rpcFrame(mfa(a('courier_echo'), a('crash'), [Buffer.alloc(1 << 20, 0x41)])), check: tupleRefused },
    // The allow-list: only what the node exposes, never erpc, never anything else.
    { name: '{mfa, {erlang, halt, []}}', bytes: rpcFrame(mfa(a('erlang'), a('halt'), [])), check: notAllowed },
    { name: '{mfa, {os, cmd, ["touch /tmp/pwned"]}}', bytes: rpcFrame(mfa(a('os'), a('cmd'), ['touch /tmp/pwned'])), check: notAllowed },
    { name: '{mfa, {erpc, execute_call, […]}} (erpc is not for sshrpc)', bytes: rpcFrame(mfa(a('erpc'), a('execute_call'), [1, a('erlang'), a('halt'), []])), check: notAllowed },
    { name: '{mfa, {courier_echo, echo, [1, 2]}} (wrong arity)', bytes: rpcFrame(mfa(a('courier_echo'), a('echo'), [1, 2])), check: notAllowed },
    {
      name: '{mfa, {courier_echo, constructor, []}} and __proto__',
      bytes: concat(rpcFrame(mfa(a('courier_echo'), a('constructor'), [])), rpcFrame(mfa(a('__proto__'), a('toString'), []))),
    },
    { name: '{call, 1, erlang, apply, [erlang, halt, []]}', bytes: rpcFrame(t(a('call'), 1, a('erlang'), a('apply'), [a('erlang'), a('halt'), []])) },
    { name: '{spawn, 1, erlang, halt, []}', bytes: rpcFrame(t(a('spawn'), 1, a('erlang'), a('halt'), [])) },
    { name: '{cast, init, stop, []}', bytes: rpcFrame(t(a('cast'), a('init'), a('stop'), [])), check: nothing },
    { name: '{send, echo, Msg} (a registered name not in the allow-list)', bytes: rpcFrame(t(a('send'), a('echo'), t(a('x'), 1))), check: nothing },
    { name: '{send, Pid, Msg} (a pid this connection did not spawn)', bytes: rpcFrame(t(a('send'), foreignPid, a('x'))), check: nothing },
    // Many requests in flight.
    {
      name: '5000 calls of sleep(20) at once (past the 1024 in flight per channel)',
      bytes: Buffer.concat(Array.from({ length: 5000 }, (_, i) => rpcFrame(t(a('call'), i, a('courier_echo'), a('sleep'), [20])))),
      opts: { closeWaitMs: 20_000 },
      check: (xs) => (xs.length === 5000 ? undefined : `${xs.length} replies, want 5000`),
    },
    {
      name: '20 000 mfa echoes at once, answered in order',
      bytes: Buffer.concat(Array.from({ length: 20_000 }, (_, i) => rpcFrame(echo(i)))),
      opts: { closeWaitMs: 20_000 },
      check: (xs) =>
        xs.length === 20_000 && xs.every((x, i) => tag(x, 'answer', 2) && x.elements[1] instanceof Tuple && x.elements[1].elements[0] === i)
          ? undefined
          : `${xs.length} answers, want 20000 in order`,
    },
    {
      name: '32 calls of sleep(100) with 256 KiB ids (past the 1 MiB of calls in flight per channel)',
      bytes: Buffer.concat(Array.from({ length: 32 }, (_, i) => rpcFrame(t(a('call'), Buffer.alloc(256 * 1024, i), a('courier_echo'), a('sleep'), [100])))),
      opts: { closeWaitMs: 30_000 },
      check: (xs) => (xs.length === 32 && xs.every((x) => tag(x, 'reply', 3) && tag(x.elements[2], 'answer')) ? undefined : `${xs.length} replies, want 32 answers`),
    },
    {
      name: '5000 spawns of sleep(30000) (past the 1024 live processes per connection)',
      bytes: Buffer.concat(Array.from({ length: 5000 }, (_, i) => rpcFrame(t(a('spawn'), i, a('courier_echo'), a('sleep'), [30_000])))),
      opts: { closeWaitMs: 20_000 },
      check: (xs) => {
        const pids = xs.filter((x) => tag(x, 'reply', 3) && tag(x.elements[2], 'pid')).length;
        const limited = xs.filter((x) => tag(x, 'reply', 3) && tag(x.elements[2], 'error') && x.elements[2].elements[1] === a('system_limit')).length;
        return xs.length === 5000 && pids <= 1024 && pids + limited === 5000 ? undefined : `${xs.length} replies: ${pids} pids, ${limited} system_limit`;
      },
    },
  ];
}

/** Generated cases: random bytes, random frames, random terms shaped like requests, mutated good frames. */
export function rpcArbitrary(): fc.Arbitrary<{ bytes: Buffer; pieces: boolean }> {
  const raw = fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from(b));
  const framed = fc
    .array(fc.tuple(fc.uint8Array({ maxLength: 200 }), fc.option(fc.oneof(fc.constantFrom(0, 1, 0xffff_ffff, MAX_FRAME, MAX_FRAME + 1), fc.nat({ max: 400 })))), {
      minLength: 1,
      maxLength: 4,
    })
    .map((fs) => concat(...fs.map(([body, len]) => frame32(concat(bytes(VERSION), body), len ?? undefined))));
  // Not `sleep`: a generated sleep of 2^31 ms is a legitimate call the channel must wait for (named cases cover it).
  const name = fc.oneof(
    fc.constantFrom('courier_echo', 'echo', 'add', 'crash', 'erlang', 'halt', 'erpc', 'mfa', 'call'),
    fc.string({ maxLength: 12 }).filter((s) => s !== 'sleep'),
  );
  const leaf: fc.Arbitrary<Term> = fc.oneof(
    name.map((s) => a(s) as Term),
    fc.integer(),
    fc.bigInt({ min: -(1n << 200n), max: 1n << 200n }),
    fc.double().map((d) => (Number.isFinite(d) ? new ErlFloat(d) : 0)),
    fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b) as Term),
    fc.string({ maxLength: 20 }),
  );
  const { term } = fc.letrec<{ term: Term }>((tie) => ({
    term: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.array(tie('term'), { maxLength: 4 }),
      fc.array(tie('term'), { maxLength: 4 }).map((xs) => t(...xs)),
    ),
  }));
  const tagged = fc
    .tuple(fc.constantFrom('mfa', 'call', 'cast', 'send', 'spawn', 'whoami', 'answer', 'reply'), fc.array(term, { maxLength: 5 }))
    .map(([tg, xs]) => rpcFrame(t(a(tg), ...xs)));
  const mfaLike = fc
    .tuple(name, name, fc.array(term, { maxLength: 3 }), fc.boolean())
    .map(([m, f, args, flat]) => rpcFrame(flat ? t(a('mfa'), a(m), a(f), args) : mfa(a(m), a(f), args)));
  const many = fc.array(fc.oneof(tagged, mfaLike), { minLength: 2, maxLength: 8 }).map((fs) => concat(...fs));
  const mutated = mutatedOf(rpcFrame(echo(t(a('x'), [1, 2, 3], Buffer.from('bin')))), rpcFrame(t(a('call'), 7, a('courier_echo'), a('add'), [1, 2])), compressedBomb(64));
  return fc.record({ bytes: fc.oneof(raw, framed, tagged, tagged, mfaLike, many, mutated, mutated), pieces: fc.boolean() });
}
