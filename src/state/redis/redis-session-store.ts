// SSO sessions in Redis, shared by every node. The record is the truth; the indexes (uid, per user, cluster-wide
// creation order) are hints written after it and verified against it on every read, so a half-finished write, a
// race between two puts or an expiry can make an index entry stale but never make a lookup return the wrong
// session. Records spread over Redis Cluster slots; only the two global indexes share one ({sl}).
//
// Dead members (expired or deleted records) leave the indexes lazily: per-user sets when read, the global ones
// through the expiry-ordered set, which finds them without scanning the live ones. count() and list() therefore
// cost O(dead since last call + page), not O(sessions).
import type { SessionListOptions, SessionRecord, SessionStore } from '../types.js';
import { expiryArg, parseJson, type RedisContext } from './context.js';
import { DEL_IF_EQUAL, SESSION_DELETE, SESSION_INDEX, SESSION_PUT, SESSION_UNINDEX, ZADD_EXTEND, ZREM_IF_SCORE } from './scripts.js';
import { pageOf } from '../paging.js';

/** Dead members handled per prune round trip. */
const PRUNE_BATCH = 500;
/** Bound on one prune so a huge backlog cannot hold a call past a few commands' worth of deadline. */
const MAX_PRUNE_ROUNDS = 20;
/** A page that met vanished records is read again at most this often. */
const MAX_PAGE_ATTEMPTS = 3;

type Scored = Array<{ member: string; score: string }>;

function scored(flat: string[]): Scored {
  const out: Scored = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push({ member: flat[i]!, score: flat[i + 1]! });
  return out;
}

export class RedisSessionStore implements SessionStore {
  readonly #ctx: RedisContext;

  constructor(context: RedisContext) {
    this.#ctx = context;
  }

  async put(record: SessionRecord): Promise<void> {
    const at = expiryArg(record.expiresAt);
    if (record.expiresAt <= this.#ctx.clock.now()) {
      await this.delete(record.id);
      return;
    }
    const { conn, keys } = this.#ctx;
    const { id, uid, userId } = record;
    const [created, oldUid, oldUser] = await conn.script(SESSION_PUT, [keys.session(id)],
      [JSON.stringify(record), uid, userId ?? '', userId === undefined ? '0' : '1', at]) as [string, string | null, string | null];
    await Promise.all([
      conn.call('set', (c) => c.set(keys.sessionUid(uid), id, 'PXAT', at)),
      oldUid !== null && oldUid !== uid ? conn.script(DEL_IF_EQUAL, [keys.sessionUid(oldUid)], [id]) : undefined,
      userId !== undefined ? conn.script(ZADD_EXTEND, [keys.userSessions(userId)], [created, id, at]) : undefined,
      oldUser !== null && oldUser !== userId ? conn.call('zrem', (c) => c.zrem(keys.userSessions(oldUser), id)) : undefined,
      conn.script(SESSION_INDEX, [keys.sessionsCreated, keys.sessionsExpiring], [id, created, at]),
    ]);
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const { conn, keys } = this.#ctx;
    return parseJson<SessionRecord>(await conn.call('hget', (c) => c.hget(keys.session(id), 'v')));
  }

  async findByUid(uid: string): Promise<SessionRecord | undefined> {
    const { conn, keys } = this.#ctx;
    const id = await conn.call('get', (c) => c.get(keys.sessionUid(uid)));
    if (id === null) return undefined;
    const record = await this.get(id);
    if (record?.uid === uid) return record;
    await conn.script(DEL_IF_EQUAL, [keys.sessionUid(uid)], [id]);
    return undefined;
  }

  async delete(id: string): Promise<void> {
    const { conn, keys } = this.#ctx;
    const [uid, userId] = await conn.script(SESSION_DELETE, [keys.session(id)], []) as Array<string | null>;
    await Promise.all([
      uid ? conn.script(DEL_IF_EQUAL, [keys.sessionUid(uid)], [id]) : undefined,
      userId !== null && userId !== undefined ? conn.call('zrem', (c) => c.zrem(keys.userSessions(userId), id)) : undefined,
      conn.script(SESSION_UNINDEX, [keys.sessionsCreated, keys.sessionsExpiring], [id, '', '']),
    ]);
  }

  async listByUser(userId: string): Promise<SessionRecord[]> {
    const { conn, keys } = this.#ctx;
    const key = keys.userSessions(userId);
    const members = scored(await conn.call('zrange', (c) => c.zrange(key, 0, -1, 'WITHSCORES')));
    const records = await Promise.all(members.map((m) => this.get(m.member)));
    const stale = members.filter((_, i) => records[i]?.userId !== userId);
    if (stale.length > 0) await conn.script(ZREM_IF_SCORE, [key], stale.flatMap((m) => [m.member, m.score]));
    return records.filter((r): r is SessionRecord => r?.userId === userId);
  }

  async list(options: SessionListOptions = {}): Promise<{ total: number; items: SessionRecord[] }> {
    const { offset, limit } = pageOf(options);
    if (options.userId !== undefined) {
      const all = await this.listByUser(options.userId);
      return { total: all.length, items: all.slice(offset, offset + limit) };
    }
    const { conn, keys } = this.#ctx;
    for (let attempt = 1; ; attempt++) {
      await this.#prune();
      const stop = limit === Infinity ? -1 : offset + limit - 1;
      const [total, flat] = await Promise.all([
        conn.call('zcard', (c) => c.zcard(keys.sessionsCreated)),
        limit === 0 ? [] : conn.call('zrange', (c) => c.zrange(keys.sessionsCreated, offset, stop, 'WITHSCORES')),
      ]);
      const members = scored(flat);
      const records = await Promise.all(members.map((m) => this.get(m.member)));
      const vanished = members.filter((_, i) => records[i] === undefined);
      const items = records.filter((r): r is SessionRecord => r !== undefined);
      if (vanished.length === 0 || attempt === MAX_PAGE_ATTEMPTS) return { total: total - vanished.length, items };
      // Deleted or expired between the prune and the read: drop them (unless re-created since) and read again.
      await conn.script(SESSION_UNINDEX, [keys.sessionsCreated, keys.sessionsExpiring],
        vanished.flatMap((m) => [m.member, m.score, '']));
    }
  }

  async count(): Promise<number> {
    await this.#prune();
    const { conn, keys } = this.#ctx;
    return conn.call('zcard', (c) => c.zcard(keys.sessionsCreated));
  }

  /**
   * Takes every member whose indexed expiry has passed out of the global indexes once its record is really gone;
   * one still alive (a later put extended it) gets its expiry score corrected instead.
   */
  async #prune(): Promise<void> {
    const { conn, keys, clock } = this.#ctx;
    for (let round = 0; round < MAX_PRUNE_ROUNDS; round++) {
      const now = clock.now();
      const due = scored(await conn.call('zrangebyscore', (c) =>
        c.zrangebyscore(keys.sessionsExpiring, '-inf', now, 'WITHSCORES', 'LIMIT', 0, PRUNE_BATCH)));
      if (due.length === 0) return;
      const ttls = await Promise.all(due.map((m) => conn.call('pttl', (c) => c.pttl(keys.session(m.member)))));
      const dead = due.filter((_, i) => ttls[i] === -2);
      const alive = due.flatMap((m, i) => (ttls[i]! >= 0 ? [{ member: m.member, at: now + ttls[i]! }] : []));
      await Promise.all([
        dead.length > 0
          ? conn.script(SESSION_UNINDEX, [keys.sessionsCreated, keys.sessionsExpiring], dead.flatMap((m) => [m.member, '', m.score]))
          : undefined,
        ...alive.map((m) => conn.call('zadd', (c) => c.zadd(keys.sessionsExpiring, 'XX', m.at, m.member))),
      ]);
      // Members without a TTL (none are written so) would come back every round: stop rather than spin.
      if (due.length < PRUNE_BATCH || dead.length + alive.length === 0) return;
    }
  }
}
