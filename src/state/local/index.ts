// The local (in-memory) backend: the standalone default, and what a node behind a sticky balancer can use per service.

import type { CohortConfig } from '../../config/types.js';
import { systemClock, type Clock, type StateServices } from '../types.js';
import { LocalArtifactStore } from './local-artifact-store.js';
import { LocalInterRequestStore } from './local-inter-request-store.js';
import { LocalLoginFailureCounter } from './local-login-failure-counter.js';
import { LocalReplayCache } from './local-replay-cache.js';
import { LocalRevocationList } from './local-revocation-list.js';
import { LocalSessionRegistry } from './local-session-registry.js';
import { LocalSessionStore } from './local-session-store.js';
import { LocalTokenStore } from './local-token-store.js';

export { BoundedMap, DEFAULT_SWEEP_BATCH, DEFAULT_SWEEP_INTERVAL_MS } from './bounded-map.js';
export type { BoundedMapOptions, EvictionPolicy, RemovalReason } from './bounded-map.js';
export type { LocalStoreOptions } from './local-store-options.js';
export { DEFAULT_MAX_FAILURES_PER_KEY } from './local-login-failure-counter.js';
export type { LocalLoginFailureCounterOptions } from './local-login-failure-counter.js';
export {
  LocalArtifactStore, LocalInterRequestStore, LocalLoginFailureCounter, LocalReplayCache, LocalRevocationList,
  LocalSessionRegistry, LocalSessionStore, LocalTokenStore,
};

export type LocalLimits = CohortConfig['state']['local'];

/**
 * Caps for the local backend. Each is an entry count, sized so a standalone node with a few GB of heap holds its
 * peak live state with room to spare; hitting a cap evicts (see each store for which entry goes first).
 */
export const DEFAULT_LOCAL_LIMITS: Readonly<LocalLimits> = Object.freeze({
  /** ~1 KB each, so ~100 MB: concurrent SSO sessions of a large organisation on one node. */
  maxSessions: 100_000,
  /** Logins in flight live minutes; 50,000 covers a login storm at hundreds per second for the interaction TTL. */
  maxInterRequests: 50_000,
  /** Codes, access and refresh tokens, grants and interactions together: a few records per session, hence 2x. */
  maxTokens: 200_000,
  /** Must exceed peak ids per second x their lifetime, or an evicted id could be replayed: ~300/s over 5 minutes. */
  maxReplayIds: 100_000,
  /** An artifact is resolved within seconds of issue; 10,000 is far beyond any back-channel backlog. */
  maxArtifacts: 10_000,
  /** One entry per session that reached a relying party, so as many as sessions. */
  maxRegistryEntries: 100_000,
  /** DESIGN.md's default; a joining node copies the whole list, so it must stay a quick bulk transfer. */
  maxRevocations: 50_000,
  /** One per user and per source address under attack; LRU keeps the keys that are still being tried. */
  maxFailureKeys: 100_000,
});

const LIMIT_NAMES = Object.keys(DEFAULT_LOCAL_LIMITS) as Array<keyof LocalLimits>;

/** Builds every state service in memory; close() stops their sweep timers. Throws RangeError on a bad limit. */
export function createLocalStateServices(limits: LocalLimits, clock: Clock = systemClock): StateServices {
  for (const name of LIMIT_NAMES) {
    const value = limits[name];
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`state.local.${name} must be a positive integer, got ${String(value)}`);
    }
  }
  const services = {
    sessions: new LocalSessionStore({ maxEntries: limits.maxSessions, clock }),
    interRequest: new LocalInterRequestStore({ maxEntries: limits.maxInterRequests, clock }),
    tokens: new LocalTokenStore({ maxEntries: limits.maxTokens, clock }),
    replay: new LocalReplayCache({ maxEntries: limits.maxReplayIds, clock }),
    artifacts: new LocalArtifactStore({ maxEntries: limits.maxArtifacts, clock }),
    registry: new LocalSessionRegistry({ maxEntries: limits.maxRegistryEntries, clock }),
    revocations: new LocalRevocationList({ maxEntries: limits.maxRevocations, clock }),
    loginFailures: new LocalLoginFailureCounter({ maxEntries: limits.maxFailureKeys, clock }),
  };
  return {
    ...services,
    async close() {
      for (const service of Object.values(services)) service.close();
    },
  };
}
