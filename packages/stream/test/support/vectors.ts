import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The frames of a real OTP 25 `net_adm:ping`, copied from shared/vectors/erlang into ../fixtures. */
const file = fileURLToPath(new URL('../fixtures/handshake-tcp.json', import.meta.url));

export const hex = (h: string): Buffer => Buffer.from(h, 'hex');

/** Only the fields these tests read: each frame with its 4-byte length prefix. */
export const handshakeCapture = (): { post_handshake_frames: Array<{ raw_hex: string; length: number }> } =>
  JSON.parse(readFileSync(file, 'utf8')) as { post_handshake_frames: Array<{ raw_hex: string; length: number }> };
