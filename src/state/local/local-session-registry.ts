// Which relying parties and service providers each session was issued to, for single logout. One entry per session,
// least recently used evicted first; a participant is identified by protocol and client id.

import { BoundedMap } from './bounded-map.js';
import type { LocalStoreOptions } from './local-store-options.js';
import type { Participant, SessionRegistry } from '../types.js';

export class LocalSessionRegistry implements SessionRegistry {
  readonly #sessions: BoundedMap<string, Participant[]>;

  constructor(options: LocalStoreOptions) {
    this.#sessions = new BoundedMap({
      maxEntries: options.maxEntries,
      policy: 'lru',
      clock: options.clock,
      sweepIntervalMs: options.sweepIntervalMs,
    });
  }

  /**
   * Adds the participant, or replaces the details of the one with the same protocol and client id in place.
   * The entry lives until the latest expiry it was given: a shorter one never cuts off participants that logout
   * still has to reach.
   */
  async add(sessionId: string, participant: Participant, expiresAt: number): Promise<void> {
    const copy = structuredClone(participant);
    const participants = this.#sessions.peek(sessionId) ?? [];
    const at = participants.findIndex((p) => p.protocol === copy.protocol && p.clientId === copy.clientId);
    if (at === -1) participants.push(copy);
    else participants[at] = copy;
    const current = this.#sessions.expiresAt(sessionId) ?? -Infinity;
    this.#sessions.set(sessionId, participants, Math.max(current, expiresAt));
  }

  /** Participants in the order they were first added; [] for an unknown or expired session. */
  async list(sessionId: string): Promise<Participant[]> {
    return structuredClone(this.#sessions.get(sessionId) ?? []);
  }

  async remove(sessionId: string): Promise<void> {
    this.#sessions.delete(sessionId);
  }

  close(): void {
    this.#sessions.close();
  }
}
