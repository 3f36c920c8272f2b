// Chooses the backend of each state service from configuration: `auto` is local on a standalone node and peer in
// a cluster; a service may be pinned to local (e.g. interRequest behind a sticky balancer), interRequest may live in
// encrypted browser cookies (state/cookie), any service may live in Redis/Valkey (state/redis), which every node
// shares with no peer RPC, and sessions may live in the durable store's PostgreSQL database (state/postgres).
import { mixServices } from './mix.js';
import type { CohortConfig } from '../config/types.js';
import type { ClusterRpc } from '../cluster/types.js';
import type { Logger } from '../ops/logger.js';
import { parseIndexList } from '../cluster/from-config.js';
import { createLocalStateServices } from './local/index.js';
import { createPeerStateServices } from './peer/index.js';
import { createRedisStateServices, overlayRedis, redisOptionsFromConfig } from './redis/index.js';
import { createCookieInterRequest, withCookieInterRequest } from './cookie/index.js';
import { overlayPostgresSessions, PostgresSessionStore, postgresSessionOptionsFromConfig } from './postgres/index.js';
import { STATE_SERVICE_NAMES, type StateServiceName, type StateServices } from './types.js';

export interface NodeState {
  services: StateServices;
  /** Copies what this node must hold from its peers; resolves when done or when bulkTimeoutMs ran out. */
  catchUp(): Promise<{ completed: boolean; records: number; ms: number }>;
  /** Sessions this node answers for (its own in a cluster, so the per-node figures add up); O(n), for metrics. */
  liveSessions(): Promise<number>;
  /** Throws while this node's copy of cluster state is incomplete (status detail, not a reason to leave the pool). */
  checkSynced(): void;
  /** Records held per service (peer backend), for /status/v2; undefined when every service is local. */
  held?: () => Promise<Record<string, unknown>>;
  /** Health checks of external services the state depends on (redis), for the node to register with its status. */
  checks?: Array<{ name: string; critical: boolean; check(): Promise<void> }>;
  /** Stops (or resumes) placing records on member `index`, for its maintenance (peer backend only). */
  excludeFromPlacement?: (index: number, excluded: boolean) => void;
}

export class StateConfigError extends Error {
  readonly code = 'STATE_CONFIG';
}

export function resolveBackend(config: CohortConfig, service: StateServiceName): 'local' | 'peer' | 'cookie' | 'redis' | 'postgres' {
  const chosen = config.state.backend[service];
  if (chosen === 'cookie' && service !== 'interRequest') throw new StateConfigError(`state.backend.${service} = cookie: only interRequest can live in cookies`);
  if (chosen === 'postgres' && service !== 'sessions') throw new StateConfigError(`state.backend.${service} = postgres: only sessions can live in PostgreSQL`);
  if (chosen === 'auto') return config.node.role === 'standalone' ? 'local' : 'peer';
  return chosen;
}

export function createNodeState(config: CohortConfig, cluster: ClusterRpc | undefined, logger?: Logger): NodeState {
  if (resolveBackend(config, 'interRequest') !== 'cookie') return createServiceState(config, cluster, logger);
  // Cookie mode replaces the interRequest service built below (a local one, never used) and joins catch-up. Built
  // first: a bad state.cookie.staticKey is refused before any other service starts.
  const cookie = createCookieInterRequest(config, cluster, logger);
  try {
    return withCookieInterRequest(createServiceState(config, cluster, logger), cookie);
  } catch (err) {
    cookie.ring.close();
    throw err;
  }
}

function createServiceState(config: CohortConfig, cluster: ClusterRpc | undefined, logger?: Logger): NodeState {
  const backends = new Map(STATE_SERVICE_NAMES.map((s) => [s, resolveBackend(config, s)] as const));
  // A service configured redis takes its local counterpart's place, so everything below picks it as a local one.
  const redis = [...backends.values()].includes('redis') ? createRedisStateServices(redisOptionsFromConfig(config, logger)) : undefined;
  // Sessions configured postgres take the local store's place the same way (the pool connects lazily).
  const pgSessions = backends.get('sessions') === 'postgres'
    ? new PostgresSessionStore(postgresSessionOptionsFromConfig(config, (err) =>
      logger?.warn({ event: 'state.postgres_purge_failed', err: String(err) }, 'purging expired sessions failed; retrying later')))
    : undefined;
  const local = overlayPostgresSessions(
    overlayRedis(createLocalStateServices(config.state.local), redis, (s) => backends.get(s) === 'redis'), pgSessions);
  const checks = redis ? [{ name: 'redis', critical: true, check: () => redis.ping() }] : undefined;
  // Starting nodes wait (bounded) for Redis before they call themselves ready; if it stays away, the critical
  // health check keeps lbstatus at 503 until it answers.
  const redisReady = async () => {
    await redis?.waitReady(config.cluster.bulkTimeoutMs).catch(() => undefined);
  };
  if (![...backends.values()].includes('peer')) {
    return {
      services: local,
      catchUp: async () => {
        const started = Date.now();
        await redisReady();
        return { completed: true, records: 0, ms: Date.now() - started };
      },
      liveSessions: () => local.sessions.count(),
      checkSynced: () => undefined,
      checks,
    };
  }
  if (!cluster) {
    void local.close();
    throw new StateConfigError('the peer state backend needs a cluster role (node.role engine or console)');
  }
  const peer = createPeerStateServices({
    rpc: cluster,
    limits: config.state.local,
    failoverPeers: config.cluster.failoverPeers,
    preferredNodes: Object.fromEntries(STATE_SERVICE_NAMES.map((s) => [s, parseIndexList(config.state.preferredNodes[s])])) as Record<StateServiceName, number[]>,
    majorityOnly: config.cluster.majorityOnly,
    rpcTimeoutMs: config.cluster.rpcTimeoutMs,
    bulkTimeoutMs: config.cluster.bulkTimeoutMs,
    readLocalOnly: config.state.revocationsReadLocalOnly,
    ...(logger ? { logger } : {}),
  });
  const services = mixServices((s) => (backends.get(s) === 'peer' ? peer[s] : local[s]), [peer, local]);
  return {
    services,
    catchUp: async () => {
      await redisReady();
      return peer.catchUp();
    },
    liveSessions: () => (backends.get('sessions') === 'peer' ? peer.sessions.countOwned() : local.sessions.count()),
    held: async () => peer.stats(),
    checks,
    excludeFromPlacement: (index, excluded) => peer.exclude(index, excluded),
    checkSynced: () => {
      if (!peer.ready) throw new Error('still copying state from the cluster (retrying in the background)');
    },
  };
}
