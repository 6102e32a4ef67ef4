import { createInterface } from 'node:readline';
import { Node, TIMEOUT, type Process } from '@courier/core';
import type { Term } from '@courier/term';
import { aemp, portIdOfPid } from '@courier/transport-aemp';

/**
 * The AEMP peer next to the hostile-input suite, in its own process (`node --conditions=source
 * --import tsx interop/hostile/aemp-window.ts NODEID HOST:PORT SECRET WINDOW`): a Courier AEMP
 * node that keeps WINDOW `[reply, N]` messages in flight to `NODEID#echo` the whole time, checks
 * the replies `[N]` come back in order, and answers one-line commands on stdin with one line on
 * stdout, as fixtures/hostile_window.erl does for the Erlang suite:
 *   count -> "COUNT Sent Received"     echo -> "ECHO ok|timeout"
 *   stop  -> "STOPPED Sent Received" (after draining the window)
 * Unasked: "UP" at the first reply, "FAILED Reason" when a reply came out of order or none
 * came for 5 s (a lost connection shows as that stall).
 */
const [nodeid, addr, secret, windowArg] = process.argv.slice(2);
if (nodeid === undefined || addr === undefined || secret === undefined) {
  process.stderr.write('usage: aemp-window.ts NODEID HOST:PORT SECRET [WINDOW]\n');
  process.exit(2);
}
const window = Number(windowArg ?? 100);
const echo = `${nodeid}#echo`;
const STALL_MS = 5000;
const say = (line: string): void => void process.stdout.write(`${line}\n`);

const t = aemp({ secret, peers: { [nodeid]: [addr] }, handshakeTimeoutMs: 5000 });
const node = await new Node({ name: `hostile-window-${process.pid}`, transports: [t] }).start();

let sent = 0;
let received = 0;
let failed: string | undefined;
let stopping: ((line: string) => void) | undefined;

const fail = (why: string): void => {
  if (failed !== undefined) return;
  failed = why;
  say(`FAILED ${why}`);
  stopping?.(`FAILED ${why}`);
};

/** The window: WINDOW messages out, one more for each reply, until `stop` drains it. */
node.spawn(async (self: Process) => {
  const me = portIdOfPid(self.pid);
  const send = (): void => {
    sent++;
    self.send(echo, [me, sent]);
  };
  for (let i = 0; i < window; i++) send();
  while (failed === undefined) {
    const m: Term | typeof TIMEOUT = await self.receive(undefined, STALL_MS);
    if (m === TIMEOUT) return fail(`stalled at ${received + 1}`);
    if (!Array.isArray(m)) return fail(`unexpected message ${JSON.stringify(m)}`);
    if (m[0] !== received + 1) return fail(`out of order: expected ${received + 1}, got ${JSON.stringify(m)}`);
    received++;
    if (received === 1) say('UP');
    if (stopping === undefined) send();
    else if (received === sent) return stopping(`STOPPED ${sent} ${received}`);
  }
});

/** A separate probe: one echo round trip outside the window. */
function probe(): Promise<string> {
  return new Promise((resolve) => {
    node.spawn(async (self) => {
      self.send(echo, [portIdOfPid(self.pid), 'probe']);
      const m = await self.receive((x: Term) => Array.isArray(x) && x[0] === 'probe', STALL_MS);
      resolve(m === TIMEOUT ? 'ECHO timeout' : 'ECHO ok');
    });
  });
}

for await (const line of createInterface({ input: process.stdin })) {
  const cmd = line.trim();
  if (cmd === 'count') say(`COUNT ${sent} ${received}`);
  else if (cmd === 'echo') say(await probe());
  else if (cmd === 'stop') {
    if (failed !== undefined) say(`FAILED ${failed}`);
    else if (received === sent) say(`STOPPED ${sent} ${received}`);
    else say(await new Promise<string>((resolve) => (stopping = resolve)));
  } else say(`UNKNOWN ${cmd}`);
}
await node.stop();
process.exit(0);
