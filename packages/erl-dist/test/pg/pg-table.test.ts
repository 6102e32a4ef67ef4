import { describe, expect, it } from 'vitest';
import { Pid, atom } from '@courier/term';
import { PgTable, subtract } from '../../src/pg/pg-table.js';

const pid = (id: number, node = 'a@h'): Pid => new Pid(atom(node), id, 0, 1);
const [p1, p2, p3] = [pid(1), pid(2), pid(3)];
const r1 = pid(1, 'b@h');

describe('subtract (Erlang --)', () => {
  it('removes the first occurrence per element, keeps order and the other duplicates', () => {
    expect(subtract([p1, p2, p1, p3, p1], [p1, p1, pid(9)])).toEqual([p2, p3, p1]);
    expect(subtract([p1, r1], [new Pid(atom('a@h'), 1, 0, 1)])).toEqual([r1]);
    expect(subtract([p1], [])).toEqual([p1]);
  });
});

describe('PgTable (pg.erl ETS rows {Group, All, Local})', () => {
  it('keeps newest first, local and remote apart, and drops a group once it is empty', () => {
    const log: string[] = [];
    const t = new PgTable((action, g, pids, local) => log.push(`${action} ${String(g)} ${pids.length} ${local}`));
    t.joinLocal(atom('g'), [p1]);
    t.joinRemote(atom('g'), [r1]);
    t.joinLocal(atom('g'), [p2, p1]);
    expect(t.get(atom('g'))?.all).toEqual([p2, p1, r1, p1]);
    expect(t.get(atom('g'))?.local).toEqual([p2, p1, p1]);
    t.leaveRemote([r1], [atom('g'), atom('none')]);
    expect(t.get(atom('g'))?.all).toEqual([p2, p1, p1]);
    t.leaveLocal(atom('g'), [p1, p1, p2]);
    expect(t.groups()).toEqual([]);
    // A remote-only group goes with its last remote member; a sync's replacement notifies nobody.
    t.joinRemote(atom('r'), [r1]);
    t.replaceRemote(atom('r'), [r1], [r1, pid(2, 'b@h')]);
    expect(t.get(atom('r'))?.all).toHaveLength(2);
    expect(log).toEqual(['join g 1 true', 'join g 1 false', 'join g 2 true', 'leave g 1 false', 'leave g 3 true', 'join r 1 false']);
  });
});
