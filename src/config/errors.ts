// The one error class of the configuration layer. Loading collects every problem before throwing, so an operator
// fixes a file in one pass instead of one error per restart.

/** One thing wrong with the configuration: which key, from which source, and why. */
export interface ConfigProblem {
  /** Dotted key, e.g. 'http.port'; absent for problems with a whole source (an unreadable file). */
  path?: string;
  /** Where the value came from: a file path, an environment variable name, or 'command line'. */
  source: string;
  reason: string;
}

export type ConfigErrorCode = 'CONFIG_INVALID';

export function formatProblem(p: ConfigProblem): string {
  return p.path ? `${p.path} in ${p.source}: ${p.reason}` : `${p.source}: ${p.reason}`;
}

export class ConfigError extends Error {
  readonly code: ConfigErrorCode = 'CONFIG_INVALID';
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[], options?: { cause?: unknown }) {
    const lines = problems.map(formatProblem);
    super(lines.length === 1 ? lines[0] : `${lines.length} configuration problems:\n  ${lines.join('\n  ')}`, options);
    this.name = 'ConfigError';
    this.problems = Object.freeze([...problems]);
  }
}
