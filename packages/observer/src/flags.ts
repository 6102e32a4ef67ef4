import { UsageError } from '@courier/core';
import { checkObserveOptions, type ObserveOptions } from './observer.js';

/** Where the token comes from when `--observer-token` is not given, so it need not be on a command line (`ps` shows those). */
export const OBSERVER_TOKEN_ENV = 'COURIER_OBSERVER_TOKEN';

/**
 * The observer's command-line flags, for `util.parseArgs` (the echo node and `courier node` take
 * the same): `--observer HOST:PORT | PORT`, `--observer-token T`, `--observer-hostname NAME` and
 * `--observer-origin ORIGIN` (each as often as needed), `--observer-metrics-token`.
 */
export const OBSERVER_FLAGS = {
  observer: { type: 'string' },
  'observer-token': { type: 'string' },
  'observer-hostname': { type: 'string', multiple: true },
  'observer-origin': { type: 'string', multiple: true },
  'observer-metrics-token': { type: 'boolean' },
} as const;

/** The values `util.parseArgs` gives for {@link OBSERVER_FLAGS}. */
export interface ObserverFlagValues {
  readonly observer?: string;
  readonly 'observer-token'?: string;
  readonly 'observer-hostname'?: readonly string[];
  readonly 'observer-origin'?: readonly string[];
  readonly 'observer-metrics-token'?: boolean;
}

/** `--observer HOST:PORT` (or `PORT`, on loopback; `[v6]:PORT`). */
export function parseObserverAddress(spec: string): { host: string; port: number } {
  const i = spec.lastIndexOf(':');
  const host = i > 0 ? spec.slice(0, i).replace(/^\[|\]$/g, '') : '127.0.0.1';
  const text = i >= 0 ? spec.slice(i + 1) : spec;
  const port = Number(text);
  if (text === '' || !Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('USAGE', `--observer wants HOST:PORT or PORT, not ${spec}`);
  return { host, port };
}

/**
 * The observer options the flags ask for (undefined without `--observer`), checked as `observe`
 * would check them, so a program can refuse them before its node starts: a UsageError
 * (`OBSERVER_TOKEN_REQUIRED` for a bind beyond loopback without a token) says what to do.
 */
export function observeOptionsFrom(v: ObserverFlagValues, env: NodeJS.ProcessEnv = process.env): ObserveOptions | undefined {
  if (v.observer === undefined) {
    const stray = (['observer-token', 'observer-hostname', 'observer-origin', 'observer-metrics-token'] as const).filter((k) => v[k] !== undefined);
    if (stray.length > 0) throw new UsageError('USAGE', `${stray.map((k) => `--${k}`).join(', ')} without --observer: say where the observer listens (--observer HOST:PORT)`);
    return undefined;
  }
  const token = v['observer-token'] ?? (env[OBSERVER_TOKEN_ENV] || undefined);
  const opts: ObserveOptions = {
    ...parseObserverAddress(v.observer),
    ...(token !== undefined ? { token } : {}),
    ...(v['observer-hostname'] ? { hostnames: v['observer-hostname'] } : {}),
    ...(v['observer-origin'] ? { origins: v['observer-origin'] } : {}),
    ...(v['observer-metrics-token'] ? { metricsToken: true } : {}),
  };
  checkObserveOptions(opts);
  return opts;
}
