import { describe, expect, it } from 'vitest';
import {
  call,
  cast,
  eventTimeout,
  genericTimeout,
  keepState,
  keepStateAndData,
  nextEvent,
  nextState,
  postpone,
  repeatStateAndData,
  replyAction,
  startStatem,
  stateTimeout,
  stopStatem,
  type GenStatem,
  type StatemEvent,
} from '@courier/core';
import { Tuple, atom, type Term } from '@courier/term';
import { exitOf, inProcess, localNode } from './helpers.js';

/** gen_statem semantics (OTP 25 gen_statem(3)): callback modes, postpone, enter calls, the three timeouts. */

const LOCKED = atom('locked');
const OPEN = atom('open');
const show = (e: StatemEvent, c: Term): string => `${e.type}:${String(c)}`;

describe('gen_statem: state functions', () => {
  it('a code lock: enter calls on every state change (and for the initial state), a state timeout relocks', async () => {
    const node = localNode();
    const seen: string[] = [];
    const lock: GenStatem<{ code: number; opened: number }, number> = {
      callbackMode: 'state_functions',
      stateEnter: true,
      init: (_self, code) => nextState(LOCKED, { code, opened: 0 }),
      states: {
        locked(e, c, d) {
          seen.push(`locked ${show(e, c)}`);
          if (e.type === 'enter') return keepStateAndData();
          if (e.type === 'call') {
            if (c === d.code) return nextState(OPEN, { ...d, opened: d.opened + 1 }, [replyAction(e.from, atom('open'))]);
            return keepStateAndData([replyAction(e.from, atom('wrong'))]);
          }
          return keepStateAndData();
        },
        open(e, c, d) {
          seen.push(`open ${show(e, c)}`);
          if (e.type === 'enter') return keepStateAndData([stateTimeout(30, atom('relock'))]);
          if (e.type === 'state_timeout') return nextState(LOCKED, d);
          if (e.type === 'call') return keepStateAndData([replyAction(e.from, d.opened)]);
          return keepStateAndData();
        },
      },
    };
    const pid = await startStatem(node, lock, 1234);
    await inProcess(node, async (self) => {
      expect(await call(self, pid, 1)).toBe(atom('wrong'));
      expect(await call(self, pid, 1234)).toBe(atom('open'));
      expect(await call(self, pid, atom('count'))).toBe(1);
      while (!seen.includes('locked enter:open')) await self.sleep(5);
    });
    expect(seen).toEqual(['locked enter:locked', 'locked call:1', 'locked call:1234', 'open enter:locked', 'open call:count', 'open state_timeout:relock', 'locked enter:open']);
  });

  it('postponed events are retried after the next state change, oldest first, after next_events and before later messages', async () => {
    const node = localNode();
    const handled: Term[] = [];
    const m: GenStatem<null> = {
      callbackMode: 'state_functions',
      init: () => nextState(atom('busy'), null),
      states: {
        busy(e, c) {
          if (e.type === 'cast' && c === atom('ready')) return nextState(atom('idle'), null, [nextEvent(atom('first'))]);
          return keepStateAndData([postpone()]);
        },
        idle(e, c) {
          if (e.type === 'cast' || e.type === 'internal') handled.push(c);
          if (e.type === 'call') return keepStateAndData([replyAction(e.from, handled)]);
          return keepStateAndData();
        },
      },
    };
    const pid = await startStatem(node, m, null);
    cast(node, pid, 1);
    cast(node, pid, 2);
    cast(node, pid, atom('ready'));
    cast(node, pid, 3);
    expect(await inProcess(node, (self) => call(self, pid, atom('list')))).toEqual([atom('first'), 1, 2, 3]);
  });

  it('an enter call that changes state stops the machine with bad_state_enter_return_from_state_function', async () => {
    const node = localNode();
    const m: GenStatem<null> = {
      callbackMode: 'state_functions',
      stateEnter: true,
      init: () => nextState(atom('a'), null),
      states: {
        a: (e) => (e.type === 'enter' ? keepStateAndData() : nextState(atom('b'), null)),
        b: () => nextState(atom('a'), null),
      },
    };
    const pid = await startStatem(node, m, null);
    const done = exitOf(node, pid);
    cast(node, pid, atom('go'));
    expect(String(await done)).toMatch(/^\{bad_state_enter_return_from_state_function/);
  });
});

describe('gen_statem: handle_event_function', () => {
  it('next_event runs before queued events in order; repeat_state re-enters, keep_state does not', async () => {
    const node = localNode();
    const seen: string[] = [];
    const m: GenStatem<number> = {
      callbackMode: 'handle_event_function',
      stateEnter: true,
      init: () => nextState(new Tuple([atom('s'), 1]), 0),
      handleEvent(e, c, st, n) {
        seen.push(show(e, c));
        if (e.type === 'enter') return keepState(n + 1);
        if (e.type === 'cast' && c === atom('expand')) return keepStateAndData([nextEvent(atom('i1')), nextEvent(atom('i2'))]);
        if (e.type === 'cast' && c === atom('again')) return repeatStateAndData();
        if (e.type === 'call') return keepStateAndData([replyAction(e.from, new Tuple([st, n]))]);
        return keepStateAndData();
      },
    };
    const pid = await startStatem(node, m, null);
    cast(node, pid, atom('expand'));
    cast(node, pid, atom('after'));
    cast(node, pid, atom('again'));
    const r = await inProcess(node, (self) => call(self, pid, atom('get')));
    expect(String(r)).toBe('{{s,1},2}');
    expect(seen).toEqual(['enter:{s,1}', 'cast:expand', 'internal:i1', 'internal:i2', 'cast:after', 'cast:again', 'enter:{s,1}', 'call:get']);
  });

  it('an event timeout is cancelled by any event; a state timeout by a state change; a generic one by neither', async () => {
    const node = localNode();
    const fired: string[] = [];
    const m: GenStatem<null> = {
      callbackMode: 'handle_event_function',
      init: () => nextState(atom('one'), null, [genericTimeout(atom('g'), 60, atom('gen')), stateTimeout(40, atom('st')), eventTimeout(20, atom('ev'))]),
      handleEvent(e, c, st) {
        if (e.type === 'timeout' || e.type === 'state_timeout' || e.type === 'generic_timeout') fired.push(`${e.type}:${String(c)}@${String(st)}`);
        if (e.type === 'cast' && c === atom('move')) return nextState(atom('two'), null);
        if (e.type === 'call') return keepStateAndData([replyAction(e.from, fired.length)]);
        return keepStateAndData();
      },
    };
    const pid = await startStatem(node, m, null);
    // An event before 20 ms cancels the event timeout; a state change cancels the state timeout.
    cast(node, pid, atom('move'));
    await new Promise((r) => setTimeout(r, 100));
    expect(fired).toEqual(['generic_timeout:gen@two']);
  });

  it('an event timeout fires when no event comes; stop_and_reply answers then stops', async () => {
    const node = localNode();
    const fired: string[] = [];
    const m: GenStatem<null> = {
      callbackMode: 'handle_event_function',
      init: () => nextState(atom('s'), null, [eventTimeout(10, atom('idle'))]),
      handleEvent(e, c) {
        fired.push(show(e, c));
        if (e.type === 'call') return stopStatem(atom('normal'), null, [replyAction(e.from, atom('bye'))]);
        return keepStateAndData();
      },
    };
    const pid = await startStatem(node, m, null);
    while (fired.length === 0) await new Promise((r) => setTimeout(r, 2));
    const done = exitOf(node, pid);
    expect(await inProcess(node, (self) => call(self, pid, atom('quit')))).toBe(atom('bye'));
    expect(await done).toBe(atom('normal'));
    expect(fired).toEqual(['timeout:idle', 'call:quit']);
  });
});
