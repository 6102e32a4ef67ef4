import type { IncomingMessage, Server } from 'node:http';
import { atom, existingAtom, MAX_ATOM_CHARS } from '@courier/term';
import { ProtocolError, guarded, logFault, type Logger, type Node } from '@courier/core';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { OBSERVER_MAX_BUFFERED, OBSERVER_MAX_MESSAGE, OBSERVER_MAX_PAGES } from './limits.js';
import { ObserverAccess, type Refusal } from './access.js';

/**
 * The pages' channel: a WebSocket at /ws on the observer's listener. An upgrade is admitted only
 * as the HTTP requests are (Host, Origin, token: access.ts), and past OBSERVER_MAX_PAGES not at
 * all. The node pushes `hello` and samples; a page may send one command,
 * `{"op":"kill","name":Name}` (other keys are ignored), obeyed only when the observer is not
 * read-only — a read-only observer answers `{"type":"refused","op":"kill",…}` and kills nothing,
 * the page stays open. Anything else a page sends — a binary message,
 * text that is not a JSON object, an unknown command, a frame `ws` refuses (too big, unmasked,
 * reserved bits, bad UTF-8) — closes that page's socket with a logged warning, read-only or not.
 */
export interface PageCommand {
  readonly op: 'kill';
  /** A registered name (1 to 255 characters). */
  readonly name: string;
}

const refuse = (why: string): never => {
  throw new ProtocolError('OBSERVER_MESSAGE', why, -1);
};

/** Parse one message from a page; a ProtocolError if it is not a command. */
export function parseCommand(data: RawData, isBinary: boolean): PageCommand {
  if (isBinary) refuse('a page sent a binary message; commands are JSON text');
  let m: unknown;
  try {
    m = JSON.parse(rawText(data));
  } catch (err) {
    refuse(`a page sent a message that is not JSON (${(err as Error).message})`);
  }
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return refuse('a page sent JSON that is not an object');
  const op: unknown = Object.hasOwn(m, 'op') ? (m as { op: unknown }).op : undefined;
  const name: unknown = Object.hasOwn(m, 'name') ? (m as { name: unknown }).name : undefined;
  if (op !== 'kill') return refuse(`a page sent an unknown command ${JSON.stringify(op)?.slice(0, 40) ?? 'undefined'}`);
  if (typeof name !== 'string' || name.length === 0 || [...name].length > MAX_ATOM_CHARS) {
    return refuse(`kill needs the registered name of a process (1 to ${MAX_ATOM_CHARS} characters)`);
  }
  return { op, name };
}

export class PageChannel {
  private readonly wss: WebSocketServer;

  constructor(
    server: Server,
    private readonly node: Node,
    private readonly log: Logger,
    private readonly readOnly: boolean,
    /** Host, Origin and token of an upgrade: a Refusal, or undefined to admit it. */
    admit: (req: IncomingMessage) => Refusal | undefined,
    private readonly greeting: () => unknown[],
  ) {
    this.wss = new WebSocketServer({
      server,
      path: '/ws',
      maxPayload: OBSERVER_MAX_MESSAGE,
      verifyClient: (info: { req: IncomingMessage }, done: (ok: boolean, status?: number, message?: string, headers?: Record<string, string>) => void) => {
        const r = admit(info.req);
        if (r !== undefined) {
          log.warn(ObserverAccess.fields(info.req, r), 'observer: page refused');
          return done(false, r.status, r.message, r.status === 401 ? { 'WWW-Authenticate': 'Bearer realm="courier observer"' } : {});
        }
        // Past the cap a new page is refused; the pages open keep their place.
        if (this.wss.clients.size >= OBSERVER_MAX_PAGES) return done(false, 503, `at most ${OBSERVER_MAX_PAGES} observer pages at once`);
        done(true);
      },
    });
    // A listener error (EMFILE on accept, …) that `ws` passes on; without a listener it would end the process.
    this.wss.on('error', (err) => log.warn({ err: err.message }, 'observer: listener error'));
    this.wss.on('connection', (ws, req) => this.open(ws, `${req.socket.remoteAddress}:${req.socket.remotePort}`));
  }

  get size(): number {
    return this.wss.clients.size;
  }

  /** Send `msg` to every page; a page that does not read is skipped past OBSERVER_MAX_BUFFERED. */
  broadcast(msg: unknown): void {
    if (this.wss.clients.size === 0) return;
    const text = JSON.stringify(msg);
    for (const ws of this.wss.clients) sendText(ws, text);
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
  }

  private open(ws: WebSocket, remote: string): void {
    // A frame `ws` refuses: it closes the socket with the RFC 6455 code and emits 'error', which
    // would end the process if nothing listened.
    ws.on('error', (err: Error & { code?: string }) => this.log.warn({ remote, code: err.code, err: err.message }, 'observer: bad frame from a page, socket closed'));
    let refusals = 0;
    ws.on(
      'message',
      guarded(
        'an observer message',
        (data: RawData, isBinary: boolean) => {
          const c = parseCommand(data, isBinary);
          if (!this.readOnly) return this.obey(c);
          // Logged once a page, so a page repeating it cannot flood the log.
          if (refusals++ === 0) this.log.warn({ remote, code: 'READ_ONLY', name: c.name.slice(0, 64) }, 'observer: kill refused, the observer is read-only');
          sendText(ws, JSON.stringify({ type: 'refused', op: c.op, name: c.name, reason: 'the observer is read-only (start it with readOnly: false to kill processes)' }));
        },
        (fault) => {
          logFault(this.log, fault, { remote });
          ws.close(1008, 'bad message');
        },
      ),
    );
    for (const m of this.greeting()) sendText(ws, JSON.stringify(m));
  }

  private obey(c: PageCommand): void {
    // A registered name is an atom already: a page never makes new atoms.
    const name = existingAtom(c.name);
    const pid = name === undefined ? undefined : this.node.whereis(name);
    if (pid !== undefined) this.node.exitSignal(undefined, pid, atom('kill'));
  }
}

function sendText(ws: WebSocket, text: string): void {
  if (ws.readyState === ws.OPEN && ws.bufferedAmount < OBSERVER_MAX_BUFFERED) ws.send(text);
}

/** A WebSocket message as UTF-8 text, whatever the shape `ws` delivers it in. */
function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return (Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8');
}
