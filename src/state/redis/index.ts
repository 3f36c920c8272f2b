// The redis backend: every state service in Redis or Valkey (standalone, Sentinel or Cluster), so stateless nodes
// share all runtime state with no peer RPC. One connection serves all eight services; keys.ts is the key layout,
// scripts.ts the atomic operations, connection.ts the outage rules (fail fast with StateUnavailableError, never
// hang or crash, reconnect by itself). Needs Redis 6.2+ (SET PXAT, GETDEL) or any Valkey, and a server that never
// evicts (maxmemory-policy noeviction, the default): every key here has a TTL, so even volatile-* policies would
// evict replay markers, revocations or one-time codes early; with noeviction a full server refuses writes (503).
//
// Lifecycle: create (connects in the background), optionally waitReady(); ping() is the health check;
// close() ends the connections.
import type { CohortConfig } from '../../config/types.js';
import { DEFAULT_LOCAL_LIMITS, DEFAULT_MAX_FAILURES_PER_KEY, type LocalLimits } from '../local/index.js';
import { systemClock, type Clock, type StateServiceName, type StateServices } from '../types.js';
import { mixServices } from '../mix.js';
import { RedisConnection, type RedisAddress, type RedisConnectionOptions, type RedisLogger } from './connection.js';
import type { RedisContext } from './context.js';
import { DEFAULT_KEY_PREFIX, KeyLayout } from './keys.js';
import { RedisArtifactStore } from './redis-artifact-store.js';
import { RedisInterRequestStore } from './redis-inter-request-store.js';
import { RedisLoginFailureCounter } from './redis-login-failure-counter.js';
import { RedisReplayCache } from './redis-replay-cache.js';
import { RedisRevocationList } from './redis-revocation-list.js';
import { RedisSessionRegistry } from './redis-session-registry.js';
import { RedisSessionStore } from './redis-session-store.js';
import { RedisTokenStore } from './redis-token-store.js';

export { DEFAULT_COMMAND_TIMEOUT_MS, DEFAULT_REDIS_URL, RedisConnection, toStateError } from './connection.js';
export type { RedisAddress, RedisConnectionOptions, RedisLogger } from './connection.js';
export { checkKeyPrefix, DEFAULT_KEY_PREFIX, KeyLayout } from './keys.js';
export type { RevocationEvent } from './redis-revocation-list.js';
export {
  RedisArtifactStore, RedisInterRequestStore, RedisLoginFailureCounter, RedisReplayCache, RedisRevocationList,
  RedisSessionRegistry, RedisSessionStore, RedisTokenStore,
};

export interface RedisStateOptions extends RedisConnectionOptions {
  /** Prepended to every key and channel, so several clusters can share one Redis. @default DEFAULT_KEY_PREFIX */
  keyPrefix?: string;
  /**
   * The entry caps of state.local.*; only maxRevocations applies here (the FIFO cap every backend shares). Redis
   * bounds the rest itself: every record has a TTL, and maxmemory is the operator's cap. @default DEFAULT_LOCAL_LIMITS
   */
  limits?: Pick<LocalLimits, 'maxRevocations'>;
  /** Most failure timestamps kept per login-failure key. @default DEFAULT_MAX_FAILURES_PER_KEY */
  maxFailuresPerKey?: number;
  /** Decides whether a caller's expiry has already passed. @default systemClock */
  clock?: Clock;
}

export interface RedisStateServices extends StateServices {
  sessions: RedisSessionStore;
  interRequest: RedisInterRequestStore;
  tokens: RedisTokenStore;
  replay: RedisReplayCache;
  artifacts: RedisArtifactStore;
  registry: RedisSessionRegistry;
  revocations: RedisRevocationList;
  loginFailures: RedisLoginFailureCounter;
  /** Resolves when Redis answers PING within commandTimeoutMs; rejects with StateUnavailableError otherwise. */
  ping(): Promise<void>;
  /** Resolves once connected; rejects with StateUnavailableError after `timeoutMs`. */
  waitReady(timeoutMs: number): Promise<void>;
}

/** Builds every service on one new connection. Throws RangeError on a bad option; never waits for Redis. */
export function createRedisStateServices(options: RedisStateOptions = {}): RedisStateServices {
  const keys = new KeyLayout(options.keyPrefix ?? DEFAULT_KEY_PREFIX);
  const limits = options.limits ?? DEFAULT_LOCAL_LIMITS;
  const conn = new RedisConnection(options);
  const context: RedisContext = { conn, keys, clock: options.clock ?? systemClock };
  try {
    return {
      sessions: new RedisSessionStore(context),
      interRequest: new RedisInterRequestStore(context),
      tokens: new RedisTokenStore(context),
      replay: new RedisReplayCache(context),
      artifacts: new RedisArtifactStore(context),
      registry: new RedisSessionRegistry(context),
      revocations: new RedisRevocationList(context, limits.maxRevocations),
      loginFailures: new RedisLoginFailureCounter(context, options.maxFailuresPerKey ?? DEFAULT_MAX_FAILURES_PER_KEY),
      ping: () => conn.ping(),
      waitReady: (timeoutMs) => conn.waitReady(timeoutMs),
      close: () => conn.close(),
    };
  } catch (error) {
    void conn.close();
    throw error;
  }
}

/**
 * `base` with the named services taken from `redis` instead; close() closes both. How the node wiring mixes
 * backends per service: a service configured `redis` simply takes its local counterpart's place.
 */
export function overlayRedis(base: StateServices, redis: RedisStateServices | undefined,
  chosen: (service: StateServiceName) => boolean): StateServices {
  if (redis === undefined) return base;
  return mixServices((s) => (chosen(s) ? redis[s] : base[s]), [redis, base]);
}

/** The options state.redis.* and state.local.maxRevocations describe (config/schema.ts documents each knob). */
export function redisOptionsFromConfig(config: CohortConfig, logger?: RedisLogger): RedisStateOptions {
  const r = config.state.redis;
  const sentinels = parseAddresses(r.sentinels);
  const common: RedisStateOptions = {
    url: r.url,
    ...(r.password ? { password: r.password } : {}),
    keyPrefix: r.keyPrefix,
    commandTimeoutMs: r.commandTimeoutMs,
    limits: { maxRevocations: config.state.local.maxRevocations },
    ...(logger ? { logger } : {}),
  };
  if (r.cluster) {
    const seed = new URL(r.url);
    return { ...common, clusterNodes: [{ host: seed.hostname.replace(/^\[|\]$/g, ''), port: Number(seed.port || 6379) }] };
  }
  return sentinels.length > 0 ? { ...common, sentinels, sentinelName: r.sentinelName } : common;
}

/** "host:port, [::1]:port" -> addresses; the schema has already checked the syntax. */
function parseAddresses(list: string): RedisAddress[] {
  return list.split(',').map((s) => s.trim()).filter((s) => s !== '').map((item) => {
    const colon = item.lastIndexOf(':');
    return { host: item.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(item.slice(colon + 1)) };
  });
}
