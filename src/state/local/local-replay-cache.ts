// Seen assertion IDs, jti values and DPoP proofs, kept until they expire. First in, first out: ids are never read
// back except to be refused, so recency of use means nothing. An id evicted before its expiry could be replayed, so
// the cap must exceed the peak rate of ids times their lifetime; see DEFAULT_LOCAL_LIMITS.maxReplayIds.

import { BoundedMap } from './bounded-map.js';
import type { LocalStoreOptions } from './local-store-options.js';
import type { ReplayCache } from '../types.js';

export class LocalReplayCache implements ReplayCache {
  readonly #seen: BoundedMap<string, true>;

  constructor(options: LocalStoreOptions) {
    this.#seen = new BoundedMap({
      maxEntries: options.maxEntries,
      policy: 'fifo',
      clock: options.clock,
      sweepIntervalMs: options.sweepIntervalMs,
    });
  }

  /**
   * A replay does not extend the first sighting's expiry. An id whose expiresAt has already passed is reported as
   * new but not stored: the caller must reject expired messages before asking.
   */
  async checkAndSet(namespace: string, id: string, expiresAt: number): Promise<boolean> {
    // Length prefix keeps ('a:b', 'c') apart from ('a', 'b:c').
    const k = `${namespace.length}:${namespace}:${id}`;
    if (this.#seen.has(k)) return false;
    this.#seen.set(k, true, expiresAt);
    return true;
  }

  close(): void {
    this.#seen.close();
  }
}
