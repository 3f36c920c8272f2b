// The PostgreSQL schema as numbered migrations, applied in order, each in its own transaction, and recorded in
// `schema_migrations`. A migration, once released, is never edited: a change is a new entry at the end.
//
// The tables mirror the SQLite ones (sqlite/schema.ts) so both backends keep exactly the same data:
// - timestamps are bigint epoch milliseconds, like the TypeScript records (timestamptz could not hold every value
//   KeyRecord.createdAt accepts, and would round-trip through Date);
// - identifiers that are sorted or compared (username_key, client_id, kid) use COLLATE "C": byte order, as in
//   SQLite, instead of the database's locale, which would order 'Mallory' and 'adam' differently per server.
import type pg from 'pg';
import { StoreError } from '../types.js';
import type { AppliedMigration } from '../options.js';
import { withAdvisoryLock, type PostgresConnectionOptions } from './connection.js';
import { guard } from './postgres-errors.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'users',
    sql: `
      CREATE TABLE users (
        id                   text COLLATE "C" PRIMARY KEY,
        username             text    NOT NULL,
        username_key         text COLLATE "C" NOT NULL,
        email                text,
        display_name         text,
        groups               text[]  NOT NULL DEFAULT '{}',
        roles                text[]  NOT NULL DEFAULT '{}',
        password_hash        text    NOT NULL,
        disabled             boolean NOT NULL DEFAULT false,
        must_change_password boolean NOT NULL DEFAULT false,
        created_at           bigint  NOT NULL,
        updated_at           bigint  NOT NULL
      );
      CREATE UNIQUE INDEX users_username_key ON users (username_key);`,
  },
  {
    version: 2,
    name: 'clients',
    sql: `
      CREATE TABLE clients (
        client_id                 text COLLATE "C" PRIMARY KEY,
        name                      text,
        public                    boolean NOT NULL,
        redirect_uris             text[]  NOT NULL DEFAULT '{}',
        post_logout_redirect_uris text[]  NOT NULL DEFAULT '{}',
        backchannel_logout_uri    text,
        grant_types               text[]  NOT NULL,
        secret_hash               text,
        created_at                bigint  NOT NULL,
        CHECK (public = (secret_hash IS NULL))
      );
      CREATE INDEX clients_by_creation ON clients (created_at, client_id);`,
  },
  {
    version: 3,
    name: 'keys',
    sql: `
      CREATE TABLE keys (
        kid        text COLLATE "C" PRIMARY KEY,
        use        text    NOT NULL CHECK (use IN ('sig', 'cookie')),
        alg        text    NOT NULL,
        material   text    NOT NULL,
        created_at bigint  NOT NULL,
        retired    boolean NOT NULL DEFAULT false
      );
      CREATE INDEX keys_by_use ON keys (use, created_at, kid);`,
  },
  {
    version: 4,
    name: 'audit_log',
    // jsonb so operators can query details in SQL; the store reads it back as the same object it was given.
    sql: `
      CREATE TABLE audit_log (
        id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at      bigint NOT NULL,
        actor   text   NOT NULL,
        action  text   NOT NULL,
        target  text,
        details jsonb  CHECK (details IS NULL OR jsonb_typeof(details) = 'object')
      );
      CREATE INDEX audit_log_by_target ON audit_log (target, id);`,
  },
  {
    version: 5,
    name: 'sessions',
    // SSO sessions when state.backend.sessions is postgres (state/postgres). created_seq orders them by creation:
    // a sequence, since node clocks differ and many sessions start in the same millisecond. expires_at is indexed
    // for the purge of expired rows; reads filter on it too, so a row awaiting the purge is never returned.
    sql: `
      CREATE TABLE sessions (
        id          text COLLATE "C" PRIMARY KEY,
        uid         text COLLATE "C" NOT NULL,
        user_id     text COLLATE "C",
        owner       integer,
        payload     jsonb     NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
        expires_at  bigint    NOT NULL,
        created_seq bigserial NOT NULL
      );
      CREATE UNIQUE INDEX sessions_uid ON sessions (uid);
      CREATE INDEX sessions_by_user ON sessions (user_id, created_seq);
      CREATE INDEX sessions_by_creation ON sessions (created_seq);
      CREATE INDEX sessions_by_expiry ON sessions (expires_at);`,
  },
  {
    version: 6,
    name: 'service_providers',
    // The record is validated as a whole (sp-validation.ts) and read as a whole, so it is kept as one JSON document.
    sql: `
      CREATE TABLE service_providers (
        entity_id  text COLLATE "C" PRIMARY KEY,
        record     jsonb  NOT NULL CHECK (jsonb_typeof(record) = 'object'),
        created_at bigint NOT NULL,
        created_seq bigserial NOT NULL
      );`,
  },
  {
    version: 7,
    name: 'config_versions_and_settings',
    // Published runtime configurations (immutable rows; the snapshot is the exact JSON text its digest covers, so
    // text, not jsonb, which would reorder keys) and named settings documents.
    sql: `
      CREATE TABLE config_versions (
        version      integer PRIMARY KEY,
        published_at bigint NOT NULL,
        published_by text   NOT NULL,
        digest       text   NOT NULL,
        snapshot     text   NOT NULL
      );
      CREATE TABLE settings (
        name       text COLLATE "C" PRIMARY KEY,
        value      jsonb  NOT NULL CHECK (jsonb_typeof(value) = 'object'),
        updated_at bigint NOT NULL,
        updated_by text   NOT NULL
      );`,
  },
];

const latestOf = (migrations: readonly Migration[]) => migrations.reduce((max, m) => Math.max(max, m.version), 0);

async function appliedVersions(client: pg.ClientBase): Promise<Set<number>> {
  const exists = await client.query<{ present: boolean }>("SELECT to_regclass('schema_migrations') IS NOT NULL AS present");
  if (!exists.rows[0]?.present) return new Set();
  const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
  return new Set(rows.map((r) => r.version));
}

function refuseNewer(newest: number, latestKnown: number): void {
  if (newest > latestKnown) {
    throw new StoreError('UNAVAILABLE', `database schema version ${newest} is newer than this Cohort understands ` +
      `(${latestKnown}); upgrade Cohort before opening it`);
  }
}

export interface MigrateOptions {
  now: () => number;
  migrations?: readonly Migration[];
  onMigration?: (applied: AppliedMigration) => void;
}

/**
 * Applies pending migrations on `client`, which must hold the migration advisory lock (see migrate()), each in
 * its own transaction: a failing migration leaves nothing of itself behind, and those before it stay applied.
 * Returns the versions applied.
 */
export async function applyMigrations(client: pg.ClientBase, options: MigrateOptions): Promise<number[]> {
  const migrations = [...(options.migrations ?? MIGRATIONS)].sort((a, b) => a.version - b.version);
  return guard(async () => {
    const { rows: [encoding] } = await client.query<{ server_encoding: string }>('SHOW server_encoding');
    // Every string Cohort stores is Unicode; another encoding would refuse some usernames at insert time.
    if (encoding?.server_encoding !== 'UTF8') {
      throw new StoreError('UNAVAILABLE', `the database's encoding is ${encoding?.server_encoding}, not UTF8; ` +
        'create it with ENCODING \'UTF8\'');
    }
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    integer PRIMARY KEY,
      name       text    NOT NULL,
      applied_at bigint  NOT NULL
    )`);
    const applied = await appliedVersions(client);
    refuseNewer(Math.max(0, ...applied), latestOf(migrations));
    const done: number[] = [];
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      const started = Date.now();
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)',
          [migration.version, migration.name, options.now()]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err instanceof StoreError ? err
          : new StoreError('UNAVAILABLE', `migration ${migration.version} (${migration.name}) failed: ${(err as Error).message}`, { cause: err });
      }
      done.push(migration.version);
      options.onMigration?.({ version: migration.version, name: migration.name, ms: Date.now() - started });
    }
    return done;
  });
}

/**
 * For a node that must not migrate (store.migrateOnStart false): refuses a schema older or newer than this build's,
 * naming the command that fixes it.
 */
export async function requireCurrentSchema(client: pg.ClientBase, migrations: readonly Migration[] = MIGRATIONS): Promise<void> {
  const applied = await guard(() => appliedVersions(client));
  const latestKnown = latestOf(migrations);
  refuseNewer(Math.max(0, ...applied), latestKnown);
  const missing = migrations.filter((m) => !applied.has(m.version)).map((m) => m.version);
  if (missing.length > 0) {
    throw new StoreError('UNAVAILABLE', `the database schema lacks migration(s) ${missing.join(', ')} of this Cohort; ` +
      "run 'cohort db migrate' (or set store.migrateOnStart)");
  }
}

/**
 * Longest a node waits for another's migrations, and longest one migration may run: schema changes on a large
 * table can take minutes, far beyond the statement timeout that suits ordinary queries.
 */
export const MIGRATION_TIMEOUT_MS = 15 * 60_000;

/**
 * Migrates the database under the `schema_migrations` advisory lock: of several nodes starting at once, the first
 * applies the pending migrations and the others wait, then find nothing left to do.
 */
export function migrate(options: PostgresConnectionOptions & MigrateOptions): Promise<number[]> {
  return withAdvisoryLock(options, 'schema_migrations', MIGRATION_TIMEOUT_MS, (client) => applyMigrations(client, options));
}
