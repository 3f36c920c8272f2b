// Heap per 100,000 sessions. Everything runs in this process, so a node's share is found by difference: the heap
// after the puts, after closing the replica's state services (its share is freed), and after closing the owner's
// (its share is freed). The residual, what stays above the baseline once both are gone, tells whether the
// attribution is clean. Needs global.gc (node --expose-gc): every figure is taken after full collections.
import { setTimeout as delay } from 'node:timers/promises';
import { createLocalStateServices, DEFAULT_LOCAL_LIMITS } from '../../src/state/local/index.js';
import type { SessionStore, StateServices } from '../../src/state/types.js';
import { OWNER, startPeerCluster } from './peer-cluster.js';
import { jsonBytes, SessionFactory } from './sessions.js';

export interface MemoryResult {
  what: 'local' | 'peer-owner' | 'peer-replica' | 'peer-cluster';
  /** Sessions the measured heap holds (records held by the node(s) measured). */
  sessions: number;
  heapBytes: number;
  /** heapBytes scaled to 100,000 sessions. */
  mbPer100k: number;
  bytesPerSession: number;
  /** Mean JSON size of one record, for comparison. */
  recordJsonBytes: number;
}

export interface MemoryRun {
  results: MemoryResult[];
  /** Heap above the baseline after both peer nodes' services were closed: should be near 0. */
  residualBytes: number;
  held: { owner: number; replica: number; bystander: number };
  putSeconds: { local: number; peer: number };
  errors: number;
  errorSamples: string[];
}

export const MEMORY_LABEL: Record<MemoryResult['what'], string> = {
  local: 'local backend (standalone node)',
  'peer-owner': 'peer backend: owner node',
  'peer-replica': 'peer backend: replica node',
  'peer-cluster': 'peer backend: 3-node total',
};

/** Concurrent puts when filling a store: enough to keep the back channel busy, few enough to stay bounded. */
const FILL_CONCURRENCY = 64;
/** A fill that cannot finish in this time is abandoned and reported with the count it reached. */
const FILL_TIME_LIMIT_S = 120;

type Gc = () => void;

async function heapAfterGc(gc: Gc): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc();
    await delay(20);
  }
  return process.memoryUsage().heapUsed;
}

async function fill(store: SessionStore, factory: SessionFactory, owner: number, count: number, signal: AbortSignal) {
  let issued = 0;
  let ok = 0;
  let errors = 0;
  let bytes = 0;
  const samples = new Set<string>();
  const deadline = performance.now() + FILL_TIME_LIMIT_S * 1000;
  const started = performance.now();
  await Promise.all(Array.from({ length: FILL_CONCURRENCY }, async () => {
    while (issued < count && performance.now() < deadline && !signal.aborted) {
      issued++;
      const record = factory.next(owner);
      bytes += jsonBytes(record);
      try {
        await store.put(record);
        ok++;
      } catch (error) {
        errors++;
        if (samples.size < 5) samples.add(String((error as Error).message ?? error).slice(0, 300));
      }
    }
  }));
  signal.throwIfAborted();
  return { ok, errors, samples: [...samples], meanBytes: issued ? Math.round(bytes / issued) : 0, seconds: (performance.now() - started) / 1000 };
}

function result(what: MemoryResult['what'], sessions: number, heapBytes: number, recordJsonBytes: number): MemoryResult {
  return {
    what, sessions, heapBytes, recordJsonBytes,
    mbPer100k: sessions > 0 ? (heapBytes / sessions) * 100_000 / 2 ** 20 : Number.NaN,
    bytesPerSession: sessions > 0 ? heapBytes / sessions : Number.NaN,
  };
}

export async function runMemory(count: number, signal: AbortSignal, progress: (line: string) => void): Promise<MemoryRun> {
  const gc = (globalThis as { gc?: Gc }).gc;
  if (typeof gc !== 'function') throw new Error('the memory figures need global.gc: run node with --expose-gc');
  const factory = new SessionFactory();
  const limits = { ...DEFAULT_LOCAL_LIMITS, maxSessions: count };
  const results: MemoryResult[] = [];

  // (a) local backend
  progress(`  local backend: ${count} sessions ...`);
  let local: StateServices | undefined = createLocalStateServices(limits);
  const localBase = await heapAfterGc(gc);
  const localFill = await fill(local.sessions, factory, 0, count, signal);
  const localHeld = await local.sessions.count();
  const localHeap = (await heapAfterGc(gc)) - localBase;
  results.push(result('local', localHeld, localHeap, localFill.meanBytes));
  await local.close();
  local = undefined;

  // (b) peer backend: three nodes in this process, node 0 owns every session, one replica holds a copy.
  progress('  peer backend: starting three ClusterNodes');
  const cluster = await startPeerCluster(count);
  try {
    const peerBase = await heapAfterGc(gc);
    progress(`  peer backend: ${count} sessions put on the owner (concurrency ${FILL_CONCURRENCY}) ...`);
    const peerFill = await fill(cluster.services[OWNER]!.sessions, factory, OWNER, count, signal);
    progress(`    ${peerFill.ok} puts in ${peerFill.seconds.toFixed(1)} s (${(peerFill.ok / peerFill.seconds).toFixed(0)}/s), ${peerFill.errors} errors`);
    await delay(200);
    const [ownerStats, replicaStats, bystanderStats] = await Promise.all(
      [OWNER, cluster.replica, cluster.bystander].map((i) => cluster.services[i]!.stats()));
    const held = {
      owner: ownerStats!.sessions.owner + ownerStats!.sessions.replica,
      replica: replicaStats!.sessions.owner + replicaStats!.sessions.replica,
      bystander: bystanderStats!.sessions.owner + bystanderStats!.sessions.replica,
    };
    const total = (await heapAfterGc(gc)) - peerBase;
    await cluster.dropService(cluster.replica);
    const withoutReplica = (await heapAfterGc(gc)) - peerBase;
    await cluster.dropService(OWNER);
    const withoutBoth = (await heapAfterGc(gc)) - peerBase;
    results.push(
      result('peer-owner', held.owner, withoutReplica - withoutBoth, peerFill.meanBytes),
      result('peer-replica', held.replica, total - withoutReplica, peerFill.meanBytes),
      result('peer-cluster', peerFill.ok, total, peerFill.meanBytes),
    );
    return {
      results, residualBytes: withoutBoth, held, putSeconds: { local: localFill.seconds, peer: peerFill.seconds },
      errors: localFill.errors + peerFill.errors + (cluster.logger.replicaFailures),
      errorSamples: [...localFill.samples, ...peerFill.samples, ...cluster.logger.samples].slice(0, 5),
    };
  } finally {
    await cluster.close();
  }
}
