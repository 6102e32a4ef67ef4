import type { Sampler } from './sampler.js';
import type { LogTap } from './log-tap.js';

/** Upper bounds of the mailbox length histogram's buckets. */
const MAILBOX_BUCKETS = [0, 1, 5, 10, 50, 100, 500, 1000, 10000];

/**
 * The node in Prometheus text exposition format (version 0.0.4), computed at scrape time from
 * counters the node keeps anyway: nothing is recorded per message.
 */
export function renderMetrics(sampler: Sampler, tap: LogTap | undefined): string {
  sampler.checkRestarts();
  const node = sampler.node;
  const lines: string[] = [];
  const head = (name: string, type: string, help: string): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  };

  head('courier_connections', 'gauge', 'Live distribution connections, by carrier.');
  const byCarrier = new Map<string, number>();
  for (const { session } of sampler.sessions()) byCarrier.set(session.carrier, (byCarrier.get(session.carrier) ?? 0) + 1);
  for (const [c, n] of byCarrier) lines.push(`courier_connections{carrier="${esc(c)}"} ${n}`);

  const totals = sampler.totals();
  head('courier_messages_total', 'counter', 'Distribution frames (messages and ticks) sent and received, by carrier.');
  for (const [c, t] of totals) {
    lines.push(`courier_messages_total{direction="in",carrier="${esc(c)}"} ${t.framesIn}`);
    lines.push(`courier_messages_total{direction="out",carrier="${esc(c)}"} ${t.framesOut}`);
  }
  head('courier_bytes_total', 'counter', 'Bytes sent and received on distribution connections, by carrier.');
  for (const [c, t] of totals) {
    lines.push(`courier_bytes_total{direction="in",carrier="${esc(c)}"} ${t.bytesIn}`);
    lines.push(`courier_bytes_total{direction="out",carrier="${esc(c)}"} ${t.bytesOut}`);
  }

  head('courier_handshake_failures_total', 'counter', 'Failed distribution handshakes, by reason code.');
  for (const [reason, n] of tap?.handshakeFailures ?? []) lines.push(`courier_handshake_failures_total{reason="${esc(reason)}"} ${n}`);

  head('courier_processes', 'gauge', 'Processes alive on this node.');
  lines.push(`courier_processes ${node.procs.size}`);
  head('courier_registered_names', 'gauge', 'Registered process names on this node.');
  lines.push(`courier_registered_names ${node.names.size}`);

  head('courier_mailbox_length', 'histogram', 'Mailbox lengths of the processes alive at scrape time.');
  const counts = new Array<number>(MAILBOX_BUCKETS.length).fill(0);
  let sum = 0;
  let n = 0;
  for (const p of node.procs.values()) {
    const len = p.mailbox.length;
    sum += len;
    n++;
    MAILBOX_BUCKETS.forEach((le, i) => {
      if (len <= le) counts[i] = (counts[i] ?? 0) + 1;
    });
  }
  MAILBOX_BUCKETS.forEach((le, i) => lines.push(`courier_mailbox_length_bucket{le="${le}"} ${counts[i]}`));
  lines.push(`courier_mailbox_length_bucket{le="+Inf"} ${n}`, `courier_mailbox_length_sum ${sum}`, `courier_mailbox_length_count ${n}`);

  head('courier_restarts_total', 'counter', 'Registered processes that crashed and came back under the same name (supervisor restarts).');
  lines.push(`courier_restarts_total ${sampler.restarts}`);
  head('courier_crashes_total', 'counter', 'Processes that exited with an abnormal reason.');
  lines.push(`courier_crashes_total ${sampler.crashes}`);
  return lines.join('\n') + '\n';
}

function esc(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
