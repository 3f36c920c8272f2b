// Checks shared by the services: arguments callers pass (thrown as RangeError, like the local backend) and the
// shapes of values that arrive from peers (a malformed value is dropped, never stored).
import type { JsonObject } from '../types.js';
import { isObject, PeerProtocolError, type Fields } from './wire.js';

/** Records need a finite expiry: it is sent as JSON, where Infinity does not exist. */
export function requireExpiry(expiresAt: number, name = 'expiresAt'): void {
  if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) {
    throw new RangeError(`${name} must be a finite number of epoch milliseconds, got ${String(expiresAt)}`);
  }
}

export function isJsonObject(value: unknown): value is JsonObject {
  return isObject(value);
}

export function optionalString(value: unknown): boolean {
  return value === undefined || typeof value === 'string';
}

/** A peer's argument that must pass `check`; otherwise the operation fails with STATE_PROTOCOL. */
export function argument<T>(fields: Fields, name: string, check: (value: unknown) => value is T): T {
  const value = fields[name];
  if (!check(value)) throw new PeerProtocolError(`${name} is malformed`);
  return value;
}

export function isString(value: unknown): value is string {
  return typeof value === 'string';
}

export function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** A result that must be one of `allowed`; anything else from a peer is a protocol error. */
export function oneOf<T extends string | boolean | null>(allowed: readonly T[]): (value: unknown) => T {
  return (value) => {
    if (!allowed.includes(value as T)) throw new PeerProtocolError(`unexpected result ${JSON.stringify(value)}`);
    return value as T;
  };
}
