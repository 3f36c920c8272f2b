// SSO sessions in memory, least recently used evicted first, with lookups by uid (the cookie value) and by user.
// The indexes are updated from the map's removal callback, so an expired, evicted, deleted or overwritten session
// never lingers in them.

import { BoundedMap, type RemovalReason } from './bounded-map.js';
import type { LocalStoreOptions } from './local-store-options.js';
import type { SessionListOptions, SessionRecord, SessionStore } from '../types.js';
import { pageOf } from '../paging.js';

interface Slot {
  record: SessionRecord;
  /** Creation order; an overwrite keeps it so a session does not jump to the end of its user's list. */
  seq: number;
}

export class LocalSessionStore implements SessionStore {
  readonly #sessions: BoundedMap<string, Slot>;
  readonly #byUid = new Map<string, string>();
  readonly #byUser = new Map<string, Set<string>>();
  /** Ids in creation order, so list() pages without sorting the whole store. */
  readonly #created = new Set<string>();
  #seq = 0;

  constructor(options: LocalStoreOptions) {
    this.#sessions = new BoundedMap({
      maxEntries: options.maxEntries,
      policy: 'lru',
      clock: options.clock,
      sweepIntervalMs: options.sweepIntervalMs,
      onRemove: (id, slot, reason) => this.#unindex(id, slot.record, reason),
    });
  }

  async put(record: SessionRecord): Promise<void> {
    const copy = structuredClone(record);
    const previous = this.#sessions.peek(copy.id);
    const seq = previous?.seq ?? ++this.#seq;
    if (!this.#sessions.set(copy.id, { record: copy, seq }, copy.expiresAt)) return;
    this.#byUid.set(copy.uid, copy.id);
    if (copy.userId !== undefined) {
      let ids = this.#byUser.get(copy.userId);
      if (ids === undefined) this.#byUser.set(copy.userId, (ids = new Set()));
      ids.add(copy.id);
    }
    if (previous === undefined) this.#created.add(copy.id);
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const slot = this.#sessions.get(id);
    return slot === undefined ? undefined : structuredClone(slot.record);
  }

  async findByUid(uid: string): Promise<SessionRecord | undefined> {
    const id = this.#byUid.get(uid);
    return id === undefined ? undefined : this.get(id);
  }

  async delete(id: string): Promise<void> {
    this.#sessions.delete(id);
  }

  async listByUser(userId: string): Promise<SessionRecord[]> {
    return this.#userSlots(userId).map((slot) => structuredClone(slot.record));
  }

  async list(options: SessionListOptions = {}): Promise<{ total: number; items: SessionRecord[] }> {
    const { offset, limit } = pageOf(options);
    const live = options.userId === undefined ? this.#allSlots() : this.#userSlots(options.userId);
    const items: SessionRecord[] = [];
    let total = 0;
    for (const slot of live) {
      if (total >= offset && items.length < limit) items.push(structuredClone(slot.record));
      total++;
    }
    return { total, items };
  }

  /** Live sessions by a full scan: O(n). */
  async count(): Promise<number> {
    return this.#sessions.liveSize();
  }

  /** Stored entry and index sizes, for metrics and for tests that the indexes never outgrow the store. */
  stats(): { sessions: number; uids: number; users: number; created: number } {
    return {
      sessions: this.#sessions.size,
      uids: this.#byUid.size,
      users: this.#byUser.size,
      created: this.#created.size,
    };
  }

  close(): void {
    this.#sessions.close();
  }

  *#allSlots(): Generator<Slot> {
    for (const id of this.#created) {
      const slot = this.#sessions.peek(id);
      if (slot !== undefined) yield slot;
    }
  }

  /** A user's live sessions in creation order; users hold few sessions, so sorting them is cheap. */
  #userSlots(userId: string): Slot[] {
    const slots: Slot[] = [];
    for (const id of this.#byUser.get(userId) ?? []) {
      const slot = this.#sessions.peek(id);
      if (slot !== undefined) slots.push(slot);
    }
    return slots.sort((a, b) => a.seq - b.seq);
  }

  #unindex(id: string, record: SessionRecord, reason: RemovalReason): void {
    if (this.#byUid.get(record.uid) === id) this.#byUid.delete(record.uid);
    if (record.userId !== undefined) {
      const ids = this.#byUser.get(record.userId);
      ids?.delete(id);
      if (ids?.size === 0) this.#byUser.delete(record.userId);
    }
    // An overwrite keeps the session's place in creation order; put() re-adds the uid and user entries.
    if (reason !== 'replaced') this.#created.delete(id);
  }
}
