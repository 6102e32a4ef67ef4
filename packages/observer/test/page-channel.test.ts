import { describe, expect, it } from 'vitest';
import { ProtocolError } from '@courier/core';
import { parseCommand } from '../src/page-channel.js';

const text = (s: string) => Buffer.from(s, 'utf8');

describe('parseCommand: what a page may send', () => {
  it('takes {"op":"kill","name":Name}, other keys ignored', () => {
    expect(parseCommand(text('{"op":"kill","name":"echo"}'), false)).toEqual({ op: 'kill', name: 'echo' });
    expect(parseCommand([text('{"op":"kill",'), text('"name":"é","x":1}')], false)).toEqual({ op: 'kill', name: 'é' });
  });

  it.each([
    ['a binary message', text('{"op":"kill","name":"echo"}'), true],
    ['text that is not JSON', text('{"op": kill'), false],
    ['an empty message', text(''), false],
    ['a JSON array', text('["kill","echo"]'), false],
    ['JSON null', text('null'), false],
    ['the command under __proto__', text('{"__proto__":{"op":"kill","name":"echo"}}'), false],
    ['an unknown command', text('{"op":"shutdown"}'), false],
    ['kill without a name', text('{"op":"kill"}'), false],
    ['kill with a number for a name', text('{"op":"kill","name":1}'), false],
    ['kill of an empty name', text('{"op":"kill","name":""}'), false],
    ['kill of a 256-character name', text(JSON.stringify({ op: 'kill', name: 'a'.repeat(256) })), false],
  ])('refuses %s with a ProtocolError', (_what, data, isBinary) => {
    expect(() => parseCommand(data, isBinary)).toThrow(ProtocolError);
  });

  it('takes a name of 255 code points in more bytes', () => {
    expect(parseCommand(text(JSON.stringify({ op: 'kill', name: 'é'.repeat(255) })), false).name).toHaveLength(255);
  });
});
