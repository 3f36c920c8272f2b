// SAML messages behind an artifact, in Redis: any node resolves any artifact, with no RPC to the issuer. GETDEL
// reads and deletes in one command, so exactly one resolver gets the message. GETDEL and SET ... PXAT need Redis
// 6.2 or later (or any Valkey), the backend's stated minimum.
import type { ArtifactStore } from '../types.js';
import { expiryArg, type RedisContext } from './context.js';

export class RedisArtifactStore implements ArtifactStore {
  readonly #ctx: RedisContext;

  constructor(context: RedisContext) {
    this.#ctx = context;
  }

  async put(handle: string, message: string, expiresAt: number): Promise<void> {
    const at = expiryArg(expiresAt);
    const { conn, keys, clock } = this.#ctx;
    if (expiresAt <= clock.now()) {
      await conn.call('del', (c) => c.del(keys.artifact(handle)));
      return;
    }
    await conn.call('set', (c) => c.set(keys.artifact(handle), message, 'PXAT', at));
  }

  async take(handle: string): Promise<string | undefined> {
    const { conn, keys } = this.#ctx;
    return (await conn.call('getdel', (c) => c.getdel(keys.artifact(handle)))) ?? undefined;
  }
}
