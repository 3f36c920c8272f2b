// The core every peer service is built on: one service's records on this node (a VersionedMap), where each record
// lives (placement), and the three ways of reaching it:
//   mutation: runs at the acting owner, which applies it without yielding (so consume, check-and-set and take are
//             atomic there) and then writes the new version to the other holders before answering;
//   read:     a holder answers from its copy; anyone else asks the acting owner (or, with majorityOnly, a majority
//             of the holders, newest version wins);
//   query:    asks every alive member of the share group, each answering for the records it is acting owner of.
// Catch-up, re-replication and pruning live in record-sync.ts.
import { ownerIndexOf } from '../routed-id.js';
import { StateUnavailableError, type StateServiceName } from '../types.js';
import type { EvictionPolicy, RemovalReason } from '../local/bounded-map.js';
import type { LiveSnapshot } from './cluster-view.js';
import type { PeerContext } from './options.js';
import { actingOwnerOf, holdersOf, ownerOrder, rendezvousOrder } from './placement.js';
import { compareVersions, type Entry, type Version } from './version.js';
import { VersionedMap } from './versioned-map.js';
import {
  arr, envelope, methodName, obj, optNum, readEntry, readRecords, str, unavailable, WIRE_VERSION, type Fields,
} from './wire.js';

/**
 * A forwarded operation that lands on a node which sees another acting owner is forwarded once more; at this many
 * hops it runs where it is. Two hops let two nodes with briefly different views agree without ever looping.
 */
const MAX_HOPS = 2;

export interface Route {
  /** The share group ranked for this record. */
  order: readonly number[];
  /** Executes writes; undefined when no member of the group is alive. */
  acting: number | undefined;
  /** Keep a copy, in order; the acting owner is always one of them. */
  holders: readonly number[];
}

export interface MutationContext {
  now: number;
  /** The version the change will carry (also usable as a creation stamp). */
  version: Version;
}

/** What a mutation does to the record: store a value, delete it, or (undefined) leave it as it is. */
export type Change<V> = { set: V; expiresAt: number } | 'delete' | undefined;

export interface MutationSpec<V, A, R> {
  /** Reads the arguments from a forwarded payload's `args`. */
  parse(args: Fields): A;
  /** Checks a result that came back from the acting owner. */
  result(value: unknown): R;
  /** New state from the current live entry. Synchronous and pure: it must not modify `current`. */
  mutate(current: Entry<V> | undefined, args: A, context: MutationContext): { change?: Change<V>; result: R };
  /** Consume, check-and-set, take: refused unless the cluster has quorum. */
  oneTime?: boolean;
}

export interface PeerRecordStoreOptions<V> {
  service: StateServiceName;
  context: PeerContext;
  maxEntries: number;
  policy: EvictionPolicy;
  /** Keys may carry their creator's index (routed ids) and are then placed at it; otherwise rendezvous hashing. */
  ownerBased: boolean;
  isValue(value: unknown): value is V;
  onStored?: (key: string, value: V) => void;
  onRemoved?: (key: string, value: V, reason: RemovalReason) => void;
}

export class PeerRecordStore<V> {
  readonly service: StateServiceName;
  readonly map: VersionedMap<V>;
  readonly isValue: (value: unknown) => value is V;
  readonly #ctx: PeerContext;
  readonly #ownerBased: boolean;
  readonly #unregister: Array<() => void> = [];
  #ownerOrders = new Map<number, readonly number[]>();
  #ownerOrdersEpoch = -1;

  constructor(options: PeerRecordStoreOptions<V>) {
    this.service = options.service;
    this.#ctx = options.context;
    this.#ownerBased = options.ownerBased;
    this.isValue = options.isValue;
    this.map = new VersionedMap<V>({
      maxEntries: options.maxEntries,
      policy: options.policy,
      clock: options.context.clock,
      sweepIntervalMs: options.context.sweepIntervalMs,
      onStored: options.onStored,
      onRemoved: options.onRemoved,
    });
    this.handle('get', (fields) => {
      const key = str(fields, 'key');
      return { entry: this.map.get(key) ?? this.map.newest(key) ?? null };
    });
    this.handle('apply', (fields) => ({ applied: this.applyRecords(arr(fields, 'records')) }));
  }

  get context(): PeerContext {
    return this.#ctx;
  }

  get self(): number {
    return this.#ctx.view.self;
  }

  /** Registers the RPC handler of `op`; the answer gets the envelope. Unregistered by close(). */
  handle(op: string, answer: (fields: Fields, from: number) => object | Promise<object>): void {
    this.#unregister.push(this.#ctx.rpc.handle(methodName(this.service, op), async (payload, from) =>
      ({ v: WIRE_VERSION, ...(await answer(envelope(payload), from.index)) })));
  }

  // --- placement ---

  route(key: string, live: LiveSnapshot = this.#ctx.view.liveness()): Route {
    const order = this.map.orderOf(key, this.#ctx.view.epoch, () => this.orderFor(key, this.#ctx.view.group(this.service)));
    return this.#routeOf(order, live);
  }

  /** Placement of whatever `owner` created; undefined when the owner is not in the share group. */
  routeByOwner(owner: number, live: LiveSnapshot = this.#ctx.view.liveness()): Route | undefined {
    const group = this.#ctx.view.group(this.service);
    return group.includes(owner) ? this.#routeOf(this.#ownerOrder(owner, group), live) : undefined;
  }

  /** The order of `key` over `group` (the current group, or an earlier one when re-replicating). */
  orderFor(key: string, group: readonly number[]): readonly number[] {
    const owner = this.#ownerBased ? ownerIndexOf(key) : undefined;
    if (owner !== undefined && group.includes(owner)) return this.#ownerOrder(owner, group);
    return rendezvousOrder(key, group);
  }

  isActingOwner(key: string, live: LiveSnapshot): boolean {
    return this.route(key, live).acting === this.self;
  }

  // --- the three ways in ---

  /** Defines a mutation named `op` (RPC state.<service>.<op>) and returns the function that runs it. */
  mutation<A extends Fields, R>(op: string, spec: MutationSpec<V, A, R>): (key: string, args: A) => Promise<R> {
    const run = (key: string, args: A, hop: number): Promise<R> => this.#execute(op, spec, key, args, hop);
    this.handle(op, async (fields) => ({
      result: await run(str(fields, 'key'), spec.parse(obj(fields, 'args')), optNum(fields, 'hop') ?? 0) ?? null,
    }));
    return (key, args) => run(key, args, 0);
  }

  /** Runs a defined mutation here, as acting owner; for queries that act on what this node owns. */
  async mutateHere<A, R>(spec: MutationSpec<V, A, R>, key: string, args: A, route: Route = this.route(key)): Promise<R> {
    // DESIGN.md's read-only rule: without quorum, a one-time operation runs only on records this node created (their
    // id carries its index). The majority side takes over only records of nodes it believes dead, so those would be
    // the ones two sides could both consume; records created here keep working, and users can still sign in.
    if (spec.oneTime && this.#ctx.rpc.status().state !== 'quorum' && ownerIndexOf(key) !== this.self) {
      throw new StateUnavailableError(`${this.service}: the cluster is read-only (no quorum) and this record's owner `
        + 'cannot be reached, so a one-time operation cannot be guaranteed to happen once; try again when the cluster has recovered');
    }
    const now = this.#ctx.clock.now();
    const current = this.map.get(key);
    const version = this.#ctx.versions.next(this.map.newest(key)?.version);
    const { change, result } = spec.mutate(current, args, { now, version });
    let entry: Entry<V> | undefined;
    if (change === 'delete' || (change !== undefined && change.expiresAt <= now)) {
      if (current !== undefined) entry = { value: null, expiresAt: current.expiresAt, version };
    } else if (change !== undefined) {
      entry = { value: change.set, expiresAt: change.expiresAt, version };
    }
    if (entry === undefined) return result;
    this.map.apply(key, entry);
    // Up to here nothing yielded: that is the atomicity of one-time operations. Now make the write durable.
    await this.replicate([[key, entry]], route.holders);
    return result;
  }

  /** The live entry for `key`, as a private copy; undefined when absent or deleted. */
  async read(key: string): Promise<Entry<V> | undefined> {
    const route = this.route(key);
    if (route.holders.includes(this.self)) {
      const local = this.map.get(key);
      if (local !== undefined || !this.#ctx.majorityOnly) return local && structuredClone(local);
    }
    const entry = this.#ctx.majorityOnly ? await this.#readMajority(key, route) : await this.#readThrough(key, route);
    return entry?.value === null ? undefined : entry;
  }

  /**
   * Defines a read by something other than the key (a secondary index), answered by a holder of `route`. The
   * answer must be JSON; undefined becomes null on the wire and undefined again here. What comes back is unknown:
   * a peer's answer is checked by the caller before use.
   */
  lookup<A extends Fields, R>(op: string, parse: (fields: Fields) => A, answer: (args: A) => R | undefined):
  (route: Route, args: A) => Promise<unknown> {
    this.handle(op, (fields) => ({ result: answer(parse(fields)) ?? null }));
    return async (route, args) => {
      if (route.holders.includes(this.self)) return structuredClone(answer(args));
      let lastError: unknown = new Error('no member of the share group is alive');
      for (const index of this.#candidates(route)) {
        try {
          return envelope(await this.call(index, op, args)).result ?? undefined;
        } catch (error) {
          lastError = error;
        }
      }
      throw unavailable(lastError, `${this.service}: no holder answered`);
    };
  }

  /**
   * Defines a question for the whole share group; each alive member answers for the records it is acting owner
   * of. Fails when any alive member does not answer: a partial count or list would be silently wrong. Answers are
   * unknown (checked by the caller); this node's own is a private copy.
   */
  query<A extends Fields, R>(op: string, parse: (fields: Fields) => A,
    answer: (args: A, live: LiveSnapshot) => R | Promise<R>): (args: A) => Promise<Array<{ index: number; result: unknown }>> {
    this.handle(op, async (fields) => ({
      result: this.#ctx.view.inGroup(this.service) ? await answer(parse(fields), this.#ctx.view.liveness()) : null,
    }));
    return async (args) => {
      const live = this.#ctx.view.liveness();
      const members = this.#ctx.view.group(this.service).filter((index) => live.isAlive(index));
      return Promise.all(members.map(async (index) => {
        if (index === this.self) return { index, result: structuredClone(await answer(args, live)) };
        try {
          // Twice the deadline: a member's answer may include replicating what it changed (revokeByGrantId).
          return { index, result: envelope(await this.call(index, op, args, 2 * this.#ctx.rpcTimeoutMs)).result };
        } catch (error) {
          throw unavailable(error, `${this.service}: member ${index} did not answer`);
        }
      }));
    };
  }

  // --- shared plumbing ---

  call(index: number, op: string, fields: object, timeoutMs = this.#ctx.rpcTimeoutMs): Promise<unknown> {
    return this.#ctx.rpc.call(index, methodName(this.service, op), { v: WIRE_VERSION, ...fields }, { timeoutMs });
  }

  /** Writes entries to the given holders other than this node, in parallel; a failed replica is logged, not fatal. */
  async replicate(records: Array<[string, Entry<V>]>, holders: readonly number[]): Promise<void> {
    await Promise.all(holders.filter((index) => index !== this.self).map(async (index) => {
      try {
        await this.call(index, 'apply', { records });
      } catch (error) {
        this.#ctx.logger.warn({ service: this.service, member: index, records: records.length, err: String(error) },
          'state replica write failed; the record has one copy fewer until the next catch-up or re-replication');
      }
    }));
  }

  /** Merges records sent by a peer (replication, catch-up, re-replication); returns how many were newer. */
  applyRecords(list: unknown[]): number {
    if (!this.#ctx.view.inGroup(this.service)) return 0;
    const { records, rejected } = readRecords(list, this.isValue);
    if (rejected > 0) this.#ctx.logger.warn({ service: this.service, rejected }, 'malformed state records ignored');
    let applied = 0;
    for (const [key, entry] of records) {
      this.#ctx.versions.observe(entry.version);
      if (this.map.apply(key, entry)) applied++;
    }
    return applied;
  }

  close(): void {
    for (const undo of this.#unregister.splice(0)) undo();
    this.map.close();
  }

  async #execute<A extends Fields, R>(op: string, spec: MutationSpec<V, A, R>, key: string, args: A, hop: number): Promise<R> {
    const route = this.route(key);
    const inGroup = this.#ctx.view.inGroup(this.service);
    if (route.acting === this.self || (hop >= MAX_HOPS && inGroup)) return this.mutateHere(spec, key, args, route);
    if (route.acting === undefined || hop >= MAX_HOPS) {
      throw new StateUnavailableError(`${this.service}: no member of the share group is alive`);
    }
    let reply: unknown;
    try {
      // The owner may forward once more and then waits up to one deadline for its replicas: each level down gets
      // one deadline less, so the innermost failure is reported before the outer call gives up.
      reply = await this.call(route.acting, op, { key, args, hop: hop + 1 }, this.#ctx.rpcTimeoutMs * (1 + MAX_HOPS - hop));
    } catch (error) {
      throw unavailable(error, `${this.service}: the acting owner (node ${route.acting}) cannot be reached`);
    }
    return spec.result(envelope(reply).result);
  }

  /** The acting owner first, then the other holders: a read survives an owner that died a moment ago. */
  #candidates(route: Route): number[] {
    const rest = route.holders.filter((index) => index !== route.acting && index !== this.self);
    return route.acting === undefined || route.acting === this.self ? rest : [route.acting, ...rest];
  }

  async #readThrough(key: string, route: Route): Promise<Entry<V> | undefined> {
    const candidates = this.#candidates(route);
    let lastError: unknown = new Error('no member of the share group is alive');
    for (const index of candidates) {
      try {
        return this.#entryFrom(await this.call(index, 'get', { key }));
      } catch (error) {
        lastError = error;
      }
    }
    throw unavailable(lastError, `${this.service}: no holder of the record answered`);
  }

  /** Asks every holder; resolves with the newest entry once a majority of them answered. */
  #readMajority(key: string, route: Route): Promise<Entry<V> | undefined> {
    const holders = route.holders;
    const needed = Math.floor(holders.length / 2) + 1;
    return new Promise((resolve, reject) => {
      let newest: Entry<V> | undefined;
      let answers = 0;
      let failures = 0;
      if (holders.length === 0) reject(new StateUnavailableError(`${this.service}: no member of the share group is alive`));
      for (const index of holders) {
        const ask = index === this.self
          ? Promise.resolve(this.map.newest(key)).then((e) => e && structuredClone(e))
          : this.call(index, 'get', { key }).then((reply) => this.#entryFrom(reply));
        ask.then((entry) => {
          if (entry !== undefined && (newest === undefined || compareVersions(entry.version, newest.version) > 0)) newest = entry;
          if (++answers === needed) resolve(newest);
        }, (error: unknown) => {
          if (++failures === holders.length - needed + 1) {
            reject(unavailable(error, `${this.service}: fewer than ${needed} of ${holders.length} holders answered`));
          }
        });
      }
    });
  }

  #entryFrom(reply: unknown): Entry<V> | undefined {
    const raw = envelope(reply).entry;
    return raw === null || raw === undefined ? undefined : readEntry(raw, this.isValue);
  }

  #routeOf(order: readonly number[], live: LiveSnapshot): Route {
    const acting = actingOwnerOf(order, live);
    return { order, acting, holders: holdersOf(order, live, this.#ctx.failoverPeers, acting) };
  }

  #ownerOrder(owner: number, group: readonly number[]): readonly number[] {
    if (group !== this.#ctx.view.group(this.service)) return ownerOrder(owner, group, (i) => this.#ctx.view.addressOf(i));
    if (this.#ownerOrdersEpoch !== this.#ctx.view.epoch) {
      this.#ownerOrders = new Map();
      this.#ownerOrdersEpoch = this.#ctx.view.epoch;
    }
    let order = this.#ownerOrders.get(owner);
    if (order === undefined) {
      order = Object.freeze(ownerOrder(owner, group, (i) => this.#ctx.view.addressOf(i)));
      this.#ownerOrders.set(owner, order);
    }
    return order;
  }
}
