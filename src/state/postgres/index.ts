// The postgres backend of the sessions service only (state.backend.sessions = postgres): sessions then live in the
// durable store's PostgreSQL database and survive a restart of every node. Other services keep their backends.
import { mixServices } from '../mix.js';
import type { CohortConfig } from '../../config/types.js';
import type { StateServices } from '../types.js';
import { PostgresSessionStore, type PostgresSessionStoreOptions } from './postgres-session-store.js';

export { DEFAULT_PURGE_INTERVAL_MS, PostgresSessionStore, PURGE_BATCH } from './postgres-session-store.js';
export type { PostgresSessionStoreOptions } from './postgres-session-store.js';

/** The connection store.postgres.* describes: the sessions table sits next to the store's (same migrations). */
export function postgresSessionOptionsFromConfig(config: CohortConfig, onPurgeError?: (err: unknown) => void): PostgresSessionStoreOptions {
  const p = config.store.postgres;
  return {
    connectionString: p.url,
    poolSize: p.poolSize,
    connectTimeoutMs: p.connectTimeoutMs,
    statementTimeoutMs: p.statementTimeoutMs,
    ...(onPurgeError ? { onPurgeError } : {}),
  };
}

/** `base` with its sessions taken from `sessions`; close() closes both, as overlayRedis does. */
export function overlayPostgresSessions(base: StateServices, sessions: PostgresSessionStore | undefined): StateServices {
  if (sessions === undefined) return base;
  const own: Partial<StateServices> = { sessions };
  return mixServices((s) => own[s] ?? base[s], [sessions, base]);
}
