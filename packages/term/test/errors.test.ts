import { describe, expect, it } from 'vitest';
import { CourierError, decode, EncodeError, EtfErrorCode, ProtocolError } from '@courier/term';

describe('errors', () => {
  it('ProtocolError is a CourierError with a code, an offset and its class name', () => {
    const cause = new Error('inner');
    const err = new ProtocolError(EtfErrorCode.TRUNCATED, 'input ends inside a tuple', 7, { cause });
    expect(err).toBeInstanceOf(CourierError);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('ProtocolError');
    expect(err.code).toBe('ETF_TRUNCATED');
    expect(err.offset).toBe(7);
    expect(err.message).toBe('input ends inside a tuple at byte 7');
    expect(err.cause).toBe(cause);
  });

  it('EncodeError carries ETF_UNENCODABLE', () => {
    const err = new EncodeError('cannot encode a function');
    expect(err).toBeInstanceOf(CourierError);
    expect(err.name).toBe('EncodeError');
    expect(err.code).toBe('ETF_UNENCODABLE');
  });

  it('codes are stable SCREAMING_SNAKE strings', () => {
    for (const code of Object.values(EtfErrorCode)) expect(code).toMatch(/^ETF_[A-Z_]+$/);
  });

  it('the decoder raises ProtocolError for bad input', () => {
    expect(() => decode(new Uint8Array([131, 200]))).toThrow(ProtocolError);
  });
});
