// Stateless nodes on Redis + PostgreSQL versus the peer cluster, in one run: sign-ins (full code + PKCE flow),
// refresh_token grants and client_credentials grants per second for (a) three stateless `cohort start` processes
// (users, clients, keys in PostgreSQL; all eight state services in Redis; no back channel) and (b) the three engines of
// test/support/cluster.ts TestCluster (peer state over TLS), both behind HAProxy round-robin without a sticky cookie,
// with the same browsers, the same seconds and the same scrypt cost. For (a) the PostgreSQL writes per sign-in are read
// from pg_stat_database (and per table from pg_stat_user_tables) around the sign-in row. PostgreSQL, Redis, the nodes
// and HAProxy are tracked (cleanup.ts): stopped at the end, on failure and on SIGINT/SIGTERM.
import { provision } from '../cohort-target.js';
import { lbOk, waitSettled, waitUntil } from './signins.js';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { runLoad, type LoadResult, type Workload } from '../load.js';
import { TokenEndpoint } from '../token-endpoint.js';
import { clientCredentialsWorkload, discoverEndpoints, refreshWorkload, signInWorkload, type Target } from '../workloads.js';
import { freePort, TestCluster } from '../../test/support/cluster.js';
import { startPostgres, type PostgresServer } from '../../test/support/postgres.js';
import { runCli, startCohort, tempDir, type CohortProcess } from '../../test/support/processes.js';
import { RedisTestServer } from '../../src/state/redis/test-server.js';
import { track } from './cleanup.js';
import { ClusterCpuMeter, type ClusterCpuShares } from './cpu.js';
import { startHaproxy } from './haproxy.js';
import { DISTURBED_OTHER_PERCENT } from '../report.js';
import { formatTable } from './report.js';
import { SIGNIN_SCRYPT_COST } from './signins.js';

const WARMUP_SECONDS = 2;
const SETTLE_MS = 2_000;
const READY_TIMEOUT_MS = 30_000;
/**
 * A PostgreSQL (15+) backend sends its pending statistics at most once a second while busy, and an idle one within
 * 10 s (PGSTAT_IDLE_INTERVAL): pg_stat_database is read only after the nodes' connections were this long without
 * sign-in traffic, so the window holds every write of the row and none of what came before.
 */
const STATS_FLUSH_MS = 11_000;
const SERVICES = ['SESSIONS', 'INTER_REQUEST', 'TOKENS', 'REPLAY', 'ARTIFACTS', 'REGISTRY', 'REVOCATIONS', 'LOGIN_FAILURES'];

export type EngineSetup = 'stateless' | 'peer';
export type EngineOperation = 'signin' | 'refresh' | 'cc';

export interface EngineResult {
  setup: EngineSetup;
  operation: EngineOperation;
  passwordCheck: string;
  load: LoadResult;
  cpu: ClusterCpuShares | undefined;
}

export interface DbCounters { xactCommit: number; tupInserted: number; tupUpdated: number; tupDeleted: number }
export interface TableWrites { table: string; inserted: number; updated: number; deleted: number }

export interface DbWrites {
  /** Successful sign-ins (warm-up and measured) inside the window. */
  signIns: number;
  /** Failed sign-in attempts inside the window. */
  failed: number;
  delta: DbCounters;
  tables: TableWrites[];
  flushWaitMs: number;
  postgresVersion: string;
}

export interface EnginesRun {
  results: EngineResult[];
  writes: DbWrites | undefined;
  redisVersion: string;
}

const NODE_ENV = {
  COHORT_AUTH_SCRYPT_COST: String(SIGNIN_SCRYPT_COST),
  COHORT_HTTP_TRUST_PROXY: 'true',
  COHORT_LOG_LEVEL: 'info',
};

interface Running {
  target: Target;
  passwordCheck: string;
  issuerPort: number;
  nodeUrls: string[];
  nodePids: Array<number | undefined>;
}




async function dbCounters(postgres: PostgresServer, database: string): Promise<DbCounters> {
  const { rows } = await postgres.query<{ c: string; i: string; u: string; d: string }>(
    'SELECT xact_commit AS c, tup_inserted AS i, tup_updated AS u, tup_deleted AS d FROM pg_stat_database WHERE datname = $1', [database],
  );
  const r = rows[0];
  if (!r) throw new Error(`pg_stat_database has no row for ${database}`);
  return { xactCommit: Number(r.c), tupInserted: Number(r.i), tupUpdated: Number(r.u), tupDeleted: Number(r.d) };
}

async function tableCounters(postgres: PostgresServer, database: string): Promise<Map<string, TableWrites>> {
  const { rows } = await postgres.query<{ t: string; i: string; u: string; d: string }>(
    'SELECT schemaname || \'.\' || relname AS t, n_tup_ins AS i, n_tup_upd AS u, n_tup_del AS d FROM pg_stat_user_tables', [], database,
  );
  return new Map(rows.map((r) => [r.t, { table: r.t, inserted: Number(r.i), updated: Number(r.u), deleted: Number(r.d) }]));
}

/** (a) PostgreSQL, Redis, migrate, provision, three stateless nodes. Everything is tracked before it is awaited on. */
async function startStateless(progress: (line: string) => void): Promise<Running & { postgres: PostgresServer; database: string; redisVersion: string }> {
  progress('  starting PostgreSQL and Redis');
  const postgres = await startPostgres();
  track('postgresql', () => { /* startPostgres kills its server on process exit itself */ }, () => postgres.destroy());
  const redis = await RedisTestServer.start();
  track(`redis-server on ${redis.port}`, () => { void redis.stop(); }, () => redis.dispose());
  const db = await postgres.createDatabase();
  const dirs = [1, 2, 3].map(() => tempDir('cohort-bench-stateless-'));
  track('stateless data directories', () => dirs.forEach((d) => d.remove()), async () => dirs.forEach((d) => d.remove()));
  const issuerPort = await freePort();
  const issuer = `http://127.0.0.1:${issuerPort}`;
  const env: NodeJS.ProcessEnv = {
    COHORT_STORE_BACKEND: 'postgres', COHORT_STORE_POSTGRES_URL: db.url, COHORT_STATE_REDIS_URL: redis.url,
    COHORT_HTTP_ISSUER: issuer, COHORT_ADMIN_PASSWORD: randomBytes(18).toString('base64url'),
    ...Object.fromEntries(SERVICES.map((s) => [`COHORT_STATE_BACKEND_${s}`, 'redis'])),
  };
  const cli = { ...env, COHORT_DATA_DIR: dirs[0]!.path, COHORT_AUTH_SCRYPT_COST: String(SIGNIN_SCRYPT_COST) };
  const migrate = await runCli(['db', 'migrate'], { env: cli });
  if (migrate.code !== 0) throw new Error(`cohort db migrate failed: ${migrate.stderr}`);
  const { target, passwordCheck } = await provision(cli);
  progress('  starting 3 stateless nodes (PostgreSQL store, Redis state)');
  const nodes: CohortProcess[] = [];
  track('stateless nodes', () => nodes.forEach((n) => n.child.kill('SIGKILL')), async () => { await Promise.all(nodes.map((n) => n.stop())); });
  await Promise.all(dirs.map(async (d, i) => {
    nodes.push(await startCohort({
      dataDir: d.path, timeoutMs: READY_TIMEOUT_MS,
      env: { ...env, ...NODE_ENV, COHORT_NODE_INDEX: String(i + 1), COHORT_NODE_NAME: `node-${i + 1}` },
    }));
  }));
  for (const node of nodes) await waitUntil(`${node.url} lbstatus OK`, () => lbOk(node.url));
  const info = await redisInfo(redis.port);
  return {
    postgres, database: db.name, redisVersion: info, target: { ...target, issuer }, passwordCheck, issuerPort,
    nodeUrls: nodes.map((n) => n.url), nodePids: nodes.map((n) => n.child.pid),
  };
}

/** redis-server's version, from INFO over a raw socket. */
async function redisInfo(port: number): Promise<string> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    const done = (v: string) => { socket.destroy(); resolve(v); };
    socket.setTimeout(2_000, () => done('redis (version unknown)'));
    socket.once('error', () => done('redis (version unknown)'));
    socket.once('connect', () => socket.write('INFO server\r\n'));
    socket.on('data', (c) => {
      data += c.toString();
      const m = /redis_version:([^\r\n]+)/.exec(data);
      if (m) done(`Redis ${m[1]}`);
    });
  });
}

/** (b) the three peer-state engines of TestCluster, as signins.ts starts them. */
async function startPeer(progress: (line: string) => void): Promise<Running & { stop(): Promise<void> }> {
  progress('  starting 3 engine nodes (peer state)');
  const cluster = await TestCluster.create({ size: 3, env: NODE_ENV });
  const untrack = track(`3-node cluster in ${cluster.dataDir}`, () => {
    for (const node of cluster.nodes.values()) node.child.kill('SIGKILL');
  }, () => cluster.stop());
  const { target, passwordCheck } = await provision(cluster.env({ COHORT_AUTH_SCRYPT_COST: String(SIGNIN_SCRYPT_COST) }));
  await cluster.startAll();
  await waitSettled(cluster);
  return {
    target: { ...target, issuer: cluster.issuer }, passwordCheck, issuerPort: Number(new URL(cluster.issuer).port),
    nodeUrls: [1, 2, 3].map((i) => cluster.url(i)), nodePids: [1, 2, 3].map((i) => cluster.nodes.get(i)?.child.pid),
    async stop() { await cluster.stop(); untrack(); },
  };
}

interface RowOptions { seconds: number; workers: number }

/**
 * The three rows of one setup through one HAProxy (round-robin, no sticky cookie). `aroundSignIns` brackets the
 * sign-in row's warm-up and measurement (the PostgreSQL write count).
 */
async function measureSetup(setup: EngineSetup, running: Running, options: RowOptions, signal: AbortSignal,
  progress: (line: string) => void,
  aroundSignIns?: { before(): Promise<void>; after(ok: number, failed: number): Promise<void> }): Promise<EngineResult[]> {
  const balancer = await startHaproxy(running.issuerPort, running.nodeUrls.map((url, i) => ({
    index: i + 1, host: '127.0.0.1', port: Number(new URL(url).port),
  })), false);
  const tokens: TokenEndpoint[] = [];
  try {
    const endpoints = await discoverEndpoints(running.target.issuer);
    for (const url of [endpoints.authorization, endpoints.token]) {
      if (!url.startsWith(`${balancer.url}/`)) throw new Error(`discovery points past the balancer: ${url}`);
    }
    const endpoint = () => {
      const t = new TokenEndpoint(endpoints.token, running.target.clientId, running.target.clientSecret, options.workers);
      tokens.push(t);
      return t;
    };
    const workloads: Array<[EngineOperation, Workload]> = [
      ['signin', signInWorkload(running.target, endpoints, endpoint())],
      ['refresh', refreshWorkload(running.target, endpoints, endpoint())],
      ['cc', clientCredentialsWorkload(endpoint())],
    ];
    const results: EngineResult[] = [];
    for (const [operation, workload] of workloads) {
      signal.throwIfAborted();
      progress(`  ${setup}, ${operation}: warm-up ${WARMUP_SECONDS} s, then ${options.seconds} s with ${options.workers} workers ...`);
      if (operation === 'signin') await aroundSignIns?.before();
      const warm = await runLoad(workload, { workers: options.workers, seconds: WARMUP_SECONDS, warmupSeconds: 0 }, undefined, signal);
      const meter = new ClusterCpuMeter(running.nodePids, balancer.pid);
      const load = await runLoad(workload, { workers: options.workers, seconds: options.seconds, warmupSeconds: 0 }, meter, signal);
      progress(`    ${load.perSecond.toFixed(1)}/s, ${load.errors} errors`);
      if (operation === 'signin') await aroundSignIns?.after(warm.ok + load.ok, warm.errors + load.errors);
      results.push({ setup, operation, passwordCheck: running.passwordCheck, load, cpu: meter.last });
    }
    return results;
  } finally {
    for (const t of tokens) t.close();
    await balancer.stop();
  }
}

export function engineRunBudgetSeconds(seconds: number): number {
  return 2 * 3 * (seconds + WARMUP_SECONDS + 2) + STATS_FLUSH_MS / 1000 * 2 + 90;
}

/** Stateless first (with the PostgreSQL write count), its engines stopped, then the peer cluster. */
export async function runEngines(options: RowOptions, signal: AbortSignal, progress: (line: string) => void): Promise<EnginesRun> {
  const results: EngineResult[] = [];
  let writes: DbWrites | undefined;
  const { stopEverything } = await import('./cleanup.js');
  const stateless = await startStateless(progress);
  const { postgres, database } = stateless;
  const version = (await postgres.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? '?';
  let before: DbCounters | undefined;
  let beforeTables = new Map<string, TableWrites>();
  // The nodes' startup queries must have been sent to the statistics before the first reading.
  const quietSince = Date.now();
  results.push(...await measureSetup('stateless', stateless, options, signal, progress, {
    async before() {
      const wait = STATS_FLUSH_MS - (Date.now() - quietSince);
      if (wait > 0) {
        progress(`    waiting ${(wait / 1000).toFixed(1)} s so the nodes' start-up statistics reach pg_stat_database`);
        await delay(wait, undefined, { signal });
      }
      before = await dbCounters(postgres, database);
      beforeTables = await tableCounters(postgres, database);
    },
    async after(ok, failed) {
      progress(`    waiting ${STATS_FLUSH_MS / 1000} s for the idle backends to report their statistics`);
      await delay(STATS_FLUSH_MS, undefined, { signal });
      const now = await dbCounters(postgres, database);
      const tables = await tableCounters(postgres, database);
      const b = before!;
      writes = {
        signIns: ok, failed, flushWaitMs: STATS_FLUSH_MS, postgresVersion: `PostgreSQL ${version}`,
        delta: {
          xactCommit: now.xactCommit - b.xactCommit, tupInserted: now.tupInserted - b.tupInserted,
          tupUpdated: now.tupUpdated - b.tupUpdated, tupDeleted: now.tupDeleted - b.tupDeleted,
        },
        tables: [...tables.values()].map((t) => {
          const p = beforeTables.get(t.table);
          return { table: t.table, inserted: t.inserted - (p?.inserted ?? 0), updated: t.updated - (p?.updated ?? 0), deleted: t.deleted - (p?.deleted ?? 0) };
        }).filter((t) => t.inserted + t.updated + t.deleted > 0),
      };
    },
  }));
  // Stop PostgreSQL, Redis and the stateless nodes before the peer cluster starts: one setup on the CPUs at a time.
  await stopEverything(progress);
  signal.throwIfAborted();
  const peer = await startPeer(progress);
  try {
    await delay(SETTLE_MS, undefined, { signal });
    results.push(...await measureSetup('peer', peer, options, signal, progress));
  } finally {
    await peer.stop();
  }
  return { results, writes, redisVersion: stateless.redisVersion };
}

// --- report ---

const fixed = (n: number | undefined, digits: number) => (n !== undefined && Number.isFinite(n) ? n.toFixed(digits) : '-');
const round = (n: number | undefined, digits: number) => (n !== undefined && Number.isFinite(n) ? Number(n.toFixed(digits)) : null);
const attempts = (r: EngineResult) => r.load.ok + r.load.errors;
const perOp = (seconds: number | undefined, ops: number) => (seconds === undefined || ops === 0 ? undefined : (seconds * 1000) / ops);
const otherPercent = (r: EngineResult) => (r.cpu?.otherSeconds === undefined ? undefined : (r.cpu.otherSeconds / r.cpu.capacitySeconds) * 100);

const SETUP_LABEL: Record<EngineSetup, string> = {
  stateless: '3 stateless nodes, Redis + PostgreSQL',
  peer: '3 nodes, peer state (TLS back channel)',
};
const OP_LABEL: Record<EngineOperation, string> = { signin: 'sign-in (code + PKCE)', refresh: 'refresh_token', cc: 'client_credentials' };

export function enginesSection(run: EnginesRun, options: RowOptions, cpuCount: number): string {
  const order: EngineOperation[] = ['signin', 'refresh', 'cc'];
  const sorted = [...run.results].sort((a, b) => order.indexOf(a.operation) - order.indexOf(b.operation)
    || (a.setup === b.setup ? 0 : a.setup === 'stateless' ? -1 : 1));
  const rows = sorted.map((r) => {
    const other = r.setup === 'peer' ? run.results.find((x) => x.setup === 'stateless' && x.operation === r.operation) : undefined;
    return [
      OP_LABEL[r.operation], SETUP_LABEL[r.setup], fixed(r.load.perSecond, 1), fixed(r.load.p50Ms, 1), fixed(r.load.p99Ms, 1),
      String(r.load.ok), String(r.load.errors),
      other && other.load.perSecond > 0 ? fixed(r.load.perSecond / other.load.perSecond, 2) : '-',
      fixed(perOp(r.cpu?.nodeSeconds, attempts(r)), 2), fixed(perOp(r.cpu?.balancerSeconds, attempts(r)), 2),
      fixed(otherPercent(r), 0),
    ];
  });
  const lines = [
    `Stateless (Redis + PostgreSQL) versus peer cluster: 3 nodes each, HAProxy round-robin without a sticky cookie, `
      + `${options.workers} concurrent workers, ${WARMUP_SECONDS} s warm-up then ${options.seconds} s per row, one setup at a time`,
    formatTable(['operation', 'setup', 'ok/s', 'p50 ms', 'p99 ms', 'ok', 'errors', 'peer/stateless', 'nodes CPU ms/try',
      'haproxy ms/try', 'other CPU %'], rows, new Set([2, 3, 4, 5, 6, 7, 8, 9, 10])),
  ];
  const w = run.writes;
  if (w) {
    const per = (n: number) => (w.signIns > 0 ? fixed(n / w.signIns, 3) : '-');
    const writes = w.delta.tupInserted + w.delta.tupUpdated + w.delta.tupDeleted;
    lines.push(
      `PostgreSQL writes per sign-in (${w.postgresVersion}, pg_stat_database of the Cohort database around the sign-in row, `
        + `warm-up included: ${w.signIns} successful sign-ins, ${w.failed} failed; read ${w.flushWaitMs / 1000} s after the last one `
        + 'so idle backends had reported their statistics):',
      formatTable(['per sign-in', 'rows written', 'tup_inserted', 'tup_updated', 'tup_deleted', 'xact_commit'], [[
        'PostgreSQL', per(writes), per(w.delta.tupInserted), per(w.delta.tupUpdated), per(w.delta.tupDeleted), per(w.delta.xactCommit),
      ]], new Set([1, 2, 3, 4, 5])),
      `  totals: ${writes} rows written (${w.delta.tupInserted} inserted, ${w.delta.tupUpdated} updated, ${w.delta.tupDeleted} deleted), `
        + `${w.delta.xactCommit} commits (read-only transactions included: user and client look-ups, HAProxy's lbstatus checks, `
        + 'and this benchmark\'s own statistics query)',
      `  by table (pg_stat_user_tables): ${w.tables.length === 0 ? 'no table written'
        : w.tables.map((t) => `${t.table} +${t.inserted}/~${t.updated}/-${t.deleted}`).join('; ')} (+inserted/~updated/-deleted)`,
      '  what writes: with all eight state services in Redis a sign-in only reads PostgreSQL (user, client, keys); in the sign-in '
        + 'path the store writes only for the opportunistic password-hash upgrade (UPDATE users when needsRehash), and the audit '
        + 'log records admin actions, not sign-ins',
    );
  }
  lines.push(
    `limits: ${cpuCount} CPUs shared by the load generator (this process), HAProxy, the three nodes and, in the stateless rows, `
      + `${run.redisVersion} and PostgreSQL ("other CPU %" is mostly them there); neither setup can scale out here, so the rows compare `
      + 'per-request cost on the same machine, not capacity. Every process runs on 127.0.0.1 (no network latency).',
    `password hash: ${[...new Set(run.results.map((r) => r.passwordCheck))].join(', ')} on every row (COHORT_AUTH_SCRYPT_COST=1024, `
      + 'read back with cohort config show). refresh_token: one rotating chain per worker, started by a sign-in (uncounted); '
      + 'client_credentials: one confidential client, Basic authentication.',
  );
  const disturbed = run.results.filter((r) => r.setup === 'peer' && (otherPercent(r) ?? 0) > DISTURBED_OTHER_PERCENT);
  if (disturbed.length > 0) {
    lines.push(`note: the peer rows start no other process, yet "other CPU %" exceeded ${DISTURBED_OTHER_PERCENT} % in `
      + `${disturbed.map((r) => OP_LABEL[r.operation]).join(', ')}: CPU used outside the measured processes (another program, or `
      + 'kernel work not charged to them); the stateless rows\' "other" holds Redis and PostgreSQL on top of that. Compare them with care.');
  }
  for (const r of run.results.filter((x) => x.load.errorSamples.length > 0)) {
    lines.push(`errors (${SETUP_LABEL[r.setup]}, ${OP_LABEL[r.operation]}): ${r.load.errors} of ${attempts(r)} failed: ${r.load.errorSamples.join(' | ')}`);
  }
  return lines.join('\n');
}

export function enginesJson(run: EnginesRun, options: RowOptions): string[] {
  const lines = run.results.map((r) => JSON.stringify({
    bench: 'cluster-engines', setup: r.setup, operation: r.operation, nodes: 3, balancer: 'haproxy roundrobin, no sticky cookie',
    passwordCheck: r.passwordCheck, workers: options.workers, seconds: round(r.load.elapsedSeconds, 3), ok: r.load.ok,
    errors: r.load.errors, perSecond: round(r.load.perSecond, 2), p50Ms: round(r.load.p50Ms, 2), p99Ms: round(r.load.p99Ms, 2),
    nodesCpuMsPerAttempt: round(perOp(r.cpu?.nodeSeconds, attempts(r)), 3),
    haproxyCpuMsPerAttempt: round(perOp(r.cpu?.balancerSeconds, attempts(r)), 3),
    generatorCpuMsPerAttempt: round(perOp(r.cpu?.generatorSeconds, attempts(r)), 3), otherCpuPercent: round(otherPercent(r), 1),
    ...(r.load.errorSamples.length ? { errorSamples: r.load.errorSamples } : {}),
  }));
  const w = run.writes;
  if (w) {
    const writes = w.delta.tupInserted + w.delta.tupUpdated + w.delta.tupDeleted;
    lines.push(JSON.stringify({
      bench: 'cluster-engines-db-writes', setup: 'stateless', database: w.postgresVersion, signIns: w.signIns, failed: w.failed,
      rowsWritten: writes, ...w.delta, rowsWrittenPerSignIn: round(w.signIns > 0 ? writes / w.signIns : undefined, 4),
      xactCommitPerSignIn: round(w.signIns > 0 ? w.delta.xactCommit / w.signIns : undefined, 4), tables: w.tables,
    }));
  }
  return lines;
}
