// Which relying parties and service providers each session reached, for single logout; shared by the group and
// placed exactly like the session it belongs to (the session id carries its owner), so logout finds it wherever
// the session is. add() merges at the acting owner, so two nodes adding participants at once both land.
import type { Participant, SessionRegistry } from '../types.js';
import type { PeerContext } from './options.js';
import type { Pager } from './pager.js';
import { PeerRecordStore } from './peer-record-store.js';
import { RecordSync } from './record-sync.js';
import { argument, isFiniteNumber, isJsonObject, isString, requireExpiry } from './values.js';
import { isObject } from './wire.js';

function isParticipant(value: unknown): value is Participant {
  return isObject(value) && (value.protocol === 'oidc' || value.protocol === 'saml') && isString(value.clientId)
    && (value.details === undefined || isJsonObject(value.details));
}

function isParticipantList(value: unknown): value is Participant[] {
  return Array.isArray(value) && value.every(isParticipant);
}

const none = () => null;

export class PeerSessionRegistry implements SessionRegistry {
  readonly store: PeerRecordStore<Participant[]>;
  readonly sync: RecordSync<Participant[]>;
  readonly #add;
  readonly #remove;

  constructor(context: PeerContext, pager: Pager) {
    const store = new PeerRecordStore<Participant[]>({
      service: 'registry', context, maxEntries: context.limits.maxRegistryEntries, policy: 'lru', ownerBased: true,
      isValue: isParticipantList,
    });
    this.store = store;
    this.sync = new RecordSync(store, pager);
    this.#add = store.mutation('add', {
      parse: (args) => ({
        participant: argument(args, 'participant', isParticipant),
        expiresAt: argument(args, 'expiresAt', isFiniteNumber),
      }),
      result: none,
      // Deduplicated by protocol + clientId: the latest details win, the first place is kept. The entry lives until
      // the latest expiry any add gave it, so a shorter one never cuts off participants logout must still reach.
      mutate: (current, { participant, expiresAt }) => {
        const participants = [...current?.value ?? []];
        const at = participants.findIndex((p) => p.protocol === participant.protocol && p.clientId === participant.clientId);
        if (at === -1) participants.push(participant);
        else participants[at] = participant;
        return { change: { set: participants, expiresAt: Math.max(current?.expiresAt ?? -Infinity, expiresAt) }, result: null };
      },
    });
    this.#remove = store.mutation('remove', { parse: () => ({}), result: none, mutate: () => ({ change: 'delete', result: null }) });
  }

  async add(sessionId: string, participant: Participant, expiresAt: number): Promise<void> {
    requireExpiry(expiresAt);
    await this.#add(sessionId, { participant: structuredClone(participant), expiresAt });
  }

  async list(sessionId: string): Promise<Participant[]> {
    return (await this.store.read(sessionId))?.value ?? [];
  }

  async remove(sessionId: string): Promise<void> {
    await this.#remove(sessionId, {});
  }

  close(): void {
    this.sync.close();
    this.store.close();
  }
}
