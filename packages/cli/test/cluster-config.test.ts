import { describe, expect, it } from 'vitest';
import { ConfigError, clusterOptions, validateConfig, type ClusterSection, type CourierConfig } from '@courier/cli';

/** The `cluster` section of a `courier node` configuration: checked key by key, turned into strategies. */
const base = { node: { name: 'app@10.1.0.4', cookie: 'c' }, carriers: [{ kind: 'tcp', epmd: { port: 4380 } }] };
const withCluster = (cluster: unknown) => ({ ...base, cluster });

describe('cluster configuration', () => {
  it('accepts every strategy with its keys', () => {
    const c = validateConfig(
      withCluster({
        intervalMs: 2000,
        disconnectGone: true,
        strategies: [
          { kind: 'static', nodes: ['a@h1', 'b@h2'] },
          { kind: 'epmd-hosts', hostsFile: '/etc/courier/.hosts.erlang', hosts: ['h3.example.com'], timeoutMs: 500 },
          { kind: 'dns', query: 'app.default.svc.cluster.local', records: ['A'], servers: ['10.96.0.10', '127.0.0.1:5353', '[::1]:53'] },
          { kind: 'dns-srv', query: '_dist._tcp.app.test', basename: 'app', timeoutMs: 1000, tries: 1 },
        ],
      }),
    );
    expect(c.cluster?.strategies).toHaveLength(4);
  });

  it.each([
    [{ strategies: [] }, 'cluster.strategies', /at least one strategy/],
    [{ strategies: [{ kind: 'dnss', query: 'x' }] }, 'cluster.strategies[0].kind', /unknown cluster strategy "dnss".*did you mean dns/],
    [{ strategies: [{ kind: 'dns' }] }, 'cluster.strategies[0].query', /missing/],
    [{ strategies: [{ kind: 'dns', query: 'x', basname: 'a' }] }, 'cluster.strategies[0].basname', /did you mean basename/],
    [{ strategies: [{ kind: 'dns', query: 'x', basename: 'a@b' }] }, 'cluster.strategies[0].basename', /alive part/],
    [{ strategies: [{ kind: 'dns', query: 'x', records: ['MX'] }] }, 'cluster.strategies[0].records[0]', /one of A, AAAA/],
    [{ strategies: [{ kind: 'dns', query: 'x', servers: ['dns.example.com'] }] }, 'cluster.strategies[0].servers[0]', /DNS server address/],
    [{ strategies: [{ kind: 'static', nodes: ['nohost'] }] }, 'cluster.strategies[0].nodes[0]', /alive@host/],
    [{ strategies: [{ kind: 'epmd-hosts', hostsFile: true }] }, 'cluster.strategies[0].hostsFile', /file path, or false/],
    [{ strategies: [{ kind: 'static', nodes: ['a@h'] }], interval: 5 }, 'cluster.interval', /did you mean intervalMs/],
  ])('refuses a wrong or unknown key, naming it (%#)', (cluster, field, problem) => {
    try {
      validateConfig(withCluster(cluster), 'node.yaml');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).field).toBe(field);
      expect((e as Error).message).toMatch(problem);
    }
  });

  it('builds the strategies, in order', async () => {
    const config = validateConfig(
      withCluster({
        strategies: [
          { kind: 'static', nodes: ['x@y'] },
          { kind: 'dns', query: 'q' },
        ],
      }),
    ) as CourierConfig & { cluster: ClusterSection };
    const o = clusterOptions(config);
    expect(o.strategies.map((s) => s.kind)).toEqual(['static', 'dns']);
    expect(await o.strategies[0]?.resolve(new AbortController().signal)).toEqual(['x@y']);
  });
});
