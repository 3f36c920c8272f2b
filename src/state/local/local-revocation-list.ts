// Revoked session ids until the sessions would have expired anyway. First in, first out: over the cap the oldest
// revocations go first, as they are the likeliest to name sessions nobody presents any more.

import { BoundedMap } from './bounded-map.js';
import type { LocalStoreOptions } from './local-store-options.js';
import type { RevocationList } from '../types.js';

export class LocalRevocationList implements RevocationList {
  readonly #revoked: BoundedMap<string, true>;

  constructor(options: LocalStoreOptions) {
    this.#revoked = new BoundedMap({
      maxEntries: options.maxEntries,
      policy: 'fifo',
      clock: options.clock,
      sweepIntervalMs: options.sweepIntervalMs,
    });
  }

  /** Revoking again keeps the first revocation's place in order and extends its expiry if the new one is later. */
  async revoke(sessionId: string, expiresAt: number): Promise<void> {
    const current = this.#revoked.expiresAt(sessionId) ?? -Infinity;
    this.#revoked.set(sessionId, true, Math.max(current, expiresAt));
  }

  async isRevoked(sessionId: string): Promise<boolean> {
    return this.#revoked.has(sessionId);
  }

  async entries(): Promise<Array<{ id: string; expiresAt: number }>> {
    return Array.from(this.#revoked.entries(), ([id, , expiresAt]) => ({ id, expiresAt }));
  }

  close(): void {
    this.#revoked.close();
  }
}
