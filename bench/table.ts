import type { Results } from './courier.js';

/** The comparison table of `npm run bench`, as Markdown so it pastes into the README as is. */
interface Metric {
  readonly key: keyof Results;
  readonly label: string;
  readonly higherIsBetter: boolean;
  /** A row with a target against another Courier row (typed vs term API, backlog vs empty mailbox). */
  readonly against?: { readonly key: keyof Results; readonly name: string; readonly target: number };
}

const METRICS: readonly Metric[] = [
  { key: 'spawnPerS', label: 'spawn + exit (processes/s)', higherIsBetter: true },
  { key: 'idleBytesPerProc', label: 'memory per idle process (bytes)', higherIsBetter: false },
  { key: 'pingPongRtPerS', label: 'local ping-pong (round trips/s)', higherIsBetter: true },
  { key: 'pingPongBesideIdleRtPerS', label: 'ping-pong beside the idle processes (round trips/s)', higherIsBetter: true },
  { key: 'manyToOneMsgsPerS', label: 'many-to-one (messages/s)', higherIsBetter: true },
  {
    key: 'typedPingPongRtPerS',
    label: 'typed ping-pong (round trips/s)',
    higherIsBetter: true,
    against: { key: 'pingPongRtPerS', name: 'local ping-pong', target: 0.8 },
  },
  { key: 'callPerS', label: 'gen_server call (calls/s)', higherIsBetter: true },
  { key: 'typedCallPerS', label: 'typed call (calls/s)', higherIsBetter: true, against: { key: 'callPerS', name: 'gen_server call', target: 0.8 } },
  {
    key: 'callBacklogPerS',
    label: 'call with a backlog in the mailbox (calls/s)',
    higherIsBetter: true,
    against: { key: 'callPerS', name: 'gen_server call', target: 0.8 },
  },
  { key: 'startChildPerS', label: 'dynamic supervisor start_child (children/s)', higherIsBetter: true },
];

/** Rates must reach half of Erlang's; memory must not exceed Erlang's. */
const RATE_TARGET = 0.5;
const MEMORY_TARGET = 1.0;

const num = (x: number): string => Math.round(x).toLocaleString('en-US');

export function table(courier: Results, erlang: Results | undefined): string {
  const rows: string[][] = [['metric', 'Courier', 'Erlang', 'ratio Courier/Erlang', 'target', 'Courier against its own row']];
  for (const m of METRICS) {
    const c = courier[m.key];
    const e = erlang?.[m.key];
    const ratio = e === undefined ? undefined : c / e;
    const target = m.higherIsBetter ? `≥ ${RATE_TARGET.toFixed(1)}×` : `≤ ${MEMORY_TARGET.toFixed(1)}×`;
    const met = ratio === undefined ? '' : (m.higherIsBetter ? ratio >= RATE_TARGET : ratio <= MEMORY_TARGET) ? ' met' : ' MISSED';
    let own = '';
    if (m.against !== undefined) {
      const r = c / courier[m.against.key];
      own = `${r.toFixed(2)}× ${m.against.name}: ≥ ${m.against.target.toFixed(1)}× ${r >= m.against.target ? 'met' : 'MISSED'}`;
    }
    rows.push([
      m.label,
      num(c),
      e === undefined ? 'skipped' : num(e),
      ratio === undefined ? '-' : `${ratio.toFixed(2)}× (${m.higherIsBetter ? 'higher' : 'lower'} is better)`,
      target + met,
      own,
    ]);
  }
  const widths = (rows[0] as string[]).map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  const right = [false, true, true, true, false, false];
  const line = (r: string[]): string => `| ${r.map((cell, i) => (right[i] ? cell.padStart(widths[i] as number) : cell.padEnd(widths[i] as number))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (right[i] ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(rows[0] as string[]), rule, ...rows.slice(1).map(line)].join('\n');
}
