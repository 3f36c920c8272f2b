// Short-lived login-transaction state in memory, least recently used evicted first. Local only works behind a sticky
// load balancer: the browser must come back to the node that started its login.

import { BoundedMap } from './bounded-map.js';
import type { LocalStoreOptions } from './local-store-options.js';
import type { InterRequestStore, JsonObject } from '../types.js';

export class LocalInterRequestStore implements InterRequestStore {
  readonly #entries: BoundedMap<string, JsonObject>;

  constructor(options: LocalStoreOptions) {
    this.#entries = new BoundedMap({
      maxEntries: options.maxEntries,
      policy: 'lru',
      clock: options.clock,
      sweepIntervalMs: options.sweepIntervalMs,
    });
  }

  async put(id: string, payload: JsonObject, expiresAt: number): Promise<void> {
    this.#entries.set(id, structuredClone(payload), expiresAt);
  }

  async get(id: string): Promise<JsonObject | undefined> {
    const payload = this.#entries.get(id);
    return payload === undefined ? undefined : structuredClone(payload);
  }

  async delete(id: string): Promise<void> {
    this.#entries.delete(id);
  }

  close(): void {
    this.#entries.close();
  }
}
