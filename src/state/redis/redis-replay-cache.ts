// Seen assertion IDs, jti values and DPoP proofs, cluster-wide: SET NX PXAT is the check and the set in one
// command, so of any number of nodes asking at once exactly one is told the id is new.
import type { ReplayCache } from '../types.js';
import { expiryArg, type RedisContext } from './context.js';

export class RedisReplayCache implements ReplayCache {
  readonly #ctx: RedisContext;

  constructor(context: RedisContext) {
    this.#ctx = context;
  }

  /**
   * A replay does not extend the first sighting's expiry (NX leaves the key alone). An id whose expiresAt has
   * already passed is reported as new unless still recorded, and is not stored: callers reject expired messages.
   */
  async checkAndSet(namespace: string, id: string, expiresAt: number): Promise<boolean> {
    const at = expiryArg(expiresAt);
    const { conn, keys, clock } = this.#ctx;
    const key = keys.replay(namespace, id);
    if (expiresAt <= clock.now()) return (await conn.call('exists', (c) => c.exists(key))) === 0;
    return (await conn.call('set', (c) => c.set(key, '1', 'PXAT', at, 'NX'))) === 'OK';
  }
}
