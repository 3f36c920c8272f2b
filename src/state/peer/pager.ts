// Paged bulk transfer for catch-up: the answering node snapshots the keys to send on the first request and hands
// them out page by page behind a cursor. Keys are snapshotted, values read at page time, so a record written during
// the transfer goes out in its newest version (or not at all if deleted, which its tombstone then covers).
// Pages stop at MAX_PAGE_RECORDS or maxPageBytes, whichever comes first, so a frame stays far below the back
// channel's frame limit whatever the record sizes.
import { randomBytes } from 'node:crypto';
import { BoundedMap } from '../local/bounded-map.js';
import type { Clock } from '../types.js';
import { PeerProtocolError } from './wire.js';

/** Records per page: large enough that 100,000 sessions take 50 round trips, small enough to serialise quickly. */
export const MAX_PAGE_RECORDS = 2_000;
/** Bytes of JSON per page; a quarter of the default 16 MiB frame limit. */
export const DEFAULT_MAX_PAGE_BYTES = 4 * 1024 * 1024;
/** Transfers in progress at once; each pulling node runs one per service and peer, so 64 is generous. */
const MAX_SNAPSHOTS = 64;

export interface Page<T> {
  items: Array<[string, T]>;
  /** Where the next page starts; null when this was the last one. */
  cursor: string | null;
}

export class Pager {
  readonly #snapshots: BoundedMap<string, { requester: number; keys: string[] }>;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #maxPageBytes: number;

  constructor(options: { clock: Clock; ttlMs: number; maxPageBytes: number }) {
    this.#clock = options.clock;
    this.#ttlMs = options.ttlMs;
    this.#maxPageBytes = options.maxPageBytes;
    this.#snapshots = new BoundedMap({ maxEntries: MAX_SNAPSHOTS, policy: 'fifo', clock: options.clock, sweepIntervalMs: 0 });
  }

  /**
   * The page at `cursor` (a new snapshot taken by `snapshot()` when undefined); `read` gives a key's current item or
   * undefined to skip it. Throws PeerProtocolError for a cursor this node does not know (expired or foreign).
   */
  page<T>(requester: number, cursor: string | undefined, snapshot: () => string[], read: (key: string) => T | undefined): Page<T> {
    let id: string;
    let offset = 0;
    let keys: string[];
    if (cursor === undefined) {
      id = randomBytes(12).toString('base64url');
      keys = snapshot();
    } else {
      const [cursorId, at] = cursor.split(':');
      const held = cursorId === undefined ? undefined : this.#snapshots.peek(cursorId);
      if (held === undefined || held.requester !== requester || !/^\d+$/.test(at ?? '')) {
        throw new PeerProtocolError('unknown or expired catch-up cursor');
      }
      id = cursorId!;
      keys = held.keys;
      offset = Number(at);
    }
    const items: Array<[string, T]> = [];
    let bytes = 0;
    let next = offset;
    while (next < keys.length && items.length < MAX_PAGE_RECORDS) {
      const key = keys[next]!;
      const item = read(key);
      if (item !== undefined) {
        const size = Buffer.byteLength(JSON.stringify([key, item]), 'utf8');
        if (items.length > 0 && bytes + size > this.#maxPageBytes) break;
        items.push([key, item]);
        bytes += size;
      }
      next++;
    }
    if (next >= keys.length) {
      this.#snapshots.delete(id);
      return { items, cursor: null };
    }
    this.#snapshots.set(id, { requester, keys }, this.#clock.now() + this.#ttlMs);
    return { items, cursor: `${id}:${next}` };
  }

  close(): void {
    this.#snapshots.close();
  }
}
