// Keeping a service's copies where placement says they belong as members come and go:
//   pull:          a node that (re)joins asks each alive group member, page by page, for every record it is now a
//                  holder of (live ones and tombstones), and merges them by version;
//   re-replicate:  when a member fails or leaves, each record whose holders changed is pushed to its new holders by
//                  exactly one node (the first surviving old holder), so redundancy comes back without a storm;
//   prune:         once a (re)joined member announced it caught up, nodes that stopped being holders drop their
//                  copies, which keeps memory at (1 + failoverPeers) copies per record.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { MemberChange } from './cluster-view.js';
import type { PeerRecordStore } from './peer-record-store.js';
import { holdersOf } from './placement.js';
import { MAX_PAGE_RECORDS, type Pager } from './pager.js';
import { arr, envelope, optStr } from './wire.js';
import type { Entry } from './version.js';

/** Keys examined between two yields to the event loop, so a scan of 100,000 records never blocks requests for long. */
const SCAN_BATCH = 1_000;

export interface PullResult {
  /** Records received (live and deleted), whether or not they were newer than this node's copy. */
  records: number;
  completed: boolean;
}

export interface HeldStats {
  /** Live records this node is acting owner of. */
  owner: number;
  /** Live records this node keeps as a copy for another acting owner. */
  replica: number;
  /** Deletions remembered so a stale copy cannot come back. */
  tombstones: number;
}

export class RecordSync<V> {
  readonly #store: PeerRecordStore<V>;
  readonly #pager: Pager;
  #closed = false;

  constructor(store: PeerRecordStore<V>, pager: Pager) {
    this.#store = store;
    this.#pager = pager;
    store.handle('pull', (fields, from) => {
      const view = store.context.view;
      if (!view.inGroup(store.service)) return { records: [], cursor: null };
      const cursor = optStr(fields, 'cursor');
      const page = this.#pager.page<Entry<V>>(from, cursor, () => {
        // The puller is alive by definition, even if its join has not reached this node's member table yet.
        const live = view.liveness(from);
        return store.map.keys().filter((key) => store.route(key, live).holders.includes(from));
      }, (key) => store.map.newest(key));
      return { records: page.items, cursor: page.cursor };
    });
  }

  /** Pulls from `member`, page by page, every record this node holds; stops at `deadline` (performance.now() ms). */
  async pullFrom(member: number, deadline: number): Promise<PullResult> {
    const { context: ctx, service } = this.#store;
    let cursor: string | undefined;
    let records = 0;
    for (;;) {
      const remaining = deadline - performance.now();
      if (this.#closed || remaining <= 0) return { records, completed: false };
      try {
        const reply = envelope(await this.#store.call(member, 'pull', { cursor: cursor ?? null },
          Math.max(1, Math.min(remaining, ctx.rpcTimeoutMs))));
        const page = arr(reply, 'records');
        records += page.length;
        this.#store.applyRecords(page);
        cursor = optStr(reply, 'cursor');
      } catch (error) {
        ctx.logger.warn({ service, member, records, err: String(error) }, 'state catch-up from a member failed');
        return { records, completed: false };
      }
      if (cursor === undefined) return { records, completed: true };
    }
  }

  /** After `change` (a member failed or left): pushes each record whose holders grew, if this node is its pusher. */
  async reReplicate(change: MemberChange): Promise<number> {
    const store = this.#store;
    const { view, failoverPeers } = store.context;
    if (!view.inGroup(store.service)) return 0;
    const live = view.liveness();
    const before = { isAlive: (i: number) => change.aliveBefore.has(i), isReady: live.isReady };
    const groupBefore = change.groupBefore(store.service);
    const sameGroup = sameMembers(groupBefore, view.group(store.service));
    const pushes = new Map<number, Array<[string, Entry<V>]>>();
    let examined = 0;
    for (const key of store.map.keys()) {
      if (++examined % SCAN_BATCH === 0) await yieldToEventLoop();
      if (this.#closed) return 0;
      const entry = store.map.newest(key);
      if (entry === undefined) continue;
      const now = store.route(key, live);
      const oldHolders = holdersOf(sameGroup ? now.order : store.orderFor(key, groupBefore), before, failoverPeers);
      // Every surviving old holder has the record and computes the same pusher, so exactly one node sends it.
      if (oldHolders.find((index) => live.isAlive(index)) !== store.self) continue;
      for (const target of now.holders) {
        if (target === store.self || oldHolders.includes(target)) continue;
        let batch = pushes.get(target);
        if (batch === undefined) pushes.set(target, (batch = []));
        batch.push([key, entry]);
      }
    }
    let pushed = 0;
    for (const [target, records] of pushes) {
      for (let at = 0; at < records.length && !this.#closed; at += MAX_PAGE_RECORDS) {
        const page = records.slice(at, at + MAX_PAGE_RECORDS);
        await store.replicate(page, [target]);
        pushed += page.length;
      }
    }
    return pushed;
  }

  /** Drops the copies of records this node no longer holds; returns how many. */
  async prune(): Promise<number> {
    const store = this.#store;
    const live = store.context.view.liveness();
    let dropped = 0;
    let examined = 0;
    for (const key of store.map.keys()) {
      if (++examined % SCAN_BATCH === 0) await yieldToEventLoop();
      if (this.#closed) break;
      if (!store.route(key, live).holders.includes(store.self)) {
        store.map.drop(key);
        dropped++;
      }
    }
    return dropped;
  }

  stats(): HeldStats {
    const store = this.#store;
    const live = store.context.view.liveness();
    let owner = 0;
    let replica = 0;
    for (const [key] of store.map.liveEntries()) {
      if (store.route(key, live).acting === store.self) owner++;
      else replica++;
    }
    return { owner, replica, tombstones: store.map.sizes().tombstones };
  }

  close(): void {
    this.#closed = true;
  }
}

function sameMembers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}
