// Cookie mode of the interRequest service, wired from configuration: the store, its key ring, and how both join
// a node's state (the ring's sync is part of catch-up, so lbstatus waits for it; close stops its timer).
import type { CohortConfig } from '../../config/types.js';
import type { ClusterRpc } from '../../cluster/types.js';
import type { NodeState } from '../index.js';
import { CookieInterRequestStore } from './cookie-inter-request-store.js';
import { KeyRing, type KeyRingLogger } from './key-ring.js';

export { CookieInterRequestStore, type CookieKeySource } from './cookie-inter-request-store.js';
export { KeyRing, KeyRingConfigError, ADD_METHOD, INFO_METHOD, type CookieKey } from './key-ring.js';
export { COOKIE_PREFIX, CookieTooLargeError, MAX_COOKIE_BYTES, cookieName, kidOf } from './cookie-codec.js';

export interface CookieInterRequest {
  store: CookieInterRequestStore;
  ring: KeyRing;
}

export function createCookieInterRequest(config: CohortConfig, rpc: ClusterRpc | undefined, logger?: KeyRingLogger): CookieInterRequest {
  const { rotationSeconds, keysKept, staticKey } = config.state.cookie;
  const ring = new KeyRing({
    rotationMs: rotationSeconds * 1000,
    keysKept,
    rpcTimeoutMs: config.cluster.rpcTimeoutMs,
    ...(staticKey ? { staticKey } : {}),
    ...(rpc ? { rpc } : {}),
    ...(logger ? { logger } : {}),
  });
  return { store: new CookieInterRequestStore({ keys: ring }), ring };
}

/** `base` with its interRequest service in cookies: catch-up also syncs the key ring, close also stops it. */
export function withCookieInterRequest(base: NodeState, cookie: CookieInterRequest): NodeState {
  return {
    ...base,
    services: {
      ...base.services,
      interRequest: cookie.store,
      async close() {
        cookie.ring.close();
        await base.services.close();
      },
    },
    async catchUp() {
      const [state, keys] = await Promise.all([base.catchUp(), cookie.ring.sync()]);
      return { completed: state.completed && keys.completed, records: state.records, ms: Math.max(state.ms, keys.ms) };
    },
  };
}
