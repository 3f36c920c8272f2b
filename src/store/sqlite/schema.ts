// The SQLite schema as numbered migrations, applied in order and recorded in `schema_migrations`.
// A migration, once released, is never edited: a change to the schema is a new entry at the end of the list.
import type Database from 'better-sqlite3';
import type { AppliedMigration } from '../options.js';
import { StoreError } from '../types.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

// STRICT tables make SQLite refuse a value of the wrong type instead of storing it silently.
// Timestamps are epoch milliseconds; booleans are 0/1; lists are JSON arrays of strings.
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'users',
    sql: `
      CREATE TABLE users (
        id                   TEXT    PRIMARY KEY,
        username             TEXT    NOT NULL,
        username_key         TEXT    NOT NULL UNIQUE,
        email                TEXT,
        display_name         TEXT,
        groups_json          TEXT    NOT NULL DEFAULT '[]',
        roles_json           TEXT    NOT NULL DEFAULT '[]',
        password_hash        TEXT    NOT NULL,
        disabled             INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
        must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1)),
        created_at           INTEGER NOT NULL,
        updated_at           INTEGER NOT NULL
      ) STRICT;`,
  },
  {
    version: 2,
    name: 'clients',
    sql: `
      CREATE TABLE clients (
        client_id                      TEXT    PRIMARY KEY,
        name                           TEXT,
        public                         INTEGER NOT NULL CHECK (public IN (0, 1)),
        redirect_uris_json             TEXT    NOT NULL DEFAULT '[]',
        post_logout_redirect_uris_json TEXT    NOT NULL DEFAULT '[]',
        backchannel_logout_uri         TEXT,
        grant_types_json               TEXT    NOT NULL,
        secret_hash                    TEXT,
        created_at                     INTEGER NOT NULL,
        CHECK ((public = 1) = (secret_hash IS NULL))
      ) STRICT;`,
  },
  {
    version: 3,
    name: 'keys',
    sql: `
      CREATE TABLE keys (
        kid        TEXT    PRIMARY KEY,
        use        TEXT    NOT NULL CHECK (use IN ('sig', 'cookie')),
        alg        TEXT    NOT NULL,
        material   TEXT    NOT NULL,
        created_at INTEGER NOT NULL,
        retired    INTEGER NOT NULL DEFAULT 0 CHECK (retired IN (0, 1))
      ) STRICT;
      CREATE INDEX keys_by_use ON keys (use, created_at);`,
  },
  {
    version: 4,
    name: 'audit_log',
    // AUTOINCREMENT so an id is never reused, even after the newest entries are deleted by hand.
    sql: `
      CREATE TABLE audit_log (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        at           INTEGER NOT NULL,
        actor        TEXT    NOT NULL,
        action       TEXT    NOT NULL,
        target       TEXT,
        details_json TEXT
      ) STRICT;
      CREATE INDEX audit_log_by_target ON audit_log (target, id);`,
  },
  {
    version: 5,
    name: 'service_providers',
    // The record is validated as a whole (sp-validation.ts) and read as a whole, so it is kept as one JSON document.
    sql: `
      CREATE TABLE service_providers (
        entity_id   TEXT    PRIMARY KEY,
        record_json TEXT    NOT NULL,
        created_at  INTEGER NOT NULL
      ) STRICT;`,
  },
  {
    version: 6,
    name: 'config_versions_and_settings',
    // Published runtime configurations (immutable rows; the snapshot is the exact JSON text its digest covers) and
    // named settings documents (the staged settings, the store's identity, the staged change marker).
    sql: `
      CREATE TABLE config_versions (
        version      INTEGER PRIMARY KEY,
        published_at INTEGER NOT NULL,
        published_by TEXT    NOT NULL,
        digest       TEXT    NOT NULL,
        snapshot     TEXT    NOT NULL
      ) STRICT;
      CREATE TABLE settings (
        name       TEXT    PRIMARY KEY,
        value_json TEXT    NOT NULL,
        updated_at INTEGER NOT NULL,
        updated_by TEXT    NOT NULL
      ) STRICT;`,
  },
];

/** How long a connection waits for another one's write lock before failing with SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000;

/**
 * Connection settings, then pending migrations. WAL lets readers proceed while one writer writes, and busy_timeout
 * makes a writer wait for the lock instead of failing at once: together they let `cohort users ...` and a running
 * server share one file. synchronous=NORMAL is durable across application crashes in WAL mode and only risks the
 * last transactions on power loss, for far fewer fsyncs.
 */
export function prepareDatabase(
  db: Database.Database,
  now: () => number,
  migrations = MIGRATIONS,
  onMigration?: (applied: AppliedMigration) => void,
): void {
  // busy_timeout first: switching to WAL itself needs a lock another process may hold.
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  migrate(db, now, migrations, onMigration);
}

/** Applies pending migrations, each in its own transaction; returns the versions it applied. */
export function migrate(
  db: Database.Database,
  now: () => number,
  migrations = MIGRATIONS,
  onMigration?: (applied: AppliedMigration) => void,
): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
  ) STRICT`);
  const appliedVersions = () => new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version),
  );
  const latestKnown = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  const newest = Math.max(0, ...appliedVersions());
  if (newest > latestKnown) {
    throw new StoreError('UNAVAILABLE', `database schema version ${newest} is newer than this Cohort understands ` +
      `(${latestKnown}); upgrade Cohort before opening it`);
  }
  const applied: number[] = [];
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    // IMMEDIATE takes the write lock before reading, so two processes opening a new file at once cannot both
    // decide to apply the same migration: the second waits (busy_timeout), then sees it recorded and skips it.
    const started = Date.now();
    const ran = db.transaction(() => {
      if (appliedVersions().has(migration.version)) return false;
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
        .run(migration.version, migration.name, now());
      return true;
    }).immediate();
    if (ran) {
      applied.push(migration.version);
      onMigration?.({ version: migration.version, name: migration.name, ms: Date.now() - started });
    }
  }
  return applied;
}
