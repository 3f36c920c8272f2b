// Read-only views of a published version's records, in the shape the protocol layers read them through, so an
// engine running version N answers from exactly N's clients and service providers, never from its live tables.
import type { ClientRecord, ClientStore, KeyRecord, ServiceProviderRecord, ServiceProviderStore } from '../store/types.js';

export function clientView(clients: readonly ClientRecord[]): Pick<ClientStore, 'get' | 'list'> {
  const byId = new Map(clients.map((c) => [c.clientId, c]));
  return {
    get: async (clientId) => (typeof clientId === 'string' ? byId.get(clientId) : undefined),
    list: async () => [...clients],
  };
}

export function serviceProviderView(sps: readonly ServiceProviderRecord[]): Pick<ServiceProviderStore, 'get' | 'list'> {
  const byId = new Map(sps.map((s) => [s.entityId, s]));
  return {
    get: async (entityId) => (typeof entityId === 'string' ? byId.get(entityId) : undefined),
    list: async () => [...sps],
  };
}

/** Live keys of one use, newest first (the first signs; the others still verify until retired). */
export function liveKeys(keys: readonly KeyRecord[], use: KeyRecord['use']): KeyRecord[] {
  return keys.filter((k) => k.use === use && !k.retired)
    .sort((a, b) => b.createdAt - a.createdAt || (a.kid < b.kid ? -1 : 1));
}
