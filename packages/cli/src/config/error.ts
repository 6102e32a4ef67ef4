import { UsageError } from '@courier/core';

/** One thing wrong in a configuration: where (`carriers[1].tls.certfle`) and what. */
export interface ConfigProblem {
  readonly path: string;
  readonly problem: string;
}

/** The path of the whole configuration (the file itself, or the object given to validateConfig). */
export const ROOT = '(root)';

const line = (p: ConfigProblem, file: string | undefined): string => {
  if (file === undefined) return `${p.path}: ${p.problem}`;
  return p.path === ROOT ? `${file}: ${p.problem}` : `${p.path} in ${file}: ${p.problem}`;
};

/**
 * A configuration the node cannot run with. `field` is the key path of the first problem
 * (`node.cookie`, `carriers[1].tls.certfile`), `file` the configuration file when there is one,
 * `problems` every problem found (one a line in the message, in the order of the file).
 */
export class ConfigError extends UsageError {
  readonly problems: readonly ConfigProblem[];
  readonly file: string | undefined;

  constructor(
    readonly field: string,
    problem: string,
    options: { readonly file?: string; readonly more?: readonly ConfigProblem[]; readonly cause?: unknown } = {},
  ) {
    const problems = [{ path: field, problem }, ...(options.more ?? [])];
    super('CONFIG', problems.map((p) => line(p, options.file)).join('\n'), { cause: options.cause });
    this.name = 'ConfigError';
    this.problems = problems;
    this.file = options.file;
  }

  /** The error for a non-empty list of problems found in one configuration. */
  static of(problems: readonly ConfigProblem[], file?: string): ConfigError {
    const [first, ...more] = problems;
    if (first === undefined) throw new RangeError('ConfigError.of needs at least one problem');
    return new ConfigError(first.path, first.problem, { file, more });
  }
}
