import type { Results } from './courier.js';

/** The comparison table of `npm run bench`, as Markdown so it pastes into the README as is. */
interface Metric {
  readonly key: keyof Results;
  readonly label: string;
  readonly higherIsBetter: boolean;
}

const METRICS: readonly Metric[] = [
  { key: 'spawnPerS', label: 'spawn + exit (processes/s)', higherIsBetter: true },
  { key: 'idleBytesPerProc', label: 'memory per idle process (bytes)', higherIsBetter: false },
  { key: 'pingPongRtPerS', label: 'local ping-pong (round trips/s)', higherIsBetter: true },
  { key: 'pingPongBesideIdleRtPerS', label: 'ping-pong beside the idle processes (round trips/s)', higherIsBetter: true },
  { key: 'manyToOneMsgsPerS', label: 'many-to-one (messages/s)', higherIsBetter: true },
];

/** Rates must reach half of Erlang's; memory must not exceed Erlang's. */
const RATE_TARGET = 0.5;
const MEMORY_TARGET = 1.0;

const num = (x: number): string => Math.round(x).toLocaleString('en-US');

export function table(courier: Results, erlang: Results | undefined): string {
  const rows: string[][] = [['metric', 'Courier', 'Erlang', 'ratio Courier/Erlang', 'target']];
  for (const m of METRICS) {
    const c = courier[m.key];
    const e = erlang?.[m.key];
    const ratio = e === undefined ? undefined : c / e;
    const target = m.higherIsBetter ? `≥ ${RATE_TARGET.toFixed(1)}×` : `≤ ${MEMORY_TARGET.toFixed(1)}×`;
    const met = ratio === undefined ? '' : (m.higherIsBetter ? ratio >= RATE_TARGET : ratio <= MEMORY_TARGET) ? ' met' : ' MISSED';
    rows.push([
      m.label,
      num(c),
      e === undefined ? 'skipped' : num(e),
      ratio === undefined ? '-' : `${ratio.toFixed(2)}× (${m.higherIsBetter ? 'higher' : 'lower'} is better)`,
      target + met,
    ]);
  }
  const widths = (rows[0] as string[]).map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  const right = [false, true, true, true, false];
  const line = (r: string[]): string => `| ${r.map((cell, i) => (right[i] ? cell.padStart(widths[i] as number) : cell.padEnd(widths[i] as number))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (right[i] ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(rows[0] as string[]), rule, ...rows.slice(1).map(line)].join('\n');
}
