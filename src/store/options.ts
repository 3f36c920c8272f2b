// Options every durable-store backend takes.
import type { ScryptParams } from '../auth/password.js';

/** A schema migration applied while opening a store: version and name as recorded in schema_migrations. */
export interface AppliedMigration {
  version: number;
  name: string;
  /** How long it took, in ms. */
  ms: number;
}

export interface DurableStoreOptions {
  /** Parameters for new password hashes (configuration `auth.scrypt`); older hashes keep verifying. */
  scrypt: ScryptParams;
  /** Clock for createdAt / updatedAt, in epoch milliseconds. @default Date.now */
  now?: () => number;
  /** Told about each schema migration applied while opening (for progress lines and logs). */
  onMigration?: (applied: AppliedMigration) => void;
}
