// oidc-provider's models (codes, tokens, grants, interactions...) in memory, keyed by (model, id), least recently used
// evicted first. Evicting a live one-time code makes it unusable, so the cap must cover the peak number of live
// records; see DEFAULT_LOCAL_LIMITS.maxTokens.

import { BoundedMap } from './bounded-map.js';
import type { LocalStoreOptions } from './local-store-options.js';
import type { Clock, ConsumeResult, TokenRecord, TokenStore } from '../types.js';
import { systemClock } from '../types.js';

/** Unambiguous composite key: the length prefix keeps ('a:b', 'c') apart from ('a', 'b:c'). */
function key(model: string, id: string): string {
  return `${model.length}:${model}:${id}`;
}

export class LocalTokenStore implements TokenStore {
  readonly #records: BoundedMap<string, TokenRecord>;
  readonly #clock: Clock;
  /** key(model, userCode) -> key(model, id) */
  readonly #byUserCode = new Map<string, string>();
  /** key(model, uid) -> key(model, id) */
  readonly #byUid = new Map<string, string>();
  /** grantId -> keys of every model's records in that grant */
  readonly #byGrant = new Map<string, Set<string>>();

  constructor(options: LocalStoreOptions) {
    this.#clock = options.clock ?? systemClock;
    this.#records = new BoundedMap({
      maxEntries: options.maxEntries,
      policy: 'lru',
      clock: this.#clock,
      sweepIntervalMs: options.sweepIntervalMs,
      onRemove: (k, record) => this.#unindex(k, record),
    });
  }

  async put(record: TokenRecord): Promise<void> {
    const copy = structuredClone(record);
    const k = key(copy.model, copy.id);
    if (!this.#records.set(k, copy, copy.expiresAt)) return;
    if (copy.userCode !== undefined) this.#byUserCode.set(key(copy.model, copy.userCode), k);
    if (copy.uid !== undefined) this.#byUid.set(key(copy.model, copy.uid), k);
    if (copy.grantId !== undefined) {
      let keys = this.#byGrant.get(copy.grantId);
      if (keys === undefined) this.#byGrant.set(copy.grantId, (keys = new Set()));
      keys.add(k);
    }
  }

  async get(model: string, id: string): Promise<TokenRecord | undefined> {
    return this.#read(key(model, id));
  }

  async findByUserCode(model: string, userCode: string): Promise<TokenRecord | undefined> {
    const k = this.#byUserCode.get(key(model, userCode));
    return k === undefined ? undefined : this.#read(k);
  }

  async findByUid(model: string, uid: string): Promise<TokenRecord | undefined> {
    const k = this.#byUid.get(key(model, uid));
    return k === undefined ? undefined : this.#read(k);
  }

  // No await between the check and the write: on one event loop that makes it atomic.
  async consume(model: string, id: string): Promise<ConsumeResult> {
    const record = this.#records.get(key(model, id));
    if (record === undefined) return 'not_found';
    // Same test oidc-provider applies (`!!consumed`), so a record stored already consumed stays consumed.
    if (record.payload.consumed) return 'already_consumed';
    record.payload.consumed = Math.floor(this.#clock.now() / 1000);
    return 'consumed';
  }

  async delete(model: string, id: string): Promise<void> {
    this.#records.delete(key(model, id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    const keys = this.#byGrant.get(grantId);
    if (keys === undefined) return;
    // Copy first: each delete shrinks the set through the removal callback.
    for (const k of [...keys]) this.#records.delete(k);
  }

  /** Stored entry and index sizes, for metrics and for tests that the indexes never outgrow the store. */
  stats(): { records: number; userCodes: number; uids: number; grants: number } {
    return {
      records: this.#records.size,
      userCodes: this.#byUserCode.size,
      uids: this.#byUid.size,
      grants: this.#byGrant.size,
    };
  }

  close(): void {
    this.#records.close();
  }

  #read(k: string): TokenRecord | undefined {
    const record = this.#records.get(k);
    return record === undefined ? undefined : structuredClone(record);
  }

  #unindex(k: string, record: TokenRecord): void {
    if (record.userCode !== undefined) {
      const userCodeKey = key(record.model, record.userCode);
      if (this.#byUserCode.get(userCodeKey) === k) this.#byUserCode.delete(userCodeKey);
    }
    if (record.uid !== undefined) {
      const uidKey = key(record.model, record.uid);
      if (this.#byUid.get(uidKey) === k) this.#byUid.delete(uidKey);
    }
    if (record.grantId !== undefined) {
      const keys = this.#byGrant.get(record.grantId);
      keys?.delete(k);
      if (keys?.size === 0) this.#byGrant.delete(record.grantId);
    }
  }
}
