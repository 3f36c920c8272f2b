// Failed sign-in attempts per key (a user, a source address) as a sliding window of timestamps. Keys are evicted
// least recently used first; each key keeps at most `maxFailuresPerKey` timestamps, enough to see past any lockout
// threshold while bounding memory at maxEntries * maxFailuresPerKey * 8 bytes in the worst case.

import { BoundedMap } from './bounded-map.js';
import type { LocalStoreOptions } from './local-store-options.js';
import type { Clock, LoginFailureCounter } from '../types.js';
import { systemClock } from '../types.js';

/** Lockout thresholds are in the tens; 1,000 counts far past them while capping a key at 8 KB. */
export const DEFAULT_MAX_FAILURES_PER_KEY = 1_000;

export interface LocalLoginFailureCounterOptions extends LocalStoreOptions {
  /** Most timestamps kept per key; older ones are dropped first. @default DEFAULT_MAX_FAILURES_PER_KEY */
  maxFailuresPerKey?: number;
}

interface FailureWindow {
  /** Failure times, epoch ms, in the order recorded. */
  times: number[];
  /** Widest window any caller recorded with, so a narrower caller never prunes what a wider one still counts. */
  windowMs: number;
}

export class LocalLoginFailureCounter implements LoginFailureCounter {
  readonly #keys: BoundedMap<string, FailureWindow>;
  readonly #clock: Clock;
  readonly #maxPerKey: number;

  constructor(options: LocalLoginFailureCounterOptions) {
    this.#clock = options.clock ?? systemClock;
    this.#maxPerKey = options.maxFailuresPerKey ?? DEFAULT_MAX_FAILURES_PER_KEY;
    if (!Number.isSafeInteger(this.#maxPerKey) || this.#maxPerKey < 1) {
      throw new RangeError(`maxFailuresPerKey must be a positive integer, got ${this.#maxPerKey}`);
    }
    this.#keys = new BoundedMap({
      maxEntries: options.maxEntries,
      policy: 'lru',
      clock: this.#clock,
      sweepIntervalMs: options.sweepIntervalMs,
    });
  }

  async record(key: string, windowMs: number): Promise<number> {
    requireWindow(windowMs);
    const now = this.#clock.now();
    const current = this.#keys.peek(key);
    const widest = Math.max(current?.windowMs ?? 0, windowMs);
    const times = (current?.times ?? []).filter((t) => t > now - widest);
    times.push(now);
    if (times.length > this.#maxPerKey) times.splice(0, times.length - this.#maxPerKey);
    // Once the widest window has passed since the last failure, nothing in the key can count any more.
    this.#keys.set(key, { times, windowMs: widest }, now + widest);
    return countSince(times, now - windowMs);
  }

  async count(key: string, windowMs: number): Promise<number> {
    requireWindow(windowMs);
    const current = this.#keys.get(key);
    return current === undefined ? 0 : countSince(current.times, this.#clock.now() - windowMs);
  }

  async reset(key: string): Promise<void> {
    this.#keys.delete(key);
  }

  close(): void {
    this.#keys.close();
  }
}

/** Failures strictly after `since`; a linear scan, so a clock that steps back cannot break it. */
function countSince(times: number[], since: number): number {
  let n = 0;
  for (const t of times) if (t > since) n++;
  return n;
}

function requireWindow(windowMs: number): void {
  if (!Number.isFinite(windowMs) || windowMs <= 0) {
    throw new RangeError(`windowMs must be a positive number, got ${windowMs}`);
  }
}
