// Revoked session ids, on every member of the share group: a revocation is sent to all of them, so isRevoked() can
// answer from this node's copy on the request path (readLocalOnly) without a message. Not owner-based and not
// versioned: a revocation only ever extends (the later expiry wins), so copies merge in any order and converge.
// FIFO cap as the local backend (maxRevocations); a node that (re)joins copies the whole list, page by page.
import { BoundedMap } from '../local/bounded-map.js';
import { StateUnavailableError, type RevocationList } from '../types.js';
import type { PeerContext } from './options.js';
import type { Pager } from './pager.js';
import type { HeldStats, PullResult } from './record-sync.js';
import { requireExpiry } from './values.js';
import { arr, envelope, methodName, optStr, str, unavailable, WIRE_VERSION, type Fields } from './wire.js';

const SERVICE = 'revocations';

export class PeerRevocationList implements RevocationList {
  readonly #ctx: PeerContext;
  readonly #revoked: BoundedMap<string, true>;
  readonly #pager: Pager;
  readonly #unregister: Array<() => void> = [];
  #closed = false;

  constructor(context: PeerContext, pager: Pager) {
    this.#ctx = context;
    this.#pager = pager;
    this.#revoked = new BoundedMap({
      maxEntries: context.limits.maxRevocations,
      policy: 'fifo',
      clock: context.clock,
      sweepIntervalMs: context.sweepIntervalMs,
    });
    this.#handle('revoke', (fields) => ({ applied: this.#applyList(arr(fields, 'entries')) }));
    this.#handle('isRevoked', (fields) => ({ revoked: this.#revoked.has(str(fields, 'id')) }));
    this.#handle('pull', (fields, from) => {
      if (!this.#inGroup()) return { entries: [], cursor: null };
      const page = this.#pager.page<number>(from, optStr(fields, 'cursor'),
        () => Array.from(this.#revoked.entries(), ([id]) => id), (id) => this.#revoked.expiresAt(id));
      return { entries: page.items, cursor: page.cursor };
    });
  }

  /** Stores the revocation here (if a member) and on every alive member; members that miss it get it at catch-up. */
  async revoke(sessionId: string, expiresAt: number): Promise<void> {
    requireExpiry(expiresAt);
    if (this.#inGroup()) this.#apply(sessionId, expiresAt);
    const peers = this.#ctx.view.aliveGroupPeers(SERVICE);
    const results = await Promise.allSettled(peers.map((index) =>
      this.#call(index, 'revoke', { entries: [[sessionId, expiresAt]] })));
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ member: peers[i], err: String(r.reason) }] : []));
    for (const failure of failed) this.#ctx.logger.warn({ service: SERVICE, ...failure }, 'revocation not delivered to a member');
    if (!this.#inGroup() && failed.length === peers.length) {
      throw new StateUnavailableError('revocations: no member of the share group could store the revocation');
    }
  }

  async isRevoked(sessionId: string): Promise<boolean> {
    const inGroup = this.#inGroup();
    if (inGroup && (this.#ctx.readLocalOnly || this.#revoked.has(sessionId))) return this.#revoked.has(sessionId);
    const peers = this.#ctx.view.aliveGroupPeers(SERVICE);
    const results = await Promise.allSettled(peers.map(async (index) =>
      envelope(await this.#call(index, 'isRevoked', { id: sessionId })).revoked === true));
    if (results.some((r) => r.status === 'fulfilled' && r.value)) return true;
    if (!inGroup && !results.some((r) => r.status === 'fulfilled')) {
      throw new StateUnavailableError('revocations: no member of the share group answered');
    }
    return false;
  }

  /** Live revocations oldest first: this node's copy, or a member's when this node is outside the group. */
  async entries(): Promise<Array<{ id: string; expiresAt: number }>> {
    if (this.#inGroup()) return Array.from(this.#revoked.entries(), ([id, , expiresAt]) => ({ id, expiresAt }));
    const peers = this.#ctx.view.aliveGroupPeers(SERVICE);
    let lastError: unknown = new Error('no member of the share group is alive');
    for (const member of peers) {
      const list: Array<{ id: string; expiresAt: number }> = [];
      try {
        await this.#pages(member, performance.now() + this.#ctx.bulkTimeoutMs, (id, expiresAt) => list.push({ id, expiresAt }));
        return list;
      } catch (error) {
        lastError = error;
      }
    }
    throw unavailable(lastError, 'revocations: no member of the share group answered');
  }

  /** Copies `member`'s whole list into this node's (catch-up); stops at `deadline` (performance.now() ms). */
  async pullFrom(member: number, deadline: number): Promise<PullResult> {
    let records = 0;
    try {
      const completed = await this.#pages(member, deadline, (id, expiresAt) => {
        records++;
        this.#apply(id, expiresAt);
      });
      return { records, completed };
    } catch (error) {
      this.#ctx.logger.warn({ service: SERVICE, member, records, err: String(error) }, 'state catch-up from a member failed');
      return { records, completed: false };
    }
  }

  stats(): HeldStats {
    return { owner: this.#revoked.liveSize(), replica: 0, tombstones: 0 };
  }

  close(): void {
    this.#closed = true;
    for (const undo of this.#unregister.splice(0)) undo();
    this.#revoked.close();
  }

  /** Walks `member`'s list page by page; false when the deadline or close() cut it short. */
  async #pages(member: number, deadline: number, each: (id: string, expiresAt: number) => void): Promise<boolean> {
    let cursor: string | undefined;
    do {
      const remaining = deadline - performance.now();
      if (this.#closed || remaining <= 0) return false;
      const reply = envelope(await this.#call(member, 'pull', { cursor: cursor ?? null },
        Math.max(1, Math.min(remaining, this.#ctx.rpcTimeoutMs))));
      for (const item of arr(reply, 'entries')) {
        if (Array.isArray(item) && typeof item[0] === 'string' && Number.isFinite(item[1])) each(item[0], item[1] as number);
      }
      cursor = optStr(reply, 'cursor');
    } while (cursor !== undefined);
    return true;
  }

  #applyList(list: unknown[]): number {
    if (!this.#inGroup()) return 0;
    let applied = 0;
    for (const item of list) {
      if (Array.isArray(item) && typeof item[0] === 'string' && Number.isFinite(item[1])) {
        this.#apply(item[0], item[1] as number);
        applied++;
      }
    }
    return applied;
  }

  /** Revoking again keeps the first revocation's place in order and extends its expiry if the new one is later. */
  #apply(id: string, expiresAt: number): void {
    const current = this.#revoked.expiresAt(id) ?? -Infinity;
    this.#revoked.set(id, true, Math.max(current, expiresAt));
  }

  #inGroup(): boolean {
    return this.#ctx.view.inGroup(SERVICE);
  }

  #call(index: number, op: string, fields: object, timeoutMs = this.#ctx.rpcTimeoutMs): Promise<unknown> {
    return this.#ctx.rpc.call(index, methodName(SERVICE, op), { v: WIRE_VERSION, ...fields }, { timeoutMs });
  }

  #handle(op: string, answer: (fields: Fields, from: number) => object): void {
    this.#unregister.push(this.#ctx.rpc.handle(methodName(SERVICE, op),
      (payload, from) => ({ v: WIRE_VERSION, ...answer(envelope(payload), from.index) })));
  }
}
