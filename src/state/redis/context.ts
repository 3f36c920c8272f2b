// What every redis-backed service is built from, and the argument checks they share.
import type { Clock } from '../types.js';
import type { RedisConnection } from './connection.js';
import type { KeyLayout } from './keys.js';

export interface RedisContext {
  conn: RedisConnection;
  keys: KeyLayout;
  /** Decides on the caller's side whether an expiry has already passed (the server's clock runs the TTLs). */
  clock: Clock;
}

/**
 * The expiry as Redis takes it (PXAT / PEXPIREAT: whole epoch ms), rounded up so a record never expires before
 * the time it was given. Infinity, which the local backend allows, has no TTL to map to and is refused.
 */
export function expiryArg(expiresAt: number, name = 'expiresAt'): string {
  if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) {
    throw new RangeError(`${name} must be a finite number of epoch milliseconds, got ${String(expiresAt)}`);
  }
  return String(Math.ceil(expiresAt));
}

/** Parses JSON that this backend wrote; undefined for a missing value. */
export function parseJson<T>(text: string | null | undefined): T | undefined {
  return text === null || text === undefined ? undefined : (JSON.parse(text) as T);
}
