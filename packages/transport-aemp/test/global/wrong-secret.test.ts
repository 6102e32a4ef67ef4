import { afterEach, describe, expect, it } from 'vitest';
import { Node, type Logger } from '@courier/core';
import { aemp } from '@courier/transport-aemp';

/** A logger that keeps what it is given, to check what an operator would read. */
function recorder(): { log: Logger; lines: Array<{ level: string; obj: Record<string, unknown>; msg: string }> } {
  const lines: Array<{ level: string; obj: Record<string, unknown>; msg: string }> = [];
  const at =
    (level: string) =>
    (obj: unknown, msg?: string): void => {
      lines.push({ level, obj: typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>) : {}, msg: msg ?? String(obj) });
    };
  const log: Logger = { trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => log };
  return { log, lines };
}

describe('a slave whose secret is not the seed’s', () => {
  const nodes: Node[] = [];
  afterEach(async () => {
    for (const n of nodes.splice(0)) await n.stop().catch(() => undefined);
  });

  it('is told the secret does not match, in the lookup error and in its log, not only "no answer"', async () => {
    const seedT = aemp({ secret: 'right', binds: ['127.0.0.1:0'], global: true, peers: {} });
    nodes.push(await new Node({ name: 'wrong-secret-seed', transports: [seedT] }).start());
    const address = seedT.listening[0] as string;
    const { log, lines } = recorder();
    const slaveT = aemp({ secret: 'wrong', seeds: [address], peers: {}, queryTimeoutMs: 1500 });
    nodes.push(await new Node({ name: 'wrong-secret-slave', transports: [slaveT], log }).start());

    const err = await slaveT.attached(1500).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/no answer from a master within 1500 ms; seed 127\.0\.0\.1:\d+: .*shared secret mismatch/);
    const warned = lines.filter((l) => l.level === 'warn' && l.msg === 'seed refused the connection');
    expect(warned).toHaveLength(1); // once per reason, not once per retry
    expect(warned[0]?.obj['code']).toBe('BAD_COOKIE');
    expect(JSON.stringify(lines)).not.toContain('wrong"'); // the secret itself is never logged
  });
});
