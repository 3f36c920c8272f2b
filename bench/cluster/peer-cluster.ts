// Three ClusterNodes in this process on 127.0.0.1 (ephemeral ports, real TLS-PSK back channel, a fresh random
// cluster secret, production heartbeat and RPC timings), each running the peer state backend with one failover peer.
// Node 0 is the owner of every session the benchmarks create; placement names its replica and the node that holds
// nothing, which is checked rather than assumed.
import { randomBytes } from 'node:crypto';
import { startCluster, stopAll } from '../../src/cluster/cluster-harness.js';
import {
  DEFAULT_FAILURE_TIMEOUT_MS, DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_RPC_TIMEOUT_MS,
} from '../../src/cluster/config.js';
import type { ClusterNode } from '../../src/cluster/node.js';
import { DEFAULT_LOCAL_LIMITS, type LocalLimits } from '../../src/state/local/index.js';
import { createPeerStateServices, type PeerLogger, type PeerStateServices } from '../../src/state/peer/index.js';
import { routedId } from '../../src/state/routed-id.js';

/** Counts the warnings the peer backend logs; a failed replica write is logged, and put() still resolves. */
export class CountingLogger implements PeerLogger {
  replicaFailures = 0;
  warnings = 0;
  readonly samples: string[] = [];
  warn(details: Record<string, unknown>, message: string): void {
    this.warnings++;
    if (message.startsWith('state replica write failed')) this.replicaFailures++;
    if (this.samples.length < 5) this.samples.push(`${message} ${JSON.stringify(details)}`.slice(0, 300));
  }
  info(): void {}
}

export const OWNER = 0;

export interface PeerCluster {
  nodes: ClusterNode[];
  /** Per node index; an entry is undefined once dropService() closed it. */
  services: Array<PeerStateServices | undefined>;
  logger: CountingLogger;
  /** The node that holds node 0's sessions besides node 0. */
  replica: number;
  /** The node that holds none of them: its puts are forwarded to the owner. */
  bystander: number;
  /** Closes one node's state services and forgets them, so their records can be garbage-collected. */
  dropService(index: number): Promise<void>;
  close(): Promise<void>;
}

export async function startPeerCluster(maxSessions: number): Promise<PeerCluster> {
  const nodes = await startCluster(3, {
    name: 'bench', secret: randomBytes(32).toString('base64url'),
    heartbeatIntervalMs: DEFAULT_HEARTBEAT_INTERVAL_MS, failureTimeoutMs: DEFAULT_FAILURE_TIMEOUT_MS,
    rpcTimeoutMs: DEFAULT_RPC_TIMEOUT_MS,
  });
  const logger = new CountingLogger();
  const limits: LocalLimits = { ...DEFAULT_LOCAL_LIMITS, maxSessions: Math.max(DEFAULT_LOCAL_LIMITS.maxSessions, maxSessions) };
  const services: Array<PeerStateServices | undefined> = nodes.map((rpc) => createPeerStateServices({
    rpc, limits, failoverPeers: 1, logger,
  }));
  const close = async () => {
    await Promise.allSettled(services.map((s) => s?.close()));
    services.fill(undefined);
    await stopAll(nodes);
  };
  try {
    const results = await Promise.all(services.map((s) => s!.catchUp()));
    if (!results.every((r) => r.completed)) throw new Error('peer state catch-up did not complete on every node');
    const route = services[OWNER]!.sessions.store.route(routedId(OWNER));
    if (route.acting !== OWNER || route.holders.length !== 2) {
      throw new Error(`unexpected placement of node ${OWNER}'s sessions: acting ${route.acting}, holders ${route.holders.join(',')}`);
    }
    const replica = route.holders.find((i) => i !== OWNER)!;
    const bystander = [0, 1, 2].find((i) => !route.holders.includes(i))!;
    return {
      nodes, services, logger, replica, bystander, close,
      async dropService(index) {
        await services[index]?.close();
        services[index] = undefined;
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}
