import { HostileTarget } from './hostile-target.js';
import { exchange } from './raw-exchange.js';

/**
 * The target of the observer hostile-input suite: the echo node (Erlang distribution over TCP,
 * a real erl keeping 100 echo round trips in flight) serving its observer
 * (`--observer 127.0.0.1:PORT`, read-only: the page may watch, not kill). After every case the
 * observer must still serve /metrics.
 */
export function startObserverTarget(): Promise<HostileTarget> {
  return HostileTarget.start({ observer: true, probe: (t) => serves(t.observerPort) });
}

const SCRAPE = Buffer.from('GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');

/** The observer answers a scrape of /metrics with 200 and Prometheus text. */
export async function serves(port: number): Promise<boolean> {
  const r = await exchange(port, SCRAPE, { keepOpen: true, closeWaitMs: 3000 });
  return httpStatus(r.answer) === 200 && r.answer.includes('# TYPE ');
}

/** The status of the first HTTP response in `answer`, or undefined. */
export function httpStatus(answer: Buffer): number | undefined {
  const m = /^HTTP\/1\.[01] (\d{3}) /.exec(answer.subarray(0, 64).toString('latin1'));
  return m === null ? undefined : Number(m[1]);
}

/**
 * The code of the close frame the node sent after its 101 (server frames are unmasked:
 * `FIN+Opcode:8 Len:8 [Len:16|Len:64] Payload`), or undefined if it sent none.
 */
export function wsCloseCode(answer: Buffer): number | undefined {
  const end = answer.indexOf('\r\n\r\n');
  if (httpStatus(answer) !== 101 || end < 0) return undefined;
  let i = end + 4;
  while (i + 2 <= answer.length) {
    const opcode = (answer[i] as number) & 0x0f;
    let len = (answer[i + 1] as number) & 0x7f;
    let at = i + 2;
    if (len === 126) {
      if (at + 2 > answer.length) return undefined;
      len = answer.readUInt16BE(at);
      at += 2;
    } else if (len === 127) {
      if (at + 8 > answer.length) return undefined;
      len = Number(answer.readBigUInt64BE(at));
      at += 8;
    }
    if (opcode === 0x8) return len >= 2 && at + 2 <= answer.length ? answer.readUInt16BE(at) : 1005;
    i = at + len;
  }
  return undefined;
}
