// Login-transaction state shared by the group, so a browser may come back to any node mid-login. Placed by
// rendezvous hashing on the id (oidc-provider's interaction uids carry no owner) and copied to failover peers.
import type { InterRequestStore, JsonObject } from '../types.js';
import type { PeerContext } from './options.js';
import type { Pager } from './pager.js';
import { PeerRecordStore } from './peer-record-store.js';
import { RecordSync } from './record-sync.js';
import { argument, isFiniteNumber, isJsonObject, requireExpiry } from './values.js';

const none = () => null;

export class PeerInterRequestStore implements InterRequestStore {
  readonly store: PeerRecordStore<JsonObject>;
  readonly sync: RecordSync<JsonObject>;
  readonly #put;
  readonly #delete;

  constructor(context: PeerContext, pager: Pager) {
    const store = new PeerRecordStore<JsonObject>({
      service: 'interRequest', context, maxEntries: context.limits.maxInterRequests, policy: 'lru', ownerBased: false,
      isValue: isJsonObject,
    });
    this.store = store;
    this.sync = new RecordSync(store, pager);
    this.#put = store.mutation('put', {
      parse: (args) => ({ payload: argument(args, 'payload', isJsonObject), expiresAt: argument(args, 'expiresAt', isFiniteNumber) }),
      result: none,
      mutate: (_current, { payload, expiresAt }) => ({ change: { set: payload, expiresAt }, result: null }),
    });
    this.#delete = store.mutation('delete', { parse: () => ({}), result: none, mutate: () => ({ change: 'delete', result: null }) });
  }

  async put(id: string, payload: JsonObject, expiresAt: number): Promise<void> {
    requireExpiry(expiresAt);
    await this.#put(id, { payload: structuredClone(payload), expiresAt });
  }

  async get(id: string): Promise<JsonObject | undefined> {
    return (await this.store.read(id))?.value ?? undefined;
  }

  async delete(id: string): Promise<void> {
    await this.#delete(id, {});
  }

  close(): void {
    this.sync.close();
    this.store.close();
  }
}
