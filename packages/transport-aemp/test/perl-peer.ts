import { connect, type Socket } from 'node:net';
import { atom, type Term } from '@courier/term';
import type { HandshakeAction } from '@courier/core';
import { AempHandshake, PacketReader, PacketWriter, type AempDetails, type Framing } from '@courier/transport-aemp';

/**
 * A peer that speaks to a Courier node as a Perl AnyEvent::MP node does: the real handshake
 * without `courier=1` (so the node uses the natural mapping), then packets written as given —
 * raw bytes (a captured Perl frame) or wire values — and the node's packets read back, decoded
 * as a Perl node would. For tests that must send what Courier's own API would never write.
 */
export class PerlPeer {
  /** Every packet the node sent, in order. */
  readonly log: Term[][] = [];
  private readonly queue: Term[][] = [];
  private waiter: (() => void) | undefined;
  private ended: Error | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly reader: PacketReader,
    private readonly writer: PacketWriter,
  ) {
    socket.on('data', (c: Buffer) => this.feed(c));
    socket.on('close', () => {
      this.ended = new Error('the node closed the connection');
      this.waiter?.();
    });
  }

  /** Connect to `address` (`host:port`) as node `nodeid` and complete the handshake; `framing` is what we read and ask for. */
  static async connect(address: string, o: { nodeid: string; secret: string; framing: Framing }): Promise<PerlPeer> {
    const i = address.lastIndexOf(':');
    const socket = connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)) });
    const hs = new AempHandshake({ role: 'initiator', self: atom(o.nodeid), secret: o.secret, framings: [o.framing], courier: false });
    const result = await new Promise<{ details: AempDetails; tail: Uint8Array }>((resolve, reject) => {
      const act = (actions: HandshakeAction[]): void => {
        for (const a of actions) {
          if (a.type === 'write') socket.write(a.bytes);
          else if (a.type === 'fail') reject(a.error);
          else if (a.type === 'done') {
            socket.off('data', onData);
            resolve({ details: a.result.details as unknown as AempDetails, tail: a.result.tail });
          } else reject(new Error(`unexpected handshake action ${a.type}`));
        }
      };
      const onData = (c: Buffer): void => act(hs.receive(c));
      socket.on('data', onData);
      socket.once('error', reject);
      socket.once('connect', () => act(hs.start()));
    });
    const peer = new PerlPeer(socket, new PacketReader(result.details.recvFraming, 'perl', 1 << 24), new PacketWriter(result.details.sendFraming, 'perl'));
    peer.feed(result.tail);
    return peer;
  }

  /** Write bytes as they are (a captured frame). */
  sendRaw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Write one packet of terms, mapped as the node's own writer maps them for a Perl peer. */
  send(values: Term[]): void {
    this.writer.packet(values.map((v) => this.writer.value(v)));
    for (const c of this.writer.take()) this.socket.write(c);
  }

  /** The next packet from the node that `match` accepts (earlier ones are dropped), within `ms`. */
  async next(match: (p: Term[]) => boolean, ms = 3000, what = 'a packet'): Promise<Term[]> {
    const end = Date.now() + ms;
    for (;;) {
      const p = this.queue.shift();
      if (p !== undefined) {
        if (match(p)) return p;
        continue;
      }
      if (this.ended !== undefined) throw new Error(`${what}: ${this.ended.message}`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`${what}: none within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => (clearTimeout(t), resolve());
      });
      this.waiter = undefined;
    }
  }

  /** A node-port reply `["", tag, ...]` whose first argument is `first` (a request id, a family). */
  reply(tag: string, first: Term, ms = 3000): Promise<Term[]> {
    return this.next((p) => p[0] === '' && p[1] === tag && p[2] === first, ms, `["", "${tag}", ${JSON.stringify(first)}, …]`);
  }

  get closed(): boolean {
    return this.ended !== undefined;
  }

  close(): void {
    this.socket.destroy();
  }

  private feed(c: Uint8Array): void {
    if (c.length === 0) return;
    this.reader.push(c);
    for (let p = this.reader.next(); p !== undefined; p = this.reader.next()) {
      this.log.push(p);
      this.queue.push(p);
    }
    this.waiter?.();
  }
}
