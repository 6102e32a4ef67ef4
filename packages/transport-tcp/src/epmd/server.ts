import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '@courier/core';
import {
  ALIVE2_REQ,
  NAMES_REQ,
  PORT_PLEASE2_REQ,
  alive2XResp,
  namesResp,
  parseAlive2Req,
  port2Resp,
  type NodeEntry,
} from './messages.js';

/**
 * An embedded EPMD: what a Courier node starts when nothing listens on the EPMD port, so a demo
 * cluster works on a machine without Erlang. It speaks the same protocol as OTP's `epmd`
 * (ALIVE2 with 32-bit creations, PORT_PLEASE2, NAMES), so `epmd -names` and Erlang nodes started
 * later register with it. It stops when its owner asks and no registration is left.
 */
const MAX_REQUEST = 1024;

export class EpmdServer {
  private readonly nodes = new Map<string, { entry: NodeEntry; socket: Socket }>();
  private creation = (Math.random() * 0x7fffffff) >>> 0 || 1;
  private server: Server | undefined;

  constructor(private readonly log: Logger) {}

  /** Listen on `port` (loopback and all interfaces as OTP's epmd, or `host`). Rejects with EADDRINUSE. */
  listen(port: number, host?: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = createServer((s) => this.accept(s));
      server.once('error', reject);
      server.listen({ port, host }, () => {
        server.removeListener('error', reject);
        server.on('error', (err) => this.log.warn({ err: err.message }, 'embedded epmd error'));
        this.server = server;
        const addr = server.address();
        resolve(typeof addr === 'object' && addr !== null ? addr.port : port);
      });
    });
  }

  get registered(): NodeEntry[] {
    return [...this.nodes.values()].map((n) => n.entry);
  }

  close(): Promise<void> {
    for (const n of this.nodes.values()) n.socket.destroy();
    this.nodes.clear();
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private accept(s: Socket): void {
    s.setNoDelay(true);
    let buf = Buffer.alloc(0);
    let handled = false;
    s.on('error', () => s.destroy());
    s.on('data', (c: Buffer) => {
      if (handled) return; // after ALIVE2 the client sends nothing more
      buf = Buffer.concat([buf, c]);
      if (buf.length < 2) return;
      const len = buf.readUInt16BE(0);
      if (len === 0 || len > MAX_REQUEST) return this.reject(s, `bad request length ${len}`);
      if (buf.length < 2 + len) return;
      handled = true;
      try {
        this.handle(s, buf.subarray(2, 2 + len));
      } catch (err) {
        this.reject(s, (err as Error).message);
      }
    });
  }

  private handle(s: Socket, req: Buffer): void {
    switch (req[0]) {
      case ALIVE2_REQ: {
        const entry = parseAlive2Req(req);
        if (this.nodes.has(entry.name)) {
          s.end(alive2XResp(1, 0));
          return;
        }
        const creation = this.nextCreation();
        this.nodes.set(entry.name, { entry, socket: s });
        this.log.debug({ name: entry.name, port: entry.port }, 'epmd registered');
        s.on('close', () => {
          if (this.nodes.get(entry.name)?.socket === s) this.nodes.delete(entry.name);
        });
        if (entry.highest >= 6) s.write(alive2XResp(0, creation));
        else s.write(Buffer.from([121, 0, (creation >> 8) & 0xff, creation & 0xff]));
        return;
      }
      case PORT_PLEASE2_REQ:
        s.end(port2Resp(this.nodes.get(req.subarray(1).toString('utf8'))?.entry));
        return;
      case NAMES_REQ: {
        const addr = this.server?.address();
        const port = typeof addr === 'object' && addr !== null ? addr.port : 4369;
        s.end(namesResp(port, [...this.nodes.values()].map((n) => n.entry).reverse()));
        return;
      }
      default:
        this.reject(s, `unsupported request tag ${req[0]}`);
    }
  }

  private reject(s: Socket, why: string): void {
    this.log.warn({ remote: s.remoteAddress, why }, 'epmd request refused');
    s.destroy();
  }

  private nextCreation(): number {
    this.creation = (this.creation + 1) >>> 0 || 1;
    return this.creation;
  }
}
