// A Map with a size cap and a per-entry absolute expiry: the one data structure every local state service sits on.
// Map keeps insertion order, so the first key is always the next victim: for 'lru' a hit re-inserts the key at the
// end, for 'fifo' nothing but insertion moves it. That keeps get, set and delete O(1).
// Expired entries are never returned. They are dropped when touched (lazily) and by a periodic sweep that examines a
// bounded batch per tick, so a large map never blocks the event loop for long.

import { systemClock, type Clock } from '../types.js';

export type EvictionPolicy = 'lru' | 'fifo';

/** Why an entry left the map; 'replaced' means a set() on the same key put a new value in its place. */
export type RemovalReason = 'expired' | 'evicted' | 'deleted' | 'replaced';

/**
 * Time between background sweeps. Lazy expiry already hides dead entries; the sweep only returns their memory, so a
 * few seconds of delay cost nothing while a short interval would wake an idle node for no reason.
 */
export const DEFAULT_SWEEP_INTERVAL_MS = 10_000;

/**
 * Entries one sweep examines. Checking an entry costs well under a microsecond, so 10,000 keeps a tick around a
 * millisecond, and a full pass over the largest default map (200,000 tokens) takes 20 ticks, about 3 minutes.
 */
export const DEFAULT_SWEEP_BATCH = 10_000;

export interface BoundedMapOptions<K, V> {
  /** Most entries held at once (positive integer); inserting one more removes the first by `policy`. */
  maxEntries: number;
  /** 'lru': reads and overwrites count as use. 'fifo': only first insertion sets the order. */
  policy: EvictionPolicy;
  /** @default systemClock */
  clock?: Clock;
  /**
   * Called after an entry has left the map, whatever the reason, so the owner can keep secondary indexes in step.
   * It must not modify this map.
   */
  onRemove?: (key: K, value: V, reason: RemovalReason) => void;
  /** Milliseconds between background sweeps; 0 disables the timer. @default DEFAULT_SWEEP_INTERVAL_MS */
  sweepIntervalMs?: number;
  /** Entries one sweep examines. @default DEFAULT_SWEEP_BATCH */
  sweepBatch?: number;
}

interface Slot<V> {
  value: V;
  expiresAt: number;
}

export class BoundedMap<K, V> {
  readonly #slots = new Map<K, Slot<V>>();
  readonly #maxEntries: number;
  readonly #policy: EvictionPolicy;
  readonly #clock: Clock;
  readonly #onRemove: ((key: K, value: V, reason: RemovalReason) => void) | undefined;
  readonly #sweepBatch: number;
  /** Where the sweep stopped last time; Map iterators stay valid across inserts and deletes. */
  #cursor: Iterator<[K, Slot<V>]> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: BoundedMapOptions<K, V>) {
    requirePositiveInteger('maxEntries', options.maxEntries);
    const sweepBatch = options.sweepBatch ?? DEFAULT_SWEEP_BATCH;
    requirePositiveInteger('sweepBatch', sweepBatch);
    const sweepIntervalMs = options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
    if (!Number.isFinite(sweepIntervalMs) || sweepIntervalMs < 0) {
      throw new RangeError(`sweepIntervalMs must be a non-negative number, got ${sweepIntervalMs}`);
    }
    this.#maxEntries = options.maxEntries;
    this.#policy = options.policy;
    this.#clock = options.clock ?? systemClock;
    this.#onRemove = options.onRemove;
    this.#sweepBatch = sweepBatch;
    if (sweepIntervalMs > 0) {
      // unref: a cache must never be the reason a process stays alive.
      this.#timer = setInterval(() => this.sweep(), sweepIntervalMs).unref();
    }
  }

  /** Entries stored, including expired ones not yet swept; see liveSize(). */
  get size(): number {
    return this.#slots.size;
  }

  get maxEntries(): number {
    return this.#maxEntries;
  }

  /** The live value; under 'lru' this counts as use. */
  get(key: K): V | undefined {
    const slot = this.#live(key);
    if (slot === undefined) return undefined;
    if (this.#policy === 'lru') {
      this.#slots.delete(key);
      this.#slots.set(key, slot);
    }
    return slot.value;
  }

  /** The live value without counting as use. */
  peek(key: K): V | undefined {
    return this.#live(key)?.value;
  }

  has(key: K): boolean {
    return this.#live(key) !== undefined;
  }

  /** Expiry of a live entry (epoch ms), or undefined. */
  expiresAt(key: K): number | undefined {
    return this.#live(key)?.expiresAt;
  }

  /**
   * Stores `value` until `expiresAt` (epoch ms; Infinity = until evicted). Returns false, storing nothing and removing
   * any previous value, when `expiresAt` has already passed: the caller asked for something that is already gone.
   */
  set(key: K, value: V, expiresAt: number): boolean {
    if (Number.isNaN(expiresAt)) throw new RangeError('expiresAt must be a number of epoch milliseconds');
    const now = this.#clock.now();
    let previous = this.#slots.get(key);
    if (previous !== undefined && previous.expiresAt <= now) {
      // A dead entry is not overwritten but removed: owners then treat the new value as a fresh entry.
      this.#remove(key, previous, 'expired');
      previous = undefined;
    }
    if (expiresAt <= now) {
      if (previous !== undefined) this.#remove(key, previous, 'expired');
      return false;
    }
    const slot: Slot<V> = { value, expiresAt };
    if (previous !== undefined && this.#policy === 'lru') this.#slots.delete(key);
    this.#slots.set(key, slot);
    if (previous !== undefined) this.#onRemove?.(key, previous.value, 'replaced');
    // Only a new key grows the map, and a new key is last: with maxEntries >= 1 it is never its own victim.
    while (this.#slots.size > this.#maxEntries) {
      const [victim, victimSlot] = this.#slots.entries().next().value as [K, Slot<V>];
      this.#remove(victim, victimSlot, victimSlot.expiresAt <= now ? 'expired' : 'evicted');
    }
    return true;
  }

  /** Removes the entry; true when a live one was there. */
  delete(key: K): boolean {
    const slot = this.#slots.get(key);
    if (slot === undefined) return false;
    const live = slot.expiresAt > this.#clock.now();
    this.#remove(key, slot, live ? 'deleted' : 'expired');
    return live;
  }

  /** Live entries, oldest first in eviction order, without counting as use. */
  *entries(): IterableIterator<[key: K, value: V, expiresAt: number]> {
    const now = this.#clock.now();
    for (const [key, slot] of this.#slots) {
      if (slot.expiresAt > now) yield [key, slot.value, slot.expiresAt];
    }
  }

  /** Live entries counted by a full scan: O(n), meant for status pages, not request paths. */
  liveSize(): number {
    const now = this.#clock.now();
    let live = 0;
    for (const slot of this.#slots.values()) if (slot.expiresAt > now) live++;
    return live;
  }

  /**
   * Examines up to `limit` entries from where the previous sweep stopped and removes the expired ones; returns how
   * many it removed. A sweep that reaches the end stops there and the next one starts again from the oldest entry.
   */
  sweep(limit: number = this.#sweepBatch): number {
    const now = this.#clock.now();
    let removed = 0;
    for (let examined = 0; examined < limit; examined++) {
      this.#cursor ??= this.#slots.entries();
      const next = this.#cursor.next();
      if (next.done === true) {
        this.#cursor = undefined;
        break;
      }
      const [key, slot] = next.value;
      if (slot.expiresAt <= now) {
        this.#remove(key, slot, 'expired');
        removed++;
      }
    }
    return removed;
  }

  /** Stops the background sweep; the map stays usable with lazy expiry only. */
  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #live(key: K): Slot<V> | undefined {
    const slot = this.#slots.get(key);
    if (slot === undefined) return undefined;
    if (slot.expiresAt <= this.#clock.now()) {
      this.#remove(key, slot, 'expired');
      return undefined;
    }
    return slot;
  }

  #remove(key: K, slot: Slot<V>, reason: RemovalReason): void {
    this.#slots.delete(key);
    this.#onRemove?.(key, slot.value, reason);
  }
}

function requirePositiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
}
