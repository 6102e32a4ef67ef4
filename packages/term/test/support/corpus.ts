import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: packages/term/test/support → four levels up. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
/** The corpus, copied from shared/vectors/erlang into ../fixtures (see its README). */
const fixtures = resolve(dirname(fileURLToPath(import.meta.url)), '../fixtures');

export interface CorpusEntry {
  id: string;
  category: string;
  erlang: string | null;
  outer_tag: string;
  size: number;
  t2b_hex?: string;
  t2b_truncated?: boolean;
  t2b_sha256?: string;
  t2b_head_hex?: string;
  t2b_tail_hex?: string;
  compressed_hex?: string;
  compressed_truncated?: boolean;
  compressed_is_identical_to_uncompressed?: boolean;
  variants?: Record<string, string>;
  hashed_map_order_varies?: boolean;
  structure?: Record<string, unknown>;
}

export interface Corpus {
  otp_release: string;
  generator_node: string;
  generator_node_creation: number;
  count: number;
  entries: CorpusEntry[];
}

export function loadCorpus(): Corpus {
  const file = resolve(fixtures, 'etf-corpus.json');
  if (!existsSync(file)) throw new Error(`ETF corpus not found at ${file}`);
  return JSON.parse(readFileSync(file, 'utf8')) as Corpus;
}

/** Every complete encoding of an entry: plain, compressed and variants, with a label each. */
export function fullEncodings(e: CorpusEntry): { label: string; hex: string }[] {
  const out: { label: string; hex: string }[] = [];
  if (e.t2b_hex !== undefined) out.push({ label: 't2b', hex: e.t2b_hex });
  if (e.compressed_hex !== undefined && e.compressed_truncated !== true) out.push({ label: 'compressed', hex: e.compressed_hex });
  for (const [name, hex] of Object.entries(e.variants ?? {})) out.push({ label: name, hex });
  return out;
}
