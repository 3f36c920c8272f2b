// The sessions and tokens case suites on three real ClusterNodes over TLS on 127.0.0.1 (ephemeral ports): the peer
// backend with the real transport's framing, deadlines and error mapping. One cluster serves the whole file; each
// case gets fresh services on every node (close() unregisters their handlers, so the next case starts empty), and
// its calls go to the next node in turn.
import { after, before } from 'node:test';
import { startCluster, stopAll } from '../../cluster/cluster-harness.js';
import type { ClusterNode } from '../../cluster/node.js';
import type { Harness, HarnessFactory } from '../case-harness.js';
import { DEFAULT_LOCAL_LIMITS } from '../local/index.js';
import { sessionStoreCases } from '../sessions.case.test.js';
import { tokenStoreCases } from '../tokens.case.test.js';
import type { StateServiceName, StateServices } from '../types.js';
import { createPeerStateServices } from './index.js';
import { roundRobin, sleep } from './test-cluster.js';

let nodes: ClusterNode[] = [];

before(async () => {
  nodes = await startCluster(3);
});

after(async () => {
  await stopAll(nodes);
});

function harness<K extends StateServiceName>(name: K): HarnessFactory<StateServices[K]> {
  return async (): Promise<Harness<StateServices[K]>> => {
    const all = nodes.map((rpc) => createPeerStateServices({
      rpc, limits: DEFAULT_LOCAL_LIMITS, failoverPeers: 1, rpcTimeoutMs: 1_000, bulkTimeoutMs: 2_000, sweepIntervalMs: 0,
    }));
    await Promise.all(all.map((services) => services.catchUp()));
    return {
      service: roundRobin(all.map((s) => s[name])),
      now: () => Date.now(),
      advance: (ms) => sleep(ms),
      close: async () => {
        await Promise.all(all.map((s) => s.close()));
      },
    };
  };
}

sessionStoreCases('peer over TLS', harness('sessions'));
tokenStoreCases('peer over TLS', harness('tokens'));
