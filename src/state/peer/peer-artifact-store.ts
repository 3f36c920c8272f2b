// SAML messages behind an artifact, shared by the group: held by the node whose index the handle carries (the
// issuer) and its failover peers, so any node resolves an artifact and a dead issuer's artifacts still resolve.
// take() is one-time: it runs at the acting owner only, on the quorum side.
import type { ArtifactStore } from '../types.js';
import type { PeerContext } from './options.js';
import type { Pager } from './pager.js';
import { PeerRecordStore } from './peer-record-store.js';
import { RecordSync } from './record-sync.js';
import { argument, isFiniteNumber, isString, requireExpiry } from './values.js';
import { PeerProtocolError } from './wire.js';

export class PeerArtifactStore implements ArtifactStore {
  readonly store: PeerRecordStore<string>;
  readonly sync: RecordSync<string>;
  readonly #put;
  readonly #take;

  constructor(context: PeerContext, pager: Pager) {
    const store = new PeerRecordStore<string>({
      service: 'artifacts', context, maxEntries: context.limits.maxArtifacts, policy: 'fifo', ownerBased: true,
      isValue: isString,
    });
    this.store = store;
    this.sync = new RecordSync(store, pager);
    this.#put = store.mutation('put', {
      parse: (args) => ({ message: argument(args, 'message', isString), expiresAt: argument(args, 'expiresAt', isFiniteNumber) }),
      result: () => null,
      mutate: (_current, { message, expiresAt }) => ({ change: { set: message, expiresAt }, result: null }),
    });
    this.#take = store.mutation('take', {
      oneTime: true,
      parse: () => ({}),
      result: (value): string | null => {
        if (value !== null && typeof value !== 'string') throw new PeerProtocolError('take answered a non-string');
        return value;
      },
      mutate: (current) => (current?.value == null
        ? { result: null }
        : { change: 'delete', result: current.value }),
    });
  }

  async put(handle: string, message: string, expiresAt: number): Promise<void> {
    requireExpiry(expiresAt);
    await this.#put(handle, { message, expiresAt });
  }

  async take(handle: string): Promise<string | undefined> {
    return (await this.#take(handle, {})) ?? undefined;
  }

  close(): void {
    this.sync.close();
    this.store.close();
  }
}
