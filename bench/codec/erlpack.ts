import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

/**
 * erlpack (Discord's native ETF addon) as the bench sees it. It is an optionalDependency of the
 * root package: npm ci carries on when its node-gyp build fails (a devDependency's failed build
 * would fail npm ci), and nothing under packages/ depends on it. So it may be missing here: it is
 * loaded at run time through require, typed by the interface below rather than by its own
 * declaration file, so the type check passes without it too.
 */
export interface Erlpack {
  pack(value: unknown): Buffer;
  unpack(bytes: Uint8Array): unknown;
}

export type Loaded = { readonly erlpack: Erlpack; readonly version: string; readonly path: string } | { readonly missing: string };

const require = createRequire(import.meta.url);

export function loadErlpack(): Loaded {
  try {
    const path = require.resolve('erlpack');
    const erlpack = require('erlpack') as Erlpack;
    const { version } = require('erlpack/package.json') as { version: string };
    return { erlpack, version, path };
  } catch (err) {
    return { missing: (err as Error).message.split('\n')[0] ?? String(err) };
  }
}

/** What erlpack makes of one encoding: decoded or not (its error), and whether pack(unpack(b)) gives b back. */
export interface Probe {
  readonly decodes: boolean;
  readonly error?: string;
  readonly roundTrips: boolean;
}

/**
 * Try erlpack.unpack on each encoding in a child process: erlpack printf()s every decode error
 * to the process's stdout, which would land in the middle of the tables, and a malformed term
 * could take the whole process down. The answers come back on stderr.
 */
export function probe(path: string, encodings: readonly Uint8Array[]): Probe[] {
  const script = `
    const e = require(process.env.ERLPACK_PATH);
    const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
    const out = input.map((hex) => {
      const b = Buffer.from(hex, 'hex');
      let v;
      try { v = e.unpack(b); } catch (err) { return { decodes: false, error: err.message, roundTrips: false }; }
      let roundTrips = false;
      try { roundTrips = Buffer.compare(e.pack(v), b) === 0; } catch {}
      return { decodes: true, roundTrips };
    });
    process.stderr.write(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ['-e', script], {
    input: JSON.stringify(encodings.map((b) => Buffer.from(b).toString('hex'))),
    env: { ...process.env, ERLPACK_PATH: path },
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`erlpack probe exited with ${r.status ?? r.signal}: ${r.stderr.slice(0, 500)}`);
  return JSON.parse(r.stderr) as Probe[];
}
