import type { Atom } from './atom.js';

/**
 * A process identifier, laid out as NEW_PID_EXT: node, 32-bit id (only the low 28 bits are
 * significant to OTP for local pids), 32-bit serial and 32-bit creation.
 */
export class Pid {
  constructor(
    readonly node: Atom,
    readonly id: number,
    readonly serial: number,
    readonly creation: number,
  ) {}
  /**
   * The pid as the Erlang shell prints it, with the node name in place of the node index:
   * `<node.id.serial>`.
   */
  toString(): string {
    return `<${this.node.name}.${this.id}.${this.serial}>`;
  }
}

/**
 * A reference as NEWER_REFERENCE_EXT: node, creation and 1..5 32-bit id words, in wire order.
 * Local references carry 3 words; OTP 25+ process aliases may carry more.
 */
export class Ref {
  constructor(
    readonly node: Atom,
    readonly creation: number,
    readonly ids: readonly number[],
  ) {}
  /** The reference as `#Ref<node.a.b.c>`. */
  toString(): string {
    return `#Ref<${this.node.name}.${[...this.ids].reverse().join('.')}>`;
  }
}

/** A port identifier as V4_PORT_EXT (64-bit id; a number when safe, else bigint). */
export class Port {
  constructor(
    readonly node: Atom,
    readonly id: number | bigint,
    readonly creation: number,
  ) {}
  /** The port as `#Port<node.id>`. */
  toString(): string {
    return `#Port<${this.node.name}.${this.id}>`;
  }
}
