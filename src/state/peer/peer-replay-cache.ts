// Seen assertion ids, jti values and DPoP proofs, shared by the group. The check-and-set runs at the acting owner
// only (rendezvous hashing on namespace and id: nobody in the cluster created these ids) and only on the quorum side,
// so two nodes can never both accept the same id; the acting owner copies each sighting to its failover peers so a
// takeover still refuses replays.
import type { ReplayCache } from '../types.js';
import type { PeerContext } from './options.js';
import type { Pager } from './pager.js';
import { PeerRecordStore } from './peer-record-store.js';
import { RecordSync } from './record-sync.js';
import { argument, isFiniteNumber, oneOf, requireExpiry } from './values.js';

function isSeen(value: unknown): value is true {
  return value === true;
}

export class PeerReplayCache implements ReplayCache {
  readonly store: PeerRecordStore<true>;
  readonly sync: RecordSync<true>;
  readonly #checkAndSet;

  constructor(context: PeerContext, pager: Pager) {
    const store = new PeerRecordStore<true>({
      service: 'replay', context, maxEntries: context.limits.maxReplayIds, policy: 'fifo', ownerBased: false,
      isValue: isSeen,
    });
    this.store = store;
    this.sync = new RecordSync(store, pager);
    this.#checkAndSet = store.mutation('checkAndSet', {
      oneTime: true,
      parse: (args) => ({ expiresAt: argument(args, 'expiresAt', isFiniteNumber) }),
      result: oneOf([true, false]),
      // A replay does not extend the first sighting's expiry. An id already expired is reported new but not stored:
      // the caller must reject expired messages before asking (as with the local backend).
      mutate: (current, { expiresAt }) => (current !== undefined
        ? { result: false }
        : { change: { set: true, expiresAt }, result: true }),
    });
  }

  async checkAndSet(namespace: string, id: string, expiresAt: number): Promise<boolean> {
    requireExpiry(expiresAt);
    // Length prefix keeps ('a:b', 'c') apart from ('a', 'b:c').
    return this.#checkAndSet(`${namespace.length}:${namespace}:${id}`, { expiresAt });
  }

  close(): void {
    this.sync.close();
    this.store.close();
  }
}
