// Options every durable-store backend takes.
import type { ScryptParams } from '../auth/password.js';

export interface DurableStoreOptions {
  /** Parameters for new password hashes (configuration `auth.scrypt`); older hashes keep verifying. */
  scrypt: ScryptParams;
  /** Clock for createdAt / updatedAt, in epoch milliseconds. @default Date.now */
  now?: () => number;
}
