// Latency summary of one row. Percentiles by the same rule as bench/load.ts (the sample at floor(p * n) of the
// sorted list), so figures of both benchmarks read alike.
export interface LatencySummary {
  /** Timed operations that succeeded. */
  ok: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  /** Successes per second of wall time over the timed part of the row. */
  perSecond: number;
  elapsedSeconds: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

export function summarize(latencies: number[], elapsedMs: number): LatencySummary {
  const sorted = [...latencies].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    ok: sorted.length,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
    meanMs: sorted.length ? sum / sorted.length : Number.NaN,
    perSecond: elapsedMs > 0 ? sorted.length / (elapsedMs / 1000) : 0,
    elapsedSeconds: elapsedMs / 1000,
  };
}
