import { Packet, createUDPServer, type UDPServer } from 'dns2';

/**
 * A small authoritative DNS server for tests (dns2, on UDP, on a loopback port): a zone the test
 * edits while it runs, answering A, AAAA and SRV for the names it holds and NXDOMAIN otherwise.
 * `servers` is what a strategy's `servers` option takes.
 */
export interface SrvTarget {
  readonly target: string;
  readonly port: number;
}
export interface ZoneEntry {
  a?: string[];
  aaaa?: string[];
  srv?: SrvTarget[];
}
export interface TestDns {
  readonly zone: Map<string, ZoneEntry>;
  readonly servers: string[];
  /** Queries answered so far. */
  readonly queries: number;
  /** Answer nothing from now (a DNS server that stopped answering). */
  silent: boolean;
  close(): Promise<void>;
}

const NXDOMAIN = 3;

export async function startTestDns(host = '127.0.0.1', port = 0): Promise<TestDns> {
  const zone = new Map<string, ZoneEntry>();
  let queries = 0;
  const state = { silent: false };
  const server: UDPServer = createUDPServer((request, send) => {
    if (state.silent) return;
    queries++;
    const response = Packet.createResponseFromRequest(request);
    const q = request.questions[0];
    const entry = q === undefined ? undefined : zone.get(q.name.toLowerCase());
    if (q === undefined || entry === undefined) {
      response.header.rcode = NXDOMAIN;
    } else {
      // dns2's types want a toBuffer on each answer; its encoder (and its README) take plain records.
      const add = (r: Record<string, unknown>) => response.answers.push({ name: q.name, class: Packet.CLASS.IN, ttl: 1, ...r } as unknown as (typeof response.answers)[number]);
      if (q.type === Packet.TYPE.A) for (const address of entry.a ?? []) add({ type: Packet.TYPE.A, address });
      if (q.type === Packet.TYPE.AAAA) for (const address of entry.aaaa ?? []) add({ type: Packet.TYPE.AAAA, address });
      if (q.type === Packet.TYPE.SRV) for (const s of entry.srv ?? []) add({ type: Packet.TYPE.SRV, priority: 10, weight: 10, port: s.port, target: s.target });
    }
    void send(response);
  });
  await server.listen(port, host);
  const bound = server.address().port;
  return {
    zone,
    servers: [`${host}:${bound}`],
    get queries() {
      return queries;
    },
    get silent() {
      return state.silent;
    },
    set silent(v: boolean) {
      state.silent = v;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
