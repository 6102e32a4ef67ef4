import { MAX_ATOM_CHARS } from '@courier/term';

/**
 * Node names as a peer sends them in the handshake (`send_name`, the challenge), checked before
 * anything is made of them: valid UTF-8, 1–255 characters (an atom's limit), exactly one `@` with
 * text on both sides, and no control characters or spaces (which no `erl -name`/`-sname` can
 * produce). OTP's dist_util takes the name as it comes and makes an atom of it; Courier refuses a
 * name it could not use instead of failing later (an atom too long ended the process once).
 */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export type NodeNameCheck = { readonly ok: true; readonly name: string } | { readonly ok: false; readonly reason: string };

export function checkNodeName(bytes: Uint8Array): NodeNameCheck {
  let name: string;
  try {
    name = strictUtf8.decode(bytes);
  } catch {
    return { ok: false, reason: 'the node name is not UTF-8' };
  }
  const chars = [...name];
  if (chars.length === 0 || chars.length > MAX_ATOM_CHARS) return { ok: false, reason: `a node name has 1 to ${MAX_ATOM_CHARS} characters, not ${chars.length}` };
  const at = name.indexOf('@');
  if (at <= 0 || at === name.length - 1 || name.indexOf('@', at + 1) !== -1) return { ok: false, reason: `${preview(name)} is not alive@host` };
  for (const ch of chars) {
    const c = ch.codePointAt(0) ?? 0;
    if (c <= 0x20 || c === 0x7f || (c >= 0x80 && c <= 0x9f)) return { ok: false, reason: `${preview(name)} has a control character or a space` };
  }
  return { ok: true, name };
}

function preview(name: string): string {
  return JSON.stringify(name.length > 60 ? `${name.slice(0, 60)}…` : name);
}
