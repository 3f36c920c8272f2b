// The shared durable store: one PostgreSQL database holding users, clients, keys and the audit log for every node.
// Same contract as the SQLite store, checked by the same case suite (../store.case.test.ts).
import { PasswordHasher } from '../../auth/password.js';
import { StoreError, type DurableStore } from '../types.js';
import {
  connectDedicated, createPool, withAdvisoryLock, type PostgresStoreOptions,
} from './connection.js';
import { guard } from './postgres-errors.js';
import { PostgresAuditLog } from './postgres-audit.js';
import { PostgresClientStore } from './postgres-clients.js';
import { PostgresServiceProviderStore } from './postgres-service-providers.js';
import { PostgresKeyStore } from './postgres-keys.js';
import { PostgresUserReplicas, PostgresUserStore } from './postgres-users.js';
import { PostgresConfigVersionStore, PostgresSettingsStore } from './postgres-config.js';
import { migrate, requireCurrentSchema } from './schema.js';

export type { PostgresConnectionOptions, PostgresStoreOptions } from './connection.js';

/** Longest withLock() waits for another node's hold (first-start bootstrap takes about a second). */
const LOCK_WAIT_MS = 60_000;

function checkOptions(options: PostgresStoreOptions): void {
  const bad = (what: string) => new StoreError('INVALID', `${what} (PostgreSQL store options)`);
  if (typeof options.connectionString !== 'string' || options.connectionString === '') {
    throw bad('connectionString: must be set, e.g. postgres://cohort@db.example.com/cohort');
  }
  for (const name of ['poolSize', 'connectTimeoutMs', 'statementTimeoutMs'] as const) {
    if (!Number.isInteger(options[name]) || options[name] < 1) throw bad(`${name}: must be a positive integer`);
  }
}

/**
 * Connects to the database and, unless `migrate` is false, applies pending migrations first. Throws StoreError
 * ('UNAVAILABLE') naming the server (never its password) when it cannot be reached or its schema does not fit.
 * Once open, an outage makes calls reject with UNAVAILABLE within the configured timeouts; the pool reconnects by
 * itself when the database is back, so the same store object recovers without a restart.
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<DurableStore> {
  checkOptions(options);
  const now = options.now ?? Date.now;
  const hasher = new PasswordHasher(options.scrypt);
  if (options.migrate === false) {
    const { client, end } = await connectDedicated(options, options.statementTimeoutMs);
    try {
      await requireCurrentSchema(client);
    } finally {
      await end();
    }
  } else {
    await migrate({ ...options, now });
  }

  const { pool, end } = createPool(options);
  let closed = false;
  return {
    users: new PostgresUserStore(pool, hasher, now),
    clients: new PostgresClientStore(pool, now),
    serviceProviders: new PostgresServiceProviderStore(pool, now),
    keys: new PostgresKeyStore(pool),
    audit: new PostgresAuditLog(pool, now),
    configVersions: new PostgresConfigVersionStore(pool),
    settings: new PostgresSettingsStore(pool, now),
    userReplicas: new PostgresUserReplicas(pool),
    async withLock(name, work) {
      if (closed) throw new StoreError('UNAVAILABLE', 'store is closed');
      return withAdvisoryLock(options, `lock:${name}`, LOCK_WAIT_MS, () => work());
    },
    async ping() {
      await guard(() => pool.query('SELECT 1'));
    },
    async close() {
      if (closed) return;
      closed = true;
      await end();
    },
  };
}
