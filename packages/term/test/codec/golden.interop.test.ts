import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode, encode, termEquals } from '@courier/term';
import { compileErl, findErl, freePort, isAlive, requirePeer, startErl, uniqueName, type CompiledErl, type ErlNode } from '@courier/testkit';
import { toHex } from '../support/bytes.js';

/**
 * Golden round trip through a real, distributed `erl` (fixtures/etf_golden.erl): erl sends
 * term_to_binary of 300-odd terms (plain, compressed, minor_version 0); Courier decodes each,
 * re-encodes it plain and compressed and sends it back; erl checks binary_to_term(Bytes) =:= T,
 * identical deterministic bytes, and byte equality with OTP wherever OTP's encoding is unique.
 */
const tools = findErl();
const peer = requirePeer('erl', tools !== null, 'erl/erlc not found on PATH');
const fixture = fileURLToPath(new URL('../fixtures/etf_golden.erl', import.meta.url));

describe('golden round trip through a real erl', () => {
  let compiled: CompiledErl | undefined;
  let node: ErlNode | undefined;

  beforeAll(async () => {
    if (!peer.available) return;
    compiled = await compileErl([fixture], tools);
    // EPMD-less (OTP 23+): a distributed node on a port of its own, so that no `epmd -daemon` is started and left behind.
    const args = ['-start_epmd', 'false', '-erl_epmd_port', String(await freePort())];
    node = startErl({ name: uniqueName('golden'), codePath: [compiled.dir], eval: 'etf_golden:main()', args });
  });

  afterAll(async () => {
    if (node !== undefined) {
      await node.stop();
      expect(isAlive(node.pid)).toBe(false);
    }
    compiled?.cleanup();
  });

  it('decodes every term erl sends, and erl accepts every re-encoding', async (ctx) => {
    peer.require(ctx);
    const erl = node as ErlNode;
    const problems: string[] = [];
    let count = 0;
    for (;;) {
      const line = await erl.stdout.waitFor(/^(TERM|END) /, 60_000);
      if (line.startsWith('END ')) {
        expect(Number(line.slice(4))).toBe(count);
        break;
      }
      const [, index, plainHex, compressedHex, mv0Hex] = line.split(' ') as [string, string, string, string, string];
      count++;
      try {
        const t = decode(Buffer.from(plainHex, 'hex'));
        if (!termEquals(decode(Buffer.from(compressedHex, 'hex')), t)) problems.push(`${index}: compressed form decodes differently`);
        if (!termEquals(decode(Buffer.from(mv0Hex, 'hex')), t)) problems.push(`${index}: minor_version 0 form decodes differently`);
        erl.write(`BACK ${index} ${toHex(encode(t))} ${toHex(encode(t, { compressed: true }))}\n`);
      } catch (err) {
        problems.push(`${index}: ${String(err)}`);
      }
    }
    erl.write('DONE\n');
    for (;;) {
      const line = await erl.stdout.waitFor(/^(MISMATCH|RESULT) /, 120_000);
      if (line.startsWith('MISMATCH ')) {
        problems.push(`erl: ${line.slice(0, 300)}`);
        continue;
      }
      const [, checked, reported] = line.split(' ').map(Number) as [number, number, number];
      expect(problems).toEqual([]);
      expect(reported).toBe(0);
      expect(checked).toBe(count);
      break;
    }
    expect(count).toBeGreaterThanOrEqual(200);
    await erl.exited;
  }, 180_000);
});
