// A real, throw-away PostgreSQL server for tests: initdb into a temporary directory, postgres on a free loopback
// port, databases created per test, and stop/start/pause to play outages. Every wait is bounded and the server is
// killed when the test process exits, also when a test fails.
//
// As root (CI containers), the server runs as the `postgres` user: initdb and postgres refuse to run as root.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { freePort } from './ports.js';

const BINARIES = ['initdb', 'postgres'] as const;
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;

/** Where initdb and postgres live: $COHORT_PG_BIN, else the newest /usr/lib/postgresql/N/bin (Debian), else PATH. */
export function postgresBinDir(): string | undefined {
  const has = (dir: string) => BINARIES.every((b) => existsSync(join(dir, b)));
  const fromEnv = process.env.COHORT_PG_BIN;
  if (fromEnv) return has(fromEnv) ? fromEnv : undefined;
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) if (has(join(debian, v, 'bin'))) return join(debian, v, 'bin');
  }
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && has(dir)) return dir;
  return undefined;
}

/** Why PostgreSQL tests cannot run here, or undefined when they can. The only acceptable reason: no binaries. */
export function postgresSkipReason(): string | undefined {
  return postgresBinDir() === undefined
    ? 'PostgreSQL server binaries (initdb, postgres) not found: install the postgresql package or set COHORT_PG_BIN'
    : undefined;
}

export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  /** The superuser's password (scram-sha-256 over TCP), so tests can check it never appears in messages. */
  readonly password: string;
  /** Connection URL of a database on this server (default: the `postgres` maintenance database). */
  url(database?: string): string;
  /** A new, empty UTF8 database with a unique name; `icuLocale` picks an ICU collation for it (e.g. 'en-US'). */
  createDatabase(options?: { icuLocale?: string }): Promise<{ name: string; url: string }>;
  /** Drops the database, disconnecting whoever is still connected. */
  dropDatabase(name: string): Promise<void>;
  /** Runs one statement as superuser on `database` (default `postgres`). */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[], database?: string): Promise<pg.QueryResult<R>>;
  /** Fast shutdown (connections are terminated, data kept); start() brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** SIGSTOP / SIGCONT every server process: a server that accepts TCP connections but never answers. */
  pause(): void;
  resume(): void;
  /** Stops the server and removes its directory. */
  destroy(): Promise<void>;
}

/** Commands run as the postgres user when we are root; as ourselves otherwise. */
function asServerUser(command: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Child processes of `pid`, from /proc (Linux): the server's backends, checkpointer, walwriter... */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/PID/stat is the parent pid; the command name (field 2) is in parentheses and may hold spaces.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch { /* the process ended meanwhile */ }
  }
  return out;
}

/** Starts a fresh server. Throws (with the server's log) if it does not accept connections within 20 s. */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (!bin) throw new Error(postgresSkipReason());
  const root = mkdtempSync(join(tmpdir(), 'cohort-pg-'));
  const dataDir = join(root, 'data');
  const log = join(root, 'server.log');
  const password = randomBytes(18).toString('base64url');
  const pwFile = join(root, 'pw');
  writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
  if (process.getuid?.() === 0) {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    const [uid, gid] = [id('-u'), id('-g')];
    for (const path of [root, pwFile]) chownSync(path, uid, gid);
  }
  const [initCmd, initArgs] = asServerUser(join(bin, 'initdb'), [
    '-D', dataDir, '-U', 'postgres', '-E', 'UTF8', '--no-locale', '--no-sync',
    '--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${pwFile}`,
  ]);
  try {
    execFileSync(initCmd, initArgs, { stdio: 'pipe', timeout: 60_000 });
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`initdb failed: ${stderr.trim() || (err as Error).message}`);
  }
  const port = await freePort();
  const host = '127.0.0.1';
  let child: ChildProcess | undefined;
  let postmasterPid: number | undefined;

  const url = (database = 'postgres') => `postgres://postgres:${encodeURIComponent(password)}@${host}:${port}/${database}`;

  async function query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = [], database = 'postgres') {
    const client = new pg.Client({ connectionString: url(database), connectionTimeoutMillis: 5_000 });
    client.on('error', () => {});
    await client.connect();
    try {
      return await client.query<R>(sql, params);
    } finally {
      await client.end().catch(() => {});
    }
  }

  async function start(): Promise<void> {
    if (child) return;
    const fd = openSync(log, 'a');
    const [cmd, args] = asServerUser(join(bin!, 'postgres'), [
      '-D', dataDir, '-k', root, '-p', String(port), '-c', `listen_addresses=${host}`,
      // Durability is worthless for a throw-away server; skipping fsync makes CREATE DATABASE take milliseconds.
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200',
    ]);
    const spawned = spawn(cmd, args, { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    // A test that forgets destroy() must still end: the 'exit' handler below then kills the server.
    spawned.unref();
    child = spawned;
    spawned.once('exit', () => { if (child === spawned) child = undefined; });
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (child !== spawned) throw new Error(`postgres exited at start:\n${tail(log)}`);
      try {
        await query('SELECT 1');
        break;
      } catch (err) {
        if (Date.now() > deadline) {
          await stop();
          throw new Error(`postgres did not accept connections within ${START_TIMEOUT_MS} ms (${(err as Error).message}):\n${tail(log)}`);
        }
        await delay(50);
      }
    }
    postmasterPid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  }

  function signalAll(signal: NodeJS.Signals): void {
    if (postmasterPid === undefined) return;
    const pids = [postmasterPid, ...childrenOf(postmasterPid)];
    // runuser stops itself when its child stops (job control, as su does) and must be continued too, or it could
    // never report the server's exit.
    if (signal === 'SIGCONT' && child?.pid !== undefined && child.pid !== postmasterPid) pids.push(child.pid);
    for (const pid of signal === 'SIGCONT' ? pids.reverse() : pids) {
      try { process.kill(pid, signal); } catch { /* already gone */ }
    }
  }

  async function stop(): Promise<void> {
    const running = child;
    if (!running) return;
    signalAll('SIGCONT'); // a paused server cannot act on the shutdown request
    const exited = new Promise((resolve) => running.once('exit', resolve));
    // SIGINT to the postmaster = fast shutdown: clients are disconnected, in-flight transactions rolled back.
    try { process.kill(postmasterPid ?? running.pid!, 'SIGINT'); } catch { /* gone */ }
    const timer = setTimeout(() => {
      try { process.kill(postmasterPid ?? running.pid!, 'SIGKILL'); } catch { /* gone */ }
      running.kill('SIGKILL');
    }, STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
    postmasterPid = undefined;
  }

  // If the test process ends without destroy() (a crash, an uncaught failure), the server must not outlive it.
  const onExit = () => {
    signalAll('SIGKILL'); // the backends too: a paused one would otherwise stay behind, stopped, forever
    rmSync(root, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  try {
    await start();
  } catch (err) {
    process.off('exit', onExit);
    rmSync(root, { recursive: true, force: true });
    throw err;
  }

  let counter = 0;
  return {
    host,
    port,
    password,
    url,
    query,
    start,
    stop,
    pause: () => signalAll('SIGSTOP'),
    resume: () => signalAll('SIGCONT'),
    async createDatabase(options = {}) {
      const name = `cohort_test_${process.pid}_${++counter}`;
      const locale = options.icuLocale === undefined ? ''
        // Identifier and literal are ours, not input: the name is generated above, the locale a test constant.
        : ` TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '${options.icuLocale.replace(/'/g, "''")}'`;
      await query(`CREATE DATABASE ${name} ENCODING 'UTF8'${locale}`);
      return { name, url: url(name) };
    },
    async dropDatabase(name) {
      await query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    },
    async destroy() {
      await stop();
      process.off('exit', onExit);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
