// Session write-to-replica latency. PeerSessionStore.put() on the owner applies the record, sends it to the failover
// peer and resolves when that peer acknowledged it (peer-record-store.ts mutateHere -> replicate), so the time of one
// put IS the write-to-replica time. A replica that does not answer is logged and put() still resolves: the counting
// logger turns that into an error for the row, and the replica's record count is checked at the end.
import { createLocalStateServices, DEFAULT_LOCAL_LIMITS } from '../../src/state/local/index.js';
import type { SessionRecord, SessionStore } from '../../src/state/types.js';
import { OtherCpuMeter } from './cpu.js';
import { OWNER, startPeerCluster } from './peer-cluster.js';
import { jsonBytes, SessionFactory } from './sessions.js';
import { summarize, type LatencySummary } from './stats.js';

export const LATENCY_CONCURRENCY = [1, 16] as const;

export interface LatencyResult extends LatencySummary {
  backend: 'local' | 'peer-owner' | 'peer-forwarded';
  concurrency: number;
  errors: number;
  /** Replica writes the owner logged as failed during the row (peer rows). */
  replicaFailures: number;
  errorSamples: string[];
  /** Mean JSON size of the records written. */
  recordBytes: number;
}

export interface LatencyRun {
  results: LatencyResult[];
  /** Sessions held after the peer rows: node 0 as owner, its replica as copy, the third node (should hold none). */
  held: { owner: number; replica: number; bystander: number; putOnPeer: number };
  replicaIndex: number;
  /** Percent of the machine's CPU used by other processes while the rows ran: a disturbance warning. */
  otherCpuPercent: number;
}

export const LATENCY_LABEL: Record<LatencyResult['backend'], string> = {
  local: 'local backend (in memory, no copy)',
  'peer-owner': 'peer, put on owner (owner + 1 replica)',
  'peer-forwarded': 'peer, put on a non-holder (forwarded to owner)',
};

/**
 * `concurrency` workers put new sessions back to back, `warmup` uncounted first; the row stops at `writes` timed
 * puts or after `seconds`, whichever comes first. The records are made before the clock starts, so their
 * generation (random ids) is not timed, not even while another worker's put is in flight.
 */
async function measure(store: SessionStore, make: () => SessionRecord, options: { writes: number; seconds: number; concurrency: number },
  signal: AbortSignal): Promise<Omit<LatencyResult, 'backend' | 'replicaFailures'> & { attempted: number }> {
  const warmup = Array.from({ length: Math.min(500, Math.ceil(options.writes / 10)) }, make);
  const warm = await drive(store, warmup, options.concurrency, 30, signal);
  const records = Array.from({ length: options.writes }, make);
  const recordBytes = Math.round(records.reduce((sum, r) => sum + jsonBytes(r), 0) / records.length);
  const { latencies, errors, errorSamples, elapsedMs } = await drive(store, records, options.concurrency, options.seconds, signal);
  signal.throwIfAborted();
  return {
    concurrency: options.concurrency, errors, errorSamples, recordBytes, ...summarize(latencies, elapsedMs),
    attempted: warm.latencies.length + warm.errors + latencies.length + errors,
  };
}

async function drive(store: SessionStore, records: SessionRecord[], concurrency: number, seconds: number, signal: AbortSignal) {
  const latencies: number[] = [];
  const errorSamples = new Set<string>();
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < records.length && performance.now() < deadline && !signal.aborted) {
      const record = records[next++]!;
      const t0 = performance.now();
      try {
        await store.put(record);
        latencies.push(performance.now() - t0);
      } catch (error) {
        errors++;
        if (errorSamples.size < 5) errorSamples.add(String((error as Error).message ?? error).slice(0, 300));
      }
    }
  }));
  return { latencies, errors, errorSamples: [...errorSamples], elapsedMs: performance.now() - started };
}

export async function runLatency(options: { writes: number; seconds: number }, signal: AbortSignal,
  progress: (line: string) => void): Promise<LatencyRun> {
  const factory = new SessionFactory();
  const results: LatencyResult[] = [];
  const otherCpu = new OtherCpuMeter();
  otherCpu.begin();

  const local = createLocalStateServices({ ...DEFAULT_LOCAL_LIMITS, maxSessions: 1_000_000 });
  try {
    for (const concurrency of LATENCY_CONCURRENCY) {
      progress(`  local put, concurrency ${concurrency} ...`);
      const { attempted: _, ...row } = await measure(local.sessions, () => factory.next(0), { ...options, concurrency }, signal);
      results.push({ backend: 'local', replicaFailures: 0, ...row });
    }
  } finally {
    await local.close();
  }

  progress('  starting three ClusterNodes (TLS-PSK on 127.0.0.1) with the peer backend');
  const cluster = await startPeerCluster(1_000_000);
  try {
    const owner = cluster.services[OWNER]!;
    const bystander = cluster.services[cluster.bystander]!;
    let putOnPeer = 0;
    const make = () => factory.next(OWNER);
    for (const [backend, store] of [['peer-owner', owner.sessions], ['peer-forwarded', bystander.sessions]] as const) {
      for (const concurrency of LATENCY_CONCURRENCY) {
        progress(`  ${LATENCY_LABEL[backend]}, concurrency ${concurrency} ...`);
        const failuresBefore = cluster.logger.replicaFailures;
        const { attempted, ...row } = await measure(store, make, { ...options, concurrency }, signal);
        putOnPeer += attempted;
        results.push({ backend, ...row, replicaFailures: cluster.logger.replicaFailures - failuresBefore });
      }
    }
    const [ownerStats, replicaStats, bystanderStats] = await Promise.all(
      [OWNER, cluster.replica, cluster.bystander].map((i) => cluster.services[i]!.stats()));
    if (cluster.logger.samples.length > 0) progress(`  peer backend warnings: ${cluster.logger.samples.join(' | ')}`);
    return {
      results,
      held: {
        owner: ownerStats!.sessions.owner, replica: replicaStats!.sessions.replica,
        bystander: bystanderStats!.sessions.owner + bystanderStats!.sessions.replica, putOnPeer,
      },
      replicaIndex: cluster.replica,
      otherCpuPercent: otherCpu.end(),
    };
  } finally {
    await cluster.close();
  }
}
