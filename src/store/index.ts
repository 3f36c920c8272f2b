// Opens the configured durable store: the embedded SQLite file in the data directory (the default), or a PostgreSQL
// database shared by every node (store.backend = postgres). Callers only ever see DurableStore.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CohortConfig } from '../config/types.js';
import type { DurableStoreOptions } from './options.js';
import { describeTarget } from './postgres/postgres-errors.js';
import { openPostgresStore, type PostgresConnectionOptions } from './postgres/postgres-store.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';
import { withBootstrapLock } from './bootstrap-lock.js';
import { StoreError, type DurableStore } from './types.js';

export type { AppliedMigration, DurableStoreOptions } from './options.js';
export { StoreError } from './types.js';
export type * from './types.js';

/** The database's file name inside the data directory. */
export const SQLITE_FILE = 'cohort.db';

/** Which backend holds the durable data, and how to reach it. */
export type StoreBackend =
  | { kind: 'sqlite' }
  | ({ kind: 'postgres'; /** Apply pending migrations when opening (store.migrateOnStart). */ migrate: boolean }
    & PostgresConnectionOptions);

/** The store for messages: 'PostgreSQL postgres://user@host:5432/db' (never the password) or 'SQLite <file>'. */
export function describeStore(dataDir: string, backend: StoreBackend = { kind: 'sqlite' }): string {
  return backend.kind === 'postgres' ? `PostgreSQL ${describeTarget(backend.connectionString)}` : `SQLite ${join(dataDir, SQLITE_FILE)}`;
}

/** The backend a configuration chooses (store.*). */
export function storeBackendOf(config: Pick<CohortConfig, 'store'>): StoreBackend {
  const { store } = config;
  if (store.backend === 'sqlite') return { kind: 'sqlite' };
  return {
    kind: 'postgres',
    connectionString: store.postgres.url,
    poolSize: store.postgres.poolSize,
    connectTimeoutMs: store.postgres.connectTimeoutMs,
    statementTimeoutMs: store.postgres.statementTimeoutMs,
    migrate: store.migrateOnStart,
  };
}

export interface OpenDurableStoreOptions extends DurableStoreOptions {
  /**
   * Fail with StoreError('NOT_FOUND') instead of creating an empty database when the data directory holds none:
   * for commands that only read or change existing data, where a mistyped --data-dir should be an error.
   * PostgreSQL: migrations are not applied, and a schema that is not current fails with UNAVAILABLE.
   * @default false
   */
  mustExist?: boolean;
  /** @default { kind: 'sqlite' }: `<dataDir>/cohort.db` */
  backend?: StoreBackend;
}

/**
 * Opens the configured backend. SQLite: `<dataDir>/cohort.db`, creating dataDir (mode 0700: it holds password
 * hashes and private keys) if needed. PostgreSQL: connects, and migrates unless told not to; dataDir is not used.
 */
export async function openDurableStore(dataDir: string, options: OpenDurableStoreOptions): Promise<DurableStore> {
  const { backend = { kind: 'sqlite' } } = options;
  if (backend.kind === 'postgres') {
    return openPostgresStore({
      ...backend,
      scrypt: options.scrypt,
      ...(options.now ? { now: options.now } : {}),
      migrate: backend.migrate && !options.mustExist,
      ...(options.onMigration ? { onMigration: options.onMigration } : {}),
    });
  }
  const file = join(dataDir, SQLITE_FILE);
  if (options.mustExist && !existsSync(file)) {
    throw new StoreError('NOT_FOUND', `no Cohort database in ${dataDir} (${SQLITE_FILE} not found)`);
  }
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new StoreError('UNAVAILABLE', `cannot create data directory ${dataDir}: ${(err as Error).message}`, { cause: err });
  }
  // Several nodes may open a new file at once (a local cluster starting): SQLite can answer SQLITE_BUSY at once
  // while one of them switches the file to WAL, so first opens on this host take turns under the lock file.
  return withBootstrapLock(dataDir, async () => openSqliteStore(file, options));
}
