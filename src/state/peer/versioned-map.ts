// One node's copies of a service's records: a BoundedMap of live entries (the same caps and eviction policy as the
// local backend) plus a FIFO map of tombstones, merged by version so the newest write wins whatever order writes,
// replicas and catch-up pages arrive in. Tombstones live apart so deletions can never evict live records; each
// lives until the record it buries would have expired, after which no stale copy of that record can matter.
// Each entry also caches its placement order, so scans (count, list, stats, re-replication) do not hash every key.
import { BoundedMap, type EvictionPolicy, type RemovalReason } from '../local/bounded-map.js';
import type { Clock } from '../types.js';
import { compareVersions, type Entry } from './version.js';

export interface VersionedMapOptions<V> {
  maxEntries: number;
  policy: EvictionPolicy;
  clock: Clock;
  sweepIntervalMs?: number;
  /** After a live value was stored (new or replacing), so services can index it. */
  onStored?: (key: string, value: V) => void;
  /** After a live value left, whatever the reason ('replaced' comes just before the onStored of its successor). */
  onRemoved?: (key: string, value: V, reason: RemovalReason) => void;
}

interface Held<V> {
  entry: Entry<V>;
  /** Placement order cached for `epoch`. */
  order?: readonly number[];
  epoch: number;
}

export class VersionedMap<V> {
  readonly #live: BoundedMap<string, Held<V>>;
  readonly #tombs: BoundedMap<string, Held<V>>;
  readonly #clock: Clock;
  readonly #onStored: ((key: string, value: V) => void) | undefined;

  constructor(options: VersionedMapOptions<V>) {
    this.#clock = options.clock;
    this.#onStored = options.onStored;
    const onRemoved = options.onRemoved;
    this.#live = new BoundedMap({
      maxEntries: options.maxEntries,
      policy: options.policy,
      clock: options.clock,
      sweepIntervalMs: options.sweepIntervalMs,
      onRemove: onRemoved && ((key, held, reason) => onRemoved(key, held.entry.value as V, reason)),
    });
    this.#tombs = new BoundedMap({
      maxEntries: options.maxEntries,
      policy: 'fifo',
      clock: options.clock,
      sweepIntervalMs: options.sweepIntervalMs,
    });
  }

  /** The live entry; counts as use under LRU. The caller must not modify it. */
  get(key: string): Entry<V> | undefined {
    return this.#live.get(key)?.entry;
  }

  /** The live entry without counting as use. */
  peek(key: string): Entry<V> | undefined {
    return this.#live.peek(key)?.entry;
  }

  /** The newest entry known for the key, tombstone included. */
  newest(key: string): Entry<V> | undefined {
    return (this.#live.peek(key) ?? this.#tombs.peek(key))?.entry;
  }

  /**
   * Stores `entry` if it is newer than what this node has (last writer wins); returns whether it did. An entry
   * that has already expired is not stored, but still buries an older copy.
   */
  apply(key: string, entry: Entry<V>): boolean {
    const current = this.#live.peek(key) ?? this.#tombs.peek(key);
    if (current !== undefined && compareVersions(entry.version, current.entry.version) <= 0) return false;
    if (entry.value === null) {
      this.#live.delete(key);
      this.#tombs.set(key, { entry, epoch: -1 }, entry.expiresAt);
      return true;
    }
    this.#tombs.delete(key);
    if (!this.#live.set(key, { entry, epoch: -1 }, entry.expiresAt)) return false;
    this.#onStored?.(key, entry.value);
    return true;
  }

  /** Drops this node's copy (live or tombstone) without a trace: used when it stops being a holder. */
  drop(key: string): void {
    this.#live.delete(key);
    this.#tombs.delete(key);
  }

  /** The cached placement order of a held key for `epoch`, computing and caching it when stale. */
  orderOf(key: string, epoch: number, compute: () => readonly number[]): readonly number[] {
    const held = this.#live.peek(key) ?? this.#tombs.peek(key);
    if (held === undefined) return compute();
    if (held.epoch !== epoch || held.order === undefined) {
      held.order = compute();
      held.epoch = epoch;
    }
    return held.order;
  }

  /** Live entries, oldest first in eviction order, without counting as use. */
  *liveEntries(): IterableIterator<[key: string, entry: Entry<V>]> {
    for (const [key, held] of this.#live.entries()) yield [key, held.entry];
  }

  /** Keys of every live entry and tombstone: a snapshot, safe to hold across awaits. */
  keys(): string[] {
    const keys: string[] = [];
    for (const [key] of this.#live.entries()) keys.push(key);
    for (const [key] of this.#tombs.entries()) keys.push(key);
    return keys;
  }

  /** Entries stored and tombstones stored, expired ones not yet swept included. */
  sizes(): { live: number; tombstones: number } {
    return { live: this.#live.size, tombstones: this.#tombs.size };
  }

  now(): number {
    return this.#clock.now();
  }

  close(): void {
    this.#live.close();
    this.#tombs.close();
  }
}
