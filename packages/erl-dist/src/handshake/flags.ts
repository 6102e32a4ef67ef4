/**
 * Distribution flags (erts/emulator/beam/dist.h). bigint because the set spans 38 bits.
 * Courier advertises what OTP 25–28 need plus the optional features it implements; it never
 * advertises DIST_HDR_ATOM_CACHE (an optimisation only, as in ei and jinterface).
 */
export const DFLAG = {
  PUBLISHED: 0x1n,
  ATOM_CACHE: 0x2n,
  EXTENDED_REFERENCES: 0x4n,
  DIST_MONITOR: 0x8n,
  FUN_TAGS: 0x10n,
  DIST_MONITOR_NAME: 0x20n,
  HIDDEN_ATOM_CACHE: 0x40n,
  NEW_FUN_TAGS: 0x80n,
  EXTENDED_PIDS_PORTS: 0x100n,
  EXPORT_PTR_TAG: 0x200n,
  BIT_BINARIES: 0x400n,
  NEW_FLOATS: 0x800n,
  UNICODE_IO: 0x1000n,
  DIST_HDR_ATOM_CACHE: 0x2000n,
  SMALL_ATOM_TAGS: 0x4000n,
  UTF8_ATOMS: 0x10000n,
  MAP_TAG: 0x20000n,
  BIG_CREATION: 0x40000n,
  SEND_SENDER: 0x80000n,
  BIG_SEQTRACE_LABELS: 0x100000n,
  EXIT_PAYLOAD: 0x400000n,
  FRAGMENTS: 0x800000n,
  HANDSHAKE_23: 0x1000000n,
  UNLINK_ID: 0x2000000n,
  MANDATORY_25_DIGEST: 0x4000000n,
  SPAWN: 1n << 32n,
  NAME_ME: 1n << 33n,
  V4_NC: 1n << 34n,
  ALIAS: 1n << 35n,
} as const;
export type DFlagName = keyof typeof DFLAG;

/** What OTP 25 requires of a peer (0x01070F94); MANDATORY_25_DIGEST stands for all of them. */
export const MANDATORY_25 =
  DFLAG.EXTENDED_REFERENCES |
  DFLAG.FUN_TAGS |
  DFLAG.EXTENDED_PIDS_PORTS |
  DFLAG.UTF8_ATOMS |
  DFLAG.NEW_FUN_TAGS |
  DFLAG.BIG_CREATION |
  DFLAG.NEW_FLOATS |
  DFLAG.MAP_TAG |
  DFLAG.EXPORT_PTR_TAG |
  DFLAG.BIT_BINARIES |
  DFLAG.HANDSHAKE_23;

/** OTP 26–28 add these two. Courier requires only MANDATORY_25 of peers, so OTP 25 nodes can connect. */
export const MANDATORY_26 = MANDATORY_25 | DFLAG.V4_NC | DFLAG.UNLINK_ID;

/** The flags Courier advertises (without PUBLISHED, which depends on the node being hidden). */
export const COURIER_FLAGS =
  MANDATORY_26 |
  DFLAG.MANDATORY_25_DIGEST |
  DFLAG.DIST_MONITOR |
  DFLAG.DIST_MONITOR_NAME |
  DFLAG.UNICODE_IO |
  DFLAG.SMALL_ATOM_TAGS |
  DFLAG.SEND_SENDER |
  DFLAG.BIG_SEQTRACE_LABELS |
  DFLAG.EXIT_PAYLOAD |
  DFLAG.FRAGMENTS |
  DFLAG.SPAWN |
  DFLAG.ALIAS;

/** OR in the 11 flags MANDATORY_25_DIGEST stands for (dist_util:expand_mandatory_25_flag/1). */
export function expandFlags(f: bigint): bigint {
  return (f & DFLAG.MANDATORY_25_DIGEST) !== 0n ? f | MANDATORY_25 : f;
}

/** Names of the flags in `required` that `f` lacks, for the error message. */
export function missingFlags(f: bigint, required: bigint = MANDATORY_25): string[] {
  const lack = required & ~expandFlags(f);
  return (Object.keys(DFLAG) as DFlagName[]).filter((k) => (lack & DFLAG[k]) !== 0n);
}

/** The names of the DFLAG bits set in `f`, for logs and errors. */
export function flagNames(f: bigint): string[] {
  return (Object.keys(DFLAG) as DFlagName[]).filter((k) => (f & DFLAG[k]) !== 0n);
}
