// Command-line flags of `npm run bench`. Every flag is bounded so that a typo cannot start an hour-long run.
import { parseArgs } from 'node:util';

export type Scenario = 'cc' | 'refresh' | 'signin';
export const SCENARIOS: readonly Scenario[] = ['cc', 'refresh', 'signin'];

export interface BenchOptions {
  /** Measured seconds per result. @default 5 */
  seconds: number;
  /** Warm-up seconds before each measurement (not counted). @default 1 */
  warmupSeconds: number;
  /** Concurrent load workers, each one request chain at a time. @default 8 */
  workers: number;
  /** Scenarios to run. @default all */
  only: Scenario[];
}

export const HELP = `Usage: npm run bench -- [options]      (or: node dist/bench/run.js [options])

Measures Cohort (a real 'cohort start' process) against a bare oidc-provider process with the same
features, both on 127.0.0.1, and prints a table, then one JSON line per result.

Scenarios:
  cc        client_credentials grants per second
  refresh   refresh_token grants per second (rotation on: every grant returns a new refresh token)
  signin    full authorization code + PKCE sign-ins per second (pages, form posts, consent, code redemption);
            Cohort at the default scrypt cost N=32768 and at N=1024, the bare server with a plain password check

Options:
  --seconds N     measured seconds per result (default 5, 1-600)
  --warmup N      warm-up seconds before each measurement (default 1, 0-60)
  --workers N     concurrent workers (default 8, 1-256)
  --only LIST     comma-separated scenarios to run: cc, refresh, signin (default: all)
  -h, --help      show this help
`;

export class UsageError extends Error {}

/** A numeric flag's value, `fallback` when absent; UsageError when it is out of [min, max] (or not an integer). */
export function bounded(name: string, raw: string | undefined, fallback: number, min: number, max: number, integer: boolean): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max} (got '${raw}')`);
  }
  return value;
}

/** Returns undefined when help was asked for. Throws UsageError for anything malformed. */
export function parseOptions(argv: string[]): BenchOptions | undefined {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        seconds: { type: 'string' }, warmup: { type: 'string' }, workers: { type: 'string' },
        only: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values } = parsed;
  if (values.help) return undefined;
  const only = values.only === undefined ? [...SCENARIOS] : values.only.split(',').map((s) => s.trim());
  for (const name of only) {
    if (!(SCENARIOS as readonly string[]).includes(name)) {
      throw new UsageError(`--only: unknown scenario '${name}' (use ${SCENARIOS.join(', ')})`);
    }
  }
  return {
    seconds: bounded('seconds', values.seconds, 5, 1, 600, false),
    warmupSeconds: bounded('warmup', values.warmup, 1, 0, 60, false),
    workers: bounded('workers', values.workers, 8, 1, 256, true),
    only: only as Scenario[],
  };
}
