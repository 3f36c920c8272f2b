// Opens the configured durable store. Today that is the embedded SQLite file in the data directory; the PostgreSQL
// backend will be chosen here too, so callers only ever see DurableStore.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DurableStoreOptions } from './options.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';
import { StoreError, type DurableStore } from './types.js';

export type { DurableStoreOptions } from './options.js';
export { StoreError } from './types.js';
export type * from './types.js';

/** The database's file name inside the data directory. */
export const SQLITE_FILE = 'cohort.db';

export interface OpenDurableStoreOptions extends DurableStoreOptions {
  /**
   * Fail with StoreError('NOT_FOUND') instead of creating an empty database when the data directory holds none:
   * for commands that only read or change existing data, where a mistyped --data-dir should be an error.
   * @default false
   */
  mustExist?: boolean;
}

/** Opens `<dataDir>/cohort.db`, creating dataDir (mode 0700: it holds password hashes and private keys) if needed. */
export async function openDurableStore(dataDir: string, options: OpenDurableStoreOptions): Promise<DurableStore> {
  const file = join(dataDir, SQLITE_FILE);
  if (options.mustExist && !existsSync(file)) {
    throw new StoreError('NOT_FOUND', `no Cohort database in ${dataDir} (${SQLITE_FILE} not found)`);
  }
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new StoreError('UNAVAILABLE', `cannot create data directory ${dataDir}: ${(err as Error).message}`, { cause: err });
  }
  return openSqliteStore(file, options);
}
