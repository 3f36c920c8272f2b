// oidc-provider's models shared by the group, keyed by (model, id) and placed at the node whose index the id
// carries. consume() runs at the acting owner only, on the quorum side, so a code is redeemed once cluster-wide.
// uid, userCode and grantId indexes are kept per node over its copies: a uid or userCode that carries its creator's
// index is answered where that node's records live, any other by asking every member for what it owns; grant
// revocation asks every member to delete what it owns, and owners replicate the deletions.
import { ownerIndexOf } from '../routed-id.js';
import type { ConsumeResult, TokenRecord, TokenStore } from '../types.js';
import type { LiveSnapshot } from './cluster-view.js';
import type { PeerContext } from './options.js';
import type { Pager } from './pager.js';
import { PeerRecordStore, type MutationSpec } from './peer-record-store.js';
import { RecordSync } from './record-sync.js';
import { argument, isFiniteNumber, isJsonObject, isString, oneOf, optionalString, requireExpiry } from './values.js';
import { compareVersions, type Version } from './version.js';
import { isObject, isVersion, str, type Fields } from './wire.js';

/** Unambiguous composite key; the id comes last, so a routed id's owner suffix is the key's suffix too. */
function key(model: string, id: string): string {
  return `${model.length}:${model}:${id}`;
}

function isTokenRecord(value: unknown): value is TokenRecord {
  return isObject(value) && isString(value.model) && isString(value.id) && isJsonObject(value.payload)
    && isFiniteNumber(value.expiresAt) && optionalString(value.grantId) && optionalString(value.userCode)
    && optionalString(value.uid);
}

type Found = { record: TokenRecord; version: Version } | undefined;

function readFound(value: unknown): Found {
  return isObject(value) && isTokenRecord(value.record) && isVersion(value.version)
    ? { record: value.record, version: value.version }
    : undefined;
}

const none = () => null;

const consumeSpec: MutationSpec<TokenRecord, Fields, ConsumeResult> = {
  oneTime: true,
  parse: () => ({}),
  result: oneOf<ConsumeResult>(['consumed', 'already_consumed', 'not_found']),
  mutate: (current, _args, { now }) => {
    if (current?.value == null) return { result: 'not_found' };
    // Same test oidc-provider applies (`!!consumed`), so a record stored already consumed stays consumed.
    if (current.value.payload.consumed) return { result: 'already_consumed' };
    const payload = { ...current.value.payload, consumed: Math.floor(now / 1000) };
    return { change: { set: { ...current.value, payload }, expiresAt: current.expiresAt }, result: 'consumed' };
  },
};

const deleteSpec: MutationSpec<TokenRecord, Fields, null> = {
  parse: () => ({}), result: none, mutate: () => ({ change: 'delete', result: null }),
};

type Index = 'uid' | 'userCode';

export class PeerTokenStore implements TokenStore {
  readonly store: PeerRecordStore<TokenRecord>;
  readonly sync: RecordSync<TokenRecord>;
  /** key(model, userCode) and key(model, uid) -> key(model, id) */
  readonly #byIndex: Record<Index, Map<string, string>> = { uid: new Map(), userCode: new Map() };
  /** grantId -> keys of every model's records in that grant */
  readonly #byGrant = new Map<string, Set<string>>();
  readonly #put;
  readonly #consume;
  readonly #delete;
  readonly #findAtOwner;
  readonly #findEverywhere;
  readonly #revokeOwned;

  constructor(context: PeerContext, pager: Pager) {
    const store = new PeerRecordStore<TokenRecord>({
      service: 'tokens', context, maxEntries: context.limits.maxTokens, policy: 'lru', ownerBased: true,
      isValue: isTokenRecord,
      onStored: (k, record) => this.#indexRecord(k, record),
      onRemoved: (k, record) => this.#unindexRecord(k, record),
    });
    this.store = store;
    this.sync = new RecordSync(store, pager);
    this.#put = store.mutation('put', {
      parse: (args) => ({ record: argument(args, 'record', isTokenRecord) }),
      result: none,
      mutate: (_current, { record }) => ({ change: { set: record, expiresAt: record.expiresAt }, result: null }),
    });
    this.#consume = store.mutation('consume', consumeSpec);
    this.#delete = store.mutation('delete', deleteSpec);
    const parseFind = (f: Fields) => ({ index: oneOf<Index>(['uid', 'userCode'])(f.index), model: str(f, 'model'),
      value: str(f, 'value') });
    this.#findAtOwner = store.lookup('find', parseFind, (args) => this.#find(args.index, args.model, args.value));
    this.#findEverywhere = store.query('findOwned', parseFind,
      (args, live) => this.#find(args.index, args.model, args.value, live));
    this.#revokeOwned = store.query('revokeByGrantId', (f) => ({ grantId: str(f, 'grantId') }),
      (args, live) => this.#revokeOwnedGrant(args.grantId, live));
  }

  async put(record: TokenRecord): Promise<void> {
    requireExpiry(record.expiresAt);
    const copy = structuredClone(record);
    await this.#put(key(copy.model, copy.id), { record: copy });
  }

  async get(model: string, id: string): Promise<TokenRecord | undefined> {
    return (await this.store.read(key(model, id)))?.value ?? undefined;
  }

  async findByUserCode(model: string, userCode: string): Promise<TokenRecord | undefined> {
    return this.#lookup('userCode', model, userCode);
  }

  async findByUid(model: string, uid: string): Promise<TokenRecord | undefined> {
    return this.#lookup('uid', model, uid);
  }

  async consume(model: string, id: string): Promise<ConsumeResult> {
    return this.#consume(key(model, id), {});
  }

  async delete(model: string, id: string): Promise<void> {
    await this.#delete(key(model, id), {});
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.#revokeOwned({ grantId });
  }

  close(): void {
    this.sync.close();
    this.store.close();
  }

  async #lookup(index: Index, model: string, value: string): Promise<TokenRecord | undefined> {
    const owner = ownerIndexOf(value);
    const route = owner === undefined ? undefined : this.store.routeByOwner(owner);
    if (route !== undefined) return readFound(await this.#findAtOwner(route, { index, model, value }))?.record;
    let newest: Found;
    for (const answer of await this.#findEverywhere({ index, model, value })) {
      const found = readFound(answer.result);
      if (found && (newest === undefined || compareVersions(found.version, newest.version) > 0)) newest = found;
    }
    return newest?.record;
  }

  /** The record this node holds under `index`; with `ownedIn`, only if this node is its acting owner. */
  #find(index: Index, model: string, value: string, ownedIn?: LiveSnapshot): Found {
    const k = this.#byIndex[index].get(key(model, value));
    if (k === undefined || (ownedIn !== undefined && !this.store.isActingOwner(k, ownedIn))) return undefined;
    const entry = this.store.map.get(k);
    return entry?.value ? { record: entry.value, version: entry.version } : undefined;
  }

  /** Deletes, as acting owner, every record of the grant this node owns; the deletions replicate as usual. */
  async #revokeOwnedGrant(grantId: string, live: LiveSnapshot): Promise<number> {
    const owned = [...this.#byGrant.get(grantId) ?? []].filter((k) => this.store.isActingOwner(k, live));
    await Promise.all(owned.map((k) => this.store.mutateHere(deleteSpec, k, {})));
    return owned.length;
  }

  #indexRecord(k: string, record: TokenRecord): void {
    if (record.userCode !== undefined) this.#byIndex.userCode.set(key(record.model, record.userCode), k);
    if (record.uid !== undefined) this.#byIndex.uid.set(key(record.model, record.uid), k);
    if (record.grantId !== undefined) {
      let keys = this.#byGrant.get(record.grantId);
      if (keys === undefined) this.#byGrant.set(record.grantId, (keys = new Set()));
      keys.add(k);
    }
  }

  #unindexRecord(k: string, record: TokenRecord): void {
    for (const index of ['userCode', 'uid'] as const) {
      const value = record[index];
      if (value === undefined) continue;
      const indexKey = key(record.model, value);
      if (this.#byIndex[index].get(indexKey) === k) this.#byIndex[index].delete(indexKey);
    }
    if (record.grantId !== undefined) {
      const keys = this.#byGrant.get(record.grantId);
      keys?.delete(k);
      if (keys?.size === 0) this.#byGrant.delete(record.grantId);
    }
  }
}
