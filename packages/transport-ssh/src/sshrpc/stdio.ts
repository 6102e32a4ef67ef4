import { Duplex, type Readable, type Writable } from 'node:stream';
import type { Logger } from '@courier/core';
import { StreamCarrier } from '@courier/stream';
import { AllowList, SpawnedPids, type SshRpcHostLike, type SshRpcPolicy } from './allow-list.js';
import { SshRpcServerChannel } from './server-channel.js';

/**
 * A Carrier over a program's standard input and output: what OpenSSH's sshd gives a subsystem
 * program (`Subsystem sshrpc@k2r.org /path/to/program` in sshd_config), where sshd itself is the
 * SSH server (its keys, its hardening) and the channel's bytes are the program's stdin/stdout.
 * The peer's EOF is stdin's end; closing flushes stdout and reports the exit status, which the
 * program exits with (sshd sends it to the client as the channel's exit status).
 */
export class StdioCarrier extends StreamCarrier {
  /** Called when the peer ends its input (EOF on stdin). */
  onPeerEof: (() => void) | undefined;
  /** Resolves with the exit status once the carrier has closed. */
  readonly exited: Promise<number>;
  private exit!: (status: number) => void;
  private status = 0;

  constructor(
    input: Readable,
    private readonly output: Writable,
  ) {
    super(Duplex.from({ readable: input, writable: output }), 'stdio');
    this.exited = new Promise((resolve) => (this.exit = resolve));
    input.on('end', () => {
      if (this.onPeerEof !== undefined && !this.ending) this.onPeerEof();
      else this.close(0);
    });
    input.on('error', (err: Error) => this.abort(err));
    output.on('error', (err: Error) => this.abort(err));
  }

  /** Flush what is queued on stdout, then close with `exitStatus` (default 0). stdout is left open: the process exits. */
  close(exitStatus = 0): void {
    if (this.ending || this.closed) return;
    this.ending = true;
    this.status = exitStatus;
    this.output.write('', () => this.finish());
  }

  abort(error?: Error): void {
    if (this.closed) return;
    if (error) this.error ??= error;
    this.ending = true;
    this.status = 1;
    this.finish();
  }

  private finish(): void {
    this.closedNow();
    this.exit(this.status);
  }
}

/** Options of {@link serveSshRpcStdio}. */
export interface SshRpcStdioOptions {
  readonly input: Readable;
  readonly output: Writable;
  /** Who is calling: the login sshd authenticated (its `USER`), answered to `{whoami}`. */
  readonly user: string;
  /** The node whose exposed functions the calls run (`node.services` or the Node). */
  readonly host: SshRpcHostLike;
  /** What the caller may call and send to (deny by default beyond what the host exposes; `erpc` never). */
  readonly policy?: SshRpcPolicy;
  readonly maxFrame?: number;
  readonly maxInFlight?: number;
  readonly maxInFlightBytes?: number;
  readonly maxSpawned?: number;
  readonly maxSpawnedBytes?: number;
  readonly log: Logger;
}

/**
 * Serve one sshrpc session on stdin/stdout, as an OpenSSH subsystem program: the same server as
 * the Courier daemon's channels (both request forms, extensions, allow-list, limits). Resolves
 * with the exit status once the client's EOF has been answered (0) or the session broke (1).
 */
export function serveSshRpcStdio(o: SshRpcStdioOptions): Promise<number> {
  const carrier = new StdioCarrier(o.input, o.output);
  const connection = {};
  new SshRpcServerChannel(
    carrier,
    { user: o.user, log: o.log, connection },
    {
      host: o.host,
      allow: new AllowList(o.host, o.policy),
      spawned: new SpawnedPids(o.maxSpawned, o.maxSpawnedBytes),
      maxFrame: o.maxFrame ?? 16 * 1024 * 1024,
      maxInFlight: o.maxInFlight ?? 1024,
      maxInFlightBytes: o.maxInFlightBytes,
    },
  );
  return carrier.exited;
}
