// How Cohort connects to PostgreSQL: the pool behind the store, and the dedicated connections that hold advisory
// locks (migrations, first-start bootstrap) outside it.
import { createHash } from 'node:crypto';
import { Socket } from 'node:net';
import pg from 'pg';
import type { DurableStoreOptions } from '../options.js';
import { StoreError } from '../types.js';
import { describeTarget, reasonOf, toStoreError } from './postgres-errors.js';

export interface PostgresConnectionOptions {
  /** postgres://user:password@host:port/database?sslmode=... (configuration `store.postgres.url`, a secret). */
  connectionString: string;
  /** Most connections this process keeps open to the database. */
  poolSize: number;
  /** Longest wait for a new connection, or for a free one when all are busy, in ms. */
  connectTimeoutMs: number;
  /** Longest a statement may run, in ms; enforced by the server, and by the client when the server is silent. */
  statementTimeoutMs: number;
}

export interface PostgresStoreOptions extends PostgresConnectionOptions, DurableStoreOptions {
  /**
   * Apply pending migrations before returning (under an advisory lock, so nodes starting together migrate once).
   * When false the schema must already be current, else opening fails with UNAVAILABLE naming `cohort db migrate`.
   * @default true
   */
  migrate?: boolean;
}

/**
 * Extra time the client gives the server to report its own statement_timeout before giving up on the connection:
 * a server that answers cancels cleanly; only a silent one (hung, or behind a dead network path) hits this.
 */
const CLIENT_TIMEOUT_MARGIN_MS = 1_000;
/** Idle pooled connections are closed after this, so a quiet node does not pin server connection slots. */
const IDLE_TIMEOUT_MS = 30_000;

/**
 * How long close() lets connections end politely. A hung server never closes its side, and each open socket would
 * keep the process alive (a node told to stop would not exit), so what is left after this is cut.
 */
const CLOSE_GRACE_MS = 1_000;

/** The sockets of a pool or a client, so that they can be cut when the server never closes them. */
class Sockets {
  readonly #open = new Set<Socket>();

  /** For pg's `stream` option: the plain socket pg would make (TLS, when configured, is layered on top of it). */
  readonly factory = (): Socket => {
    const socket = new Socket();
    this.#open.add(socket);
    socket.once('close', () => this.#open.delete(socket));
    return socket;
  };

  /** Waits up to `graceMs` for every socket to close, then destroys the rest. */
  async settle(graceMs = CLOSE_GRACE_MS): Promise<void> {
    if (this.#open.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...this.#open].map((s) => new Promise((resolve) => s.once('close', resolve)))),
      new Promise((resolve) => { timer = setTimeout(resolve, graceMs); }),
    ]);
    clearTimeout(timer);
    for (const socket of this.#open) socket.destroy();
  }
}

export function clientConfig(options: PostgresConnectionOptions, statementTimeoutMs = options.statementTimeoutMs): pg.ClientConfig {
  return {
    connectionString: options.connectionString,
    connectionTimeoutMillis: options.connectTimeoutMs,
    statement_timeout: statementTimeoutMs,
    query_timeout: statementTimeoutMs + CLIENT_TIMEOUT_MARGIN_MS,
    // Detects a peer that vanished without closing (power loss, a dropped NAT entry) on idle connections.
    keepAlive: true,
    application_name: 'cohort',
  };
}

/** The store's connection pool, and how to close it within a bounded time. */
export function createPool(options: PostgresConnectionOptions): { pool: pg.Pool; end(): Promise<void> } {
  const sockets = new Sockets();
  const pool = new pg.Pool({
    ...clientConfig(options), stream: sockets.factory, max: options.poolSize, idleTimeoutMillis: IDLE_TIMEOUT_MS,
  });
  // An idle connection the server closes (restart, failover, idle timeout) is reported here, then dropped by the
  // pool; the next query opens a new one. Without a listener the event would crash the process.
  pool.on('error', () => {});
  return {
    pool,
    async end() {
      await pool.end();
      await sockets.settle();
    },
  };
}

/** A connection of its own (not from the pool), for work that holds a session-level advisory lock. */
export interface DedicatedClient {
  client: pg.Client;
  /** Ends the session (releasing its advisory locks) within a bounded time; never rejects. */
  end(): Promise<void>;
}

export async function connectDedicated(options: PostgresConnectionOptions, statementTimeoutMs: number): Promise<DedicatedClient> {
  const sockets = new Sockets();
  const client = new pg.Client({ ...clientConfig(options, statementTimeoutMs), stream: sockets.factory });
  // Same reason as the pool's listener: a connection lost while held must reject the pending query, not crash.
  client.on('error', () => {});
  const end = async () => {
    // client.end() waits for the server to close its side, which a hung server never does: settle() bounds that.
    void client.end().catch(() => {});
    await sockets.settle();
  };
  try {
    await client.connect();
  } catch (err) {
    await end();
    throw new StoreError('UNAVAILABLE',
      `cannot connect to PostgreSQL at ${describeTarget(options.connectionString)}: ${reasonOf(err)}`, { cause: err });
  }
  return { client, end };
}

/** The two-int advisory lock key of a name: a fixed namespace, so Cohort's locks never meet another program's. */
export function lockKey(name: string): [number, number] {
  const NAMESPACE = 0x436f6872; // 'Cohr'
  return [NAMESPACE, createHash('sha256').update(name).digest().readInt32BE(0)];
}

/**
 * Runs `work` holding the named advisory lock on a dedicated connection, waiting up to `waitMs` for it. Locks are
 * per database, so two Cohort databases on one server never block each other; the server releases the lock by
 * itself if this process dies holding it.
 */
export async function withAdvisoryLock<T>(
  options: PostgresConnectionOptions,
  name: string,
  waitMs: number,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const { client, end } = await connectDedicated(options, waitMs);
  try {
    const [a, b] = lockKey(name);
    try {
      await client.query('SELECT pg_advisory_lock($1, $2)', [a, b]);
    } catch (err) {
      // 57014: the server cancelled the wait at statement_timeout, which this connection set to waitMs.
      if (err instanceof pg.DatabaseError && err.code === '57014') {
        throw new StoreError('UNAVAILABLE', `timed out after ${waitMs} ms waiting for the '${name}' lock`, { cause: err });
      }
      throw toStoreError(err, 'lock');
    }
    return await work(client);
  } finally {
    // Ending the session releases its advisory locks; an explicit unlock would cost a round trip for nothing.
    await end();
  }
}
