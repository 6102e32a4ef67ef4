import { describe, expect, it } from 'vitest';
import { ProtocolError } from '@courier/core';
import {
  alive2Req,
  alive2Resp,
  alive2XResp,
  namesResp,
  parseAlive2Req,
  parseNamesResp,
  parsePort2Resp,
  port2Resp,
  portPlease2Req,
  withLength,
  NAMES_REQ,
  type NodeEntry,
} from '../../src/epmd/messages.js';
import { epmdVectors, hex, type EpmdExchange } from '../support/vectors.js';

/** EPMD messages byte for byte against what OTP 25's epmd and erl nodes sent and answered. */
const v = epmdVectors();
const all = [...v.exchanges, ...v.captured_from_erl_nodes];
const byTitle = (s: string) => v.exchanges.find((x) => x.title.includes(s)) as EpmdExchange;

function entryOf(r: EpmdExchange['request'] | EpmdExchange['response']): NodeEntry {
  const x = r as Required<EpmdExchange['request']>;
  return { name: x.name, port: x.port, nodeType: x.node_type, protocol: x.protocol, highest: x.highest_version, lowest: x.lowest_version, extra: hex(x.extra_hex) };
}

describe('ALIVE2_REQ', () => {
  const reqs = all.filter((x) => x.request.message === 'ALIVE2_REQ');

  it('the vectors hold normal, hidden-with-extra, version 5 and real erl registrations', () => {
    expect(reqs.length).toBeGreaterThanOrEqual(6);
    expect(reqs.some((x) => x.request.node_type === 72 && x.request.extra_hex !== '')).toBe(true);
  });

  it('encodes exactly as the captured requests', () => {
    for (const x of reqs) expect(alive2Req(entryOf(x.request)).toString('hex'), x.title ?? x.request.name).toBe(x.request_hex);
  });

  it('parses the captured requests (after the length) back to their fields', () => {
    for (const x of reqs) {
      const e = parseAlive2Req(hex(x.request_hex).subarray(2));
      expect({ ...e, extra: Buffer.from(e.extra).toString('hex') }).toEqual({ ...entryOf(x.request), extra: x.request.extra_hex });
    }
  });

  it('a truncated request is a ProtocolError at every cut', () => {
    const b = hex(byTitle('hidden').request_hex).subarray(2);
    for (let n = 0; n < b.length; n++) expect(() => parseAlive2Req(b.subarray(0, n)), `cut at ${n}`).toThrow(ProtocolError);
  });
});

describe('ALIVE2_X_RESP and ALIVE2_RESP', () => {
  it('ok, duplicate (result 1, creation 99) and the erl nodes\u2019 answers encode byte for byte', () => {
    for (const x of all.filter((e) => e.response.message === 'ALIVE2_X_RESP')) {
      expect(alive2XResp(x.response.result as number, x.response.creation as number).toString('hex')).toBe(x.response_hex);
    }
    expect(byTitle('duplicate').response_hex).toBe('760100000063');
  });

  it('version 5 registrations get ALIVE2_RESP with a 16-bit creation', () => {
    const x = byTitle('highest version 5');
    expect(alive2Resp(0, x.response.creation as number).toString('hex')).toBe(x.response_hex);
  });
});

describe('PORT_PLEASE2_REQ and PORT2_RESP', () => {
  const found = all.filter((x) => x.response.message === 'PORT2_RESP' && x.response.result === 0);

  it('requests encode as captured (alive part only)', () => {
    for (const x of all.filter((e) => e.request.message === 'PORT_PLEASE2_REQ')) {
      expect(portPlease2Req(x.request.name as string).toString('hex')).toBe(x.request_hex);
    }
  });

  it('found: parses every field, including a hidden node with extra bytes', () => {
    expect(found.some((x) => x.response.node_type === 72 && x.response.extra_hex === '78797a')).toBe(true);
    for (const x of found) {
      const e = parsePort2Resp(hex(x.response_hex)) as NodeEntry;
      expect({ ...e, extra: Buffer.from(e.extra).toString('hex') }).toEqual({ ...entryOf(x.response), extra: x.response.extra_hex });
    }
  });

  it('found: the server side encodes the same bytes', () => {
    for (const x of found) expect(port2Resp(entryOf(x.response)).toString('hex')).toBe(x.response_hex);
  });

  it('not found is exactly 77 01, both ways', () => {
    const x = byTitle('not found');
    expect(x.response_hex).toBe('7701');
    expect(parsePort2Resp(hex('7701'))).toBeUndefined();
    expect(port2Resp(undefined).toString('hex')).toBe('7701');
  });

  it('a truncated or foreign answer is a ProtocolError', () => {
    const b = hex((found[1] as EpmdExchange).response_hex);
    for (let n = 0; n < b.length; n++) {
      if (n === 2) continue; // `77 00` alone cannot be told from a cut; every other length can
      expect(() => parsePort2Resp(b.subarray(0, n)), `cut at ${n}`).toThrow(ProtocolError);
    }
    expect(() => parsePort2Resp(hex('7600'))).toThrow(/EPMD answered tag 118/);
  });
});

describe('NAMES_REQ and NAMES_RESP', () => {
  const names = v.exchanges.filter((x) => x.request.message === 'NAMES_REQ');

  it('the request is 00 01 6e', () => {
    for (const x of names) expect(withLength(Buffer.from([NAMES_REQ])).toString('hex')).toBe(x.request_hex);
  });

  it('parses both captured answers (newest first)', () => {
    expect(parseNamesResp(hex((names[0] as EpmdExchange).response_hex))).toEqual([
      { name: 'vecold', port: 45558 },
      { name: 'vechidden', port: 45556 },
      { name: 'vecnode', port: 45555 },
    ]);
    expect(parseNamesResp(hex((names[1] as EpmdExchange).response_hex))).toEqual([
      { name: 'vecold', port: 45558 },
      { name: 'vecnode', port: 45555 },
    ]);
  });

  it('encodes the captured answer from the same entries and epmd port', () => {
    const x = names[0] as EpmdExchange;
    const entries = parseNamesResp(hex(x.response_hex)).map((n) => ({
      ...entryOf({ message: '', name: n.name, port: n.port, node_type: 77, protocol: 0, highest_version: 6, lowest_version: 5, extra_hex: '' }),
    }));
    expect(namesResp(x.response.epmd_port_no as number, entries).toString('hex')).toBe(x.response_hex);
  });

  it('an answer shorter than the port is a ProtocolError; an empty list is fine', () => {
    expect(() => parseNamesResp(hex('000011'))).toThrow(ProtocolError);
    expect(parseNamesResp(hex('00001111'))).toEqual([]);
  });
});
