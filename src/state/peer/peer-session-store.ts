// SSO sessions shared by the group: placed at the node whose index the session id carries, copied to its failover
// peers, with the uid and user indexes kept per node over the copies it holds. Lists and counts ask every member
// for the sessions it is acting owner of, so each session is counted once however many copies exist.
// Creation order (for listByUser and the paged list) is the version of a session's first write: an overwrite keeps
// it, and versions order writes across nodes as they happened (see version.ts).
import { ownerIndexOf } from '../routed-id.js';
import type { SessionListOptions, SessionRecord, SessionStore } from '../types.js';
import type { LiveSnapshot } from './cluster-view.js';
import type { PeerContext } from './options.js';
import type { Pager } from './pager.js';
import { PeerRecordStore } from './peer-record-store.js';
import { RecordSync } from './record-sync.js';
import { argument, isFiniteNumber, isJsonObject, isString, optionalString, requireExpiry } from './values.js';
import { compareVersions, type Version } from './version.js';
import { arr, envelope, isObject, isVersion, optNum, optStr, str, unavailable } from './wire.js';
import { pageOf } from '../paging.js';

interface SessionValue {
  record: SessionRecord;
  /** Version of the first write: the session's place in creation order. */
  created: Version;
}

/** Ids per fetch request when assembling a list page. */
const FETCH_BATCH = 1_000;

function isSessionRecord(value: unknown): value is SessionRecord {
  return isObject(value) && isString(value.id) && isString(value.uid) && optionalString(value.userId)
    && isJsonObject(value.payload) && isFiniteNumber(value.expiresAt)
    && (value.owner === undefined || isFiniteNumber(value.owner));
}

function isSessionValue(value: unknown): value is SessionValue {
  return isObject(value) && isSessionRecord(value.record) && isVersion(value.created);
}

type Found = { record: SessionRecord; version: Version } | undefined;

/** A lookup's answer as a peer sent it; anything malformed counts as not found. */
function readFound(value: unknown): Found {
  return isObject(value) && isSessionRecord(value.record) && isVersion(value.version)
    ? { record: value.record, version: value.version }
    : undefined;
}

/** One member's answer to 'index': its total and its oldest [id, created.ts, created.node] triples. */
function readIndex(value: unknown): { total: number; keys: Array<[string, number, number]> } {
  if (!isObject(value) || !isFiniteNumber(value.total) || !Array.isArray(value.keys)) return { total: 0, keys: [] };
  const keys = value.keys.filter((k): k is [string, number, number] => Array.isArray(k) && isString(k[0])
    && isFiniteNumber(k[1]) && isFiniteNumber(k[2]));
  return { total: value.total, keys };
}

export class PeerSessionStore implements SessionStore {
  readonly store: PeerRecordStore<SessionValue>;
  readonly sync: RecordSync<SessionValue>;
  readonly #byUid = new Map<string, string>();
  readonly #byUser = new Map<string, Set<string>>();
  readonly #put;
  readonly #delete;
  readonly #uidAtOwner;
  readonly #uidEverywhere;
  readonly #index;
  readonly #count;

  constructor(context: PeerContext, pager: Pager) {
    const store = new PeerRecordStore<SessionValue>({
      service: 'sessions', context, maxEntries: context.limits.maxSessions, policy: 'lru', ownerBased: true,
      isValue: isSessionValue,
      onStored: (id, value) => this.#indexSession(id, value.record),
      onRemoved: (id, value) => this.#unindexSession(id, value.record),
    });
    this.store = store;
    this.sync = new RecordSync(store, pager);
    this.#put = store.mutation('put', {
      parse: (args) => ({ record: argument(args, 'record', isSessionRecord) }),
      result: () => null,
      mutate: (current, { record }, { version }) => ({
        change: { set: { record, created: current?.value?.created ?? version }, expiresAt: record.expiresAt },
        result: null,
      }),
    });
    this.#delete = store.mutation('delete', { parse: () => ({}), result: () => null, mutate: () => ({ change: 'delete', result: null }) });
    this.#uidAtOwner = store.lookup('findByUid', (f) => ({ uid: str(f, 'uid') }), ({ uid }) => this.#foundByUid(uid));
    this.#uidEverywhere = store.query('findOwnedByUid', (f) => ({ uid: str(f, 'uid') }),
      ({ uid }, live) => this.#foundByUid(uid, live));
    this.#index = store.query('index', (f) => ({ userId: optStr(f, 'userId'), first: optNum(f, 'first') }),
      (args, live) => this.#ownedIndex(args.userId, args.first, live));
    this.#count = store.query('count', () => ({}), (_args, live) => this.#ownedCount(live));
    store.handle('fetch', (fields) => ({ records: this.#fetchLocal(arr(fields, 'ids')) }));
  }

  async put(record: SessionRecord): Promise<void> {
    requireExpiry(record.expiresAt);
    const copy = structuredClone(record);
    await this.#put(copy.id, { record: copy });
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    return (await this.store.read(id))?.value?.record;
  }

  async findByUid(uid: string): Promise<SessionRecord | undefined> {
    // A uid created by a node of the group is answered where that node's sessions live; any other is looked for
    // everywhere (one message per member).
    const owner = ownerIndexOf(uid);
    const route = owner === undefined ? undefined : this.store.routeByOwner(owner);
    if (route !== undefined) return readFound(await this.#uidAtOwner(route, { uid }))?.record;
    let newest: Found;
    for (const answer of await this.#uidEverywhere({ uid })) {
      const found = readFound(answer.result);
      if (found && (newest === undefined || compareVersions(found.version, newest.version) > 0)) newest = found;
    }
    return newest?.record;
  }

  async delete(id: string): Promise<void> {
    await this.#delete(id, {});
  }

  async listByUser(userId: string): Promise<SessionRecord[]> {
    return (await this.list({ userId })).items;
  }

  async list(options: SessionListOptions = {}): Promise<{ total: number; items: SessionRecord[] }> {
    const { offset, limit } = pageOf(options);
    // Two rounds keep messages small: first every member's (id, created) for its oldest offset + limit sessions,
    // then the records of the requested page only, from the members that own them.
    const first = limit === Infinity ? null : offset + limit;
    const answers = await this.#index({ userId: options.userId, first: first ?? undefined });
    let total = 0;
    const keys: Array<{ id: string; created: Version; member: number }> = [];
    for (const { index, result } of answers) {
      const answer = readIndex(result);
      total += answer.total;
      for (const [id, ts, node] of answer.keys) keys.push({ id, created: { ts, node }, member: index });
    }
    keys.sort((a, b) => compareVersions(a.created, b.created));
    const page = keys.slice(offset, first ?? undefined);
    const records = await this.#fetch(page);
    return { total, items: page.flatMap(({ id }) => records.get(id) ?? []) };
  }

  /** Sessions alive in the whole share group: the sum of what each member is acting owner of. */
  async count(): Promise<number> {
    return (await this.#count({})).reduce((sum, { result }) => sum + (typeof result === 'number' ? result : 0), 0);
  }

  /** Same as count(): named for callers that want to be explicit next to countOwned(). */
  async countClusterWide(): Promise<number> {
    return this.count();
  }

  /** Sessions this node is acting owner of: the figure for this node's own metrics (sums to countClusterWide()). */
  async countOwned(): Promise<number> {
    return this.#ownedCount(this.store.context.view.liveness());
  }

  close(): void {
    this.sync.close();
    this.store.close();
  }

  #foundByUid(uid: string, ownedIn?: LiveSnapshot): Found {
    const id = this.#byUid.get(uid);
    if (id === undefined || (ownedIn !== undefined && !this.store.isActingOwner(id, ownedIn))) return undefined;
    const entry = this.store.map.get(id);
    return entry?.value ? { record: entry.value.record, version: entry.version } : undefined;
  }

  #ownedIndex(userId: string | undefined, first: number | undefined, live: LiveSnapshot) {
    const owned: Array<[id: string, ts: number, node: number]> = [];
    const consider = (id: string) => {
      const value = this.store.map.peek(id)?.value;
      if (value && this.store.isActingOwner(id, live)) owned.push([id, value.created.ts, value.created.node]);
    };
    if (userId === undefined) for (const [id] of this.store.map.liveEntries()) consider(id);
    else for (const id of this.#byUser.get(userId) ?? []) consider(id);
    owned.sort((a, b) => compareVersions({ ts: a[1], node: a[2] }, { ts: b[1], node: b[2] }));
    return { total: owned.length, keys: first === undefined ? owned : owned.slice(0, first) };
  }

  #ownedCount(live: LiveSnapshot): number {
    let n = 0;
    for (const [id] of this.store.map.liveEntries()) if (this.store.isActingOwner(id, live)) n++;
    return n;
  }

  #fetchLocal(ids: unknown[]): Array<[string, SessionRecord]> {
    const found: Array<[string, SessionRecord]> = [];
    for (const id of ids) {
      const value = typeof id === 'string' ? this.store.map.peek(id)?.value : undefined;
      if (value) found.push([value.record.id, value.record]);
    }
    return found;
  }

  /** The records of `page`, asked from the member that listed each; sessions deleted meanwhile are left out. */
  async #fetch(page: Array<{ id: string; member: number }>): Promise<Map<string, SessionRecord>> {
    const byMember = new Map<number, string[]>();
    for (const { id, member } of page) {
      let ids = byMember.get(member);
      if (ids === undefined) byMember.set(member, (ids = []));
      ids.push(id);
    }
    const records = new Map<string, SessionRecord>();
    await Promise.all([...byMember].map(async ([member, ids]) => {
      for (let at = 0; at < ids.length; at += FETCH_BATCH) {
        const batch = ids.slice(at, at + FETCH_BATCH);
        let found: unknown[];
        if (member === this.store.self) found = structuredClone(this.#fetchLocal(batch));
        else {
          try {
            found = arr(envelope(await this.store.call(member, 'fetch', { ids: batch })), 'records');
          } catch (error) {
            throw unavailable(error, `sessions: member ${member} did not answer`);
          }
        }
        for (const item of found) {
          if (Array.isArray(item) && isSessionRecord(item[1])) records.set(item[1].id, item[1]);
        }
      }
    }));
    return records;
  }

  #indexSession(id: string, record: SessionRecord): void {
    this.#byUid.set(record.uid, id);
    if (record.userId === undefined) return;
    let ids = this.#byUser.get(record.userId);
    if (ids === undefined) this.#byUser.set(record.userId, (ids = new Set()));
    ids.add(id);
  }

  #unindexSession(id: string, record: SessionRecord): void {
    if (this.#byUid.get(record.uid) === id) this.#byUid.delete(record.uid);
    if (record.userId === undefined) return;
    const ids = this.#byUser.get(record.userId);
    ids?.delete(id);
    if (ids?.size === 0) this.#byUser.delete(record.userId);
  }
}
