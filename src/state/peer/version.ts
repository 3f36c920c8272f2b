// Versions order the writes to one record so every node converges on the same value: the last writer wins, compared
// as (ts, node). Deletes are versioned too (tombstones), or a late replica of an older write could bring a deleted
// record back.
//
// ts is epoch milliseconds with sub-millisecond precision. Whole milliseconds are too coarse: a browser's request
// and the next one can reach two nodes within the same millisecond, and the session list is ordered by creation
// version across nodes. Nodes on one host share the monotonic clock, so their versions order exactly as the writes
// happened; across hosts ordering is as good as clock synchronisation, which is all last-writer-wins ever promises.

/** When and where a write happened. */
export interface Version {
  /** Epoch ms, fractional. */
  ts: number;
  /** Node index of the writer: breaks ties so two nodes never produce equal versions. */
  node: number;
}

/** What every node stores per record. */
export interface Entry<V> {
  /** null marks a deletion (a tombstone), kept until the record would have expired. */
  value: V | null;
  /** Epoch ms; the entry is gone (never returned, never sent) after it. */
  expiresAt: number;
  version: Version;
}

/** Negative when a is older than b, 0 when equal, positive when newer. */
export function compareVersions(a: Version, b: Version): number {
  return a.ts !== b.ts ? (a.ts < b.ts ? -1 : 1) : a.node - b.node;
}

/**
 * Smallest step between two versions of one node. One microsecond: epoch ms around 1.8e12 are exact to about a
 * quarter of a microsecond in a double, so the step always changes the number.
 */
const STEP_MS = 0.001;

/** Wall-clock time with the precision of the monotonic clock. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Hands out strictly increasing versions for one node. */
export class VersionClock {
  readonly #node: number;
  readonly #source: () => number;
  #last = 0;

  constructor(node: number, source: () => number = preciseNow) {
    this.#node = node;
    this.#source = source;
  }

  /** A version newer than any this clock gave before and, when given, newer than `after` (the record's current). */
  next(after?: Version): Version {
    let ts = Math.max(this.#source(), this.#last + STEP_MS);
    if (after !== undefined && ts <= after.ts) ts = after.ts + STEP_MS;
    this.#last = ts;
    return { ts, node: this.#node };
  }

  /** Moves past a version seen from another node, so this node's next write to anything orders after it. */
  observe(version: Version): void {
    if (version.ts > this.#last) this.#last = version.ts;
  }
}
