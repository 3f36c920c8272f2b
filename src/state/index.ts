// Chooses the backend of each state service from configuration: `auto` is local on a standalone node and peer in
// a cluster; a service may be pinned to local (e.g. interRequest behind a sticky balancer). Redis arrives with the
// real-engines work and is refused with a clear message until then.
import type { CohortConfig } from '../config/types.js';
import type { ClusterRpc } from '../cluster/types.js';
import type { Logger } from '../ops/logger.js';
import { parseIndexList } from '../cluster/from-config.js';
import { createLocalStateServices } from './local/index.js';
import { createPeerStateServices } from './peer/index.js';
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
}

export class StateConfigError extends Error {
  readonly code = 'STATE_CONFIG';
}

export function resolveBackend(config: CohortConfig, service: StateServiceName): 'local' | 'peer' {
  const chosen = config.state.backend[service];
  if (chosen === 'cookie') throw new StateConfigError(`state.backend.${service} = cookie is not available in this version; use local or peer`);
  if (chosen === 'redis') throw new StateConfigError(`state.backend.${service} = redis is not available in this version; use local or peer`);
  if (chosen === 'auto') return config.node.role === 'standalone' ? 'local' : 'peer';
  return chosen;
}

export function createNodeState(config: CohortConfig, cluster: ClusterRpc | undefined, logger?: Logger): NodeState {
  const local = createLocalStateServices(config.state.local);
  const backends = new Map(STATE_SERVICE_NAMES.map((s) => [s, resolveBackend(config, s)] as const));
  if (![...backends.values()].includes('peer')) {
    return {
      services: local,
      catchUp: async () => ({ completed: true, records: 0, ms: 0 }),
      liveSessions: () => local.sessions.count(),
      checkSynced: () => undefined,
    };
  }
  if (!cluster) throw new StateConfigError('the peer state backend needs a cluster role (node.role engine or console)');
  const peer = createPeerStateServices({
    rpc: cluster,
    limits: config.state.local,
    failoverPeers: config.cluster.failoverPeers,
    preferredNodes: Object.fromEntries(STATE_SERVICE_NAMES.map((s) => [s, parseIndexList(config.state.preferredNodes[s])])) as Record<StateServiceName, number[]>,
    majorityOnly: config.cluster.majorityOnly,
    rpcTimeoutMs: config.cluster.rpcTimeoutMs,
    bulkTimeoutMs: config.cluster.bulkTimeoutMs,
    readLocalOnly: true,
    ...(logger ? { logger } : {}),
  });
  const pick = <S extends StateServiceName>(s: S): StateServices[S] => (backends.get(s) === 'peer' ? peer[s] : local[s]);
  const services: StateServices = {
    sessions: pick('sessions'),
    interRequest: pick('interRequest'),
    tokens: pick('tokens'),
    replay: pick('replay'),
    artifacts: pick('artifacts'),
    registry: pick('registry'),
    revocations: pick('revocations'),
    loginFailures: pick('loginFailures'),
    async close() {
      await peer.close();
      await local.close();
    },
  };
  return {
    services,
    catchUp: () => peer.catchUp(),
    liveSessions: () => (backends.get('sessions') === 'peer' ? peer.sessions.countOwned() : local.sessions.count()),
    held: async () => peer.stats(),
    checkSynced: () => {
      if (!peer.ready) throw new Error('still copying state from the cluster (retrying in the background)');
    },
  };
}
