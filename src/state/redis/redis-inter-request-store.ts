// Login-transaction state in Redis: one JSON string per transaction with a native TTL, readable from every node,
// so no sticky balancer is needed.
import type { InterRequestStore, JsonObject } from '../types.js';
import { expiryArg, parseJson, type RedisContext } from './context.js';

export class RedisInterRequestStore implements InterRequestStore {
  readonly #ctx: RedisContext;

  constructor(context: RedisContext) {
    this.#ctx = context;
  }

  /** An expiry already passed stores nothing and removes what was there, as the other backends do. */
  async put(id: string, payload: JsonObject, expiresAt: number): Promise<void> {
    const at = expiryArg(expiresAt);
    const { conn, keys, clock } = this.#ctx;
    if (expiresAt <= clock.now()) {
      await this.delete(id);
      return;
    }
    await conn.call('set', (c) => c.set(keys.interRequest(id), JSON.stringify(payload), 'PXAT', at));
  }

  async get(id: string): Promise<JsonObject | undefined> {
    const { conn, keys } = this.#ctx;
    return parseJson<JsonObject>(await conn.call('get', (c) => c.get(keys.interRequest(id))));
  }

  async delete(id: string): Promise<void> {
    const { conn, keys } = this.#ctx;
    await conn.call('del', (c) => c.del(keys.interRequest(id)));
  }
}
