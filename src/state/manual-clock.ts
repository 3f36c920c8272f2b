// A clock that moves only when told to: tests of expiry run instantly and never depend on timing.

import type { Clock } from './types.js';

export class ManualClock implements Clock {
  #now: number;

  /** Starts at a fixed instant by default so test failures reproduce exactly. */
  constructor(start = Date.UTC(2025, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`a clock only moves forward, got ${ms}`);
    this.#now += ms;
  }
}
