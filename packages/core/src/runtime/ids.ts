import { Pid, Ref, type Atom } from '@courier/term';

/**
 * Pid and reference numbering, laid out as Erlang's so that pids and refs travel to Erlang
 * nodes unchanged: a pid's id has 28 significant bits and its serial counts wrap-arounds
 * (OTP's local pid layout); a reference has three id words, the first of 18 bits.
 */
const PID_ID_LIMIT = 1 << 28;
const REF_W0_BITS = 0x3ffff;

export class IdAllocator {
  private nextId = 1;
  private serial = 0;
  private refCount = 0;
  private readonly refSalt = (Math.random() * 0xffffffff) >>> 0;

  constructor(
    private readonly node: Atom,
    private current: number,
  ) {}

  get creation(): number {
    return this.current;
  }

  /** From now on, pids and refs carry `creation` (the node adopted EPMD's); numbering goes on, so no id repeats. */
  setCreation(creation: number): void {
    this.current = creation;
  }

  /** The next free pid; `inUse` tells which ids belong to live processes (skipped after a wrap). */
  nextPid(inUse: (id: number) => boolean): Pid {
    for (;;) {
      const id = this.nextId++;
      if (this.nextId >= PID_ID_LIMIT) {
        this.nextId = 1;
        this.serial = (this.serial + 1) >>> 0;
      }
      if (!inUse(id)) return new Pid(this.node, id, this.serial, this.current);
    }
  }

  nextRef(): Ref {
    const n = ++this.refCount;
    return new Ref(this.node, this.current, [n & REF_W0_BITS, Math.floor(n / (REF_W0_BITS + 1)) >>> 0, this.refSalt]);
  }
}
