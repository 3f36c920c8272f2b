// Failed sign-in attempts per key (a user, a source address), counted cluster-wide: one sorted set of failure
// timestamps per key, pruned, added to and counted in one script, so concurrent failures on different nodes are
// all counted. Windows are judged by the Redis server's clock, the one clock every node shares. The key lives as
// long as the widest window recorded for it; at most maxFailuresPerKey timestamps are kept, like the other backends.
import { randomBytes } from 'node:crypto';
import type { LoginFailureCounter } from '../types.js';
import type { RedisContext } from './context.js';
import { FAILURE_COUNT, FAILURE_RECORD } from './scripts.js';

export class RedisLoginFailureCounter implements LoginFailureCounter {
  readonly #ctx: RedisContext;
  readonly #maxPerKey: number;

  constructor(context: RedisContext, maxFailuresPerKey: number) {
    if (!Number.isSafeInteger(maxFailuresPerKey) || maxFailuresPerKey < 1) {
      throw new RangeError(`maxFailuresPerKey must be a positive integer, got ${String(maxFailuresPerKey)}`);
    }
    this.#ctx = context;
    this.#maxPerKey = maxFailuresPerKey;
  }

  async record(key: string, windowMs: number): Promise<number> {
    requireWindow(windowMs);
    const { conn, keys } = this.#ctx;
    // Two failures in the same millisecond must stay two members: the suffix makes each one unique.
    const unique = randomBytes(6).toString('base64url');
    return Number(await conn.script(FAILURE_RECORD, [keys.failures(key)], [windowMs, unique, this.#maxPerKey]));
  }

  async count(key: string, windowMs: number): Promise<number> {
    requireWindow(windowMs);
    const { conn, keys } = this.#ctx;
    return Number(await conn.script(FAILURE_COUNT, [keys.failures(key)], [windowMs]));
  }

  async reset(key: string): Promise<void> {
    const { conn, keys } = this.#ctx;
    await conn.call('del', (c) => c.del(keys.failures(key)));
  }
}

function requireWindow(windowMs: number): void {
  if (!Number.isFinite(windowMs) || windowMs <= 0) {
    throw new RangeError(`windowMs must be a positive number, got ${windowMs}`);
  }
}
