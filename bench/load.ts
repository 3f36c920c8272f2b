// Closed-loop load: N workers each run one operation after another until the deadline, so the offered load adapts
// to the server instead of piling up queued requests. Only successes are counted as throughput; failures are
// counted apart, with a few distinct messages kept to explain them.
import type { CpuMeter, CpuShares } from './cpu-meter.js';

/** Per-worker state a scenario keeps between operations (a refresh token chain, for example). */
export type WorkerState = Record<string, unknown>;

export interface Workload {
  /** Runs once per worker before timing starts, and again after a failed operation to recover its state. */
  prepare?(state: WorkerState): Promise<void>;
  /** One operation; resolves on success, throws on any failure. */
  run(state: WorkerState): Promise<void>;
}

export interface LoadResult {
  ok: number;
  errors: number;
  /** Wall-clock seconds from the start until the last worker finished its final operation. */
  elapsedSeconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Up to MAX_ERROR_SAMPLES distinct error messages. */
  errorSamples: string[];
  /** CPU used during the measured window (not the warm-up), when a meter was given. */
  cpu?: CpuShares;
}

/** Upper bound of operations per worker and measurement, whatever the duration: a loop that cannot run away. */
export const MAX_OPS_PER_WORKER = 1_000_000;
const MAX_ERROR_SAMPLES = 5;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function drive(workload: Workload, states: WorkerState[], seconds: number, signal?: AbortSignal): Promise<LoadResult> {
  const latencies: number[] = [];
  const errorSamples = new Set<string>();
  let errors = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(states.map(async (state) => {
    for (let i = 0; i < MAX_OPS_PER_WORKER && performance.now() < deadline && !signal?.aborted; i++) {
      const t0 = performance.now();
      try {
        await workload.run(state);
        latencies.push(performance.now() - t0);
      } catch (err) {
        errors++;
        if (errorSamples.size < MAX_ERROR_SAMPLES) errorSamples.add(String((err as Error).message ?? err).slice(0, 300));
        // Recover (e.g. a new refresh token chain) so one failure does not turn every later operation into one.
        // A failed recovery is left for the next operation to report.
        await workload.prepare?.(state).catch(() => undefined);
      }
    }
  }));
  const elapsedSeconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    ok: latencies.length, errors, elapsedSeconds, perSecond: latencies.length / elapsedSeconds,
    p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99), errorSamples: [...errorSamples],
  };
}

/**
 * Prepares every worker, warms up (uncounted), then measures for `seconds`. `signal` stops the workers early (after
 * the operation in flight), for Ctrl-C; an aborted run throws instead of returning a partial result.
 */
export async function runLoad(
  workload: Workload,
  options: { workers: number; seconds: number; warmupSeconds: number },
  meter?: CpuMeter,
  signal?: AbortSignal,
): Promise<LoadResult> {
  const states: WorkerState[] = Array.from({ length: options.workers }, () => ({}));
  await Promise.all(states.map((state) => workload.prepare?.(state)));
  if (options.warmupSeconds > 0) await drive(workload, states, options.warmupSeconds, signal);
  meter?.begin();
  const result = await drive(workload, states, options.seconds, signal);
  signal?.throwIfAborted();
  return meter ? { ...result, cpu: meter.end() } : result;
}
