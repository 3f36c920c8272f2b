// Command-line flags of the cluster benchmarks. Every flag is bounded, so a typo cannot start an hour-long run.
import { parseArgs } from 'node:util';

export type ClusterScenario = 'latency' | 'signins' | 'engines' | 'memory' | 'publish';
export const CLUSTER_SCENARIOS: readonly ClusterScenario[] = ['latency', 'signins', 'engines', 'memory', 'publish'];

export interface ClusterBenchOptions {
  /** Measured seconds per sign-in row, and the time cap of each latency row. @default 10 */
  seconds: number;
  /** Session writes per latency row (a row also stops at `seconds`). @default 5,000 */
  writes: number;
  /** Sessions put for the memory figures. @default 100,000 */
  sessions: number;
  /** Concurrent browser workers in the sign-in rows (and the engines rows). @default 8 */
  workers: number;
  /** Measured seconds per engines row (six rows, each after a 2 s warm-up). @default 5 */
  engineSeconds: number;
  /** Configuration publishes timed in the publish scenario. @default 20 */
  publishes: number;
  only: ClusterScenario[];
}

export const CLUSTER_HELP = `Usage: node dist/bench/cluster/run.js [options]

Cluster benchmarks of Cohort, all traffic on 127.0.0.1. Prints one table per scenario, then one JSON line per
result (grep '^{"bench"').

Scenarios:
  latency   session write-to-replica latency: three ClusterNodes over the real TLS-PSK back channel in this one
            process, each running the peer state backend (failoverPeers 1). sessions.put() on the owner resolves
            once the replica acknowledged the copy, so its latency is the write-to-replica latency. Compared with a
            put on the local (in-memory) backend and with a put sent to a node that holds no copy (forwarded to the
            owner). Concurrency 1 and 16.
  signins   full authorization code + PKCE sign-ins per second through the real pages (fresh browser each time,
            code redeemed at /token): 1 node versus 3 nodes, real 'cohort start' processes, both behind HAProxy
            round-robin without a sticky cookie. scrypt N=1024 for both, so the figure shows cluster overhead rather
            than password hashing. Installs HAProxy with apt-get when it is missing (root only).
  engines   3 stateless nodes on Redis + PostgreSQL versus the 3-node peer cluster, both behind HAProxy round-robin
            without a sticky cookie: sign-ins (as in signins), refresh_token and client_credentials grants per second,
            scrypt N=1024, and the PostgreSQL rows written per sign-in (pg_stat_database around the sign-in row).
            Starts a throw-away PostgreSQL (initdb, postgres) and redis-server; about 90 s.
  memory    heap used per 100,000 realistic SSO sessions (oidc-provider Session payloads) in the local backend and
            in a peer backend node: the owner's share, the replica's share and the three-node total. Runs with
            --expose-gc (the script restarts itself with it when needed).
  publish   a console and 3 engines (configuration from the console): time from POST /admin/api/config/publish
            (one client's redirect URI changed) until every engine acknowledged, over --publishes publishes
            1.5 s apart, while 4 client_credentials workers load the engines' token endpoints; failed grants
            (must be 0) and their p50/p99 during a publish versus outside. About 55 s.

Options:
  --seconds N     measured seconds per sign-in row, and time cap per latency row (default 10, 1-600)
  --writes N      session writes per latency row (default 5000, 100-200000)
  --sessions N    sessions put for the memory figures (default 100000, 1000-500000)
  --workers N     concurrent browsers in the sign-in and engines rows (default 8, 1-64)
  --engine-seconds N  measured seconds per engines row (default 5, 1-120)
  --publishes N   configuration publishes in the publish scenario (default 20, 1-200)
  --only LIST     comma-separated scenarios: latency, signins, engines, memory, publish (default: all)
  -h, --help      show this help
`;

export class ClusterUsageError extends Error {}

function bounded(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ClusterUsageError(`--${name} must be an integer from ${min} to ${max} (got '${raw}')`);
  }
  return value;
}

/** undefined when help was asked for; throws ClusterUsageError for anything malformed. */
export function parseClusterOptions(argv: string[]): ClusterBenchOptions | undefined {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        seconds: { type: 'string' }, writes: { type: 'string' }, sessions: { type: 'string' },
        workers: { type: 'string' }, 'engine-seconds': { type: 'string' }, publishes: { type: 'string' }, only: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
    }));
  } catch (err) {
    throw new ClusterUsageError((err as Error).message);
  }
  if (values.help) return undefined;
  const only = values.only === undefined ? [...CLUSTER_SCENARIOS] : values.only.split(',').map((s) => s.trim());
  for (const name of only) {
    if (!(CLUSTER_SCENARIOS as readonly string[]).includes(name)) {
      throw new ClusterUsageError(`--only: unknown scenario '${name}' (use ${CLUSTER_SCENARIOS.join(', ')})`);
    }
  }
  return {
    seconds: bounded('seconds', values.seconds, 10, 1, 600),
    writes: bounded('writes', values.writes, 5_000, 100, 200_000),
    sessions: bounded('sessions', values.sessions, 100_000, 1_000, 500_000),
    workers: bounded('workers', values.workers, 8, 1, 64),
    engineSeconds: bounded('engine-seconds', values['engine-seconds'], 5, 1, 120),
    publishes: bounded('publishes', values.publishes, 20, 1, 200),
    only: CLUSTER_SCENARIOS.filter((s) => only.includes(s)),
  };
}
