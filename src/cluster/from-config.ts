// The cluster layer's configuration, taken from the one configuration schema (cluster.* and node.*).
import type { CohortConfig } from '../config/types.js';
import type { ClusterConfig } from './config.js';
import { readClusterSecret } from './secret-file.js';
import type { ClusterStatus as CoreStatus } from './types.js';
import type { ClusterStatus as StatusBodyCluster } from '../ops/status.js';

export function clusterConfigFrom(config: CohortConfig): ClusterConfig {
  if (config.node.role === 'standalone') throw new Error('a standalone node has no cluster configuration');
  const c = config.cluster;
  return {
    name: c.name,
    index: config.node.index,
    role: config.node.role,
    bindHost: c.bindHost,
    port: c.port,
    advertiseHost: c.advertiseHost,
    initialHosts: c.initialHosts.split(',').map((h) => h.trim()).filter(Boolean),
    secret: readClusterSecret(config.dataDir, c.secret),
    heartbeatIntervalMs: c.heartbeatIntervalMs,
    failureTimeoutMs: c.failureTimeoutMs,
    rpcTimeoutMs: c.rpcTimeoutMs,
    majorityOnly: c.majorityOnly,
    failoverPeers: c.failoverPeers,
    maxFrameBytes: c.maxFrameBytes,
  };
}

/** The cluster layer's view, in the shape /status/v2 publishes (ClusterStatus). */
export function statusBodyOf(status: CoreStatus): StatusBodyCluster {
  return {
    readOnly: status.readOnly,
    state: status.state,
    configuredMembers: status.configuredMembers,
    reachableMembers: status.reachableMembers,
    members: status.members.map((m) => ({
      index: m.index, address: m.address, role: m.role, state: m.state,
      lastHeard: new Date(m.lastHeard).toISOString(), version: m.version, self: m.self,
    })),
  };
}

/** Parses a preferredNodes value: '' = every node. */
export function parseIndexList(value: string): number[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
}
