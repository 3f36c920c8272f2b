// Revoked session ids, shared by every node: an entry key per revocation (its value and TTL = the expiry) and a
// sorted set of ids ranked by insertion, capped first in, first out at maxRevocations like the other backends.
// All of it shares the {rv} hash tag, so the revoke script runs as one unit on Redis Cluster too. An expired id
// stays in the order until entries() prunes it or the cap pushes it out, so until then it counts toward the cap
// (as an unswept entry does in the local backend's map).
//
// isRevoked() asks Redis (one EXISTS) rather than a local copy kept up to date from the broadcast: pub/sub delivers
// at most once, so a node whose subscription dropped for a moment would keep accepting a revoked session with no
// way to notice. Every session read already goes to Redis, so the extra round trip costs little and is always
// right. The broadcast (onRevoked) is there for caches and listeners that can tolerate a lost message.
import type { RevocationList } from '../types.js';
import { expiryArg, type RedisContext } from './context.js';
import { PRUNE_REVOCATIONS, REVOKE } from './scripts.js';

/** Entry keys read per MGET while listing. */
const ENTRIES_BATCH = 1_000;

export interface RevocationEvent {
  id: string;
  expiresAt: number;
}

export class RedisRevocationList implements RevocationList {
  readonly #ctx: RedisContext;
  readonly #maxEntries: number;

  constructor(context: RedisContext, maxEntries: number) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`maxRevocations must be a positive integer, got ${String(maxEntries)}`);
    }
    this.#ctx = context;
    this.#maxEntries = maxEntries;
  }

  /** Revoking again keeps the first revocation's place in order and extends its expiry if the new one is later. */
  async revoke(sessionId: string, expiresAt: number): Promise<void> {
    const at = expiryArg(expiresAt);
    const { conn, keys } = this.#ctx;
    const result = await conn.script(REVOKE, [keys.revocationOrder, keys.revocation(sessionId)],
      [sessionId, at, this.#maxEntries]) as string[];
    if (result.length === 0) return;
    const [stored, ...evicted] = result;
    if (evicted.length > 0) await conn.call('del', (c) => c.del(...evicted.map((id) => keys.revocation(id))));
    const event: RevocationEvent = { id: sessionId, expiresAt: Number(stored) };
    // The revocation is stored, which is what isRevoked() reads; a lost broadcast is something every subscriber
    // must tolerate anyway, so failing here would only report a stored revocation as failed.
    await conn.call('publish', (c) => c.publish(keys.revocationChannel, JSON.stringify(event))).catch(() => undefined);
  }

  async isRevoked(sessionId: string): Promise<boolean> {
    const { conn, keys } = this.#ctx;
    return (await conn.call('exists', (c) => c.exists(keys.revocation(sessionId)))) === 1;
  }

  /** Everything live, oldest first; drops ids whose entry expired from the order as it goes. */
  async entries(): Promise<Array<{ id: string; expiresAt: number }>> {
    const { conn, keys } = this.#ctx;
    const ids = await conn.call('zrange', (c) => c.zrange(keys.revocationOrder, 0, -1));
    const live: Array<{ id: string; expiresAt: number }> = [];
    for (let from = 0; from < ids.length; from += ENTRIES_BATCH) {
      const batch = ids.slice(from, from + ENTRIES_BATCH);
      const entryKeys = batch.map((id) => keys.revocation(id));
      const values = await conn.call('mget', (c) => c.mget(...entryKeys));
      const dead: string[] = [];
      batch.forEach((id, i) => {
        const value = values[i];
        if (value === null || value === undefined) dead.push(id);
        else live.push({ id, expiresAt: Number(value) });
      });
      if (dead.length > 0) {
        await conn.script(PRUNE_REVOCATIONS, [keys.revocationOrder, ...dead.map((id) => keys.revocation(id))], dead);
      }
    }
    return live;
  }

  /**
   * Calls `listener` for every revocation any node makes from now on (at most once each: messages published
   * while this node's subscription is down are lost). Resolves once subscribed; the returned function stops it.
   */
  async onRevoked(listener: (event: RevocationEvent) => void): Promise<() => Promise<void>> {
    const { conn, keys } = this.#ctx;
    return conn.subscribe(keys.revocationChannel, (message) => {
      const event = JSON.parse(message) as RevocationEvent;
      if (typeof event?.id === 'string' && Number.isFinite(event.expiresAt)) listener(event);
    });
  }
}
