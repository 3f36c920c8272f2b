// The peer backend: every state service shared between the nodes of the cluster over its RPC, with no external
// service. DESIGN.md "Runtime state services" is the contract; placement.ts, peer-record-store.ts and record-sync.ts
// hold the rules; this file wires one node's services together and reacts to membership.
//
// Lifecycle: create, then call catchUp() once the cluster node has started and joined (keep lbstatus 503 until it
// resolves). Until a catch-up completes this node holds copies but never acts as owner: an incomplete one (a member
// too slow, the deadline passed) is retried in the background every bulkTimeoutMs, and the node serves meanwhile by
// forwarding to the acting owners. close() unregisters every RPC handler and timer.
import { setTimeout as delay } from 'node:timers/promises';
import { STATE_SERVICE_NAMES, type StateServiceName, type StateServices } from '../types.js';
import { catchUp, type CatchUpResult, type CatchUpSource } from './catch-up.js';
import { ClusterView } from './cluster-view.js';
import { resolvePeerOptions, type PeerContext, type PeerStateOptions } from './options.js';
import { Pager } from './pager.js';
import { PeerArtifactStore } from './peer-artifact-store.js';
import { PeerInterRequestStore } from './peer-inter-request-store.js';
import { PeerLoginFailureCounter } from './peer-login-failure-counter.js';
import { PeerReplayCache } from './peer-replay-cache.js';
import { PeerRevocationList } from './peer-revocation-list.js';
import { PeerSessionRegistry } from './peer-session-registry.js';
import { PeerSessionStore } from './peer-session-store.js';
import { PeerTokenStore } from './peer-token-store.js';
import type { HeldStats } from './record-sync.js';
import { VersionClock } from './version.js';
import { READY_METHOD, WIRE_VERSION } from './wire.js';

export type { CatchUpResult } from './catch-up.js';
export type { HeldStats } from './record-sync.js';
export type { PeerLogger, PeerStateOptions } from './options.js';
export { DEFAULT_BULK_TIMEOUT_MS, DEFAULT_FAILOVER_PEERS, DEFAULT_RPC_TIMEOUT_MS } from './options.js';
export {
  PeerArtifactStore, PeerInterRequestStore, PeerLoginFailureCounter, PeerReplayCache, PeerRevocationList,
  PeerSessionRegistry, PeerSessionStore, PeerTokenStore,
};

export type PeerStats = Record<StateServiceName, HeldStats>;

export interface PeerStateServices extends StateServices {
  sessions: PeerSessionStore;
  interRequest: PeerInterRequestStore;
  tokens: PeerTokenStore;
  replay: PeerReplayCache;
  artifacts: PeerArtifactStore;
  registry: PeerSessionRegistry;
  revocations: PeerRevocationList;
  loginFailures: PeerLoginFailureCounter;
  /**
   * Pulls this node's records from the alive members (at most `timeoutMs`, default bulkTimeoutMs). If it completed,
   * this node may act as owner from now on and tells the cluster (state.ready); if not, it keeps retrying in the
   * background. Call once after the cluster node started.
   */
  catchUp(timeoutMs?: number): Promise<CatchUpResult>;
  /** True once a catch-up completed: this node acts as owner of its records. */
  readonly ready: boolean;
  /** Records this node holds per service, as acting owner and as copy (revocations: all as owner). O(n). */
  stats(): Promise<PeerStats>;
  /** Places `index` as absent (maintenance) or back as a rejoining member; see ClusterView.setExcluded. */
  exclude(index: number, excluded: boolean): void;
}

export function createPeerStateServices(options: PeerStateOptions): PeerStateServices {
  const resolved = resolvePeerOptions(options);
  const { rpc, logger } = resolved;
  const view = new ClusterView(rpc, resolved.preferredNodes);
  const context: PeerContext = { ...resolved, view, versions: new VersionClock(rpc.selfIndex) };
  const pager = new Pager({ clock: context.clock, ttlMs: context.bulkTimeoutMs, maxPageBytes: context.maxPageBytes });
  const services = {
    sessions: new PeerSessionStore(context, pager),
    interRequest: new PeerInterRequestStore(context, pager),
    tokens: new PeerTokenStore(context, pager),
    replay: new PeerReplayCache(context, pager),
    artifacts: new PeerArtifactStore(context, pager),
    registry: new PeerSessionRegistry(context, pager),
    revocations: new PeerRevocationList(context, pager),
    loginFailures: new PeerLoginFailureCounter(context, pager),
  };
  const { revocations, ...recordServices } = services;
  const syncs = Object.values(recordServices).map((s) => s.sync);
  const sources: CatchUpSource[] = [
    ...Object.values(recordServices).map((s) => ({ service: s.store.service, pullFrom: (m: number, d: number) => s.sync.pullFrom(m, d) })),
    { service: 'revocations', pullFrom: (m, d) => revocations.pullFrom(m, d) },
  ];

  // Membership reactions and catch-up retries run in the background; close() stops and waits for them.
  const background = new Set<Promise<unknown>>();
  const stop = new AbortController();
  let closing = false;
  let retrying = false;
  const track = (what: string, work: () => Promise<unknown>) => {
    if (closing) return;
    const task = work().catch((error: unknown) => logger.warn({ err: String(error) }, `state ${what} failed`));
    background.add(task);
    void task.finally(() => background.delete(task));
  };
  const announceReady = (completed: boolean, to?: number) => (to === undefined
    ? rpc.broadcast(READY_METHOD, { v: WIRE_VERSION, completed }, { timeoutMs: context.rpcTimeoutMs })
    : rpc.call(to, READY_METHOD, { v: WIRE_VERSION, completed }, { timeoutMs: context.rpcTimeoutMs }));
  const becomeReady = async () => {
    view.markSelfReady();
    await announceReady(true);
  };
  const retryUntilReady = (timeoutMs: number) => {
    if (retrying) return;
    retrying = true;
    track('catch-up retry', async () => {
      try {
        while (!view.selfReady) {
          await delay(context.bulkTimeoutMs, undefined, { signal: stop.signal });
          const result = await catchUp(view, sources, timeoutMs);
          if (result.completed && !stop.signal.aborted) {
            await becomeReady();
            logger.info({ ...result }, 'state catch-up complete on retry; this node now acts as owner');
          }
        }
      } catch (error) {
        if (!stop.signal.aborted) throw error;
      } finally {
        retrying = false;
      }
    });
  };
  const unsubscribe = view.subscribe({
    // A (re)joining member may bring records written while it was cut off (a healed partition): pull them, then
    // tell it this node is ready, since the joiner counts this node as not ready until it hears so.
    joined: (member) => track('pull from a joining member', async () => {
      const result = await catchUp(view, sources, context.bulkTimeoutMs, member.index);
      if (view.selfReady) await announceReady(result.completed, member.index);
    }),
    gone: (change) => track('re-replication', async () => {
      const pushed = (await Promise.all(syncs.map((s) => s.reReplicate(change)))).reduce((a, b) => a + b, 0);
      if (pushed > 0) logger.info({ member: change.member.index, records: pushed }, 'state re-replicated after a member went away');
    }),
    // Once a (re)joined member holds its share, copies this node no longer holds are surplus.
    ready: (_index, completed) => {
      if (completed) track('prune', () => Promise.all(syncs.map((s) => s.prune())));
    },
  });

  return {
    ...services,
    async catchUp(timeoutMs = context.bulkTimeoutMs) {
      const result = await catchUp(view, sources, timeoutMs);
      if (result.completed) {
        await becomeReady();
        logger.info({ ...result }, 'state catch-up complete; this node now acts as owner');
      } else if (!view.selfReady) {
        logger.warn({ ...result }, 'state catch-up incomplete; this node holds copies but acts as owner only after a retry completes');
        retryUntilReady(timeoutMs);
      }
      return result;
    },
    get ready() {
      return view.selfReady;
    },
    exclude(index, excluded) {
      view.setExcluded(index, excluded);
    },
    async stats() {
      const stats = {} as PeerStats;
      for (const name of STATE_SERVICE_NAMES) {
        const service = services[name];
        stats[name] = service instanceof PeerRevocationList ? service.stats() : service.sync.stats();
      }
      return stats;
    },
    async close() {
      closing = true;
      stop.abort();
      unsubscribe();
      // Stop the loops first so background work ends at its next step instead of running to its deadline.
      for (const sync of syncs) sync.close();
      revocations.close();
      await Promise.allSettled([...background]);
      for (const service of Object.values(recordServices)) service.close();
      view.close();
      pager.close();
    },
  };
}
