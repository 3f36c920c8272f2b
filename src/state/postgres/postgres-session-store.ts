// SSO sessions in PostgreSQL (state.backend.sessions = postgres): the durable store's database keeps them, so a
// restart of every node at once loses no session. The `sessions` table comes from the store's migrations
// (store/postgres/schema.ts), so `cohort db migrate` or a node's start creates it.
//
// Expiry is judged by this process's clock (passed as a parameter, never the server's now()): every read filters
// on it, so an expired row is never returned even before the purge timer deletes it. Creation order is a sequence,
// not a timestamp: node clocks differ and many sessions start in the same millisecond.
import pg from 'pg';
import { createPool, type PostgresConnectionOptions } from '../../store/postgres/connection.js';
import { storable, toSafeInteger, toStoreError } from '../../store/postgres/postgres-errors.js';
import { StoreError } from '../../store/types.js';
import {
  StateUnavailableError, systemClock, type Clock, type JsonObject, type SessionListOptions, type SessionRecord,
  type SessionStore,
} from '../types.js';
import { pageOf } from '../paging.js';

/** Expired rows deleted per purge statement: bounded so one purge never holds locks on a huge backlog for long. */
export const PURGE_BATCH = 1_000;
/** Batches per purge round; the rest waits for the next tick. */
const MAX_PURGE_BATCHES = 10;
/** How often expired rows are deleted. @default */
export const DEFAULT_PURGE_INTERVAL_MS = 60_000;

export interface PostgresSessionStoreOptions extends PostgresConnectionOptions {
  /** Decides what has expired. @default systemClock */
  clock?: Clock;
  /** Period of the purge of expired rows; 0 = no timer (tests call purgeExpired()). @default DEFAULT_PURGE_INTERVAL_MS */
  purgeIntervalMs?: number;
  /** Told when a background purge fails (the next tick retries); reads never depend on the purge. */
  onPurgeError?: (err: unknown) => void;
}

interface Row {
  id: string;
  uid: string;
  user_id: string | null;
  owner: number | null;
  payload: JsonObject;
  expires_at: string;
}

const COLUMNS = 'id, uid, user_id, owner, payload, expires_at';
const UID_INDEX = 'sessions_uid';

/** pg errors become StateUnavailableError when they mean "the database cannot answer"; bugs (SQL errors) stay. */
function toStateError(err: unknown): unknown {
  if (err instanceof StateUnavailableError) return err;
  const mapped = toStoreError(err, 'conflict');
  if (mapped instanceof StoreError && mapped.code === 'UNAVAILABLE') {
    return new StateUnavailableError(`session store: ${mapped.message}`, { cause: err });
  }
  return err;
}

function toRecord(row: Row): SessionRecord {
  // Optional fields are left out rather than set to undefined: callers compare records structurally.
  return {
    id: row.id,
    uid: row.uid,
    ...(row.user_id !== null ? { userId: row.user_id } : {}),
    payload: row.payload,
    expiresAt: toSafeInteger(row.expires_at, 'sessions.expires_at'),
    ...(row.owner !== null ? { owner: row.owner } : {}),
  };
}

function checkText(value: string, what: string): void {
  // PostgreSQL text cannot hold NUL; refusing here gives a clear message instead of a server error.
  if (!storable(value)) throw new RangeError(`session ${what} must not contain NUL`);
}

export class PostgresSessionStore implements SessionStore {
  readonly #pool: pg.Pool;
  readonly #end: () => Promise<void>;
  readonly #clock: Clock;
  readonly #timer: NodeJS.Timeout | undefined;
  #closed = false;

  /** Connects lazily: construction never waits for the database, so a node can start while it is away. */
  constructor(options: PostgresSessionStoreOptions) {
    const { pool, end } = createPool(options);
    this.#pool = pool;
    this.#end = end;
    this.#clock = options.clock ?? systemClock;
    const every = options.purgeIntervalMs ?? DEFAULT_PURGE_INTERVAL_MS;
    if (every > 0) {
      this.#timer = setInterval(() => {
        this.purgeExpired().catch((err: unknown) => options.onPurgeError?.(err));
      }, every);
      // The purge is housekeeping: it must never keep a stopping process alive.
      this.#timer.unref();
    }
  }

  async #query<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<pg.QueryResult<R>> {
    if (this.#closed) throw new StateUnavailableError('session store is closed');
    try {
      return await this.#pool.query<R>(sql, params);
    } catch (err) {
      throw toStateError(err);
    }
  }

  async put(record: SessionRecord): Promise<void> {
    const now = this.#clock.now();
    if (record.expiresAt <= now) {
      await this.delete(record.id);
      return;
    }
    checkText(record.id, 'id');
    checkText(record.uid, 'uid');
    if (record.userId !== undefined) checkText(record.userId, 'userId');
    // An overwrite keeps its place in creation order, unless the row it replaces had expired: then it is a new
    // session that merely reuses the id, and goes to the end.
    const upsert = () => this.#query(`
      INSERT INTO sessions (id, uid, user_id, owner, payload, expires_at) VALUES ($1, $2, $3, $4, $5, $6)
      ON CONFLICT (id) DO UPDATE SET uid = EXCLUDED.uid, user_id = EXCLUDED.user_id, owner = EXCLUDED.owner,
        payload = EXCLUDED.payload, expires_at = EXCLUDED.expires_at,
        created_seq = CASE WHEN sessions.expires_at <= $7 THEN nextval('sessions_created_seq_seq')
                           ELSE sessions.created_seq END`,
    [record.id, record.uid, record.userId ?? null, record.owner ?? null, JSON.stringify(record.payload),
      record.expiresAt, now]);
    try {
      await upsert();
    } catch (err) {
      if (!(err instanceof pg.DatabaseError && err.code === '23505' && err.constraint === UID_INDEX)) throw err;
      // Another row holds this uid: an expired one awaiting the purge, or a session this put supersedes (the
      // latest writer of a uid wins, as in the other backends). Rare, so it costs a round trip only then.
      await this.#query('DELETE FROM sessions WHERE uid = $1 AND id <> $2', [record.uid, record.id]);
      await upsert();
    }
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    if (!storable(id)) return undefined;
    const { rows } = await this.#query<Row>(`SELECT ${COLUMNS} FROM sessions WHERE id = $1 AND expires_at > $2`,
      [id, this.#clock.now()]);
    return rows[0] && toRecord(rows[0]);
  }

  async findByUid(uid: string): Promise<SessionRecord | undefined> {
    if (!storable(uid)) return undefined;
    const { rows } = await this.#query<Row>(`SELECT ${COLUMNS} FROM sessions WHERE uid = $1 AND expires_at > $2`,
      [uid, this.#clock.now()]);
    return rows[0] && toRecord(rows[0]);
  }

  async delete(id: string): Promise<void> {
    if (!storable(id)) return;
    await this.#query('DELETE FROM sessions WHERE id = $1', [id]);
  }

  async listByUser(userId: string): Promise<SessionRecord[]> {
    if (!storable(userId)) return [];
    const { rows } = await this.#query<Row>(`SELECT ${COLUMNS} FROM sessions
      WHERE user_id = $1 AND expires_at > $2 ORDER BY created_seq`, [userId, this.#clock.now()]);
    return rows.map(toRecord);
  }

  async list(options: SessionListOptions = {}): Promise<{ total: number; items: SessionRecord[] }> {
    const { offset, limit } = pageOf(options);
    if (options.userId !== undefined) {
      const all = await this.listByUser(options.userId);
      return { total: all.length, items: all.slice(offset, offset + limit) };
    }
    // One statement, one snapshot: the total and the page always agree. LIMIT NULL means no limit.
    const { rows } = await this.#query<Row & { total: string }>(`
      WITH live AS (SELECT ${COLUMNS}, created_seq FROM sessions WHERE expires_at > $1)
      SELECT (SELECT count(*) FROM live) AS total, page.* FROM (SELECT 1) AS one
        LEFT JOIN LATERAL (SELECT ${COLUMNS} FROM live ORDER BY created_seq OFFSET $2 LIMIT $3) AS page ON true`,
    [this.#clock.now(), offset, limit === Infinity ? null : limit]);
    const total = toSafeInteger(rows[0]?.total ?? '0', 'count');
    return { total, items: rows.filter((r) => r.id !== null).map(toRecord) };
  }

  async count(): Promise<number> {
    const { rows } = await this.#query<{ n: string }>('SELECT count(*) AS n FROM sessions WHERE expires_at > $1',
      [this.#clock.now()]);
    return toSafeInteger(rows[0]?.n ?? '0', 'count');
  }

  /** Deletes expired rows in bounded batches; returns how many. The timer calls it; reads never need it. */
  async purgeExpired(): Promise<number> {
    let purged = 0;
    for (let batch = 0; batch < MAX_PURGE_BATCHES; batch++) {
      const { rowCount } = await this.#query(`DELETE FROM sessions WHERE id IN
        (SELECT id FROM sessions WHERE expires_at <= $1 LIMIT ${PURGE_BATCH})`, [this.#clock.now()]);
      purged += rowCount ?? 0;
      if ((rowCount ?? 0) < PURGE_BATCH) break;
    }
    return purged;
  }

  /** Resolves when the database answers; rejects with StateUnavailableError otherwise. */
  async ping(): Promise<void> {
    await this.#query('SELECT 1', []);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#end();
  }
}
