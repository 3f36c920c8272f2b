// Output: a table for people, then one JSON line per result for machines (`grep '^{"bench"'`).
import type { LoadResult } from './load.js';
import type { Scenario } from './options.js';

export interface BenchResult {
  scenario: Scenario;
  server: 'cohort' | 'bare';
  /** 'scrypt N=32768 r=8 p=1', 'plain', or '-' where no password is checked. */
  passwordCheck: string;
  load: LoadResult;
  /** Cohort's successes per second over the bare server's, same scenario (sign-ins: vs the bare sign-in). */
  ratioToBare?: number;
}

const SCENARIO_LABEL: Record<Scenario, string> = {
  cc: 'client_credentials',
  refresh: 'refresh_token (rotating)',
  signin: 'sign-in (code + PKCE)',
};

/** Fills in ratioToBare for every Cohort result that has a bare counterpart. */
export function addRatios(results: BenchResult[]): void {
  for (const r of results) {
    const bare = results.find((b) => b.server === 'bare' && b.scenario === r.scenario);
    if (r.server === 'cohort' && bare && bare.load.perSecond > 0) r.ratioToBare = r.load.perSecond / bare.load.perSecond;
  }
}

const fixed = (n: number | undefined, digits: number) => (n !== undefined && Number.isFinite(n) ? n.toFixed(digits) : '-');

/** Server CPU milliseconds per successful operation: the cost that does not depend on sharing the cores. */
function serverMsPerOp(r: BenchResult): number | undefined {
  const s = r.load.cpu?.serverSeconds;
  return s === undefined || r.load.ok === 0 ? undefined : (s * 1000) / r.load.ok;
}

/** Above this share of the machine used by other processes, a row is reported as disturbed. */
export const DISTURBED_OTHER_PERCENT = 10;

/** Percent of the machine's CPU capacity that other processes used during the row: a disturbance warning. */
export function otherPercent(r: BenchResult): number | undefined {
  const cpu = r.load.cpu;
  return cpu?.otherSeconds === undefined ? undefined : (cpu.otherSeconds / cpu.capacitySeconds) * 100;
}

export function table(results: BenchResult[]): string {
  const head = ['scenario', 'server', 'password check', 'ok/s', 'p50 ms', 'p99 ms', 'ok', 'errors', 'cohort/bare',
    'srv CPU ms/op', 'other CPU %'];
  const rows = results.map((r) => [
    SCENARIO_LABEL[r.scenario], r.server, r.passwordCheck, fixed(r.load.perSecond, 1), fixed(r.load.p50Ms, 1),
    fixed(r.load.p99Ms, 1), String(r.load.ok), String(r.load.errors), r.ratioToBare === undefined ? '' : fixed(r.ratioToBare, 2),
    fixed(serverMsPerOp(r), 2), fixed(otherPercent(r), 0),
  ]);
  const numeric = new Set([3, 4, 5, 6, 7, 8, 9, 10]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function jsonLine(r: BenchResult, meta: { workers: number }): string {
  return JSON.stringify({
    bench: r.scenario, server: r.server, passwordCheck: r.passwordCheck, workers: meta.workers,
    seconds: Number(r.load.elapsedSeconds.toFixed(3)), ok: r.load.ok, errors: r.load.errors,
    perSecond: Number(r.load.perSecond.toFixed(2)), p50Ms: Number(fixed(r.load.p50Ms, 2)) || null,
    p99Ms: Number(fixed(r.load.p99Ms, 2)) || null,
    ratioToBare: r.ratioToBare === undefined ? null : Number(r.ratioToBare.toFixed(3)),
    serverCpuMsPerOp: serverMsPerOp(r) === undefined ? null : Number(fixed(serverMsPerOp(r), 3)),
    generatorCpuSeconds: r.load.cpu ? Number(r.load.cpu.generatorSeconds.toFixed(2)) : null,
    otherCpuPercent: otherPercent(r) === undefined ? null : Number(fixed(otherPercent(r), 1)),
    ...(r.load.errorSamples.length ? { errorSamples: r.load.errorSamples } : {}),
  });
}
