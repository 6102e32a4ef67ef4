import { describe, expect, it } from 'vitest';
import { Pid, Tuple, atom, atoms, type Term } from '@courier/term';
import { SpawnError, _, ptuple, type Node, type Process } from '@courier/core';
import type { CarrierHarness } from '../harness.js';
import { rejection } from '../util/deadline.js';
import { downFor, el, exitFrom, puppet, recv, victim } from '../util/actors.js';
import { connectedPair } from '../util/nodes.js';
import { exitOf, exits } from './links.js';

const CALC = atom('compliance_calc');

function exposeCalc(node: Node): void {
  node.expose(CALC, {
    /** Sends {sum, X + Y} to `to`, then returns (exit normal). */
    add(this: Process, to: Term, x: Term, y: Term) {
      this.send(to as Pid, new Tuple([atom('sum'), (x as number) + (y as number)]));
    },
    /** Waits for `go`, then exits with `reason`. */
    async crashLater(this: Process, reason: Term) {
      await this.receive(atom('go'));
      this.exit(reason);
    },
  });
}

export function spawnExitCases(h: () => CarrierHarness, deadline: number): void {
  describe('remote spawn and exit/2', () => {
    it('spawnRemote runs an exposed function on the peer, monitored', async () => {
      const { nodeA: a, nodeB: b } = await connectedPair(h(), deadline);
      exposeCalc(b);
      const p = puppet(a);
      const [pid, ref] = await p.spawnRemote(b.name, CALC, atom('add'), [p.pid, 2, 3], { monitor: true });
      expect(pid.node).toBe(b.name);
      expect(ref).toBeDefined();
      const sum = await recv(p, ptuple(atom('sum'), _), deadline, '{sum, 5}');
      expect(el(sum, 1)).toBe(5);
      const down = await recv(p, downFor(ref as NonNullable<typeof ref>), deadline, 'DOWN normal');
      expect(el(down, 3)).toBe(pid);
      expect(el(down, 4)).toBe(atoms.normal);
    });

    it('spawnRemote with link: the remote exit reason reaches the trapping caller', async () => {
      const { nodeA: a, nodeB: b } = await connectedPair(h(), deadline);
      exposeCalc(b);
      const p = puppet(a, { trapExit: true });
      const [pid] = await p.spawnRemote(b.name, CALC, atom('crashLater'), [atom('remote_boom')], { link: true });
      p.send(pid, atom('go'));
      const ex = await recv(p, exitFrom(pid), deadline, 'EXIT from the spawned process');
      expect(el(ex, 2)).toBe(atom('remote_boom'));
    });

    it('spawnRemote of a function the peer does not expose: the process exits with undef', async () => {
      const { nodeA: a, nodeB: b } = await connectedPair(h(), deadline);
      const p = puppet(a);
      const [, ref] = await p.spawnRemote(b.name, atom('no_such_module'), atom('f'), [1], { monitor: true });
      const down = await recv(p, downFor(ref as NonNullable<typeof ref>), deadline, 'DOWN undef');
      const reason = el(down, 4);
      expect(reason).toBeInstanceOf(Tuple);
      expect(el(reason, 0)).toBe(atom('undef'));
    });

    it('spawnRemote to a node nobody runs fails with noconnection', async () => {
      const { nodeA: a } = await connectedPair(h(), deadline);
      const p = puppet(a);
      const err = await rejection(p.spawnRemote(atom('nowhere@localhost'), CALC, atom('add'), [p.pid, 1, 1]), deadline, 'spawn on nowhere');
      expect(err).toBeInstanceOf(SpawnError);
      expect((err as SpawnError).reason).toBe(atoms.noconnection);
    });

    it('exit/2 across nodes: kill kills (killed), a trapping target gets {EXIT, From, Reason}, normal is ignored', async () => {
      const { nodeA: a, nodeB: b } = await connectedPair(h(), deadline);
      const xb = exits(b);
      const p = puppet(a);
      const target = victim(b);
      const trapping = puppet(b, { trapExit: true });
      const plain = puppet(b);
      p.exit(target, atoms.kill);
      expect((await xb.next(exitOf(target), deadline, 'killed')).reason).toBe(atoms.killed);
      p.exit(trapping.pid, atom('please_stop'));
      const ex = await recv(trapping, exitFrom(p.pid), deadline, 'trapped exit/2');
      expect(el(ex, 2)).toBe(atom('please_stop'));
      p.exit(plain.pid, atoms.normal);
      p.exit(trapping.pid, atoms.kill);
      expect((await xb.next(exitOf(trapping.pid), deadline, 'kill is untrappable')).reason).toBe(atoms.killed);
      expect(plain.alive).toBe(true);
      p.exit(plain.pid, atom('bye'));
      expect((await xb.next(exitOf(plain.pid), deadline, 'exit/2 with a reason')).reason).toBe(atom('bye'));
    });
  });
}
