// What every local store is built from: its cap, its clock, and how often it sweeps.

import type { Clock } from '../types.js';

export interface LocalStoreOptions {
  /** Most entries the store holds; beyond it the store's eviction policy removes one. Positive integer. */
  maxEntries: number;
  /** @default systemClock */
  clock?: Clock;
  /** Milliseconds between background sweeps of expired entries; 0 disables them. @default DEFAULT_SWEEP_INTERVAL_MS */
  sweepIntervalMs?: number;
}
