// The embedded durable store: one SQLite file holding users, clients, keys and the audit log.
import { closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { PasswordHasher } from '../../auth/password.js';
import type { DurableStoreOptions } from '../options.js';
import { StoreError, type DurableStore } from '../types.js';
import { prepareDatabase } from './schema.js';
import { guard } from './sqlite-errors.js';
import { SqliteAuditLog } from './sqlite-audit.js';
import { SqliteClientStore } from './sqlite-clients.js';
import { SqliteServiceProviderStore } from './sqlite-service-providers.js';
import { SqliteKeyStore } from './sqlite-keys.js';
import { SqliteUserReplicas, SqliteUserStore } from './sqlite-users.js';
import { SqliteConfigVersionStore, SqliteSettingsStore } from './sqlite-config.js';

/**
 * Opens (creating if needed) the SQLite file and applies pending migrations. Several processes may open the same
 * file at once (a running server and `cohort users ...`): see prepareDatabase() in schema.ts.
 * Throws StoreError('UNAVAILABLE') when the file cannot be opened or is not a Cohort database it understands.
 */
export function openSqliteStore(file: string, options: DurableStoreOptions): DurableStore {
  const now = options.now ?? Date.now;
  const hasher = new PasswordHasher(options.scrypt);
  let db: Database.Database;
  try {
    if (file !== ':memory:') createPrivately(file);
    db = new Database(file);
  } catch (err) {
    throw new StoreError('UNAVAILABLE', `cannot open database ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    guard(() => prepareDatabase(db, now, undefined, options.onMigration));
  } catch (err) {
    db.close();
    throw err instanceof StoreError ? err : new StoreError('UNAVAILABLE', `cannot prepare database ${file}`, { cause: err });
  }
  const ping = db.prepare('SELECT 1');
  return {
    users: new SqliteUserStore(db, hasher, now),
    clients: new SqliteClientStore(db, now),
    serviceProviders: new SqliteServiceProviderStore(db, now),
    keys: new SqliteKeyStore(db),
    audit: new SqliteAuditLog(db, now),
    configVersions: new SqliteConfigVersionStore(db),
    settings: new SqliteSettingsStore(db, now),
    userReplicas: new SqliteUserReplicas(db),
    async ping() {
      guard(() => ping.get());
    },
    async close() {
      if (db.open) db.close();
    },
  };
}

/**
 * Creates the file with mode 0600 before SQLite does (SQLite would use 0644 less the umask); SQLite gives its -wal
 * and -shm files the database file's mode, so they stay private too. An existing file is left as it is.
 */
function createPrivately(file: string): void {
  closeSync(openSync(file, 'a', 0o600));
}
