import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { COURIER_NODE_FLAGS } from './run-info.js';

/** A Courier node a bench runs in a process of its own, once it printed `READY <name>`. */
export interface CourierPeer {
  readonly process: ChildProcess;
  /** The node name it printed after READY. */
  readonly name: string;
}

/**
 * Run `script` (a bench's peer.ts) with tsx in a node process of its own, with the benches' V8
 * flags (COURIER_NODE_FLAGS) after `flags`, and wait for its line `READY <name>`; rejects if it
 * exits first. stderr is the bench's own.
 */
export async function startCourierPeer(
  script: URL,
  args: readonly string[],
  opts: { flags?: readonly string[]; env?: Readonly<Record<string, string>> } = {},
): Promise<CourierPeer> {
  const child = spawn(process.execPath, [...(opts.flags ?? []), ...COURIER_NODE_FLAGS, '--conditions=source', '--import', 'tsx', fileURLToPath(script), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...opts.env },
  });
  const name = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      const m = /READY (\S+)/.exec(d);
      if (m) resolve(m[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`the Courier peer ${fileURLToPath(script)} exited (${code}) before READY`)));
  });
  return { process: child, name };
}
