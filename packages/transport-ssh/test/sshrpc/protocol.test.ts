import { describe, expect, it } from 'vitest';
import { Pid, Tuple, atom, formatErlang, parseErlang } from '@courier/term';
import { parseRequest } from '@courier/transport-ssh';
import { flatAnswer, tupleAnswer } from '../../src/sshrpc/protocol.js';
import { settleFlat, settleTuple } from '../../src/sshrpc/answers.js';

const req = (text: string) => parseRequest(parseErlang(text));

describe('sshrpc requests', () => {
  it('classifies both mfa forms and the extensions', () => {
    expect(req('{mfa, {lists, seq, [1, 2]}}')).toMatchObject({ kind: 'mfa', form: 'tuple', module: atom('lists'), fun: atom('seq'), args: [1, 2] });
    expect(req('{mfa, lists, seq, [1, 2]}')).toMatchObject({ kind: 'mfa', form: 'flat', module: atom('lists'), fun: atom('seq') });
    expect(req('{call, 7, m, f, []}')).toMatchObject({ kind: 'call', id: 7, module: atom('m'), args: [] });
    expect(req('{call, <<"id">>, m, f, "ab"}')).toMatchObject({ kind: 'call', args: [97, 98] });
    expect(req('{cast, m, f, [x]}')).toMatchObject({ kind: 'cast', args: [atom('x')] });
    expect(req('{spawn, 1, m, f, []}')).toMatchObject({ kind: 'spawn', id: 1 });
    expect(req('{send, inbox, hello}')).toMatchObject({ kind: 'send', to: atom('inbox'), msg: atom('hello') });
    expect(parseRequest(new Tuple([atom('send'), new Pid(atom('n@h'), 1, 0, 1), 1]))).toMatchObject({ kind: 'send' });
    expect(req('{whoami}')).toEqual({ kind: 'whoami' });
  });

  it('bad parts of an mfa request remember its form; anything else is bad without one', () => {
    expect(req('{mfa, {"lists", seq, []}}')).toMatchObject({ kind: 'bad', form: 'tuple' });
    expect(req('{mfa, lists, seq, notalist}')).toMatchObject({ kind: 'bad', form: 'flat' });
    expect(req('{call, 1, m, f}')).toMatchObject({ kind: 'bad' });
    expect(req('{send, "name", x}')).toMatchObject({ kind: 'bad' });
    expect(req('hello')).toMatchObject({ kind: 'bad' });
    expect(req('{}')).toMatchObject({ kind: 'bad' });
  });
});

describe('sshrpc answers', () => {
  it("the code form's shapes, as catch apply/3 shows a crash", () => {
    expect(formatErlang(tupleAnswer({ kind: 'return', value: 1 }))).toBe('{answer,{1,0}}');
    expect(formatErlang(tupleAnswer({ kind: 'error', reason: atom('badarg'), stack: [] }))).toBe("{answer,{{exec_badrpc,{'EXIT',{badarg,[]}}},-1}}");
    expect(formatErlang(tupleAnswer({ kind: 'exit', reason: atom('x') }))).toBe("{answer,{{exec_badrpc,{'EXIT',x}},-1}}");
    expect(formatErlang(tupleAnswer({ kind: 'throw', value: 1 }))).toBe("{answer,{{exec_badrpc,{'EXIT',{{nocatch,1},[]}}},-1}}");
    expect(formatErlang(tupleAnswer({ kind: 'refused', reason: atom('r') }))).toBe('{answer,{{exec_error,r},-1}}');
  });

  it("the slide form's shapes", () => {
    expect(formatErlang(flatAnswer({ kind: 'return', value: 1 }))).toBe('{answer,1}');
    expect(formatErlang(flatAnswer({ kind: 'error', reason: atom('badarg'), stack: [] }))).toBe('{error,{badrpc,{error,badarg}}}');
    expect(formatErlang(flatAnswer({ kind: 'throw', value: 1 }))).toBe('{error,{badrpc,{throw,1}}}');
    expect(formatErlang(flatAnswer({ kind: 'exit', reason: atom('x') }))).toBe('{error,{badrpc,{exit,x}}}');
  });

  it('a client reads them back as values or typed errors', () => {
    expect(settleTuple(parseErlang('{answer,{[1],0}}'))).toEqual({ ok: true, value: [1] });
    const e = (t: string, f = settleTuple) => {
      const s = f(parseErlang(t));
      return s.ok ? undefined : s.error.code;
    };
    expect(e("{answer,{{exec_badrpc,{'EXIT',x}},-1}}")).toBe('BADRPC');
    expect(e('{answer,{{exec_error,{not_allowed,{os,cmd,1}}},-1}}')).toBe('NOT_ALLOWED');
    expect(e('{answer,{{exec_error,{bad_request,x}},-1}}')).toBe('EXEC_ERROR');
    expect(e('{error,bad_term}')).toBe('BAD_TERM');
    expect(e('{error,{frame_too_large,16}}', settleFlat)).toBe('FRAME_TOO_LARGE');
    expect(e('{error,{bad_request,{hello}}}', settleFlat)).toBe('BAD_REQUEST');
    expect(e('{error,{badrpc,{error,x}}}', settleFlat)).toBe('BADRPC');
    expect(e('{error,whatever}', settleFlat)).toBe('REMOTE');
    expect(e('what', settleFlat)).toBe('BAD_ANSWER');
  });
});
