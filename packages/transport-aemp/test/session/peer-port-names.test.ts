import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { atomCount, type Term } from '@courier/term';
import { Nodes, SECRET, next, puppet } from '../nodes.js';
import { PerlPeer } from '../perl-peer.js';

/**
 * Port names a peer sends — in packets, mon1, kil1, snd relays and `Pkg::func` calls — never grow
 * the atom table (atoms are never freed): a name that is no atom yet cannot be a registered
 * process, so the message is dropped (as Perl drops messages to unknown ports), a monitor answers
 * no_such_port at once, and a call of a function that is not exposed is refused, all without a
 * new atom. Names a registered process has keep working.
 */
const nodes = new Nodes();
afterEach(() => nodes.stopAll());

describe("a peer's port names", () => {
  for (const framing of ['json', 'cbor'] as const) {
    it(`make no atoms unless a process is registered under them (${framing})`, async () => {
      const c = await nodes.make(`names-${framing}`, { framings: [framing] });
      const self = c.node.name.name;
      const known = puppet(c.node, `known-port-${framing}`);
      const perl = await PerlPeer.connect(c.addr, { nodeid: `names-perl-${framing}`, secret: SECRET, framing });
      const sync = async (tag: string): Promise<void> => {
        perl.send(['', 'time', `names-perl-${framing}#${tag}`]);
        await perl.next((p) => p[0] === tag, 3000, `the reply to time (${tag})`);
      };
      try {
        await sync('warm');
        const before = atomCount();
        const fresh = (): string => `rnd-${randomUUID()}`;
        const long = 'x'.repeat(300);
        const unknown: string[] = [];
        for (let i = 0; i < 50; i++) {
          const name = fresh();
          unknown.push(name);
          perl.send([name, 'hello', i]);
          perl.send(['', 'kil1', fresh(), 'reason']);
          perl.send(['', 'snd', `${self}#${fresh()}`, 'relayed']);
          perl.send(['', `${fresh()}::${fresh()}`, 1]);
          perl.send(['', 'AnyEvent::MP::_spawn', fresh(), `${fresh()}::init`]);
          perl.send(['', 'mon1', name]);
        }
        for (const name of unknown) {
          const kil0 = await perl.reply('kil0', name);
          expect(kil0.slice(3)).toEqual(['no_such_port', 'cannot monitor nonexistent port', `${self}#${name}`]);
        }
        await sync('after');
        expect(atomCount()).toBe(before);

        // A name longer than any atom is no port either: dropped, and the connection stays.
        perl.send([long, 'a name past 255 characters']);
        perl.send(['', 'snd', `${self}#${long}`, 'relayed']);
        perl.send(['', 'mon1', long]);
        expect((await perl.reply('kil0', long)).slice(3)).toEqual(['no_such_port', 'cannot monitor nonexistent port', `${self}#${long}`]);
        await sync('long');
        expect(perl.closed).toBe(false);

        // A registered name is reached, monitored and killed by its name as before.
        perl.send([`known-port-${framing}`, 'hi']);
        expect(await next(known)).toEqual(['hi']);
        perl.send(['', 'mon1', `known-port-${framing}`]);
        await sync('monitored');
        perl.send(['', 'kil1', `known-port-${framing}`, 'stop', 'now']);
        const down: Term[] = await perl.reply('kil0', `known-port-${framing}`);
        expect(down.slice(3)).toEqual(['stop', 'now']);
      } finally {
        perl.close();
      }
    });
  }
});
