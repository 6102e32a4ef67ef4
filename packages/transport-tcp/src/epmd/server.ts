import { createServer, type Server, type Socket } from 'node:net';
import { guarded, type Logger } from '@courier/core';
import { ALIVE2_REQ, NAMES_REQ, PORT_PLEASE2_REQ, alive2Resp, alive2XResp, namesResp, parseAlive2Req, port2Resp, type NodeEntry } from './messages.js';

/**
 * An embedded EPMD: what a Courier node starts when nothing listens on the EPMD port, so a demo
 * cluster works on a machine without Erlang. It speaks the same protocol as OTP's `epmd`
 * (ALIVE2 with 32-bit creations, PORT_PLEASE2, NAMES), so `epmd -names` and Erlang nodes started
 * later register with it. It stops when its owner asks and no registration is left.
 */
const MAX_REQUEST = 1024;
/** What OTP's epmd puts in the Creation field of a refused registration. */
const REFUSED_CREATION = 99;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * An embedded EPMD, started when nothing listens on the EPMD port so a cluster works without Erlang
 * installed: it speaks OTP's `epmd` protocol (ALIVE2 with 32-bit creations, PORT_PLEASE2, NAMES), and stops
 * when its owner asks and no registration is left.
 */
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

  /** registered The nodes registered now. */
  get registered(): NodeEntry[] {
    return [...this.nodes.values()].map((n) => n.entry);
  }

  /** Stops listening and drops every registration. */
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
    // Under the shared guard: whatever a request makes the handler throw closes this socket only.
    s.on(
      'data',
      guarded(
        'an EPMD request',
        (c: Buffer) => {
          if (handled) {
            // A registration socket carries nothing after ALIVE2_REQ: OTP's epmd then unregisters.
            if (this.isRegistration(s)) this.reject(s, 'data after ALIVE2_REQ');
            return;
          }
          buf = Buffer.concat([buf, c]);
          if (buf.length < 2) return;
          const len = buf.readUInt16BE(0);
          if (len === 0 || len > MAX_REQUEST) return this.reject(s, `bad request length ${len}`);
          if (buf.length < 2 + len) return;
          if (buf.length > 2 + len) return this.reject(s, `${buf.length - 2 - len} bytes after the request`);
          handled = true;
          this.handle(s, buf.subarray(2, 2 + len));
        },
        (fault) => this.reject(s, fault.message),
      ),
    );
  }

  private handle(s: Socket, req: Buffer): void {
    switch (req[0]) {
      case ALIVE2_REQ: {
        // As OTP's epmd: an empty name or one with NUL is dropped unanswered; a name that is not
        // UTF-8, longer than 255 characters or already registered is refused with result 1.
        // As OTP's epmd, only nodes on this host may register.
        if (!isLoopback(s.remoteAddress)) return this.reject(s, `ALIVE2_REQ from a remote address ${s.remoteAddress}`);
        const entry = parseAlive2Req(req);
        const name = req.subarray(11, 11 + req.readUInt16BE(9));
        if (name.length === 0 || name.includes(0)) return this.reject(s, 'ALIVE2_REQ with an empty name or a NUL in it');
        const old = entry.highest < 6;
        if (!validName(name) || this.nodes.has(entry.name)) {
          s.end(old ? alive2Resp(1, REFUSED_CREATION) : alive2XResp(1, REFUSED_CREATION));
          return;
        }
        const creation = this.nextCreation();
        this.nodes.set(entry.name, { entry, socket: s });
        this.log.debug({ name: entry.name, port: entry.port }, 'epmd registered');
        s.on('close', () => {
          if (this.nodes.get(entry.name)?.socket === s) this.nodes.delete(entry.name);
        });
        // Version 5 nodes get a 16-bit creation of 1..3, as OTP's epmd hands them out.
        s.write(old ? alive2Resp(0, (creation % 3) + 1) : alive2XResp(0, creation));
        return;
      }
      case PORT_PLEASE2_REQ: {
        let name = req.subarray(1);
        if (name[name.length - 1] === 0) name = name.subarray(0, -1);
        if (name.length === 0 || name.includes(0) || !validName(name)) return this.reject(s, 'PORT_PLEASE2_REQ with a malformed name');
        s.end(port2Resp(this.nodes.get(name.toString('utf8'))?.entry));
        return;
      }
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

  private isRegistration(s: Socket): boolean {
    for (const n of this.nodes.values()) if (n.socket === s) return true;
    return false;
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

/** A node name epmd accepts: UTF-8 of 1 to 255 characters. */
function validName(b: Buffer): boolean {
  try {
    const n = [...utf8.decode(b)].length;
    return n >= 1 && n <= 255;
  } catch {
    return false;
  }
}

function isLoopback(addr: string | undefined): boolean {
  if (addr === undefined) return false;
  const a = addr.startsWith('::ffff:') ? addr.slice(7) : addr;
  return a === '::1' || a.startsWith('127.');
}
