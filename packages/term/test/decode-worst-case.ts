/**
 * How long one decode can hold the event loop: each hostile shape of test/support/hostile.ts as
 * a frame of the default maximum size (64 MiB; compressed bombs in ~65 KB), decoded with the
 * default limits (maxHeapBytes 129 MiB), one after the other in this process. Prints wall time,
 * CPU time (user + system, GC threads included) and what happened. Run:
 *
 *   node --conditions=source --import tsx packages/term/test/decode-worst-case.ts
 *
 * The figures in docs/limits.md come from this script.
 */
import { decode, DEFAULT_MAX_TERM_BYTES, ProtocolError } from '@courier/term';
import { atomCache, compressedFrame, heapGrowth, listFrameOfSize, SHAPES } from './support/hostile.js';

const MiB = 1024 * 1024;
const rows: string[][] = [['frame', 'bytes', 'wall ms', 'cpu ms', 'heap grew', 'outcome']];

function run(name: string, frame: Uint8Array): void {
  let outcome = '';
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const growth = heapGrowth(() => {
    try {
      const t = decode(frame, { atomCache });
      outcome = Array.isArray(t) ? `decoded, ${t.length} elements` : 'decoded';
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      outcome = `refused: ${err.code}`;
    }
  });
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  const size = frame.length >= MiB ? `${(frame.length / MiB).toFixed(0)} MiB` : `${(frame.length / 1024).toFixed(0)} KiB`;
  rows.push([name, size, wall.toFixed(0), ((cpu.user + cpu.system) / 1000).toFixed(0), `${(growth / MiB).toFixed(0)} MiB`, outcome]);
}

for (const name of Object.keys(SHAPES)) run(name, listFrameOfSize(SHAPES[name] as (i: number) => number[], DEFAULT_MAX_TERM_BYTES));
run('compressed: NIL_EXT', compressedFrame(listFrameOfSize(SHAPES.NIL_EXT as (i: number) => number[], DEFAULT_MAX_TERM_BYTES)));
run('compressed: empty map', compressedFrame(listFrameOfSize(SHAPES['empty map'] as (i: number) => number[], DEFAULT_MAX_TERM_BYTES)));
const binary = new Uint8Array(DEFAULT_MAX_TERM_BYTES);
binary.set([131, 109]);
new DataView(binary.buffer).setUint32(2, binary.length - 6);
run('one binary', binary);

const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length))) ?? [];
for (const r of rows) console.log(r.map((c, i) => (i === 0 || i === 5 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  '));
