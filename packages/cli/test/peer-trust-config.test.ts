import { describe, expect, it } from 'vitest';
import { Pid, atom } from '@courier/term';
import { ConfigError, buildNode, validateConfig } from '@courier/cli';

const base = { node: { name: 'a@127.0.0.1', cookie: 'c' }, carriers: [{ kind: 'tcp' }] };
const withNode = (extra: Record<string, unknown>) => ({ ...base, node: { ...base.node, ...extra } });

describe('configuration: node.allow and node.distAutoConnect', () => {
  it.each([
    [{ distAutoConnect: 'sometimes' }, 'node.distAutoConnect'],
    [{ distAutoConnect: true }, 'node.distAutoConnect'],
    [{ allow: 'b@h' }, 'node.allow'],
    [{ allow: ['b@h', 'nohost'] }, 'node.allow[1]'],
  ])('one clear error naming the field (%#)', (extra, field) => {
    expect(() => validateConfig(withNode(extra))).toThrow(ConfigError);
    try {
      validateConfig(withNode(extra));
    } catch (e) {
      expect((e as ConfigError).field).toBe(field);
    }
  });

  it('reach the node: a peer off the allow list is answered not_allowed; never makes no implicit connect', async () => {
    const node = buildNode(validateConfig(withNode({ allow: ['b@127.0.0.1'], distAutoConnect: 'never' })));
    expect(node.dist.acceptPending(atom('x@127.0.0.1'))).toBe('not_allowed');
    expect(node.dist.acceptPending(atom('b@127.0.0.1'))).toBe('ok');
    node.send(new Pid(atom('b@127.0.0.1'), 1, 0, 1), atom('hi'));
    expect(node.pipeline.metrics.dials).toBe(0);
    await node.stop();
  });
});

describe('configuration: node.busyPollMicros', () => {
  it.each([[0], [-5], ['100'], [true]])('%j is refused, naming the key', (busyPollMicros) => {
    expect(() => validateConfig(withNode({ busyPollMicros }))).toThrow(/node\.busyPollMicros.*positive number/);
  });

  it('reaches the node; absent, busy polling is off', async () => {
    const on = buildNode(validateConfig(withNode({ busyPollMicros: 80 })));
    const off = buildNode(validateConfig(withNode({})));
    expect(on.busyPollMicros).toBe(80);
    expect(off.busyPollMicros).toBe(0);
    await on.stop();
    await off.stop();
  });
});
